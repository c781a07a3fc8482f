/**
 * Live market data from Kraken through ccxt (REST polling, or websocket-triggered with `transport: 'ws'`): each CLOSED candle of each configured pair is
 * emitted exactly once, in time order, as a domain Candle; a last price per pair can be polled for marks.
 *
 * - Closed means `ts + intervalMs <= clock.now()` AND not the last row of Kraken's OHLC answer (Kraken always
 *   appends the still-forming candle there); the forming candle is never emitted.
 * - Restart: give each pair the open time of the last candle emitted before (`lastTs`); the feed asks Kraken for
 *   what came after it. Kraken's OHLC answers at most 720 rows, so after a longer outage the older candles are
 *   gone from REST: the feed emits what Kraken still has and reports the hole (`onGap`, a warn log).
 * - Staleness: per pair, `stale` when the newest closed candle closed longer ago than `staleAfterMs` (default
 *   two intervals); `offline` while Kraken cannot be reached (retried with exponential backoff and jitter);
 *   `stopped` after an error retrying cannot fix (fatal, or a request Kraken refuses). Changes go to `onStatus`.
 * - Nothing here throws out of the poll loop; time comes from the injected Clock, waiting from the injected Timer.
 *
 * Candles come from ccxt's implicit `publicGetOHLC` (Kraken's OHLC endpoint with ccxt's rate limiter, URLs and
 * error mapping) rather than `fetchOHLCV`, because ccxt's parsed OHLCV drops Kraken's trade count (Candle.trades)
 * and the answer's `last` field. Tickers use ccxt's `fetchTicker`.
 */
import type { Candle } from '../../domain/types.ts';
import { isoTime } from '../../domain/time.ts';
import type { Clock } from '../../ports/clock.ts';
import { classifyVenueError, type ClassifiedError } from './errors.ts';
import { seconds, Sleeper, watchLoop, type WatchTimer } from './ws-loop.ts';

/** The part of ccxt's kraken the feed uses (a `krakenClient(...).exchange` fits; ccxt.pro's for `transport: 'ws'`). */
export interface KrakenMarketDataApi {
  loadMarkets(reload?: boolean): Promise<unknown>;
  market(symbol: string): { id?: string | undefined };
  publicGetOHLC(params: Record<string, unknown>): Promise<unknown>;
  fetchTicker(symbol: string): Promise<{ last?: number | undefined }>;
  /** ccxt.pro: resolves with candles `[ts, o, h, l, c, v]` each time the socket brings some */
  watchOHLCV?(symbol: string, timeframe?: string): Promise<ReadonlyArray<ReadonlyArray<number | undefined>>>;
  watchTicker?(symbol: string): Promise<{ last?: number | undefined }>;
  /** ccxt.pro: closes the websockets (pending watches reject) */
  close?(): Promise<unknown>;
  /** ccxt's capability map (`watchOHLCV: true` on ccxt.pro's kraken; the REST class has stubs that throw) */
  readonly has?: Record<string, unknown>;
}

export type FeedState = 'ok' | 'stale' | 'offline' | 'stopped';

export interface FeedStatus {
  readonly pair: string;
  readonly state: FeedState;
  /** clock time at which the feed entered this state */
  readonly since: number;
  /** one plain sentence */
  readonly reason: string;
}

export interface FeedGap {
  readonly pair: string;
  /** open time of the first missing candle */
  readonly fromTs: number;
  /** open time of the last missing candle */
  readonly toTs: number;
  readonly missed: number;
}

export interface FeedTicker {
  readonly pair: string;
  readonly price: number;
  /** clock time of the poll (Kraken's ticker carries no time) */
  readonly ts: number;
}

/** Scheduling, injectable so tests drive it. `set` returns a handle for `clear`. */
export type FeedTimer = WatchTimer;

export const realTimer: FeedTimer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};


export interface LivePairOptions {
  /** ccxt symbol, e.g. BTC/USD */
  readonly pair: string;
  readonly intervalMs: number;
  /** open time of the last candle emitted before a restart; the feed continues after it */
  readonly lastTs?: number | null;
}

export type FeedLogLevel = 'info' | 'warn' | 'error';

export interface LiveFeedOptions {
  readonly exchange: KrakenMarketDataApi;
  readonly clock: Clock;
  readonly pairs: readonly LivePairOptions[];
  /**
   * 'rest' (default): OHLC polled on a timer. 'ws': ccxt.pro's `watchOHLCV` tells the feed the moment a
   * candle closes (the next candle's first update), and the closed candle is then read from OHLC — the same
   * rows the REST transport emits, with Kraken's trade count, which ccxt's websocket candle drops — so both
   * transports emit identical candles; `watchTicker` keeps the last price. The REST timer keeps running as
   * the safety net, and while a socket is down (reconnected with backoff) REST alone carries the feed.
   */
  readonly transport?: 'rest' | 'ws';
  readonly onCandle: (c: Candle) => void | Promise<void>;
  readonly onStatus?: (s: FeedStatus) => void;
  readonly onTicker?: (t: FeedTicker) => void;
  readonly onGap?: (g: FeedGap) => void;
  readonly onLog?: (level: FeedLogLevel, message: string) => void;
  /** poll the last price too (fetchTicker), default false */
  readonly ticker?: boolean;
  /** longest wait between two polls while healthy, real time (default 30 s) */
  readonly pollMs?: number;
  /** wait after a candle's close before asking for it, clock time (default 2 s) */
  readonly closeLagMs?: number;
  /**
   * how many times as fast as real time the clock runs (sim mode at a pace; default 1): the wait for a
   * candle's close is divided by it; pollMs and the retry backoff stay real time
   */
  readonly clockSpeed?: number | (() => number);
  /** stale after this long without a newer closed candle (default 2 intervals of the pair) */
  readonly staleAfterMs?: number;
  /** closed candles emitted on a fresh start (no lastTs), newest last; default 720 (all Kraken gives) */
  readonly backfill?: number;
  /** retry delays: base × 2^(attempt-1), at most max, minus up to `jitter` of it (default 1 s, 60 s, 0.2) */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number; readonly jitter?: number };
  /** [0, 1), for the jitter (default Math.random) */
  readonly random?: () => number;
  readonly timer?: FeedTimer;
}

export interface PollReport {
  /** candles emitted by this poll */
  readonly emitted: number;
  /** the failure that ended this poll, if any */
  readonly error: ClassifiedError | null;
  /** when to poll next, real ms; null once every pair is stopped */
  readonly nextPollMs: number | null;
}

/** Kraken's OHLC intervals in minutes. */
export const KRAKEN_INTERVALS_MIN = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600] as const;
/** Kraken's OHLC answers at most this many rows (the last one forming). */
export const KRAKEN_OHLC_LIMIT = 720;
/** ccxt's timeframe names for Kraken's intervals (minutes) */
const CCXT_TIMEFRAMES: Record<number, string> = { 1: '1m', 5: '5m', 15: '15m', 30: '30m', 60: '1h', 240: '4h', 1440: '1d', 10080: '1w', 21600: '2w' };

interface PairState {
  readonly pair: string;
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  lastTs: number | null;
  lastDataTs: number | null;
  lastPrice: FeedTicker | null;
  status: FeedStatus;
  /** earliest row of the answer in which a gap was last reported (reported once) */
  gapReportedAt: number | null;
  /** ws: the forming candle for which a poll was already asked (one poll per close) */
  socketAskedFor: number | null;
  /** ws: clock time of the last ticker the socket brought */
  socketTickAt: number | null;
}

const ERRNO = /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)\b/;
const HTTP_STATUS = /\s([1-5]\d\d) ([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*)/;
const KRAKEN_STRING = /^[EW][A-Za-z]+:/;

/** The short cause of a venue error: `ECONNREFUSED`, `HTTP 502 Bad Gateway`, `EService:Unavailable`, `timeout`. */
export function plainCause(c: ClassifiedError): string {
  const errno = ERRNO.exec(c.message)?.[1];
  if (errno) return errno;
  if (KRAKEN_STRING.test(c.code)) return c.code;
  const http = HTTP_STATUS.exec(c.message);
  if (http) return `HTTP ${http[1]} ${http[2]}`;
  if (c.code === 'RequestTimeout' || /timed? ?out/i.test(c.message)) return 'timeout';
  return c.code;
}


function finite(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`market data: malformed OHLC answer (${what} = ${JSON.stringify(v)})`);
  return n;
}

/** Kraken's OHLC rows `[time, open, high, low, close, vwap, volume, count]`, oldest first. */
function parseOhlc(res: unknown, pair: string, intervalMs: number): Candle[] {
  const body = (res ?? {}) as Record<string, unknown>;
  const result = (typeof body['result'] === 'object' && body['result'] !== null ? body['result'] : body) as Record<string, unknown>;
  const rows = Object.entries(result).find(([k, v]) => k !== 'last' && Array.isArray(v))?.[1] as unknown[] | undefined;
  if (!rows) throw new Error('market data: malformed OHLC answer (no rows)');
  const out = rows.map((r): Candle => {
    if (!Array.isArray(r) || r.length < 7) throw new Error('market data: malformed OHLC answer (short row)');
    return {
      pair, intervalMs, ts: finite(r[0], 'time') * 1000,
      open: finite(r[1], 'open'), high: finite(r[2], 'high'), low: finite(r[3], 'low'), close: finite(r[4], 'close'),
      volume: finite(r[6], 'volume'), trades: r[7] === undefined ? 0 : finite(r[7], 'count'),
    };
  });
  out.sort((a, b) => a.ts - b.ts);
  return out;
}

export class LiveCandleFeed {
  private readonly pairs = new Map<string, PairState>();
  private readonly timer: FeedTimer;
  private readonly random: () => number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly pollMs: number;
  private readonly closeLagMs: number;
  private readonly backfill: number;
  private readonly speedOf: () => number;
  private marketsLoaded = false;
  private marketsFailed = false;
  private failures = 0;
  private inFlight: Promise<PollReport> | null = null;
  private running = false;
  private handle: unknown = null;
  private readonly ws: boolean;
  private readonly sockets: Promise<void>[] = [];
  private readonly sleeper: Sleeper;

  constructor(private readonly o: LiveFeedOptions) {
    const transport = o.transport ?? 'rest';
    if (transport !== 'rest' && transport !== 'ws') throw new Error(`market data: transport '${String(transport)}' is not one of rest, ws`);
    this.ws = transport === 'ws';
    if (this.ws && (o.exchange.has?.['watchOHLCV'] !== true || o.exchange.has?.['watchTicker'] !== true || typeof o.exchange.watchOHLCV !== 'function' || typeof o.exchange.watchTicker !== 'function')) {
      throw new Error("market data: transport 'ws' needs ccxt.pro's kraken (krakenClient with ws: true); this client has no watchOHLCV/watchTicker");
    }
    if (o.pairs.length === 0) throw new Error('market data: no pairs configured');
    this.timer = o.timer ?? realTimer;
    this.sleeper = new Sleeper(this.timer);
    this.random = o.random ?? Math.random;
    this.baseMs = o.backoff?.baseMs ?? 1_000;
    this.maxMs = o.backoff?.maxMs ?? 60_000;
    this.jitter = o.backoff?.jitter ?? 0.2;
    this.pollMs = o.pollMs ?? 30_000;
    this.closeLagMs = o.closeLagMs ?? 2_000;
    this.backfill = o.backfill ?? KRAKEN_OHLC_LIMIT;
    const cs = o.clockSpeed ?? 1;
    if (typeof cs === 'number' && !(cs > 0 && Number.isFinite(cs))) throw new Error(`market data: clockSpeed must be > 0, got ${cs}`);
    // a speed that can change (the simulator's pace); never 0 or less, which would make waits endless
    this.speedOf = typeof cs === 'number' ? () => cs : () => Math.max(1e-6, cs());
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) throw new Error(`market data: backoff needs 0 < baseMs <= maxMs, got ${this.baseMs}, ${this.maxMs}`);
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new Error(`market data: backoff jitter must be in [0, 1), got ${this.jitter}`);
    if (!(this.pollMs > 0)) throw new Error(`market data: pollMs must be > 0, got ${this.pollMs}`);
    if (!(this.closeLagMs >= 0)) throw new Error(`market data: closeLagMs must be >= 0, got ${this.closeLagMs}`);
    if (!Number.isInteger(this.backfill) || this.backfill < 0) throw new Error(`market data: backfill must be a whole number >= 0, got ${this.backfill}`);
    const now = o.clock.now();
    for (const p of o.pairs) {
      if (this.pairs.has(p.pair)) throw new Error(`market data: pair ${p.pair} configured twice`);
      if (!(KRAKEN_INTERVALS_MIN as readonly number[]).includes(p.intervalMs / 60_000)) {
        throw new Error(`market data: ${p.pair} interval ${p.intervalMs} ms is not one of Kraken's (${KRAKEN_INTERVALS_MIN.join(', ')} minutes)`);
      }
      const staleAfterMs = o.staleAfterMs ?? 2 * p.intervalMs;
      if (!(staleAfterMs > 0)) throw new Error(`market data: staleAfterMs must be > 0, got ${staleAfterMs}`);
      const lastTs = p.lastTs ?? null;
      this.pairs.set(p.pair, {
        pair: p.pair, intervalMs: p.intervalMs, staleAfterMs, lastTs, lastDataTs: lastTs === null ? null : lastTs + p.intervalMs,
        lastPrice: null, gapReportedAt: null, socketAskedFor: null, socketTickAt: null,
        status: { pair: p.pair, state: 'stale', since: now, reason: `no ${p.pair} market data yet` },
      });
    }
  }

  /** Close time of the newest closed candle emitted (or resumed from) for the pair: what STALE_MARKET_DATA reads. */
  lastDataTs(pair: string): number | null {
    return this.pairs.get(pair)?.lastDataTs ?? null;
  }

  /** Open time of the newest candle emitted (or resumed from): persist it and pass it back as `lastTs` after a restart. */
  lastCandleTs(pair: string): number | null {
    return this.pairs.get(pair)?.lastTs ?? null;
  }

  lastPrice(pair: string): FeedTicker | null {
    return this.pairs.get(pair)?.lastPrice ?? null;
  }

  /** The pair's status, re-evaluated against the clock now (staleness grows between polls). */
  status(pair: string): FeedStatus {
    const p = this.pairs.get(pair);
    if (!p) throw new Error(`market data: unknown pair ${pair}`);
    if (p.status.state === 'ok' || p.status.state === 'stale') this.setStatus(p, this.freshness(p));
    return p.status;
  }

  statuses(): FeedStatus[] {
    return [...this.pairs.keys()].map((k) => this.status(k));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Polls every pair once (concurrent callers share one poll). Never rejects. */
  pollOnce(): Promise<PollReport> {
    if (!this.inFlight) {
      this.inFlight = this.poll()
        .catch((e: unknown): PollReport => this.failed(classifyVenueError(e), [...this.pairs.values()]))
        .finally(() => {
          this.inFlight = null;
        });
    }
    return this.inFlight;
  }

  /**
   * Polls now, then keeps polling on the timer until `stop()` or every pair is stopped (with 'ws', the
   * sockets open after the first poll). Resolves after the first poll.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
    if (this.ws && this.running) {
      for (const p of this.active()) {
        this.sockets.push(this.watch(p, 'candles'));
        if (this.o.ticker) this.sockets.push(this.watch(p, 'ticker'));
      }
    }
  }

  /** Stops the loop and closes the sockets; resolves once a poll in flight has finished. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.handle !== null) this.timer.clear(this.handle);
    this.handle = null;
    this.sleeper.wakeAll();
    if (this.ws) {
      try {
        await this.o.exchange.close?.();
      } catch {
        // closing a socket that is already gone
      }
      await Promise.all(this.sockets.splice(0));
    }
    if (this.inFlight) await this.inFlight;
  }

  /** ws: one watch loop per pair and stream, reconnecting with backoff until stop() */
  private watch(p: PairState, stream: 'candles' | 'ticker'): Promise<void> {
    const ex = this.o.exchange;
    const common = {
      what: `market data: ${p.pair} ${stream} websocket`, fallback: 'REST polling carries on',
      running: () => this.running && p.status.state !== 'stopped', backoffMs: (n: number) => this.backoffDelay(n),
      sleeper: this.sleeper, log: (l: FeedLogLevel, m: string) => this.log(l, m), duration: seconds, cause: plainCause,
    };
    return stream === 'candles'
      ? watchLoop({ ...common, next: () => ex.watchOHLCV!(p.pair, CCXT_TIMEFRAMES[p.intervalMs / 60_000]), onMessage: (rows) => this.onSocketCandles(p, rows) })
      : watchLoop({ ...common, next: () => ex.watchTicker!(p.pair), onMessage: (t) => this.onSocketTicker(p, t) });
  }

  /** a candle newer than the one after our last emitted one has begun: ours closed, read it from OHLC now */
  private onSocketCandles(p: PairState, rows: ReadonlyArray<ReadonlyArray<number | undefined>>): void {
    let forming = -Infinity;
    for (const r of rows) if (typeof r[0] === 'number' && r[0] > forming) forming = r[0];
    if (!Number.isFinite(forming)) return;
    const closedSince = p.lastTs === null ? true : forming - p.intervalMs > p.lastTs;
    if (!closedSince || p.socketAskedFor === forming) return;
    p.socketAskedFor = forming;
    // after a poll in flight (it may have started before this close), not instead of it
    void (this.inFlight ?? Promise.resolve()).then(() => (this.running ? this.pollOnce() : undefined));
  }

  private onSocketTicker(p: PairState, t: { last?: number | undefined }): void {
    if (typeof t.last !== 'number' || !Number.isFinite(t.last)) return;
    p.socketTickAt = this.o.clock.now();
    p.lastPrice = { pair: p.pair, price: t.last, ts: p.socketTickAt };
    const tick = p.lastPrice;
    this.safe('onTicker', () => this.o.onTicker?.(tick));
  }

  private async tick(): Promise<void> {
    this.handle = null;
    if (!this.running) return;
    const r = await this.pollOnce();
    if (!this.running) return;
    if (r.nextPollMs === null) {
      this.running = false;
      this.log('error', 'market data: every pair is stopped; the feed loop ends');
      return;
    }
    this.handle = this.timer.set(() => this.tick(), r.nextPollMs);
  }

  private active(): PairState[] {
    return [...this.pairs.values()].filter((p) => p.status.state !== 'stopped');
  }

  private async poll(): Promise<PollReport> {
    let emitted = 0;
    if (!this.marketsLoaded) {
      try {
        // ccxt keeps a failed loadMarkets promise and hands it out again: after a failure, reload
        await this.o.exchange.loadMarkets(this.marketsFailed);
        this.marketsLoaded = true;
      } catch (e) {
        this.marketsFailed = true;
        return this.failed(classifyVenueError(e), this.active());
      }
    }
    for (const p of this.active()) {
      try {
        emitted += await this.pollPair(p);
        if (this.o.ticker && !this.socketTickerFresh(p)) await this.pollTicker(p);
      } catch (e) {
        const c = classifyVenueError(e);
        if (c.kind === 'retryable' || c.kind === 'ambiguous') {
          // the venue is unreachable or pushing back: every pair is affected; keep what this poll emitted
          const r = this.failed(c, this.active());
          return { ...r, emitted };
        }
        this.stopPair(p, c);
      }
    }
    if (this.failures > 0) {
      this.log('info', `market data: Kraken answers again after ${this.failures} failed attempt${this.failures === 1 ? '' : 's'}`);
      this.failures = 0;
    }
    for (const p of this.active()) this.setStatus(p, this.freshness(p));
    return { emitted, error: null, nextPollMs: this.active().length === 0 ? null : this.healthyDelay() };
  }

  private async pollPair(p: PairState): Promise<number> {
    const intervalMin = p.intervalMs / 60_000;
    const id = this.o.exchange.market(p.pair).id;
    if (!id) throw new Error(`market data: ccxt knows no Kraken id for ${p.pair}`);
    const params: Record<string, unknown> = { pair: id, interval: intervalMin };
    // one interval before our last candle, as ccxt does: the answer then starts at (or before) it
    if (p.lastTs !== null) params['since'] = Math.floor(p.lastTs / 1000) - intervalMin * 60;
    const rows = parseOhlc(await this.o.exchange.publicGetOHLC(params), p.pair, p.intervalMs);
    const now = this.o.clock.now();
    // Kraken's last row is the forming candle; the clock must agree that a candle is over too
    const closed = rows.slice(0, -1).filter((c) => c.ts + p.intervalMs <= now);
    let fresh: Candle[];
    if (p.lastTs === null) {
      fresh = closed.slice(closed.length - Math.min(this.backfill, closed.length));
      const newest = closed.at(-1);
      // backfill 0: start from now; later candles only (nothing was emitted, so lastDataTs stays unknown)
      if (fresh.length === 0 && newest) p.lastTs = newest.ts;
    } else {
      const last = p.lastTs;
      fresh = closed.filter((c) => c.ts > last);
      const first = rows[0];
      if (first && first.ts > last + p.intervalMs && p.gapReportedAt !== first.ts) {
        p.gapReportedAt = first.ts;
        const gap: FeedGap = { pair: p.pair, fromTs: last + p.intervalMs, toTs: first.ts - p.intervalMs, missed: Math.round((first.ts - last) / p.intervalMs) - 1 };
        this.log(
          'warn',
          `market data: ${p.pair} missed ${gap.missed} candle${gap.missed === 1 ? '' : 's'} from ${isoTime(gap.fromTs)} to ${isoTime(gap.toTs)}: ` +
            `older than Kraken's ${KRAKEN_OHLC_LIMIT}-candle OHLC window; continuing from ${isoTime(first.ts)}`,
        );
        this.safe('onGap', () => this.o.onGap?.(gap));
      }
    }
    for (const c of fresh) {
      // recorded before the callback: a subscriber that throws does not get the candle again
      p.lastTs = c.ts;
      p.lastDataTs = c.ts + c.intervalMs;
      try {
        await this.o.onCandle(c);
      } catch (e) {
        this.log('error', `market data: the ${p.pair} candle at ${isoTime(c.ts)} failed in its subscriber: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return fresh.length;
  }

  /** ws: the socket brought a ticker within the last poll period, so REST need not ask */
  private socketTickerFresh(p: PairState): boolean {
    return p.socketTickAt !== null && (this.o.clock.now() - p.socketTickAt) / this.speedOf() <= this.pollMs;
  }

  private async pollTicker(p: PairState): Promise<void> {
    const t = await this.o.exchange.fetchTicker(p.pair);
    if (typeof t.last !== 'number' || !Number.isFinite(t.last)) return;
    p.lastPrice = { pair: p.pair, price: t.last, ts: this.o.clock.now() };
    const tick = p.lastPrice;
    this.safe('onTicker', () => this.o.onTicker?.(tick));
  }

  private failed(c: ClassifiedError, affected: PairState[]): PollReport {
    if (c.kind !== 'retryable' && c.kind !== 'ambiguous') {
      for (const p of affected) this.stopPair(p, c);
      return { emitted: 0, error: c, nextPollMs: this.active().length === 0 ? null : this.healthyDelay() };
    }
    this.failures++;
    const delay = this.backoffDelay(this.failures);
    const cause = plainCause(c);
    const what = KRAKEN_STRING.test(cause) ? `Kraken answers ${cause}` : `cannot reach Kraken (${cause})`;
    this.log('warn', `market data: ${what}; retrying in ${seconds(delay)}`);
    const now = this.o.clock.now();
    for (const p of affected) {
      const reason = `${what}; ${this.failures} failed attempt${this.failures === 1 ? '' : 's'}, next in ${seconds(delay)}`;
      this.setStatus(p, { pair: p.pair, state: 'offline', since: now, reason });
    }
    return { emitted: 0, error: c, nextPollMs: delay };
  }

  private stopPair(p: PairState, c: ClassifiedError): void {
    const reason = `stopped: Kraken refused the ${p.pair} market data request (${plainCause(c)}: ${c.message}); fix the cause and restart`;
    this.log('error', `market data: ${reason}`);
    this.setStatus(p, { pair: p.pair, state: 'stopped', since: this.o.clock.now(), reason });
  }

  private freshness(p: PairState): FeedStatus {
    const now = this.o.clock.now();
    if (p.lastDataTs === null) return { pair: p.pair, state: 'stale', since: now, reason: `no closed ${p.pair} candle yet` };
    const age = now - p.lastDataTs;
    if (age > p.staleAfterMs) {
      return {
        pair: p.pair, state: 'stale', since: now,
        reason: `no new ${p.pair} candle for ${seconds(age)} (last closed at ${isoTime(p.lastDataTs)}; allowed ${seconds(p.staleAfterMs)})`,
      };
    }
    return { pair: p.pair, state: 'ok', since: now, reason: `last ${p.pair} candle closed at ${isoTime(p.lastDataTs)}` };
  }

  /** keeps `since` while the state is unchanged; tells onStatus about changes only */
  private setStatus(p: PairState, next: FeedStatus): void {
    if (next.state === p.status.state) {
      p.status = { ...next, since: p.status.since };
      return;
    }
    p.status = next;
    this.safe('onStatus', () => this.o.onStatus?.(next));
  }

  backoffDelay(attempt: number): number {
    const raw = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.max(1, Math.round(raw * (1 - this.jitter * this.random())));
  }

  /** real ms until the forming candle of some pair closes (plus the lag), at most pollMs */
  private healthyDelay(): number {
    const now = this.o.clock.now();
    let delay = this.pollMs;
    for (const p of this.active()) {
      const nextClose = (Math.floor(now / p.intervalMs) + 1) * p.intervalMs;
      delay = Math.min(delay, (nextClose + this.closeLagMs - now) / this.speedOf());
    }
    return Math.max(1, Math.ceil(delay));
  }

  private safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log('error', `market data: ${what} callback failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private log(level: FeedLogLevel, message: string): void {
    try {
      this.o.onLog?.(level, message);
    } catch {
      // a failing logger must not stop market data
    }
  }
}
