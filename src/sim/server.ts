/**
 * A loopback Kraken: an HTTP server on 127.0.0.1 that speaks Kraken's REST API (public Time, Assets,
 * AssetPairs, Ticker, OHLC, Depth; private BalanceEx, AddOrder, CancelOrder, CancelAll,
 * CancelAllOrdersAfter, OpenOrders, ClosedOrders, QueryOrders, TradesHistory) with Kraken's signing,
 * nonces, error strings and `{ error: [], result }` envelope, over a SimExchange replaying OHLCVT candles.
 * The same port serves Kraken's public WebSocket v2 at `/v2` (`wsUrl`; ohlc and ticker channels, see ws.ts), and its
 * private one at `/v2/auth` (`wsAuthUrl`; the executions channel, with a token from private GetWebSocketsToken).
 * Faults are scriptable from tests (`sim.inject`) and, when `control` is on, over `POST /__sim/faults`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScaledClock, SystemClock } from '../adapters/clock/clocks.ts';
import type { CandleSeries } from '../domain/candle-series.ts';
import type { FillModelParams } from '../domain/fill-model.ts';
import { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import { candleDec, type Candle, type CandleDecimalField, type MarketMeta } from '../domain/types.ts';
import { assetsAnswer } from '../kraken/assets.ts';
import { krakenMarkets, krakenPairKey } from '../kraken/pairs.ts';
import type { RawAsset } from '../kraken/snapshot.ts';
import type { Clock } from '../ports/clock.ts';
import { KeyAuth, type RateLimitOptions } from './auth.ts';
import { describe, KrakenError, RAW_PAIRS, SimExchange, type AddOrderParams, type SimOrder, type SimTrade } from './exchange.ts';
import { FaultPlan, validateFault, type Fault, type FaultRule } from './faults.ts';
import { attachKrakenWs, WS_AUTH_PATH, WS_PATH, type CandleFigures, type KrakenWs, type TickerFigures } from './ws.ts';

export interface KrakenSimOptions {
  readonly apiKey: string;
  /** base64, as Kraken issues them */
  readonly apiSecret: string;
  /** candles per pair (one series per pair; its `pair` is the ccxt symbol, e.g. BTC/USD) */
  readonly series: readonly CandleSeries[];
  /** 0 (default) = an ephemeral port */
  readonly port?: number;
  readonly host?: string;
  /** starting balances by asset: { USD: '10000', XBT: '0' } */
  readonly balances?: Record<string, string | number>;
  /**
   * candles per second; 0/undefined = prices move only when stepped. With a pace (and no `clock`) the
   * simulator's clock is the data's: it starts at the open time of the start candle and runs `pace × interval`
   * times as fast as real time, and each candle becomes current when that clock reaches its open time, so a
   * bot whose clock runs at the same pace (`tollgate run --mode sim --pace`) sees live candles.
   */
  readonly pace?: number;
  /** index of the first current candle (default 0) */
  readonly startIndex?: number;
  /** the paper venue's fill model; default slippage 5 bps, 25 % of a candle's volume */
  readonly fill?: FillModelParams;
  /** Kraken's per-key nonce window (default 0: every nonce must exceed the last) */
  readonly nonceWindow?: number;
  /** Kraken's per-key REST counter; off unless given */
  readonly rateLimit?: RateLimitOptions | null;
  /** expose /__sim/* control endpoints (unauthenticated: loopback tests only) */
  readonly control?: boolean;
  /** clock of order/trade times and the Time endpoint (default the system clock) */
  readonly clock?: Clock;
  readonly seed?: number;
  readonly markets?: Map<string, MarketMeta>;
  /**
   * told of every private call as its key and nonce are checked, in the order they arrive (tests assert the
   * order and nonces on the wire): the method, its nonce, its parameters, and the auth error (null: accepted)
   */
  readonly onPrivateCall?: (call: PrivateCall) => void;
}

/** A private call as the simulator checked it (KrakenSimOptions.onPrivateCall). */
export interface PrivateCall {
  readonly method: string;
  readonly nonce: string | undefined;
  readonly params: Readonly<Record<string, string>>;
  /** `EAPI:Invalid nonce`, `EAPI:Invalid key`, … or null when accepted */
  readonly error: string | null;
}

export const DEFAULT_FILL: FillModelParams = { slippageBps: 5, maxVolumeShare: 0.25 };
const MAX_BODY = 256 * 1024;
const PAGE = 50;

type Params = Record<string, string>;
type Handler = (p: Params, faults: Fault[]) => unknown;

function truthy(v: string | undefined): boolean {
  return v === 'true' || v === 'True' || v === '1';
}

function secs(ms: number): number {
  return Math.floor(ms / 1000);
}

function isoSeconds(ms: number): string {
  return isoTime(ms).replace(/\.\d+Z$/, 'Z');
}

function num(d: Dec): string {
  return d.toFixed();
}

/** a candle at its pair's precision, as a row of Kraken's OHLC shows it (REST OHLC and the websocket ohlc channel) */
function candleFigures(meta: MarketMeta, c: Candle): CandleFigures {
  // the file's exact decimals (a 16+ digit value is kept as its string on the candle)
  const d = (f: CandleDecimalField) => candleDec(c, f);
  const px = (f: CandleDecimalField) => d(f).toFixed(meta.priceDecimals);
  // vwap: the data has no trade prices, so the candle's typical price stands in
  const typical = d('open').plus(d('high')).plus(d('low')).plus(d('close')).div(4).toFixed(meta.priceDecimals);
  return { open: px('open'), high: px('high'), low: px('low'), close: px('close'), vwap: typical, volume: d('volume').toFixed(8), trades: c.trades };
}

export class KrakenSim {
  readonly exchange: SimExchange;
  readonly faults = new FaultPlan();
  /** requests received per Kraken method (before any check) */
  readonly calls: Record<string, number> = {};
  private readonly auth: KeyAuth;
  private readonly clock: Clock;
  private readonly server: Server;
  /** Kraken's public WebSocket v2 on the same server (`wsUrl`) */
  private readonly ws: KrakenWs;
  private readonly held = new Set<ServerResponse>();
  private paceTimer: ReturnType<typeof setInterval> | null = null;
  /** the data clock of a paced simulator (null: the wall clock or the given clock) */
  private readonly paced: ScaledClock | null;
  private readonly paceIntervalMs: number;
  private deadMan: { timer: ReturnType<typeof setTimeout>; triggerAtMs: number } | null = null;
  private readonly markets: Map<string, MarketMeta>;
  private assetList: Record<string, RawAsset> | undefined;
  private readonly handlers: Record<'public' | 'private', Record<string, Handler>>;
  private _port = 0;
  private stopped = false;

  private constructor(private readonly opts: KrakenSimOptions) {
    // the markets first: building them (first use of the snapshot) must not run on a paced clock that already started
    this.markets = opts.markets ?? krakenMarkets();
    this.paceIntervalMs = Math.min(...opts.series.map((x) => x.intervalMs));
    const start = Math.max(0, opts.startIndex ?? 0);
    const origin = Math.min(...opts.series.map((x) => x.ts[Math.min(start, x.length - 1)] ?? Infinity));
    this.paced = !opts.clock && (opts.pace ?? 0) > 0 && Number.isFinite(origin) ? new ScaledClock(origin, this.speedOf(opts.pace!)) : null;
    this.clock = opts.clock ?? this.paced ?? new SystemClock();
    this.exchange = new SimExchange({
      markets: this.markets, series: opts.series, clock: this.clock, fill: opts.fill ?? DEFAULT_FILL,
      balances: opts.balances ?? {}, startIndex: opts.startIndex ?? 0, seed: opts.seed ?? 1,
    });
    this.auth = new KeyAuth(opts.apiKey, opts.apiSecret, opts.clock ?? new SystemClock(), opts.rateLimit ?? null, BigInt(Math.max(0, Math.floor(opts.nonceWindow ?? 0))));
    this.handlers = {
      public: {
        Time: () => ({ unixtime: secs(this.clock.now()), rfc1123: new Date(this.clock.now()).toUTCString() }),
        SystemStatus: () => ({ status: 'online', timestamp: isoSeconds(this.clock.now()) }),
        Assets: (p) => this.assets(p),
        AssetPairs: (p) => this.assetPairs(p),
        Ticker: (p) => this.ticker(p),
        OHLC: (p) => this.ohlc(p),
        Depth: (p) => this.depth(p),
      },
      private: {
        BalanceEx: () => this.balanceEx(),
        Balance: () => Object.fromEntries(Object.entries(this.exchange.balances()).map(([k, v]) => [k, num(v.balance)])),
        AddOrder: (p, f) => this.addOrder(p, f),
        CancelOrder: (p, f) => this.cancelOrder(p, f),
        CancelAll: () => ({ count: this.exchange.cancelAll() }),
        CancelAllOrdersAfter: (p) => this.cancelAllAfter(p),
        OpenOrders: (p) => this.openOrdersCall(p),
        ClosedOrders: (p) => this.closedOrders(p),
        QueryOrders: (p) => this.queryOrders(p),
        TradesHistory: (p) => this.tradesHistory(p),
        // a token for the private websocket, valid 15 minutes of real time (the websocket endpoint keeps them)
        GetWebSocketsToken: () => this.ws.issueToken(this.auth.apiKey),
      },
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.send(res, 500, { error: ['EGeneral:Internal error'], result: {} });
        process.stderr.write(`kraken-sim: internal error: ${(e as Error).stack ?? String(e)}\n`);
      });
    });
    this.server.keepAliveTimeout = 5_000;
    this.ws = attachKrakenWs(this.server, { exchange: this.exchange, clock: this.clock, candleFigures, tickerFigures: (m) => this.tickerFigures(m) });
  }

  /** Starts the simulator; resolves once it listens. */
  static async start(opts: KrakenSimOptions): Promise<KrakenSim> {
    const sim = new KrakenSim(opts);
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        sim.server.off('error', reject);
        resolve();
      });
    });
    sim._port = (sim.server.address() as AddressInfo).port;
    if (sim.paced) sim.followClock();
    else if (opts.pace) sim.setPace(opts.pace);
    return sim;
  }

  get port(): number {
    return this._port;
  }

  /** the origin ccxt's `urls.api.public`/`.private` take */
  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this._port}`;
  }

  /** the URL ccxt.pro's `urls.api.ws.publicV2` takes: Kraken's public WebSocket v2 */
  get wsUrl(): string {
    return `ws://${this.opts.host ?? '127.0.0.1'}:${this._port}${WS_PATH}`;
  }

  /** the URL ccxt.pro's `urls.api.ws.private`/`.privateV2` take: Kraken's private WebSocket v2 (executions) */
  get wsAuthUrl(): string {
    return `ws://${this.opts.host ?? '127.0.0.1'}:${this._port}${WS_AUTH_PATH}`;
  }

  /** open WebSocket connections */
  get socketCount(): number {
    return this.ws.socketCount;
  }

  /** terminates every open WebSocket, as a network cut would (clients see code 1006) */
  dropSockets(): void {
    this.ws.drop();
  }

  /** true: the WebSocket endpoint sends nothing (no updates, heartbeats, acks or pongs) without closing; false resumes */
  pauseSockets(on: boolean): void {
    this.ws.pause(on);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = null;
    if (this.deadMan) clearTimeout(this.deadMan.timer);
    this.deadMan = null;
    for (const r of this.held) r.destroy();
    this.held.clear();
    await this.ws.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------- the TypeScript control API ----------

  /** advances prices by n candles (matching orders); returns how many were taken */
  step(n = 1): number {
    return this.exchange.step(n);
  }

  /** real-time multiple of a pace: candles per second × seconds per candle */
  private speedOf(candlesPerSecond: number): number {
    return (candlesPerSecond * this.paceIntervalMs) / 1000;
  }

  /** the paced simulator's clock speed (simulated ms per real ms), or null when it is not paced */
  get speed(): number | null {
    return this.paced ? this.paced.speed : null;
  }

  /**
   * candles per second; 0 stops the clock of prices. A paced simulator changes its clock's speed (candles
   * still become current at their own open times); one started without a pace steps one candle per tick
   * with the data's timestamps, its Time endpoint keeping the wall clock.
   */
  setPace(candlesPerSecond: number): void {
    // Node's timers: clearTimeout clears an interval too
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = null;
    if (this.paced) {
      this.paced.setSpeed(this.speedOf(Math.max(0, candlesPerSecond)));
      this.followClock();
      return;
    }
    if (candlesPerSecond > 0) {
      this.paceTimer = setInterval(() => {
        if (this.exchange.step(1) === 0) this.setPace(0);
      }, Math.max(1, 1000 / candlesPerSecond));
      this.paceTimer.unref();
    }
  }

  /** paced: takes every candle whose open time the clock has reached, then sleeps until the next one opens */
  private followClock(): void {
    if (!this.paced || this.stopped) return;
    this.exchange.advanceTo(this.paced.now());
    let next = this.exchange.nextCandleTs();
    if (next === null) {
      // the end of the data: the clock runs to the last candle's close and stops there (Time then stands
      // still, which tells a bot following it that the data is over)
      const end = Math.max(...this.exchange.pairs().map((m) => this.exchange.current(m.pair)).map((c) => c.ts + c.intervalMs));
      if (this.paced.now() >= end) {
        this.paced.setSpeed(0);
        return;
      }
      next = end;
    }
    const wait = this.paced.realMsUntil(next);
    if (!Number.isFinite(wait)) return;
    // at most a minute at a time: a long gap at a slow pace must not overflow the timer
    this.paceTimer = setTimeout(() => {
      this.paceTimer = null;
      this.followClock();
    }, Math.min(60_000, Math.max(1, Math.ceil(wait))));
    this.paceTimer.unref();
  }

  /** faults for the next `times` calls of a Kraken method (`AddOrder`, …, or `*`) */
  inject(method: string, f: Fault, times = 1): FaultRule {
    return this.faults.add(method, f, times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setBalance(asset: string, amount: string | number): void {
    this.exchange.setBalance(asset, amount);
  }

  setRateLimit(r: RateLimitOptions | null): void {
    this.auth.setRateLimit(r);
  }

  /** places an order directly (behind the bot's back), with all of AddOrder's checks; throws KrakenError */
  placeOrder(p: AddOrderParams): string {
    const r = this.exchange.addOrder(p);
    return r.txid![0]!;
  }

  orders(): readonly SimOrder[] {
    return this.exchange.orders();
  }

  openOrders(): SimOrder[] {
    return this.exchange.orders().filter((o) => o.status === 'open' || o.status === 'pending');
  }

  order(txidOrClOrdId: string): SimOrder | null {
    return this.exchange.order(txidOrClOrdId);
  }

  trades(): readonly SimTrade[] {
    return this.exchange.trades();
  }

  /** the dead man's switch trigger time (ms), or null when off */
  deadManTrigger(): number | null {
    return this.deadMan?.triggerAtMs ?? null;
  }

  /** a JSON view of the state, for the control endpoint and debugging */
  state(): Record<string, unknown> {
    return {
      pairs: Object.fromEntries(this.exchange.pairs().map((m) => [m.pair, { cursor: this.exchange.cursor(m.krakenPair), candle: this.exchange.current(m.krakenPair) }])),
      balances: this.balanceEx(),
      open: this.openOrders().map((o) => ({ txid: o.txid, ...this.orderJson(o, true) })),
      closed: this.orders().filter((o) => o.status !== 'open' && o.status !== 'pending').map((o) => ({ txid: o.txid, ...this.orderJson(o, true) })),
      trades: this.trades().map((t) => ({ id: t.id, ...this.tradeJson(t) })),
      calls: this.calls,
      faults: this.faults.pending(),
    };
  }

  // ---------- HTTP ----------

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendHttpFault(res: ServerResponse, status: number): void {
    const text = `<html><head><title>${status}</title></head><body><h1>${status}</h1><p>kraken-sim: injected fault</p></body></html>`;
    res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private readBody(req: IncomingMessage): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          resolve(null);
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  private parseParams(body: string, contentType: string | undefined): Params | null {
    if (body === '') return {};
    if ((contentType ?? '').includes('application/json')) {
      try {
        const o = JSON.parse(body) as unknown;
        if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
        return Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
      } catch {
        return null;
      }
    }
    return Object.fromEntries(new URLSearchParams(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/__sim/')) {
      if (!this.opts.control) return this.send(res, 404, { error: ['EGeneral:Unknown method'], result: {} });
      return this.control(req, res, url);
    }
    const m = /^\/0\/(public|private)\/([A-Za-z]+)$/.exec(url.pathname);
    const api = m?.[1] as 'public' | 'private' | undefined;
    const handler = m && api ? this.handlers[api][m[2]!] : undefined;
    if (!m || !api || !handler) return this.send(res, 404, { error: ['EGeneral:Unknown method'], result: {} });
    const method = m[2]!;
    const body = await this.readBody(req);
    if (body === null) return this.send(res, 413, { error: ['EGeneral:Invalid arguments'], result: {} });
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const faults = this.faults.take(method);
    for (const f of faults) if (f.kind === 'latency') await new Promise((r) => setTimeout(r, f.ms));
    for (const f of faults) {
      if (f.kind === 'http' && !f.afterAccept) return this.sendHttpFault(res, f.status);
      if (f.kind === 'error' && !f.afterAccept) return this.send(res, 200, { error: [f.error], result: {} });
    }
    let params: Params | null;
    if (api === 'public') {
      params = { ...Object.fromEntries(url.searchParams), ...(req.method === 'POST' ? this.parseParams(body, req.headers['content-type']) ?? {} : {}) };
    } else {
      if (req.method !== 'POST') return this.send(res, 200, { error: ['EGeneral:Invalid arguments'], result: {} });
      params = this.parseParams(body, req.headers['content-type']);
      const key = req.headers['api-key'];
      const sign = req.headers['api-sign'];
      const auth = typeof key !== 'string' || key !== this.auth.apiKey ? { ok: false as const, error: 'EAPI:Invalid key' } : this.auth.verify(url.pathname, typeof sign === 'string' ? sign : undefined, params?.nonce, body);
      this.opts.onPrivateCall?.({ method, nonce: params?.nonce, params: params ?? {}, error: auth.ok ? null : auth.error });
      if (!auth.ok) return this.send(res, 200, { error: [auth.error], result: {} });
      const limited = this.auth.charge(method);
      if (limited) return this.send(res, 200, { error: [limited], result: {} });
    }
    let envelope: { error: string[]; result?: unknown };
    if (params === null) envelope = { error: ['EGeneral:Invalid arguments'] };
    else {
      try {
        envelope = { error: [], result: handler(params, faults) };
      } catch (e) {
        if (!(e instanceof KrakenError)) throw e;
        envelope = { error: [e.krakenError] };
      }
    }
    for (const f of faults) {
      if (f.kind === 'drop') {
        if (f.mode === 'hangup') {
          res.socket?.destroy();
          return;
        }
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      if (f.kind === 'http' && f.afterAccept) return this.sendHttpFault(res, f.status);
      if (f.kind === 'error' && f.afterAccept) return this.send(res, 200, { error: [f.error], result: {} });
    }
    this.send(res, 200, envelope.error.length ? { error: envelope.error, result: {} } : envelope);
  }

  private async control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = (await this.readBody(req)) ?? '';
    let j: Record<string, unknown> = {};
    try {
      j = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      return this.send(res, 400, { error: 'body is not JSON' });
    }
    try {
      switch (`${req.method} ${url.pathname}`) {
        case 'POST /__sim/faults': {
          const f = { afterAccept: false, ...(j.kind === 'drop' ? { mode: 'hangup' } : {}), ...(j.kind === 'http' ? { status: 502 } : {}), ...(j.fault as object) } as Record<string, unknown>;
          validateFault(f);
          const rule = this.inject(typeof j.method === 'string' ? j.method : '*', f, typeof j.times === 'number' ? j.times : 1);
          return this.send(res, 200, { ok: true, id: rule.id });
        }
        case 'DELETE /__sim/faults':
          this.clearFaults();
          return this.send(res, 200, { ok: true });
        case 'GET /__sim/faults':
          return this.send(res, 200, { faults: this.faults.pending() });
        case 'POST /__sim/step':
          return this.send(res, 200, { advanced: this.step(typeof j.n === 'number' ? j.n : 1) });
        case 'POST /__sim/pace':
          this.setPace(typeof j.candlesPerSecond === 'number' ? j.candlesPerSecond : 0);
          return this.send(res, 200, { ok: true });
        case 'POST /__sim/balance':
          this.setBalance(String(j.asset), String(j.amount));
          return this.send(res, 200, { ok: true });
        case 'GET /__sim/state':
          return this.send(res, 200, this.state());
        default:
          return this.send(res, 404, { error: 'unknown control endpoint' });
      }
    } catch (e) {
      return this.send(res, 400, { error: (e as Error).message });
    }
  }

  // ---------- public endpoints ----------

  /** Kraken's Assets answer: every asset of the bundled snapshot (src/kraken assetsAnswer), filtered by `asset` (ids or altnames) */
  private assets(p: Params): unknown {
    const all = (this.assetList ??= assetsAnswer());
    const wanted = p.asset ? p.asset.split(',').map((a) => a.trim().toUpperCase()) : null;
    if (!wanted) return all;
    const out: Record<string, RawAsset> = {};
    for (const [id, a] of Object.entries(all)) if (wanted.includes(id) || wanted.includes(a.altname)) out[id] = a;
    if (Object.keys(out).length === 0) throw new KrakenError('EQuery:Unknown asset');
    return out;
  }

  private pairKeys(p: Params, required: boolean): string[] {
    if (!p.pair) {
      if (required) throw new KrakenError('EGeneral:Invalid arguments');
      return Object.keys(RAW_PAIRS);
    }
    return p.pair.split(',').map((name) => {
      const key = krakenPairKey(name);
      if (!key) throw new KrakenError('EQuery:Unknown asset pair');
      return key;
    });
  }

  /** Kraken's AssetPairs answer: every pair of the bundled snapshot with every field Kraken sent, and the pair's current status here */
  private assetPairs(p: Params): unknown {
    const out: Record<string, unknown> = {};
    for (const key of this.pairKeys(p, false)) out[key] = { ...RAW_PAIRS[key]!, status: this.exchange.pairStatus(key) ?? RAW_PAIRS[key]!.status };
    return out;
  }

  /** a pair with price data, by Kraken key; EQuery:Unknown asset pair otherwise */
  private dataPair(key: string): MarketMeta {
    const meta = this.exchange.pairs().find((m) => m.krakenPair === key);
    if (!meta) throw new KrakenError('EQuery:Unknown asset pair');
    return meta;
  }

  private ticker(p: Params): unknown {
    const keys = p.pair ? this.pairKeys(p, true) : this.exchange.pairs().map((m) => m.krakenPair);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const f = this.tickerFigures(this.dataPair(key));
      out[key] = {
        a: [f.ask, '1', f.topQty],
        b: [f.bid, '1', f.topQty],
        c: [f.last, f.lastVolume],
        v: [f.today.volume, f.day.volume],
        p: [f.today.vwap, f.day.vwap],
        t: [f.today.trades, f.day.trades],
        l: [f.today.low, f.day.low],
        h: [f.today.high, f.day.high],
        o: f.today.open,
      };
    }
    return out;
  }

  /** Kraken's ticker of a pair at its current candle, at the pair's precision (REST Ticker and the websocket ticker channel) */
  private tickerFigures(meta: MarketMeta): TickerFigures {
    const key = meta.krakenPair;
    const cur = this.exchange.current(key);
    const i = this.exchange.cursor(key);
    // candles are at least an interval apart, so the last 24 hours lie within this many candles
    const day = this.exchange.candles(key, i - Math.ceil(86_400_000 / cur.intervalMs), i).filter((c) => c.ts > cur.ts - 86_400_000);
    const today = day.filter((c) => c.ts >= Math.floor(cur.ts / 86_400_000) * 86_400_000);
    const px = (v: number) => new Dec(v).toFixed(meta.priceDecimals);
    const agg = (cs: typeof day) => {
      const vol = cs.reduce((s, c) => s.plus(candleDec(c, 'volume')), new Dec(0));
      const pv = cs.reduce((s, c) => s.plus(candleDec(c, 'close').mul(candleDec(c, 'volume'))), new Dec(0));
      return {
        volume: vol.toFixed(8), vwap: (vol.gt(0) ? pv.div(vol) : candleDec(cur, 'close')).toFixed(meta.priceDecimals),
        trades: cs.reduce((s, c) => s + c.trades, 0), low: px(Math.min(...cs.map((c) => c.low))), high: px(Math.max(...cs.map((c) => c.high))),
        open: px(cs[0]!.open),
      };
    };
    const tick = new Dec(10).pow(-meta.priceDecimals);
    const close = candleDec(cur, 'close');
    return {
      bid: close.toFixed(meta.priceDecimals), ask: close.plus(tick).toFixed(meta.priceDecimals), topQty: '1.000',
      last: close.toFixed(meta.priceDecimals), lastVolume: candleDec(cur, 'volume').toFixed(8),
      today: agg(today.length ? today : [cur]), day: agg(day),
    };
  }

  private ohlc(p: Params): unknown {
    const [key] = this.pairKeys(p, true);
    const meta = this.dataPair(key!);
    const series = meta.krakenPair;
    const i = this.exchange.cursor(series);
    const intervalMin = this.exchange.current(series).intervalMs / 60_000;
    if (p.interval !== undefined && Number(p.interval) !== intervalMin) throw new KrakenError('EGeneral:Invalid arguments');
    const since = p.since !== undefined ? Number(p.since) * 1000 : -Infinity;
    const rows = this.exchange.candles(series, i - 719, i).filter((c) => c.ts > since);
    return {
      [key!]: rows.map((c) => {
        const f = candleFigures(meta, c);
        return [secs(c.ts), f.open, f.high, f.low, f.close, f.vwap, f.volume, f.trades];
      }),
      last: secs(this.exchange.current(series).ts),
    };
  }

  private depth(p: Params): unknown {
    const [key] = this.pairKeys(p, true);
    const meta = this.dataPair(key!);
    const count = Math.min(500, Math.max(1, p.count !== undefined ? Number(p.count) || 100 : 100));
    const cur = this.exchange.current(key!);
    const tick = new Dec(10).pow(-meta.priceDecimals);
    const close = candleDec(cur, 'close');
    const per = Dec.max(meta.orderMin, candleDec(cur, 'volume').mul((this.opts.fill ?? DEFAULT_FILL).maxVolumeShare).div(count)).toFixed(meta.lotDecimals);
    const ts = secs(this.clock.now());
    const asks: unknown[] = [];
    const bids: unknown[] = [];
    for (let k = 0; k < count; k++) {
      asks.push([close.plus(tick.mul(k + 1)).toFixed(meta.priceDecimals), per, ts]);
      const bid = close.minus(tick.mul(k));
      if (bid.gt(0)) bids.push([bid.toFixed(meta.priceDecimals), per, ts]);
    }
    return { [key!]: { asks, bids } };
  }

  // ---------- private endpoints ----------

  private balanceEx(): Record<string, { balance: string; hold_trade: string }> {
    const out: Record<string, { balance: string; hold_trade: string }> = {};
    for (const [code, v] of Object.entries(this.exchange.balances())) out[code] = { balance: num(v.balance), hold_trade: num(v.hold) };
    return out;
  }

  private addOrder(p: Params, faults: Fault[]): unknown {
    const r = this.exchange.addOrder({
      pair: p.pair ?? '', type: p.type ?? '', ordertype: p.ordertype ?? '', volume: p.volume ?? (undefined as unknown as string),
      price: p.price, cl_ord_id: p.cl_ord_id, userref: p.userref, validate: truthy(p.validate), oflags: p.oflags,
      timeinforce: p.timeinforce, expiretm: p.expiretm,
    });
    const partial = faults.find((f) => f.kind === 'partialFill');
    if (partial && r.txid) {
      const o = this.exchange.order(r.txid[0]!)!;
      o.fillCap = o.volume.mul(partial.fraction).toDecimalPlaces(o.meta.lotDecimals, Dec.ROUND_DOWN);
    }
    return r;
  }

  private cancelOrder(p: Params, faults: Fault[]): unknown {
    if (faults.some((f) => f.kind === 'cancelRace')) {
      const target = this.exchange.cancelTarget(p.txid, p.cl_ord_id);
      if (target) {
        target.fillCap = null;
        this.exchange.forceFill(target.txid);
      }
      throw new KrakenError('EOrder:Unknown order');
    }
    return this.exchange.cancelOrder(p.txid, p.cl_ord_id);
  }

  private cancelAllAfter(p: Params): unknown {
    const t = Number(p.timeout);
    if (p.timeout === undefined || !Number.isInteger(t) || t < 0 || t > 86_400) throw new KrakenError('EGeneral:Invalid arguments');
    const now = this.clock.now();
    if (this.deadMan) clearTimeout(this.deadMan.timer);
    this.deadMan = null;
    if (t === 0) return { currentTime: isoSeconds(now), triggerTime: '0' };
    const timer = setTimeout(() => {
      this.deadMan = null;
      this.exchange.cancelAll('Dead man switch');
    }, t * 1000);
    timer.unref();
    this.deadMan = { timer, triggerAtMs: now + t * 1000 };
    return { currentTime: isoSeconds(now), triggerTime: isoSeconds(now + t * 1000) };
  }

  private orderJson(o: SimOrder, withTrades: boolean): Record<string, unknown> {
    const m = o.meta;
    const avg = o.volExec.gt(0) ? o.cost.div(o.volExec) : new Dec(0);
    const j: Record<string, unknown> = {
      refid: null,
      userref: o.userref,
      ...(o.clOrdId !== null ? { cl_ord_id: o.clOrdId } : {}),
      status: o.status,
      ...(o.status === 'open' || o.status === 'pending' ? {} : { reason: o.reason, closetm: o.closeTm }),
      opentm: o.openTm,
      starttm: 0,
      expiretm: o.expireTm,
      descr: {
        pair: m.altname, type: o.side, ordertype: o.type, price: o.price ? o.price.toFixed(m.priceDecimals) : '0', price2: '0', leverage: 'none',
        order: describe(o.side, o.volume, m, o.type, o.price), close: '',
      },
      vol: o.volume.toFixed(m.lotDecimals),
      vol_exec: o.volExec.toFixed(m.lotDecimals),
      cost: num(o.cost),
      fee: num(o.fee),
      price: num(avg.toDecimalPlaces(m.priceDecimals + 4)),
      stopprice: '0.00000',
      limitprice: '0.00000',
      misc: '',
      oflags: o.postOnly ? 'post,fciq' : 'fciq',
    };
    if (o.timeInForce !== 'GTC') j.timeinforce = o.timeInForce;
    if (withTrades && o.trades.length) j.trades = [...o.trades];
    return j;
  }

  private filterOrders(list: SimOrder[], p: Params): SimOrder[] {
    let out = list;
    if (p.userref !== undefined) out = out.filter((o) => o.userref === Number(p.userref));
    if (p.cl_ord_id !== undefined) out = out.filter((o) => o.clOrdId === p.cl_ord_id);
    return out;
  }

  private openOrdersCall(p: Params): unknown {
    const list = this.filterOrders(this.openOrders(), p);
    const trades = truthy(p.trades);
    return { open: Object.fromEntries(list.map((o) => [o.txid, this.orderJson(o, trades)])) };
  }

  private closedOrders(p: Params): unknown {
    let list = this.filterOrders(this.orders().filter((o) => o.status !== 'open' && o.status !== 'pending'), p);
    const timeOf = (o: SimOrder) => (p.closetime === 'open' ? o.openTm : p.closetime === 'close' ? (o.closeTm ?? o.openTm) : (o.closeTm ?? o.openTm));
    if (p.start !== undefined) {
      const s = this.timeOrTxid(p.start);
      list = list.filter((o) => timeOf(o) > s);
    }
    if (p.end !== undefined) {
      const e = this.timeOrTxid(p.end);
      list = list.filter((o) => timeOf(o) <= e);
    }
    list = [...list].sort((a, b) => (b.closeTm ?? 0) - (a.closeTm ?? 0));
    const ofs = Math.max(0, Number(p.ofs ?? 0) || 0);
    const trades = truthy(p.trades);
    return { closed: Object.fromEntries(list.slice(ofs, ofs + PAGE).map((o) => [o.txid, this.orderJson(o, trades)])), count: list.length };
  }

  /** Kraken's start/end take a unix time or a txid (the time of that order or trade) */
  private timeOrTxid(v: string): number {
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    const o = this.exchange.order(v);
    if (o) return o.closeTm ?? o.openTm;
    const t = this.trades().find((x) => x.id === v);
    if (t) return t.time;
    throw new KrakenError('EGeneral:Invalid arguments');
  }

  private queryOrders(p: Params): unknown {
    if (!p.txid) throw new KrakenError('EGeneral:Invalid arguments');
    const ids = p.txid.split(',').map((s) => s.trim());
    if (ids.length > 50) throw new KrakenError('EGeneral:Invalid arguments');
    const trades = truthy(p.trades);
    const out: Record<string, unknown> = {};
    for (const id of ids) {
      const o = this.exchange.order(id);
      if (!o || o.txid !== id) continue;
      if (p.userref !== undefined && o.userref !== Number(p.userref)) continue;
      out[id] = this.orderJson(o, trades);
    }
    if (Object.keys(out).length === 0) throw new KrakenError('EOrder:Invalid order');
    return out;
  }

  private tradeJson(t: SimTrade): Record<string, unknown> {
    const m = this.markets.get(t.pair)!;
    return {
      ordertxid: t.ordertxid, postxid: t.postxid, pair: t.krakenPair, time: t.time, type: t.side, ordertype: t.ordertype,
      price: t.price.toFixed(m.priceDecimals), cost: num(t.cost), fee: num(t.fee), vol: t.vol.toFixed(m.lotDecimals),
      margin: '0.00000', leverage: '0', misc: '', trade_id: t.tradeId, maker: t.maker,
    };
  }

  private tradesHistory(p: Params): unknown {
    let list = [...this.trades()];
    if (p.start !== undefined) {
      const s = this.timeOrTxid(p.start);
      list = list.filter((t) => t.time > s);
    }
    if (p.end !== undefined) {
      const e = this.timeOrTxid(p.end);
      list = list.filter((t) => t.time <= e);
    }
    list.sort((a, b) => b.time - a.time || b.tradeId - a.tradeId);
    const ofs = Math.max(0, Number(p.ofs ?? 0) || 0);
    return { trades: Object.fromEntries(list.slice(ofs, ofs + PAGE).map((t) => [t.id, this.tradeJson(t)])), count: list.length };
  }
}

/** Starts a loopback Kraken (see KrakenSimOptions); `await sim.stop()` when done. */
export function startKrakenSim(opts: KrakenSimOptions): Promise<KrakenSim> {
  return KrakenSim.start(opts);
}
