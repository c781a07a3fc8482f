/**
 * `tollgate run` (`npm start`): the bot on live data.
 *
 *   paper  live Kraken candles (public data, no keys), simulated fills: the default with no API keys.
 *   sim    the Kraken simulator (`--url`), with its keys: the live code path against a loopback Kraken.
 *   live   Kraken with real money: needs API keys AND `--confirm-live`.
 *
 * With API keys configured and no --mode, it refuses to guess: say which mode. History fetched at
 * start only warms the indicators up. Without network it says so and retries with backoff.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { krakenClient } from '../adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../adapters/kraken/kraken-venue.ts';
import { LiveCandleFeed } from '../adapters/kraken/live-feed.ts';
import { ExecutionsWatch } from '../adapters/kraken/executions-watch.ts';
import type { Clock } from '../ports/clock.ts';
import { describeSpeed, SimClockError, SimClockFollower, syncSimClock } from './sim-clock.ts';
import { ScaledClock } from '../adapters/clock/clocks.ts';
import { PaperVenue } from '../adapters/paper/paper-venue.ts';
import type { Config } from '../config/schema.ts';
import { isoTime } from '../domain/time.ts';
import { credentialsFromEnv, credentialsFromFile, type Credentials } from './credentials.ts';
import { runLive } from './live.ts';
import { NONCE_KEY, openLiveState, recordLiveState, SqliteShadowStore, type LiveState } from './live-state.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import type { ReconcileApi } from './reconciliation.ts';
import type { DurableOrders } from './durable-orders.ts';
import type { Venue, VenueSink } from '../ports/venue.ts';
import { parseConfig } from '../config/schema.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VenueFactory } from './replay.ts';
import { buildMarkets, InputError } from './wiring.ts';

interface RunOptions {
  mode?: string;
  pair: string;
  interval: number;
  config?: string;
  logs: string;
  credentials?: string;
  url?: string;
  confirmLive: boolean;
  poll: number;
  deadMansSwitch: number;
  maxCandles?: number;
  json: boolean;
  state: string;
  reconcile: number;
  pace?: number;
  ws: boolean;
}

const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number`);
  return n;
};

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive whole number`);
  return n;
};

export function registerRunCommand(program: Command, loadConfig: (file: string | undefined) => Config): void {
  program
    .command('run')
    .description('run the bot on live data: paper (default without API keys), sim (Kraken simulator) or live (Kraken, real money)')
    .option('--mode <mode>', 'paper | sim | live')
    .option('--pair <pair>', 'pair as BTC/USD', 'BTC/USD')
    .option('--interval <minutes>', 'candle interval in minutes (Kraken: 1, 5, 15, 30, 60, 240, 1440, …)', positiveInt, 60)
    .option('--config <file>', 'JSON config; default: built-in defaults')
    .option('--logs <dir>', 'directory for the JSONL logs', 'logs')
    .option('--credentials <file>', `Kraken API key and secret, mode 600 (or set the environment variables)`)
    .option('--url <origin>', 'a Kraken-compatible API origin: the simulator (sim mode), or market data for paper mode')
    .option('--confirm-live', 'required with --mode live: orders are real and cost real money', false)
    .option('--poll <seconds>', 'how often working orders are polled', positiveInt, 5)
    .option('--dead-mans-switch <seconds>', "CancelAllOrdersAfter timeout, refreshed while healthy (0 = off)", (v) => (v === '0' ? 0 : positiveInt(v)), 60)
    .option('--max-candles <n>', 'stop after this many live candles (tests)', positiveInt)
    .option('--state <file>', 'sim and live: the SQLite state (ledger, orders, audit)', 'data/tollgate.db')
    .option('--reconcile <minutes>', 'sim and live: reconcile the ledger with the venue this often (and at start)', positiveInt, 15)
    .option('--pace <candlesPerSecond>', "sim mode: the simulator's --pace; the bot's clock then runs as fast as the simulator's", positiveNumber)
    .option('--ws', "use Kraken's websockets: candle closes and the last price, and in sim/live your executions (a fill is polled the moment it happens); REST stays the fallback", false)
    .option('--json', 'print the final summary as JSON', false)
    .action(async (o: RunOptions) => {
      const config = loadConfig(o.config);
      const markets = buildMarkets(config);
      if (!markets.has(o.pair)) throw new InputError(`unknown pair ${o.pair} (known: ${[...markets.keys()].join(', ')})`);
      let creds: Credentials | null = o.credentials ? credentialsFromFile(o.credentials) : credentialsFromEnv(process.env);
      const mode = o.mode ?? (creds ? null : 'paper');
      if (mode === null) throw new InputError(`API keys are configured (${creds!.source}): say which mode to run in — --mode paper, --mode sim --url …, or --mode live --confirm-live`);
      if (mode !== 'paper' && mode !== 'sim' && mode !== 'live') throw new InputError(`--mode ${mode}: expected paper, sim or live`);
      if (mode === 'live' && !o.confirmLive) throw new InputError('--mode live places real orders with real money: add --confirm-live to go ahead');
      if (mode === 'live' && o.url) throw new InputError('--mode live talks to Kraken itself; --url is for sim and paper');
      if (mode === 'sim' && !o.url) throw new InputError('--mode sim needs --url (the simulator, e.g. http://127.0.0.1:8899)');
      if (mode !== 'paper' && !creds) throw new InputError(`--mode ${mode} needs API keys: --credentials FILE (mode 600) or TOLLGATE_KRAKEN_API_KEY and TOLLGATE_KRAKEN_API_SECRET`);
      if (mode === 'paper') creds = null; // paper mode sends nothing private
      if (o.pace !== undefined && mode !== 'sim') throw new InputError(`--pace is for --mode sim (the simulator's pace); ${mode} mode runs on real time`);

      // nonces are real time; event time (and these stamps) is the simulator's clock in sim mode
      const wall = new SystemClock();
      let clock: Clock = wall;
      let follower: SimClockFollower | null = null;
      const log = (line: string) => process.stderr.write(`${isoTime(clock.now())} ${line}\n`);
      // sim/live: the state is opened first, so that nonces continue above the last one any earlier run used
      let stateStore: SqliteStateStore | null = null;
      if (mode !== 'paper') {
        ensureDir(o.state);
        try {
          stateStore = SqliteStateStore.open(o.state);
        } catch (e) {
          if (e instanceof StateDbError) throw new InputError(e.message);
          throw e;
        }
      }
      const { exchange } = krakenClient({
        apiKey: creds?.apiKey, secret: creds?.secret, baseUrl: o.url, rateLimit: mode === 'live' || !o.url, clock: wall,
        // the websockets of a Kraken-compatible --url are its /v2 and /v2/auth (Kraken's own: ccxt's defaults)
        ...(o.ws ? { ws: true, ...(o.url ? { wsUrl: `${wsOrigin(o.url)}/v2`, wsAuthUrl: `${wsOrigin(o.url)}/v2/auth` } : {}) } : {}),
        ...(stateStore ? { lastNonce: stateStore.guardState<number>(NONCE_KEY) ?? 0, persistNonce: (n: number) => stateStore!.setGuardState(NONCE_KEY, n, n) } : {}),
      });
      const intervalMs = o.interval * 60_000;
      const speed = o.pace === undefined ? 1 : (o.pace * intervalMs) / 1000;
      if (mode === 'sim') {
        try {
          clock = await syncSimClock({ fetchTime: () => exchange.fetchTime() as Promise<number>, speed });
        } catch (e) {
          if (e instanceof SimClockError) throw new InputError(e.message);
          throw new InputError(`cannot read the simulator's time at ${o.url}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (speed !== 1) log(`sim clock: ${isoTime(clock.now())}, ${speed.toLocaleString('en-US')}× real time (--pace ${o.pace})`);
        follower = new SimClockFollower(clock as ScaledClock, () => exchange.fetchTime() as Promise<number>);
      }
      let venue: KrakenVenue | null = null;
      let feed: LiveCandleFeed | null = null;
      const lastClose = new Map<string, number>();
      let live: LiveState | null = null;
      let runConfig = config;
      if (mode !== 'paper') {
        // the ledger is the truth: intents recorded before they are sent, recovered and reconciled at start
        venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [creds!.apiKey, creds!.secret], lastPrice: (p) => lastClose.get(p) ?? null,
          // at a pace the bot's clock is synced to the simulator's only to within a few simulated minutes
          ...(speed !== 1 ? { tradeTimeSlackMs: Math.max(60_000, 2 * intervalMs) } : {}) });
        await exchange.loadMarkets();
        live = await openLiveState({ file: o.state, store: stateStore!, api: exchange as unknown as ReconcileApi, venue, markets, pair: o.pair, clock, log });
        log(`state ${o.state}: sequence ${live.ledger.load().sequence}, cash ${Object.entries(live.startingCash).map(([c, v]) => `${v} ${c}`).join(', ')}, reconciliation: ${live.reconciliation.differences.length} difference(s)`);
        runConfig = withStartingCash(config, live.startingCash);
      }
      const durableVenue = venue && live ? durableVenueOf(venue, live.orders) : null;
      const venueFactory: VenueFactory | undefined = durableVenue
        ? (deps, fillModel) => {
            const checker = new PaperVenue(fillModel, deps);
            return { venue: durableVenue, check: (x) => checker.check(x) };
          }
        : undefined;
      let stop!: () => void;
      const until = new Promise<void>((r) => (stop = r));
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (log(`${sig}: stopping after the current candle`), stop()));
      // sim mode: the simulator's clock is re-read every 2 s; its end (the clock stops) ends the run
      let stoppedChecks = 0;
      let checking = false;
      let failedChecks = 0;
      const followTimer = follower
        ? setInterval(() => {
            if (checking) return; // a check still waiting for the simulator: no second one meanwhile
            checking = true;
            void follower!.check().then((r) => {
              failedChecks = 0;
              if (r.state === 'speed') log(`sim clock: the simulator now runs at ${describeSpeed(r.speed)} (was ${describeSpeed(r.was)}): following it`);
              if (r.state === 'adjusted') log(`sim clock: re-synced by ${(r.offsetMs / 1000).toFixed(1)} s to the simulator's`);
              stoppedChecks = r.state === 'stopped' ? stoppedChecks + 1 : 0;
              if (stoppedChecks === 2) {
                log(`sim clock: the simulator's clock has stopped at ${isoTime((r as { at: number }).at)} (the end of its data, or pace 0); stopping the run`);
                stop();
              }
            }, (e: unknown) => {
              // said on the first failure and every 30th after (a minute), not every 2 s
              if (failedChecks++ % 30 === 0) log(`sim clock: cannot read the simulator's time (${e instanceof Error ? e.message : String(e)}); ${failedChecks} failed check(s)`);
            }).finally(() => (checking = false));
          }, 2_000)
        : null;
      followTimer?.unref();
      let liveCandles = 0;
      const startedAt = clock.now();
      log(`tollgate run: mode ${mode}, ${o.pair} ${o.interval}m, ${o.url ? `API ${o.url}` : 'Kraken'}, ${o.ws ? `websockets for market data${venue ? ' and executions' : ''} (REST fallback)` : 'REST polling'}${mode === 'live' ? ' — REAL ORDERS' : ''}`);
      const result = await runLive({
        config: runConfig, markets, pair: o.pair, intervalMs, mode, logsDir: o.logs,
        ...(live
          ? {
              shadowStore: new SqliteShadowStore(live.store, clock),
              onPipeline: (parts) => {
                recordLiveState(parts, live!.store, live!.ledger);
                const r = live!.resume(parts);
                if (r.restoredSignals) log(`resumed: ${r.restoredSignals} signal(s) in flight, ${r.adoptedPositions} open position(s) adopted`);
              },
            }
          : {}),
        every: live
          ? [{ ms: o.reconcile * 60_000, what: 'reconciliation', run: async () => {
              const r = await live!.reconcile();
              if (r.halted) {
                venue!.halt(`reconciliation: ${r.differences.filter((x) => x.policy === 'halt').map((x) => x.detail).join('; ')}`);
                log(`reconciliation: trading halted — ${venue!.haltReason}`);
              }
            } }]
          : [],
        ...(venueFactory ? { venue: venueFactory, asyncVenue: () => venue } : {}),
        ...(venue && o.ws ? { venueActivity: new ExecutionsWatch({ exchange, onLog: (_l, m) => log(m) }) } : {}),
        pollMs: o.poll * 1000, deadMansSwitchMs: mode === 'paper' ? 0 : o.deadMansSwitch * 1000,
        warmUpBefore: startedAt - intervalMs,
        log, until,
        feed: {
          start: (onCandle) => {
            feed = new LiveCandleFeed({
              exchange, clock, pairs: [{ pair: o.pair, intervalMs }], transport: o.ws ? 'ws' : 'rest',
              clockSpeed: () => clock instanceof ScaledClock ? clock.speed || speed : speed,
              onCandle: async (c) => {
                lastClose.set(c.pair, c.close);
                await onCandle(c);
                if (c.ts + c.intervalMs >= startedAt - intervalMs && o.maxCandles !== undefined && ++liveCandles >= o.maxCandles) stop();
              },
              onStatus: (s) => log(`market data ${s.pair}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`),
              onLog: (_level, message) => log(message),
            });
            void feed.start();
          },
          stop: () => feed?.stop(),
        },
      });
      if (followTimer) clearInterval(followTimer);
      live?.store.close();
      process.stdout.write((o.json ? JSON.stringify(result.summary) : `run finished: ${result.summary.candles} candles (history included), ${result.summary.signals} signals, ${result.summary.trades} trades, realized ${result.summary.realizedPnl}`) + '\n');
    });
}


/** The venue the gateway sees in sim/live: submits go through the durable order path. */
function durableVenueOf(venue: KrakenVenue, orders: DurableOrders): Venue & { connect(sink: VenueSink): void } {
  return {
    name: venue.name,
    submit: (intent) => orders.submit(intent),
    cancel: (id, reason) => venue.cancel(id, reason),
    onCandle: () => {},
    connect: (sink) => orders.forward(sink),
  };
}

function withStartingCash(config: Config, cash: Record<string, string>): Config {
  const raw = structuredClone(config) as unknown as { startingCash: Record<string, string> };
  raw.startingCash = cash;
  return parseConfig(raw, 'config');
}

/** http://127.0.0.1:8899/ → ws://127.0.0.1:8899 */
function wsOrigin(url: string): string {
  return url.replace(/^http/, 'ws').replace(/\/+$/, '');
}

function ensureDir(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
}
