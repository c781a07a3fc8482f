/**
 * Kraken's public WebSocket v2 (`wss://ws.kraken.com/v2`) on the simulator's HTTP server, at path `/v2`, over the
 * replayed candles: enough of it for ccxt.pro's kraken (`watchOHLCV`, `watchTicker`, its `ping` keep-alive).
 *
 * - `status` update on connect; `heartbeat` about once a second to a socket with a subscription that was sent no
 *   channel update in that second (docs.kraken.com/exchange/api-reference/spot-websocket-v2/status, …/heartbeat).
 * - `subscribe` / `unsubscribe` for `ohlc` and `ticker`: one acknowledgement per symbol (`success`, `result`,
 *   `time_in`, `time_out`, the request's `req_id`), then a `snapshot` unless `snapshot: false` (…/ohlc, …/ticker).
 *   `ohlc` serves only the data's own interval; its snapshot is the last 720 candles up to the current one.
 * - Every advance of the exchange pushes an `update` per subscribed pair that moved: `ohlc` carries the candles
 *   that became current, oldest first (several when several were taken at once), `ticker` the new ticker.
 * - `ping` → `pong` (…/ping). A bad request (not JSON, unknown method or channel, unknown pair, wrong interval,
 *   double subscription) is answered with `{ error, method, success: false, … }` and the socket stays open.
 *
 * Faults for tests: `drop()` terminates every socket (a network cut: clients see code 1006); `pause(true)` sends
 * nothing at all (no updates, heartbeats, acknowledgements or pongs: a silent stall) while the sockets stay open
 * and requests are still read; what would have been sent meanwhile is lost, as a black-holed link loses it.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { Dec } from '../../domain/money.ts';
import { isoTime } from '../../domain/time.ts';
import type { Candle, MarketMeta } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SimExchange } from './exchange.ts';

export const WS_PATH = '/v2';
/** Kraken's ohlc snapshot holds up to 720 candles, as its REST OHLC does */
const SNAPSHOT_CANDLES = 720;
/** requests are small JSON objects; anything larger closes the socket (ws answers 1009) */
const MAX_PAYLOAD = 64 * 1024;
/** Kraken's ohlc intervals (minutes) */
const KRAKEN_INTERVALS = new Set([1, 5, 15, 30, 60, 240, 1440, 10080, 21600]);
/** the interval Kraken assumes when a subscription names none */
const DEFAULT_INTERVAL = 1;
const SERVICE_VERSION = '2.0.0';

/** One candle at its pair's precision, the figures of a row of Kraken's REST OHLC. */
export interface CandleFigures {
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly vwap: string;
  readonly volume: string;
  readonly trades: number;
}

/** Figures over a window of candles, as Kraken's REST Ticker shows them. */
export interface WindowFigures {
  readonly volume: string;
  readonly vwap: string;
  readonly trades: number;
  readonly low: string;
  readonly high: string;
  readonly open: string;
}

/** Kraken's ticker of a pair at its current candle: `today` since 00:00 UTC, `day` the last 24 hours. */
export interface TickerFigures {
  readonly bid: string;
  readonly ask: string;
  /** quantity at the best bid and at the best ask */
  readonly topQty: string;
  readonly last: string;
  readonly lastVolume: string;
  readonly today: WindowFigures;
  readonly day: WindowFigures;
}

export interface KrakenWsOptions {
  readonly exchange: SimExchange;
  /** time_in/time_out and message timestamps */
  readonly clock: Clock;
  readonly candleFigures: (meta: MarketMeta, candle: Candle) => CandleFigures;
  readonly tickerFigures: (meta: MarketMeta) => TickerFigures;
  /** default 1000, as Kraken */
  readonly heartbeatMs?: number;
}

/** The endpoint's controls, for the simulator's owner. */
export interface KrakenWs {
  /** open sockets */
  readonly socketCount: number;
  /** terminates every open socket, as a network cut would */
  drop(): void;
  /** true: send nothing (a silent stall) until called with false */
  pause(on: boolean): void;
  /** terminates every socket and stops serving; resolves once all are closed */
  close(): Promise<void>;
}

type Channel = 'ohlc' | 'ticker';
type Json = Record<string, unknown>;

interface Conn {
  readonly ws: WebSocket;
  readonly subs: Record<Channel, Set<string>>;
  /** a channel update went out since the last heartbeat tick */
  busy: boolean;
}

/** a request that cannot be served: Kraken's `{ error, success: false }` answer */
class RequestError extends Error {
  constructor(message: string, readonly symbol?: string) {
    super(message);
  }
}

/** RFC 3339 UTC with `digits` fractional digits (Kraken uses 9 on interval_begin and message timestamps, else 6). */
export function rfc3339(ms: number, digits: 6 | 9): string {
  return isoTime(ms).replace(/\.(\d{3})Z$/, (_m, milli: string) => `.${milli}${'0'.repeat(digits - 3)}Z`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Serves Kraken's public WebSocket v2 on `server` at `/v2` (see the file comment). */
export function attachKrakenWs(server: Server, o: KrakenWsOptions): KrakenWs {
  return new KrakenWsEndpoint(server, o);
}

class KrakenWsEndpoint implements KrakenWs {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  private readonly conns = new Map<WebSocket, Conn>();
  /** per pair (ccxt symbol), the cursor of the last candle pushed */
  private readonly pushed = new Map<string, number>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly stopListening: () => void;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);
  private connectionSeq = 0;
  private paused = false;
  private closed = false;

  constructor(private readonly server: Server, private readonly o: KrakenWsOptions) {
    for (const m of o.exchange.pairs()) this.pushed.set(m.pair, o.exchange.cursor(m.krakenPair));
    server.on('upgrade', this.onUpgrade);
    this.stopListening = o.exchange.onAdvance((pairs) => this.advanced(pairs));
    this.heartbeat = setInterval(() => this.beat(), o.heartbeatMs ?? 1000);
    this.heartbeat.unref();
  }

  get socketCount(): number {
    return this.conns.size;
  }

  drop(): void {
    for (const ws of this.conns.keys()) ws.terminate();
  }

  pause(on: boolean): void {
    this.paused = on;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.stopListening();
    this.server.off('upgrade', this.onUpgrade);
    this.drop();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---------- connections ----------

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (this.closed || path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  private connected(ws: WebSocket): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const conn: Conn = { ws, subs: { ohlc: new Set(), ticker: new Set() }, busy: false };
    this.conns.set(ws, conn);
    ws.on('message', (data: RawData, isBinary: boolean) => this.request(conn, data, isBinary));
    ws.on('close', () => this.conns.delete(ws));
    // a client's protocol error or an oversized frame: ws closes the socket itself; nothing to add
    ws.on('error', () => undefined);
    this.send(conn, { channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: ++this.connectionSeq, system: 'online', version: SERVICE_VERSION }] });
  }

  private send(conn: Conn, message: Json | string): void {
    if (this.paused || conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  private beat(): void {
    for (const conn of this.conns.values()) {
      if (!conn.busy && (conn.subs.ohlc.size > 0 || conn.subs.ticker.size > 0)) this.send(conn, { channel: 'heartbeat' });
      conn.busy = false;
    }
  }

  // ---------- requests ----------

  private request(conn: Conn, data: RawData, isBinary: boolean): void {
    const timeIn = this.o.clock.now();
    let msg: unknown;
    try {
      msg = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      msg = undefined;
    }
    if (!isObject(msg)) return this.fail(conn, timeIn, {}, new RequestError('Malformed request: expected a JSON object such as {"method":"ping"}'));
    const reqId = msg.req_id;
    const echo: Json = { ...(typeof msg.method === 'string' ? { method: msg.method } : {}), ...(reqId !== undefined ? { req_id: reqId } : {}) };
    try {
      if (reqId !== undefined && !Number.isInteger(reqId)) throw new RequestError('Malformed request: req_id must be an integer');
      switch (msg.method) {
        case 'ping':
          return this.send(conn, { method: 'pong', ...(reqId !== undefined ? { req_id: reqId } : {}), time_in: rfc3339(timeIn, 6), time_out: this.timeOut() });
        case 'subscribe':
        case 'unsubscribe':
          return this.subscription(conn, msg.method, msg.params, timeIn, echo);
        default:
          throw new RequestError(typeof msg.method === 'string' ? `Method not found: ${msg.method} (served: subscribe, unsubscribe, ping)` : 'Malformed request: method is missing');
      }
    } catch (e) {
      if (e instanceof RequestError) return this.fail(conn, timeIn, echo, e);
      // a bug here must not take the simulator down with it: log it and answer as Kraken would
      process.stderr.write(`kraken-sim: websocket internal error: ${(e as Error).stack ?? String(e)}\n`);
      this.fail(conn, timeIn, echo, new RequestError('Internal error'));
    }
  }

  private subscription(conn: Conn, method: 'subscribe' | 'unsubscribe', params: unknown, timeIn: number, echo: Json): void {
    if (!isObject(params)) throw new RequestError('Malformed request: params must be an object');
    const channel = params.channel;
    if (channel !== 'ohlc' && channel !== 'ticker') {
      throw new RequestError(`Channel not supported: ${typeof channel === 'string' ? channel : JSON.stringify(channel ?? null)} (the simulator serves ohlc and ticker)`);
    }
    const symbols = params.symbol;
    if (!Array.isArray(symbols) || symbols.length === 0 || !symbols.every((s): s is string => typeof s === 'string')) {
      throw new RequestError('Malformed request: params.symbol must be a non-empty list of pairs, e.g. ["BTC/USD"]');
    }
    const snapshot = params.snapshot ?? true;
    if (typeof snapshot !== 'boolean') throw new RequestError('Malformed request: params.snapshot must be true or false');
    const interval = params.interval ?? DEFAULT_INTERVAL;
    if (channel === 'ohlc' && (typeof interval !== 'number' || !KRAKEN_INTERVALS.has(interval))) {
      throw new RequestError(`Malformed request: params.interval must be one of ${[...KRAKEN_INTERVALS].join(', ')} (minutes)`);
    }
    for (const symbol of symbols) {
      try {
        const meta = this.o.exchange.pairs().find((m) => m.pair === symbol);
        if (!meta) throw new RequestError(`Currency pair not supported ${symbol}`, symbol);
        const served = this.intervalOf(meta);
        if (channel === 'ohlc' && interval !== served) {
          throw new RequestError(`Interval not supported: ${String(interval)} for ${symbol} (the simulator serves ${served}-minute candles)`, symbol);
        }
        const subs = conn.subs[channel];
        if (method === 'subscribe' && subs.has(symbol)) throw new RequestError('Already subscribed', symbol);
        if (method === 'unsubscribe' && !subs.has(symbol)) throw new RequestError('Subscription Not Found', symbol);
        if (method === 'subscribe') subs.add(symbol);
        else subs.delete(symbol);
        const result: Json = { channel, ...(channel === 'ohlc' ? { interval: served } : {}), ...(method === 'subscribe' ? { snapshot } : {}), symbol };
        this.send(conn, { method, result, success: true, time_in: rfc3339(timeIn, 6), time_out: this.timeOut(), ...(echo.req_id !== undefined ? { req_id: echo.req_id } : {}) });
        if (method === 'subscribe' && snapshot) this.snapshot(conn, channel, meta);
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        this.fail(conn, timeIn, echo, e);
      }
    }
  }

  private fail(conn: Conn, timeIn: number, echo: Json, e: RequestError): void {
    this.send(conn, {
      error: e.message, ...(echo.method !== undefined ? { method: echo.method } : {}), success: false, ...(e.symbol !== undefined ? { symbol: e.symbol } : {}),
      time_in: rfc3339(timeIn, 6), time_out: this.timeOut(), ...(echo.req_id !== undefined ? { req_id: echo.req_id } : {}),
    });
  }

  private timeOut(): string {
    return rfc3339(this.o.clock.now(), 6);
  }

  // ---------- channel data ----------

  private intervalOf(meta: MarketMeta): number {
    return this.o.exchange.current(meta.krakenPair).intervalMs / 60_000;
  }

  private snapshot(conn: Conn, channel: Channel, meta: MarketMeta): void {
    const i = this.o.exchange.cursor(meta.krakenPair);
    const text = channel === 'ohlc' ? this.ohlcMessage('snapshot', meta, i - SNAPSHOT_CANDLES + 1, i) : this.tickerMessage('snapshot', meta);
    this.send(conn, text);
    conn.busy = true;
  }

  private advanced(pairs: readonly string[]): void {
    for (const pair of pairs) {
      const meta = this.o.exchange.pairs().find((m) => m.pair === pair);
      if (!meta) continue;
      const to = this.o.exchange.cursor(meta.krakenPair);
      const from = Math.max((this.pushed.get(pair) ?? to - 1) + 1, to - SNAPSHOT_CANDLES + 1);
      this.pushed.set(pair, to);
      if (from > to || this.paused) continue;
      let ohlc: string | null = null;
      let ticker: string | null = null;
      for (const conn of this.conns.values()) {
        if (conn.subs.ohlc.has(pair)) this.send(conn, (ohlc ??= this.ohlcMessage('update', meta, from, to)));
        if (conn.subs.ticker.has(pair)) this.send(conn, (ticker ??= this.tickerMessage('update', meta)));
        if (conn.subs.ohlc.has(pair) || conn.subs.ticker.has(pair)) conn.busy = true;
      }
    }
  }

  private ohlcMessage(type: 'snapshot' | 'update', meta: MarketMeta, fromIndex: number, toIndex: number): string {
    const data = this.o.exchange.candles(meta.krakenPair, fromIndex, toIndex).map((c) => {
      const f = this.o.candleFigures(meta, c);
      return {
        symbol: meta.pair, open: Number(f.open), high: Number(f.high), low: Number(f.low), close: Number(f.close), trades: f.trades,
        volume: Number(f.volume), vwap: Number(f.vwap), interval_begin: rfc3339(c.ts, 9), interval: c.intervalMs / 60_000,
        timestamp: rfc3339(c.ts + c.intervalMs, 6),
      };
    });
    return JSON.stringify({ channel: 'ohlc', type, timestamp: rfc3339(this.o.clock.now(), 9), data });
  }

  private tickerMessage(type: 'snapshot' | 'update', meta: MarketMeta): string {
    const f = this.o.tickerFigures(meta);
    const change = new Dec(f.last).minus(f.day.open);
    const changePct = new Dec(f.day.open).gt(0) ? change.div(f.day.open).mul(100).toDecimalPlaces(2) : new Dec(0);
    const data = {
      symbol: meta.pair, bid: Number(f.bid), bid_qty: Number(f.topQty), ask: Number(f.ask), ask_qty: Number(f.topQty), last: Number(f.last),
      volume: Number(f.day.volume), vwap: Number(f.day.vwap), low: Number(f.day.low), high: Number(f.day.high),
      change: change.toNumber(), change_pct: changePct.toNumber(),
    };
    return JSON.stringify({ channel: 'ticker', type, data: [data] });
  }
}
