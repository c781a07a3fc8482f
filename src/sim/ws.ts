/**
 * Kraken's public WebSocket v2 (`wss://ws.kraken.com/v2`) on the simulator's HTTP server, at path `/v2`, over the
 * replayed candles: enough of it for ccxt.pro's kraken (`watchOHLCV`, `watchTicker`, its `ping` keep-alive); and
 * its private WebSocket v2 (`wss://ws-auth.kraken.com/v2`) at `/v2/auth`, with the `executions` channel over the
 * simulated account (ccxt.pro's `watchMyTrades`, `watchOrders`).
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
 * Private (`/v2/auth`; it serves the public channels too): `executions` (…/spot-websocket-v2/executions) needs
 * `params.token` from REST GetWebSocketsToken (`issueToken`: a random token valid for 900 s of real time, checked
 * when subscribing, so a running subscription outlives it, as Kraken's does); a bad or expired token is answered
 * `ESession:Invalid session`. The ack's `result` is `{ channel, maxratecount, snap_orders, snap_trades }`. Then a
 * `snapshot`: the last 50 fills when `snap_trades` (default false) and the open orders when `snap_orders` (default
 * true), as two messages (trades first), since ccxt routes an executions message by its first entry's `exec_type`.
 * Then one `update` (one entry, `sequence` counting per connection) per execution event of the exchange:
 * `pending_new` then `new` on an accepted order (only `new`, with the order's details, when `order_status: false`),
 * `trade` per fill (`exec_id` = the trade's id in REST TradesHistory, `trade_id`, `last_qty`, `last_price`, `cost`,
 * `fees` in the quote currency, `liquidity_ind` t/m, `order_status` partially_filled or filled), `filled` once
 * complete, `canceled` (`reason`, `cancel_reason`), `expired`. Quantities and prices are JSON numbers written with
 * exactly the digits REST shows; timestamps are the simulator clock's, as in REST.
 *
 * Faults for tests, on both paths: `drop()` terminates every socket (a network cut: clients see code 1006);
 * `pause(true)` sends nothing at all (no updates, heartbeats, acknowledgements or pongs: a silent stall) while the
 * sockets stay open and requests are still read; what would have been sent meanwhile is lost, as a black-holed link
 * loses it (executions too: their `sequence` skips the lost messages).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import type { Candle, MarketMeta } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import { SystemClock } from '../adapters/clock/clocks.ts';
import type { SimExchange, SimExecution, SimOrder, SimTrade } from './exchange.ts';

export const WS_PATH = '/v2';
/** the private endpoint (Kraken's wss://ws-auth.kraken.com/v2) */
export const WS_AUTH_PATH = '/v2/auth';
/** GetWebSocketsToken's `expires`: a token must be used within 15 minutes */
export const TOKEN_TTL_SECONDS = 900;
/** Kraken's executions snapshot holds the last 50 fills */
const SNAPSHOT_TRADES = 50;
/** the trading rate counter's maximum that Kraken's executions ack shows (Intermediate tier) */
const MAX_RATE_COUNT = 125;
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
  /** the clock of token expiry: real time (default the system clock), not the simulator's possibly paced one */
  readonly tokenClock?: Clock;
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
  /** REST GetWebSocketsToken: a new token for `apiKey`, valid for `expires` seconds of real time */
  issueToken(apiKey: string): { token: string; expires: number };
}

type Channel = 'ohlc' | 'ticker';
type Json = Record<string, unknown>;

/** an executions subscription */
interface ExecSub {
  readonly token: string;
  readonly snapOrders: boolean;
  readonly snapTrades: boolean;
  /** false: only open/close transitions (no pending_new) */
  readonly orderStatus: boolean;
}

interface Conn {
  readonly ws: WebSocket;
  /** connected to the private endpoint */
  readonly auth: boolean;
  readonly subs: Record<Channel, Set<string>>;
  exec: ExecSub | null;
  /** the last executions message's sequence number */
  execSeq: number;
  /** a channel update went out since the last heartbeat tick */
  busy: boolean;
}

/** a number written into JSON as exactly this decimal text (no float on the way, as Kraken prints its numbers) */
class JsonNumber {
  constructor(readonly text: string) {}
}

function exact(d: Dec, places?: number): JsonNumber {
  return new JsonNumber(places === undefined ? d.toFixed() : d.toFixed(places));
}

/** JSON.stringify that writes JsonNumbers verbatim and leaves out undefined members */
function toJson(v: unknown): string {
  if (v instanceof JsonNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** a Kraken REST time (unix seconds) as an executions timestamp, to the millisecond ccxt reads from REST */
function execTime(seconds: number): string {
  return rfc3339(Math.trunc(seconds * 1000), 6);
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

/** the quote currency as Kraken's websocket v2 names it (BTC/USD → USD) */
function quoteOf(m: MarketMeta): string {
  return m.pair.split('/')[1] ?? m.quote;
}

/** Serves Kraken's public WebSocket v2 on `server` at `/v2` and its private one at `/v2/auth` (see the file comment). */
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
  private readonly stopExecutions: () => void;
  private readonly tokenClock: Clock;
  /** issued tokens: the API key and the real time (ms) they expire */
  private readonly tokens = new Map<string, { apiKey: string; expiresAt: number }>();
  private connectionSeq = 0;
  private paused = false;
  private closed = false;

  constructor(private readonly server: Server, private readonly o: KrakenWsOptions) {
    for (const m of o.exchange.pairs()) this.pushed.set(m.pair, o.exchange.cursor(m.krakenPair));
    server.on('upgrade', this.onUpgrade);
    this.stopListening = o.exchange.onAdvance((pairs) => this.advanced(pairs));
    this.stopExecutions = o.exchange.onExecution((e) => this.executed(e));
    this.tokenClock = o.tokenClock ?? new SystemClock();
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
    this.stopExecutions();
    this.server.off('upgrade', this.onUpgrade);
    this.drop();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  issueToken(apiKey: string): { token: string; expires: number } {
    const now = this.tokenClock.now();
    for (const [t, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(t);
    // Kraken's tokens: 43 characters of base64 (32 random bytes)
    const token = randomBytes(32).toString('base64').replace(/=+$/, '');
    this.tokens.set(token, { apiKey, expiresAt: now + TOKEN_TTL_SECONDS * 1000 });
    return { token, expires: TOKEN_TTL_SECONDS };
  }

  private tokenValid(token: string): boolean {
    const t = this.tokens.get(token);
    return t !== undefined && this.tokenClock.now() < t.expiresAt;
  }

  // ---------- connections ----------

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (this.closed || (path !== WS_PATH && path !== WS_AUTH_PATH)) {
      // a client that resets meanwhile must not take the simulator down
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, path === WS_AUTH_PATH));
  }

  private connected(ws: WebSocket, auth: boolean): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const conn: Conn = { ws, auth, subs: { ohlc: new Set(), ticker: new Set() }, exec: null, execSeq: 0, busy: false };
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
      if (!conn.busy && (conn.subs.ohlc.size > 0 || conn.subs.ticker.size > 0 || conn.exec !== null)) this.send(conn, { channel: 'heartbeat' });
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
    if (channel === 'executions') return this.executionsSubscription(conn, method, params, timeIn, echo);
    if (channel !== 'ohlc' && channel !== 'ticker') {
      const served = conn.auth ? 'ohlc, ticker and executions' : 'ohlc and ticker';
      throw new RequestError(`Channel not supported: ${typeof channel === 'string' ? channel : JSON.stringify(channel ?? null)} (the simulator serves ${served})`);
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

  /** subscribe/unsubscribe `executions`: private endpoint, valid token, Kraken's defaults (snap_orders true, snap_trades false) */
  private executionsSubscription(conn: Conn, method: 'subscribe' | 'unsubscribe', params: Json, timeIn: number, echo: Json): void {
    if (!conn.auth) {
      throw new RequestError(`Channel not supported: executions on ${WS_PATH} (a private channel: subscribe on ${WS_AUTH_PATH} with a token from GetWebSocketsToken)`);
    }
    const token = params.token;
    if (typeof token !== 'string' || token === '') throw new RequestError('Malformed request: params.token is required (a token from REST GetWebSocketsToken)');
    const flag = (name: string, dflt: boolean): boolean => {
      const v = params[name] ?? dflt;
      if (typeof v !== 'boolean') throw new RequestError(`Malformed request: params.${name} must be true or false`);
      return v;
    };
    const snapOrders = flag('snap_orders', true);
    const snapTrades = flag('snap_trades', false);
    const orderStatus = flag('order_status', true);
    // Kraken checks a token when it is used; a subscription made with it outlives its 15 minutes
    if (!this.tokenValid(token) && !(method === 'unsubscribe' && conn.exec?.token === token)) throw new RequestError('ESession:Invalid session');
    const ack = (result: Json) => this.send(conn, { method, result, success: true, time_in: rfc3339(timeIn, 6), time_out: this.timeOut(), ...(echo.req_id !== undefined ? { req_id: echo.req_id } : {}) });
    if (method === 'unsubscribe') {
      if (conn.exec === null) throw new RequestError('Subscription Not Found');
      conn.exec = null;
      return ack({ channel: 'executions' });
    }
    if (conn.exec !== null) throw new RequestError('Already subscribed');
    conn.exec = { token, snapOrders, snapTrades, orderStatus };
    ack({ channel: 'executions', maxratecount: MAX_RATE_COUNT, snap_orders: snapOrders, snap_trades: snapTrades });
    if (snapTrades) {
      const trades = this.o.exchange.trades().slice(-SNAPSHOT_TRADES);
      this.sendExecutions(conn, 'snapshot', trades.map((t) => this.tradeEntry(this.o.exchange.order(t.ordertxid)!, t, this.statusAfter(t))));
    }
    if (snapOrders) {
      const open = this.o.exchange.orders().filter((o) => o.status === 'open' || o.status === 'pending');
      this.sendExecutions(conn, 'snapshot', open.map((o) => this.orderEntry(o, 'new', o.volExec.gt(0) ? 'partially_filled' : 'new', o.openTm, true)));
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

  // ---------- executions ----------

  private sendExecutions(conn: Conn, type: 'snapshot' | 'update', data: Json[]): void {
    this.send(conn, toJson({ channel: 'executions', type, data, sequence: ++conn.execSeq }));
    conn.busy = true;
  }

  private executed(e: SimExecution): void {
    const subscribed = [...this.conns.values()].filter((c) => c.exec !== null);
    if (subscribed.length === 0) return;
    const o = e.order;
    let entries: (orderStatus: boolean) => Json[];
    switch (e.type) {
      case 'new': {
        const pending = this.orderEntry(o, 'pending_new', 'pending_new', o.openTm, true);
        const live = this.orderEntry(o, 'new', 'new', o.openTm, false);
        const liveFull = this.orderEntry(o, 'new', 'new', o.openTm, true);
        entries = (orderStatus) => (orderStatus ? [pending, live] : [liveFull]);
        break;
      }
      case 'trade': {
        const entry = this.tradeEntry(o, e.trade, o.status === 'closed' ? 'filled' : 'partially_filled');
        entries = () => [entry];
        break;
      }
      default: {
        const entry = this.orderEntry(o, e.type, e.type, o.closeTm ?? o.openTm, false);
        entries = () => [entry];
      }
    }
    for (const conn of subscribed) for (const entry of entries(conn.exec!.orderStatus)) this.sendExecutions(conn, 'update', [entry]);
  }

  /** the order's status right after fill `t` (for the trades of a snapshot) */
  private statusAfter(t: SimTrade): 'partially_filled' | 'filled' {
    const o = this.o.exchange.order(t.ordertxid)!;
    let cum = new Dec(0);
    for (const x of this.o.exchange.trades()) if (x.ordertxid === o.txid && x.tradeId <= t.tradeId) cum = cum.plus(x.vol);
    return cum.gte(o.volume) ? 'filled' : 'partially_filled';
  }

  /** an order event: ids and symbol always, the order's terms when `details`, its fills so far unless it was just accepted */
  private orderEntry(o: SimOrder, execType: string, status: string, timeSec: number, details: boolean): Json {
    const m = o.meta;
    const avg = o.volExec.gt(0) ? o.cost.div(o.volExec).toDecimalPlaces(m.priceDecimals + 4) : new Dec(0);
    const closing = execType === 'filled' || execType === 'canceled' || execType === 'expired';
    return {
      order_id: o.txid, ...(o.clOrdId !== null ? { cl_ord_id: o.clOrdId } : {}), order_userref: o.userref ?? 0, symbol: o.pair,
      exec_type: execType, order_status: status,
      ...(details
        ? {
          side: o.side, order_type: o.type, order_qty: exact(o.volume, m.lotDecimals),
          ...(o.price !== null ? { limit_price: exact(o.price, m.priceDecimals), limit_price_type: 'static' } : {}),
          time_in_force: o.timeInForce, ...(o.timeInForce === 'GTD' ? { expire_time: execTime(o.expireTm) } : {}),
          ...(o.postOnly ? { post_only: true } : {}), fee_ccy_pref: 'fciq',
        }
        : {}),
      ...(details || closing
        ? { cum_qty: exact(o.volExec, m.lotDecimals), cum_cost: exact(o.cost), avg_price: exact(avg), ...this.feeUsd(m, o.fee) }
        : {}),
      ...(execType === 'canceled' && o.reason !== null ? { cancel_reason: o.reason, reason: o.reason } : {}),
      timestamp: execTime(timeSec),
    };
  }

  /** a fill, with the figures of REST TradesHistory (exec_id is its trade id there) */
  private tradeEntry(o: SimOrder, t: SimTrade, status: 'partially_filled' | 'filled'): Json {
    const m = o.meta;
    return {
      order_id: o.txid, ...(o.clOrdId !== null ? { cl_ord_id: o.clOrdId } : {}), order_userref: o.userref ?? 0, symbol: t.pair,
      exec_type: 'trade', exec_id: t.id, trade_id: t.tradeId, side: t.side, order_type: t.ordertype,
      last_qty: exact(t.vol, m.lotDecimals), last_price: exact(t.price, m.priceDecimals), cost: exact(t.cost),
      liquidity_ind: t.maker ? 'm' : 't', fees: [{ asset: quoteOf(m), qty: exact(t.fee) }], ...this.feeUsd(m, t.fee),
      order_status: status, timestamp: execTime(t.time),
    };
  }

  /** fee_usd_equiv: the fee itself on a USD-quoted pair; left out elsewhere (the simulator has no conversion rates) */
  private feeUsd(m: MarketMeta, fee: Dec): Json {
    return quoteOf(m) === 'USD' ? { fee_usd_equiv: exact(fee) } : {};
  }

  // ---------- public channel data ----------

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
      change: change.toNumber(), change_pct: changePct.toNumber(), timestamp: rfc3339(this.o.clock.now(), 6),
    };
    return JSON.stringify({ channel: 'ticker', type, data: [data] });
  }
}
