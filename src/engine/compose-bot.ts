/**
 * The one composition function: `composeBot(options)` builds a Bot for every mode from the same pipeline
 * (`prepareReplay`: kernel, bus, lifecycle machines, guards, shadow engine, tracker, monitor). Modes differ
 * only in what is injected:
 *
 *   mode     clock                          feed                          venue                      store
 *   replay   manual (the data's time)       recorded candles (CSV)        paper fills                memory, or SQLite (--state)
 *   paper    system                         Kraken's public data (ccxt)   paper fills                none
 *   sim      the simulator's (synced)       the simulator (ccxt)          the simulator (ccxt)       SQLite
 *   live     system                         Kraken (ccxt)                 Kraken (ccxt)              SQLite
 *
 * This file and compose.ts are the only engine files that build adapters.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ManualClock, ScaledClock, SystemClock } from '../adapters/clock/clocks.ts';
import type { CandleSeries } from '../domain/candle-series.ts';
import { krakenClient } from '../adapters/kraken/client.ts';
import { closestAltnames, delistedRefusal } from '../kraken/pairs.ts';
import { loadVenueMarkets, type MarketAnswers } from './venue-markets.ts';
import { ExecutionsWatch } from '../adapters/kraken/executions-watch.ts';
import { KrakenVenue, type KrakenApi } from '../adapters/kraken/kraken-venue.ts';
import { LiveCandleFeed } from '../adapters/kraken/live-feed.ts';
import { PaperVenue } from '../adapters/paper/paper-venue.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { isPostgresUrl, redactUrl } from '../adapters/postgres/errors.ts';
import { PgStateStore } from '../adapters/postgres/state-store.ts';
import { parseConfig, type Config } from '../config/schema.ts';
import { isoTime } from '../domain/time.ts';
import type { MarketMeta } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import { nullLogger, type Logger } from '../ports/logger.ts';
import type { Venue, VenueSink } from '../ports/venue.ts';
import { Bot, type BotMode, type BotRun, type ComponentHealth } from './bot.ts';
import { prepareReplay, type ReplayOptions, type VenueFactory } from './compose.ts';
import type { DurableOrders } from '../execution/durable-orders.ts';
import { runLive } from './live.ts';
import { NONCE_KEY, openLiveState, recordLiveState, SqliteShadowStore, type LiveState } from './live-state.ts';
import { KrakenAccount, type AccountApi } from '../adapters/kraken/account.ts';
import { describeSpeed, SimClockError, SimClockFollower, syncSimClock } from './sim-clock.ts';
import { InputError } from './wiring.ts';

export interface Credentials {
  readonly apiKey: string;
  readonly secret: string;
  /** where they came from (a file name or the environment variables), for messages; never the values */
  readonly source: string;
}

interface CommonOptions {
  readonly config: Config;
  readonly markets: Map<string, MarketMeta>;
  /** directory of the JSONL contract logs; null keeps them in memory */
  readonly logsDir: string | null;
  /** the operational log (pino); default: none */
  readonly logger?: Logger;
}

export interface ReplayBotOptions extends CommonOptions {
  readonly mode: 'replay';
  readonly series: CandleSeries;
  readonly onProgress?: ReplayOptions['onProgress'];
  readonly durable?: ReplayOptions['durable'];
  /** candles per second of real time (a paced replay, e.g. to watch it or to exercise the HTTP face); default: as fast as possible */
  readonly pace?: number;
}

export interface LiveBotOptions extends CommonOptions {
  readonly mode: 'paper' | 'sim' | 'live';
  readonly pair: string;
  readonly intervalMs: number;
  /** sim/live: the API keys (paper sends nothing private and takes none) */
  readonly credentials: Credentials | null;
  /** a Kraken-compatible API origin: the simulator (sim), or market data for paper */
  readonly url?: string;
  /** sim/live: the SQLite state */
  readonly stateFile?: string;
  readonly pollMs?: number;
  readonly deadMansSwitchMs?: number;
  readonly reconcileMs?: number;
  /** sim: the simulator's pace in candles per second (the bot's clock then runs as fast) */
  readonly pace?: number;
  readonly ws?: boolean;
  /** stop after this many live candles (tests) */
  readonly maxCandles?: number;
}

export type BotOptions = ReplayBotOptions | LiveBotOptions;

export async function composeBot(o: BotOptions): Promise<Bot> {
  return new Bot(o.mode === 'replay' ? replayRun(o) : await liveRun(o));
}

/** replay: the data's clock, the recorded candles, paper fills, in-memory (or --state) store */
function replayRun(o: ReplayBotOptions): BotRun {
  const { series } = o;
  const clock = new ManualClock(series.length ? series.ts[0]! : 0);
  const logger = o.logger ?? nullLogger;
  let venueName = 'paper';
  return {
    mode: 'replay', pair: series.pair, intervalMs: series.intervalMs, clock, logger,
    venue: () => ({ name: venueName, halted: null }),
    marketData: () => ({ status: 'healthy', reason: null }),
    run: async (until, onPipeline) => {
      let stop = false;
      void until.then(() => (stop = true));
      const p = prepareReplay({
        config: o.config, markets: o.markets, series, logsDir: o.logsDir, clock,
        ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.durable ? { durable: o.durable } : {}),
        onPipeline,
      });
      venueName = p.venue.name;
      const gapMs = o.pace ? 1000 / o.pace : 0;
      for (let i = 0; i < p.n && !stop; i++) {
        p.step(i);
        // a paced replay sleeps between candles; a fast one lets timers and sockets in every few thousand
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        else if (i % 4096 === 4095) await new Promise((r) => setImmediate(r));
      }
      return p.finish();
    },
  };
}

/** paper, sim, live: the same loop over a live feed; sim/live add the durable state and the Kraken venue */
async function liveRun(o: LiveBotOptions): Promise<BotRun> {
  const { config, mode } = o;
  if (!o.markets.has(o.pair)) throw new InputError(`unknown pair ${o.pair}: not one of the ${o.markets.size} markets; closest altnames: ${closestAltnames(o.pair).join(', ')}`);
  const creds = mode === 'paper' ? null : o.credentials;
  if (mode !== 'paper' && !creds) throw new InputError(`--mode ${mode} needs API keys`);
  const logger = o.logger ?? nullLogger;
  // nonces are real time; event time is the simulator's clock in sim mode
  const wall = new SystemClock();
  let clock: Clock = wall;
  const say = (event: string, message: string, fields: Record<string, unknown> = {}) => logger.info(event, fields, message);
  // sim/live: the state is opened first, so that nonces continue above the last one any earlier run used
  let stateStore: SqliteStateStore | null = null;
  const stateUrl = o.stateFile ?? 'data/tollgate.db';
  // a postgres:// state is named without its password wherever it is shown
  const stateFile = isPostgresUrl(stateUrl) ? redactUrl(stateUrl) : stateUrl;
  if (mode !== 'paper') {
    try {
      // the PostgreSQL state offers the SQLite state's methods (PgStateStore implements its surface, minus file backup)
      if (isPostgresUrl(stateUrl)) stateStore = PgStateStore.open(stateUrl) as unknown as SqliteStateStore;
      else {
        ensureDir(stateUrl);
        stateStore = SqliteStateStore.open(stateUrl);
      }
    } catch (e) {
      if (e instanceof StateDbError) throw new InputError(e.message);
      throw e;
    }
  }
  const closeStore = () => stateStore?.close();
  try {
    const { exchange } = krakenClient({
      apiKey: creds?.apiKey, secret: creds?.secret, baseUrl: o.url, rateLimit: mode === 'live' || !o.url, clock: wall,
      nonceWindow: config.venue.nonceWindow,
      // the websockets of a Kraken-compatible --url are its /v2 and /v2/auth (Kraken's own: ccxt's defaults)
      ...(o.ws ? { ws: true, ...(o.url ? { wsUrl: `${wsOrigin(o.url)}/v2`, wsAuthUrl: `${wsOrigin(o.url)}/v2/auth` } : {}) } : {}),
      ...(stateStore ? { lastNonce: stateStore.guardState<number>(NONCE_KEY) ?? 0, persistNonce: (n: number) => stateStore!.setGuardState(NONCE_KEY, n, n) } : {}),
    });
    // the venue's own pairs, minimums and decimals (the bundled snapshot only when it cannot be asked, said so)
    const { markets, source: marketSource } = await loadVenueMarkets(exchange as unknown as MarketAnswers, config, o.markets, logger);
    const pairMeta = markets.get(o.pair);
    const gone = delistedRefusal(o.pair);
    if (gone) throw new InputError(gone);
    if (!pairMeta) throw new InputError(`pair ${o.pair}: not traded on the venue (its AssetPairs has ${markets.size} pairs; closest altnames: ${closestAltnames(o.pair).join(', ')})`);
    if (pairMeta.status !== 'online') logger.warn('market.status', { pair: o.pair, status: pairMeta.status }, `${o.pair} is ${pairMeta.status} on the venue: orders it refuses are rejected`);
    const intervalMs = o.intervalMs;
    const speed = o.pace === undefined ? 1 : (o.pace * intervalMs) / 1000;
    let follower: SimClockFollower | null = null;
    if (mode === 'sim') {
      try {
        clock = await syncSimClock({ fetchTime: () => exchange.fetchTime() as Promise<number>, speed });
      } catch (e) {
        if (e instanceof SimClockError) throw new InputError(e.message);
        throw new InputError(`cannot read the simulator's time at ${o.url}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (speed !== 1) say('sim_clock.synced', `sim clock: ${isoTime(clock.now())}, ${speed.toLocaleString('en-US')}× real time (--pace ${o.pace})`, { speed });
      follower = new SimClockFollower(clock as ScaledClock, () => exchange.fetchTime() as Promise<number>);
    }
    const stamp = () => isoTime(clock.now());
    let venue: KrakenVenue | null = null;
    let feed: LiveCandleFeed | null = null;
    const lastClose = new Map<string, number>();
    let live: LiveState | null = null;
    let runConfig = config;
    let lastReconciliation: { ts: number; differences: number; halted: boolean } | null = null;
    const marketState: { state: string; reason: string | null } = { state: 'starting', reason: null };
    if (mode !== 'paper') {
      // the ledger is the truth: intents recorded before they are sent, recovered and reconciled at start
      venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [creds!.apiKey, creds!.secret], lastPrice: (p) => lastClose.get(p) ?? null,
        // at a pace the bot's clock is synced to the simulator's only to within a few simulated minutes
        ...(speed !== 1 ? { tradeTimeSlackMs: Math.max(60_000, 2 * intervalMs) } : {}) });
      await exchange.loadMarkets();
      live = await openLiveState({ file: stateFile, store: stateStore!, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: o.pair, clock, logger });
      lastReconciliation = { ts: live.reconciliation.ts, differences: live.reconciliation.differences.length, halted: live.reconciliation.halted };
      say('recovery.done', `state ${stateFile}: sequence ${live.ledger.load().sequence}, cash ${Object.entries(live.startingCash).map(([c, v]) => `${v} ${c}`).join(', ')}, reconciliation: ${live.reconciliation.differences.length} difference(s)`, {
        state: stateFile, sequence: live.ledger.load().sequence, cash: live.startingCash, adopted: live.recovered.adopted.length, notSent: live.recovered.notSent.length, differences: live.reconciliation.differences.length,
      });
      runConfig = withStartingCash(config, live.startingCash);
    }
    const durableVenue = venue && live ? durableVenueOf(venue, live.orders) : null;
    const venueFactory: VenueFactory | undefined = durableVenue
      ? (deps, fillModel) => {
          const checker = new PaperVenue(fillModel, deps);
          return { venue: durableVenue, check: (x) => checker.check(x) };
        }
      : undefined;
    const startedAt = clock.now();
    say('bot.config', `tollgate run: mode ${mode}, ${o.pair} ${intervalMs / 60_000}m, ${o.url ? `API ${o.url}` : 'Kraken'}, ${o.ws ? `websockets for market data${venue ? ' and executions' : ''} (REST fallback)` : 'REST polling'}${mode === 'live' ? ' — REAL ORDERS' : ''}`, {
      mode, pair: o.pair, intervalMinutes: intervalMs / 60_000, api: o.url ?? 'kraken', transport: o.ws ? 'ws' : 'rest', markets: marketSource,
      strategies: config.strategies.map((s) => s.name), guards: Object.fromEntries(Object.entries(config.guards).map(([k, v]) => [k, v.mode])),
    });
    return {
      mode, pair: o.pair, intervalMs, clock, logger,
      venue: () => ({ name: venue?.name ?? 'paper', halted: venue?.haltReason ?? null }),
      reconciliation: live ? () => lastReconciliation : undefined,
      marketData: () => marketHealth(marketState, lastClose.size > 0),
      close: closeStore,
      ...(stateStore ? { controls: stateStore } : {}),
      ...(live ? { holdings: live.holdings } : {}),
      run: async (until, onPipeline) => {
        let stopRun!: () => void;
        const stopped = new Promise<void>((r) => (stopRun = r));
        void until.then(() => stopRun());
        // sim mode: the simulator's clock is re-read every 2 s; its end (the clock stops) ends the run
        const followTimer = follower ? followSimClock(follower, logger, stopRun) : null;
        let liveCandles = 0;
        try {
          return await runLive({
            config: runConfig, markets, pair: o.pair, intervalMs, mode, logsDir: o.logsDir,
            ...(live
              ? {
                  shadowStore: new SqliteShadowStore(live.store, clock),
                  onPipeline: (parts) => {
                    recordLiveState(parts, live!.store, live!.ledger);
                    const r = live!.resume(parts);
                    if (r.restoredSignals) say('recovery.resumed', `resumed: ${r.restoredSignals} signal(s) in flight, ${r.adoptedPositions} open position(s) adopted`, r);
                    onPipeline(parts);
                  },
                }
              : { onPipeline }),
            every: live
              ? [{ ms: (o.reconcileMs ?? 15 * 60_000), what: 'reconciliation', run: async () => {
                  const r = await live!.reconcile();
                  lastReconciliation = { ts: r.ts, differences: r.differences.length, halted: r.halted };
                  logger.info('reconciliation.finished', { differences: r.differences.length, adopted: r.adopted, halted: r.halted });
                  if (r.halted) {
                    venue!.halt(`reconciliation: ${r.differences.filter((x) => x.policy === 'halt').map((x) => x.detail).join('; ')}`);
                    logger.error('trading.halted', { reason: venue!.haltReason }, `reconciliation: trading halted — ${venue!.haltReason}`);
                  }
                } }]
              : [],
            ...(venueFactory ? { venue: venueFactory, asyncVenue: () => venue } : {}),
            ...(venue && o.ws ? { venueActivity: new ExecutionsWatch({ exchange, onLog: (level, m) => logger.log(level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'info', 'executions.note', {}, m) }) } : {}),
            pollMs: o.pollMs ?? 5_000, deadMansSwitchMs: mode === 'paper' ? 0 : (o.deadMansSwitchMs ?? 60_000),
            warmUpBefore: startedAt - intervalMs,
            logger, until: stopped,
            feed: {
              start: (onCandle) => {
                feed = new LiveCandleFeed({
                  exchange, clock, pairs: [{ pair: o.pair, intervalMs }], transport: o.ws ? 'ws' : 'rest',
                  clockSpeed: () => clock instanceof ScaledClock ? clock.speed || speed : speed,
                  onCandle: async (c) => {
                    lastClose.set(c.pair, c.close);
                    await onCandle(c);
                    if (c.ts + c.intervalMs >= startedAt - intervalMs && o.maxCandles !== undefined && ++liveCandles >= o.maxCandles) stopRun();
                  },
                  onStatus: (s) => {
                    marketState.state = s.state;
                    marketState.reason = s.reason ?? null;
                    logger.info('market_data.status', { pair: s.pair, state: s.state, reason: s.reason ?? null }, `market data ${s.pair}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`);
                  },
                  onLog: (level, message) => logger.log(level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'info', 'market_data.note', {}, message),
                });
                void feed.start();
              },
              stop: () => feed?.stop(),
            },
          });
        } finally {
          if (followTimer) clearInterval(followTimer);
        }
      },
    };
  } catch (e) {
    closeStore();
    throw e;
  }
}

function marketHealth(s: { state: string; reason: string | null }, anyCandle: boolean): ComponentHealth {
  if (s.state === 'live' || s.state === 'ok' || s.state === 'fresh') return { status: 'healthy', reason: null };
  if (s.state === 'starting') return anyCandle ? { status: 'healthy', reason: null } : { status: 'degraded', reason: 'no candle received yet' };
  return { status: 'degraded', reason: `market data ${s.state}${s.reason ? `: ${s.reason}` : ''}` };
}

function followSimClock(follower: SimClockFollower, logger: Logger, stop: () => void): NodeJS.Timeout {
  let stoppedChecks = 0;
  let checking = false;
  let failedChecks = 0;
  const t = setInterval(() => {
    if (checking) return; // a check still waiting for the simulator: no second one meanwhile
    checking = true;
    void follower.check().then((r) => {
      failedChecks = 0;
      if (r.state === 'speed') logger.info('sim_clock.speed', { speed: r.speed, was: r.was }, `sim clock: the simulator now runs at ${describeSpeed(r.speed)} (was ${describeSpeed(r.was)}): following it`);
      if (r.state === 'adjusted') logger.info('sim_clock.adjusted', { offsetMs: r.offsetMs }, `sim clock: re-synced by ${(r.offsetMs / 1000).toFixed(1)} s to the simulator's`);
      stoppedChecks = r.state === 'stopped' ? stoppedChecks + 1 : 0;
      if (stoppedChecks === 2) {
        logger.warn('sim_clock.stopped', {}, `sim clock: the simulator's clock has stopped at ${isoTime((r as { at: number }).at)} (the end of its data, or pace 0); stopping the run`);
        stop();
      }
    }, (e: unknown) => {
      // said on the first failure and every 30th after (a minute), not every 2 s
      if (failedChecks++ % 30 === 0) logger.warn('sim_clock.unreadable', { failedChecks: failedChecks }, `sim clock: cannot read the simulator's time (${e instanceof Error ? e.message : String(e)}); ${failedChecks} failed check(s)`);
    }).finally(() => (checking = false));
  }, 2_000);
  t.unref();
  return t;
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

export type { BotMode };
