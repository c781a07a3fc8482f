/**
 * Replay: recorded Kraken candles through the same kernel as every other mode, with a manual clock,
 * the CSV feed and the paper venue.
 */
import { closestAltnames } from '../kraken/pairs.ts';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ManualClock, stopwatch } from '../adapters/clock/clocks.ts';
import { CandleSeries } from '../adapters/csv/kraken-ohlcvt.ts';
import { GatedSink, JsonlWriter, MemorySink } from '../adapters/jsonl/jsonl-writer.ts';
import { rotationOf } from '../adapters/jsonl/rotating-file.ts';
import type { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { DegradedError, DirtyTrackingStore, DurableRecorder, logSizes, replayFingerprint, rollBackLogs } from './durable-replay.ts';
import { PaperVenue, type PaperVenueDeps } from '../adapters/paper/paper-venue.ts';
import type { FillModelParams } from '../domain/fill-model.ts';
import type { Venue, VenueSink } from '../ports/venue.ts';
import { SignalBus } from '../bus/bus.ts';
import type { Config } from '../config/schema.ts';
import { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import type { BlockCode, Candle, MarketMeta, OrderIntent } from '../domain/types.ts';
import { ExecutionGateway } from '../execution/gateway.ts';
import { LifecycleRegistry } from '../lifecycle/registry.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { LOG_FILES, type DecisionLog, type JsonlSink } from '../ports/decision-log.ts';
import { InMemoryStore } from '../adapters/memory/memory-store.ts';
import type { KeyValueStore } from '../ports/store.ts';
import { PipelineMonitor } from '../monitor/pipeline-monitor.ts';
import { ShadowEngine, type ShadowPosition } from '../shadow/shadow-engine.ts';
import { MarketContext } from '../strategies/market-context.ts';
import { StrategyRunner } from '../strategies/runner.ts';
import { DecisionTracker } from '../tracking/decision-tracker.ts';
import { Kernel } from './kernel.ts';
import { withReadModel } from './reporting.ts';
import { buildChain, buildStrategy, exitRulesOf, InputError } from './wiring.ts';

export interface ReplaySummary {
  candles: number;
  signals: number;
  approved: number;
  blocked: number;
  blockedByCode: Partial<Record<BlockCode, number>>;
  observedByCode: Partial<Record<BlockCode, number>>;
  failed: number;
  rejected: number;
  expired: number;
  trades: number;
  wins: number;
  openAtEnd: number;
  inFlightByState: Record<string, number>;
  realizedPnl: string;
  /** shadow trades of blocked signals: counts by status, net PnL (all, and without overlaps) */
  shadow: { outcomes: number; closed: number; openAtEnd: number; expired: number; rejected: number; pnl: string; headlinePnl: string };
  fees: string;
  cash: Record<string, string>;
  equity: string;
  skippedRows: number;
  busErrors: number;
  from: string | null;
  to: string | null;
  elapsedMs: number;
  runId: string;
  /** durable replays: candles an earlier, interrupted run had committed (0: none), and the re-derivation time */
  resumed?: { candlesDone: number; rederiveMs: number | null };
}

/** Candles in time order: a recorded series, or one that grows as a live feed delivers (LiveSeries). */
export interface CandleSource {
  readonly pair: string;
  readonly intervalMs: number;
  readonly length: number;
  readonly ts: ArrayLike<number>;
  at(i: number): Candle;
  readonly badRows: readonly unknown[];
  readonly source: string;
}

/**
 * A candle series that grows: what a live feed has delivered so far. Only the newest `keep` candles are held
 * (the pipeline reads the candle it is on; strategies, exits and shadows keep their own state), so a bot that
 * runs for months holds a bounded window; the times of all of them stay (8 bytes a candle).
 */
export class LiveSeries implements CandleSource {
  private readonly candles: Candle[] = [];
  /** index of candles[0] in the whole series */
  private offset = 0;
  readonly ts: number[] = [];
  readonly badRows: readonly unknown[] = [];
  constructor(readonly pair: string, readonly intervalMs: number, readonly source: string, private readonly keep = 1_000) {}
  get length(): number {
    return this.ts.length;
  }
  /** how many candles are held now (at most `keep`) */
  get held(): number {
    return this.candles.length;
  }
  at(i: number): Candle {
    const c = this.candles[i - this.offset];
    if (!c) throw new RangeError(`live candle ${i} is not held (holding ${this.offset}..${this.offset + this.candles.length - 1})`);
    return c;
  }
  push(c: Candle): number {
    const last = this.ts[this.ts.length - 1];
    if (last !== undefined && c.ts <= last) throw new Error(`live candle ${c.ts} does not follow ${last}`);
    this.candles.push(c);
    this.ts.push(c.ts);
    if (this.candles.length > this.keep * 2) {
      const drop = this.candles.length - this.keep;
      this.candles.splice(0, drop);
      this.offset += drop;
    }
    return this.ts.length - 1;
  }
}

export interface ReplayOptions {
  readonly config: Config;
  readonly markets: Map<string, MarketMeta>;
  readonly series: CandleSource;
  /** what run.started says this run is (default 'replay') */
  readonly mode?: string;
  /** directory for the JSONL logs; null keeps them in memory (benchmarks, tests) */
  readonly logsDir: string | null;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  readonly onDecisionLatency?: ((ns: number) => void) | undefined;
  readonly runId?: string;
  /** where open shadow positions are kept (default: in memory) */
  readonly shadowStore?: KeyValueStore<ShadowPosition>;
  /** live runs: open shadows are not settled at the stop (they carry on after a restart) */
  readonly keepShadowsOpen?: boolean;
  /** the venue (default: the paper venue) and its acceptance check */
  readonly venue?: VenueFactory;
  /** called once the bus and the lifecycle registry exist, before the first candle (live state recording) */
  readonly onPipeline?: (parts: PipelineParts) => void;
  /** the pipeline's event clock, set to each candle's time (default: a new one at the first candle) */
  readonly clock?: ManualClock;
  /** keep the state in this SQLite store and resume from it (`--state FILE`) */
  readonly durable?: { readonly store: SqliteStateStore; readonly file: string; readonly killInCommit?: number | undefined };
}

export interface ReplayResult {
  readonly summary: ReplaySummary;
  readonly portfolio: Portfolio;
  readonly log: DecisionLog;
}

export type VenueFactory = (deps: PaperVenueDeps, fillModel: FillModelParams) => { venue: Venue & { connect(sink: VenueSink): void }; check(order: OrderIntent): string | null };

export function paperVenue(params: FillModelParams, deps: PaperVenueDeps): ReturnType<VenueFactory> {
  const venue = new PaperVenue(params, deps);
  return { venue, check: (o) => venue.check(o) };
}

/** What a live start may need to restore state into before the first candle. */
export interface PipelineParts {
  readonly bus: SignalBus;
  readonly registry: LifecycleRegistry;
  readonly portfolio: Portfolio;
  readonly kernel: Kernel;
  /**
   * The pipeline's event clock: each candle's time in a replay. A live bot moves it on to the run's clock when
   * a signal arrives from outside (a webhook between two candles happens now, not at the last candle's close).
   */
  readonly clock: ManualClock;
}

/** A prepared replay: candles are pushed through it one by one, by a synchronous or an async driver. */
export interface ReplayPipeline {
  readonly n: number;
  readonly series: CandleSource;
  readonly venue: Venue;
  /** process candle i (the driver calls it for i = 0 … n − 1, in order) */
  step(i: number): void;
  /**
   * Candle i for an asynchronous venue: the same as step(i), with the venue awaited between the kernel's
   * phases — `open` after the deadlines at the open (advance the venue, poll its fills), `close` after the
   * deadlines at the close (let the cancels land), `done` after the rest (let the submits land).
   */
  stepAsync(i: number, hooks: { open(): Promise<void>; close(): Promise<void>; done(): Promise<void> }): Promise<void>;
  /** candle i is history before a live start: indicators only */
  warmUp(i: number): void;
  /** end of data: open shadows and signals reported, summary, logs closed */
  finish(): ReplayResult;
}

/** Replay recorded candles through the kernel, synchronously (paper venue). */
export function runReplay(opts: ReplayOptions): ReplayResult {
  const p = prepareReplay(opts);
  for (let i = 0; i < p.n; i++) p.step(i);
  return p.finish();
}

/**
 * The same, with an asynchronous venue (the Kraken simulator through ccxt), awaited between the phases
 * of each candle (see ReplayPipeline.stepAsync).
 */
export async function runReplayAsync(opts: ReplayOptions, hooks: (i: number) => { open(): Promise<void>; close(): Promise<void>; done(): Promise<void> }): Promise<ReplayResult> {
  if (opts.durable) throw new Error('an asynchronous replay keeps no durable state (yet)');
  const p = prepareReplay(opts);
  for (let i = 0; i < p.n; i++) await p.stepAsync(i, hooks(i));
  return p.finish();
}

/** The checks a replay makes of its inputs before anything is written (the CLI runs them first too). */
export function validateReplayInputs(opts: Pick<ReplayOptions, 'config' | 'markets' | 'series'>): void {
  const { config, markets, series } = opts;
  const meta = markets.get(series.pair);
  if (!meta) throw new InputError(`unknown pair ${series.pair}: not one of the ${markets.size} markets; closest altnames: ${closestAltnames(series.pair).join(', ')}`);
  if (config.startingCash[meta.quote] === undefined) {
    throw new InputError(`config: startingCash has no ${meta.quote}, the quote currency of ${series.pair}`);
  }
  const currencies = Object.keys(config.startingCash);
  if (currencies.length !== 1) {
    throw new InputError(`config: startingCash must hold exactly one currency, the quote of ${series.pair} (${meta.quote}); got ${currencies.join(', ')}`);
  }
}

export function prepareReplay(opts: ReplayOptions): ReplayPipeline {
  const { config, markets, series } = opts;
  validateReplayInputs(opts);
  const elapsed = stopwatch();
  // durable: where the state says an earlier run of the same replay got to
  const durable = opts.durable ?? null;
  if (durable && !(series instanceof CandleSeries)) throw new Error('a durable replay needs a recorded candle series');
  const fingerprint = durable ? replayFingerprint(series as CandleSeries, config) : '';
  const checkpoint = durable ? durable.store.replayCheckpoint() : undefined;
  if (durable && checkpoint && checkpoint.fingerprint !== fingerprint) {
    throw new InputError(`--state ${durable.file} belongs to another replay (different data or config); resume it with the same --data/--config, or use --fresh or another --state file`);
  }
  if (durable) {
    const broken = durable.store.invariantViolation();
    if (broken) throw new DegradedError(`state ${durable.file}: ${broken}; refusing to continue`);
  }
  const runId = checkpoint?.runId ?? opts.runId ?? randomUUID();
  const clock = opts.clock ?? new ManualClock(series.length ? series.ts[0]! : 0);
  const bus = new SignalBus(() => clock.now());
  let log: DecisionLog;
  // absolute: a resume from another working directory finds the same files
  const logFiles = opts.logsDir ? Object.values(LOG_FILES).map((f) => resolve(opts.logsDir!, f)) : [];
  const gates: GatedSink[] = [];
  if (opts.logsDir) {
    try {
      mkdirSync(opts.logsDir, { recursive: true });
      if (checkpoint) {
        const was = Object.keys(checkpoint.logOffsets).sort().join(', ');
        if (was !== [...logFiles].sort().join(', ')) {
          throw new InputError(`--state ${durable!.file}: this replay wrote its logs to ${was || 'memory'}; resume it with the same --logs`);
        }
        rollBackLogs(checkpoint.logOffsets, checkpoint.runId); // lines after the last commit belong to the crashed, uncommitted part
      }
      const dir = opts.logsDir;
      // a durable replay never rotates: its resume cuts each live file back to the checkpoint's offset
      const rotate = durable ? null : rotationOf(config.logs?.rotate);
      // the report's sidecar (report_read_model.bin) beside the logs, fed inside the gate: what a gate drops it never sees
      log = withReadModel(dir, (name) => new JsonlWriter(join(dir, LOG_FILES[name]), { rotate }), (w) => {
        if (!durable) return w;
        const g = new GatedSink(w);
        gates.push(g);
        return g;
      });
    } catch (e) {
      if (e instanceof DegradedError || e instanceof InputError) throw e;
      throw new InputError(`--logs ${opts.logsDir}: cannot write logs there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else log = mapLog(() => new MemorySink());
  const tracker = new DecisionTracker(log, runId);
  tracker.attach(bus); // first subscriber: a signal is logged as received before anything happens to it

  const shadowStats = { outcomes: 0, closed: 0, openAtEnd: 0, expired: 0, rejected: 0, pnl: new Dec(0), headlinePnl: new Dec(0) };
  bus.subscribe('shadow', 'stats', (o) => {
    shadowStats.outcomes++;
    if (o.status === 'closed') shadowStats.closed++;
    else if (o.status === 'open_at_end') shadowStats.openAtEnd++;
    else if (o.status === 'expired') shadowStats.expired++;
    else shadowStats.rejected++;
    shadowStats.pnl = shadowStats.pnl.plus(o.pnl);
    if (!o.overlaps) shadowStats.headlinePnl = shadowStats.headlinePnl.plus(o.pnl);
  });
  const stats = { signals: 0, approved: 0, blocked: 0, failed: 0, rejected: 0, expired: 0, blockedByCode: {} as Record<string, number>, observedByCode: {} as Record<string, number> };
  bus.subscribe('signal', 'stats', () => stats.signals++);
  bus.subscribe('verdict', 'stats', (v) => {
    if (v.decision.decision === 'approved') stats.approved++;
    else stats.blocked++;
    for (const c of v.decision.blockedBy) stats.blockedByCode[c] = (stats.blockedByCode[c] ?? 0) + 1;
    for (const c of v.decision.observedBlocks) stats.observedByCode[c] = (stats.observedByCode[c] ?? 0) + 1;
  });
  bus.subscribe('transition', 'stats', (t) => {
    if (t.to === 'failed') stats.failed++;
    else if (t.to === 'rejected') stats.rejected++;
    else if (t.to === 'expired') stats.expired++;
  });

  const strategyConfigs = new Map(config.strategies.map((s) => [s.name, s]));
  const market = new MarketContext(config.market.atrPeriod);
  const portfolio = new Portfolio(config.startingCash, (pair) => markets.get(pair)?.quote ?? 'USD');
  const venueParams = { slippageBps: config.venue.slippageBps, maxVolumeShare: config.venue.maxVolumeShare };
  const venueDeps: PaperVenueDeps = {
    clock,
    meta: (pair) => markets.get(pair)!,
    cash: (ccy) => portfolio.cashOf(ccy),
    held: (id) => portfolio.position(id)?.quantity ?? new Dec(0),
    lastPrice: (pair) => market.lastClose(pair),
  };
  // the paper venue, or one built by the caller (the Kraken simulator through ccxt); its acceptance
  // check is what the shadow engine asks for blocked signals
  const { venue, check: venueCheck } = opts.venue ? opts.venue(venueDeps, venueParams) : paperVenue(venueParams, venueDeps);
  const gateway = new ExecutionGateway(bus, venue);
  venue.connect(gateway);
  const registry = new LifecycleRegistry(bus, clock);
  const entryPlan = {
    orderType: config.venue.orderType, limitOffsetBps: config.venue.limitOffsetBps,
    entryTimeoutCandles: config.venue.entryTimeoutCandles, intervalMs: series.intervalMs,
  };
  // built once: every open position (live and shadow) asks for its strategy's rules on every candle
  const rulesByStrategy = new Map([...strategyConfigs].map(([name, s]) => [name, exitRulesOf(s)]));
  const exitRules = (name: string) => {
    const r = rulesByStrategy.get(name);
    if (!r) throw new Error(`no exit rules for strategy ${name}`);
    return r;
  };
  const kernel: Kernel = new Kernel(
    {
      bus, clock, markets, registry, chain: buildChain(config),
      strategies: new StrategyRunner(bus, clock, () => config.strategies.map(buildStrategy)),
      market, portfolio, gateway, venue, exitRules,
    },
    { sizing: config.sizing, ...entryPlan, onDecisionLatency: opts.onDecisionLatency },
  );
  const shadowStore = opts.shadowStore ?? (durable ? new DirtyTrackingStore<ShadowPosition>() : new InMemoryStore<ShadowPosition>());
  // blocked signals are followed with the same plan, fill model and exit rules; never the real ledger
  const shadow = new ShadowEngine({
    bus, clock, meta: (pair) => markets.get(pair), fillModel: venueParams, plan: entryPlan, exitRules,
    venueCheck,
    liveHolding: (strategy, pair) => kernel.hasHolding(strategy, pair),
    store: shadowStore,
  });

  const monitor = new PipelineMonitor(bus, clock, {
    inFlight: () => registry.inFlight(),
    enteredAt: (id) => registry.enteredAt(id),
    expire: (id, reason) => kernel.expireStuck(id, reason),
  }, { checkEveryMs: config.monitor.checkEveryMinutes * 60_000, stuckAfterMs: config.monitor.stuckAfterMinutes * 60_000, action: config.monitor.action });

  opts.onPipeline?.({ bus, registry, portfolio, kernel, clock });
  const n = series.length;
  const recorder = durable
    ? new DurableRecorder({ store: durable.store, bus, clock, registry, markets, shadows: shadowStore as DirtyTrackingStore<ShadowPosition>, killInCommit: durable.killInCommit })
    : null;
  const start = checkpoint?.candlesDone ?? 0;
  const save = (candlesDone: number, finished: boolean) => () =>
    durable!.store.saveReplayCheckpoint({ runId, fingerprint, candlesDone, finished, logOffsets: logSizes(logFiles), updatedTs: clock.now() });
  if (recorder) {
    recorder.recording = true;
    recorder.startingCash(config.startingCash);
    if (checkpoint) recorder.discard(); // committed by the first run: counted, not written again
    else recorder.commit(save(0, false)); // before run.started: a crash from here on rolls the logs back to this point
    recorder.recording = start === 0;
    for (const g of gates) g.open = start === 0;
  }
  let resumedMs: number | null = null;
  const resume = () => {
    // the committed candles are re-derived: now the in-memory state must equal the stored ledger
    recorder!.verify(portfolio, durable!.file, start);
    recorder!.discard();
    recorder!.recording = true;
    for (const g of gates) g.open = true;
    resumedMs = Math.round(elapsed());
    tracker.runResumed(clock.now(), { candlesDone: start, of: n, rederiveMs: resumedMs });
  };
  if (start === 0) tracker.runStarted(clock.now(), {
    mode: opts.mode ?? 'replay', pair: series.pair, intervalMinutes: series.intervalMs / 60_000, candles: n, source: series.source.split('/').pop(), venue: venue.name,
    from: n ? isoTime(series.ts[0]!) : null, to: n ? isoTime(series.ts[n - 1]! + series.intervalMs) : null, startingCash: config.startingCash,
    strategies: config.strategies.map((s) => s.name), guards: Object.fromEntries(Object.entries(config.guards).map(([k, v]) => [k, v.mode])),
  });
  // never back: a live pipeline's clock may have moved on to a webhook's arrival before the candle's close is processed
  const setClock = (t: number) => {
    if (t > clock.now()) clock.set(t);
  };
  const progressStep = Math.max(1, Math.floor(n / 200));
  const stepCandle = (i: number): void => {
    if (recorder && i === start && start > 0) resume();
    kernel.onCandle(series.at(i), setClock);
    if (recorder) {
      if (i < start) recorder.discard();
      else if (recorder.dirty || (i + 1) % 1000 === 0) {
        tracker.flush(); // the lines of what is committed are on disk before the commit points past them
        recorder.commit(save(i + 1, false));
      }
    }
    if (opts.onProgress && (i % progressStep === 0 || i === n - 1)) opts.onProgress(i + 1, n);
  };
  const finish = (): ReplayResult => {
  if (recorder && start === n && n > 0 && !checkpoint?.finished) resume();
  if (recorder && checkpoint?.finished) {
    recorder.verify(portfolio, durable!.file, start); // a finished replay: nothing is written again
    recorder.recording = false;
  }

  monitor.tick(true);
  if (!opts.keepShadowsOpen) shadow.finish((pair) => market.lastClose(pair));
  const inFlight = kernel.inFlight();
  const byState: Record<string, number> = {};
  for (const [id, state] of inFlight) {
    byState[state] = (byState[state] ?? 0) + 1;
    tracker.openAtEnd(clock.now(), id, state);
  }
  const trades = portfolio.closedTrades;
  const cash: Record<string, string> = {};
  for (const [ccy, v] of portfolio.cashBalances()) cash[ccy] = v.toFixed(); // exact: equals a recomputation from the fills
  const summary: ReplaySummary = {
    candles: series.length,
    signals: stats.signals,
    approved: stats.approved,
    blocked: stats.blocked,
    blockedByCode: sortKeys(stats.blockedByCode),
    observedByCode: sortKeys(stats.observedByCode),
    failed: stats.failed,
    rejected: stats.rejected,
    expired: stats.expired,
    trades: trades.length,
    wins: trades.filter((t) => t.pnl.gt(0)).length,
    openAtEnd: portfolio.openCount,
    inFlightByState: sortKeys(byState),
    realizedPnl: portfolio.realizedPnl.toFixed(),
    shadow: {
      outcomes: shadowStats.outcomes, closed: shadowStats.closed, openAtEnd: shadowStats.openAtEnd, expired: shadowStats.expired, rejected: shadowStats.rejected,
      pnl: shadowStats.pnl.toFixed(), headlinePnl: shadowStats.headlinePnl.toFixed(),
    },
    fees: portfolio.fees.toFixed(),
    cash,
    equity: kernel.equity().toFixed(),
    skippedRows: series.badRows.length,
    busErrors: bus.errors,
    from: series.length ? isoTime(series.ts[0]!) : null,
    to: series.length ? isoTime(series.ts[series.length - 1]! + series.intervalMs) : null,
    elapsedMs: 0,
    runId,
  };
  summary.elapsedMs = Math.round(elapsed());
  if (durable) summary.resumed = { candlesDone: start, rederiveMs: resumedMs };
  tracker.runFinished(clock.now(), { ...summary });
  tracker.flush();
  if (recorder && !checkpoint?.finished) recorder.commit(save(n, true));
  else recorder?.discard();
  tracker.close();
  return { summary, portfolio, log };
  };
  const stepAsync = async (i: number, hooks: { open(): Promise<void>; close(): Promise<void>; done(): Promise<void> }): Promise<void> => {
    const c = series.at(i);
    kernel.candleOpen(c, setClock);
    await hooks.open();
    kernel.candleClose(c, setClock);
    await hooks.close();
    kernel.candleRest(c);
    await hooks.done();
    if (opts.onProgress && (i % progressStep === 0 || i === n - 1)) opts.onProgress(i + 1, n);
  };
  const warmUp = (i: number): void => kernel.warmUp(series.at(i), setClock);
  return { n, series, venue, step: stepCandle, stepAsync, warmUp, finish };
}

/** the order `a.localeCompare(b)` gives (the same default collator), built once rather than per comparison */
const collator = new Intl.Collator();

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => collator.compare(a, b)));
}

function mapLog(make: (name: keyof DecisionLog) => JsonlSink): DecisionLog {
  return { bus: make('bus'), decisions: make('decisions'), shadow: make('shadow'), outcomes: make('outcomes') };
}
