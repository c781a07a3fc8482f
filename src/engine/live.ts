/**
 * The live loop (`tollgate run`): candles from a live feed go through the same pipeline as a replay —
 * kernel, guards, shadow engine, tracker, monitor — one at a time, in order. Modes differ only in the
 * venue: `paper` (live Kraken data, simulated fills: the default with no API keys), `sim` (the Kraken
 * simulator), `live` (Kraken). An asynchronous venue is polled on a schedule between candles and awaited
 * between the kernel's phases of each candle; while it is healthy its dead man's switch is refreshed.
 */
import type { PolledVenue } from '../ports/orders.ts';
import { nullLogger, type Logger } from '../ports/logger.ts';
import type { Config } from '../config/schema.ts';
import type { Candle, MarketMeta } from '../domain/types.ts';
import { LiveSeries, prepareReplay, type ReplayOptions, type ReplayResult, type VenueFactory } from './compose.ts';

/** What the live loop needs of a feed: closed candles, in order, each once. */
export interface LiveCandleSource {
  start(onCandle: (c: Candle) => Promise<void>): void;
  stop(): void | Promise<void>;
}

export interface LiveOptions {
  readonly config: Config;
  readonly markets: Map<string, MarketMeta>;
  readonly pair: string;
  readonly intervalMs: number;
  readonly mode: 'paper' | 'sim' | 'live';
  readonly logsDir: string | null;
  readonly feed: LiveCandleSource;
  /** the venue (default: paper) and, for an asynchronous one, the instance to poll */
  readonly venue?: VenueFactory;
  readonly asyncVenue?: () => PolledVenue | null;
  readonly pollMs?: number;
  /** 0 = off; else CancelAllOrdersAfter with this timeout, refreshed every third of it */
  readonly deadMansSwitchMs?: number;
  /** the operational log */
  readonly logger?: Logger;
  /** where open shadows live (durable in sim/live), and whether they stay open at the stop */
  readonly shadowStore?: ReplayOptions['shadowStore'];
  /** called once the bus and the lifecycle registry exist (live state recording) */
  readonly onPipeline?: ReplayOptions['onPipeline'];
  /** tells when an order of ours changed on the venue (the executions websocket): it is polled at once */
  readonly venueActivity?: { start(onActivity: () => void): void; stop(): Promise<void> };
  /** work to run on a schedule between candles (reconciliation) */
  readonly every?: ReadonlyArray<{ readonly ms: number; readonly what: string; readonly run: () => Promise<void> }>;
  /** candles that closed before this time only warm the indicators up (history fetched at start) */
  readonly warmUpBefore?: number;
  /** resolves when the loop must stop (SIGINT/SIGTERM, or a test) */
  readonly until: Promise<void>;
}

export async function runLive(o: LiveOptions): Promise<ReplayResult> {
  const series = new LiveSeries(o.pair, o.intervalMs, `live:${o.mode}`);
  const p = prepareReplay({ config: o.config, markets: o.markets, series, logsDir: o.logsDir, mode: o.mode, ...(o.venue ? { venue: o.venue } : {}), ...(o.onPipeline ? { onPipeline: o.onPipeline } : {}), ...(o.shadowStore ? { shadowStore: o.shadowStore, keepShadowsOpen: true } : {}) });
  const logger = o.logger ?? nullLogger;
  const venue = () => o.asyncVenue?.() ?? null;
  // one thing at a time: candles and polls are queued, never interleaved
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (what: string, fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((e: unknown) => logger.warn('live.task_failed', { task: what }, `${what}: ${(e as Error).message}`));
    return chain;
  };
  const idle = async () => {
    await venue()?.idle();
  };
  o.feed.start((c) =>
    enqueue('candle', async () => {
      const i = series.push(c);
      if (o.warmUpBefore !== undefined && c.ts + c.intervalMs < o.warmUpBefore) return p.warmUp(i);
      await p.stepAsync(i, { open: async () => {
        await idle();
        await venue()?.poll();
      }, close: idle, done: idle });
    }),
  );
  // one poll waiting in the queue at most: the websocket may announce many executions at once
  let pollQueued = false;
  const pollSoon = () => {
    if (pollQueued || !venue()) return;
    pollQueued = true;
    void enqueue('poll', async () => {
      pollQueued = false;
      await venue()?.poll();
    });
  };
  const timers: NodeJS.Timeout[] = [];
  if (venue() && (o.pollMs ?? 0) > 0) timers.push(setInterval(pollSoon, o.pollMs));
  if (venue()) o.venueActivity?.start(pollSoon);
  const dms = o.deadMansSwitchMs ?? 0;
  if (venue() && dms > 0) {
    const refresh = () =>
      void enqueue('dead man’s switch', async () => {
        if (!(await venue()!.deadMansSwitch(dms))) logger.warn('dead_mans_switch.not_refreshed', { reason: venue()!.haltReason }, `dead man's switch: not refreshed (${venue()!.haltReason ?? 'venue unreachable'})`);
      });
    refresh();
    timers.push(setInterval(refresh, Math.max(1_000, Math.floor(dms / 3))));
  }
  for (const job of o.every ?? []) timers.push(setInterval(() => void enqueue(job.what, job.run), job.ms));
  await o.until;
  for (const t of timers) clearInterval(t);
  // both at once: each marks itself stopped before the shared client's sockets close under the other
  await Promise.all([o.feed.stop(), o.venueActivity?.stop()]);
  await chain;
  await idle();
  return p.finish();
}
