/**
 * The simulated Kraken account and matching engine behind the HTTP server: balances (with funds held
 * for open orders), orders, trades, and prices replayed from Kraken OHLCVT candles. Matching uses the
 * paper venue's fill model (`quoteFill`): market orders fill at the next candle's open with slippage,
 * limit orders when a candle touches the limit, all orders of a pair together never take more than
 * `maxVolumeShare` of a candle's volume (partial fills). Errors are Kraken's strings.
 */
import type { CandleSeries } from '../domain/candle-series.ts';
import { quoteFill, type FillModelParams } from '../domain/fill-model.ts';
import { feeFor, roundPriceAdverse } from '../domain/market.ts';
import { bps, Dec } from '../domain/money.ts';
import type { Candle, MarketMeta, Side } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import { krakenAssets, resolveAssetId } from '../kraken/assets.ts';
import { krakenPairKey, rawAssetPairs } from '../kraken/pairs.ts';
import { minimumRefusal, precisionRefusal } from '../kraken/rules.ts';
import type { RawAssetPair } from '../kraken/snapshot.ts';
import { KrakenIds } from './ids.ts';

/** A Kraken error string (`EOrder:Insufficient funds`, …) raised by the engine. */
export class KrakenError extends Error {
  constructor(readonly krakenError: string) {
    super(krakenError);
  }
}

export type OrderStatus = 'pending' | 'open' | 'closed' | 'canceled' | 'expired';

export interface SimOrder {
  readonly txid: string;
  readonly clOrdId: string | null;
  readonly userref: number | null;
  readonly pair: string;
  readonly meta: MarketMeta;
  readonly side: Side;
  readonly type: 'market' | 'limit';
  readonly volume: Dec;
  readonly price: Dec | null;
  readonly postOnly: boolean;
  readonly timeInForce: 'GTC' | 'IOC' | 'GTD';
  readonly expireTm: number;
  readonly openTm: number;
  /** the candle index current when the order was accepted: it fills from the next candle on */
  readonly acceptedIndex: number;
  status: OrderStatus;
  reason: string | null;
  closeTm: number | null;
  volExec: Dec;
  cost: Dec;
  fee: Dec;
  readonly trades: string[];
  /** forced partial fill (fault): the order never fills beyond this quantity */
  fillCap: Dec | null;
}

export interface SimTrade {
  readonly id: string;
  readonly tradeId: number;
  readonly ordertxid: string;
  readonly postxid: string;
  readonly pair: string;
  readonly krakenPair: string;
  readonly time: number;
  readonly side: Side;
  readonly ordertype: 'market' | 'limit';
  readonly price: Dec;
  readonly cost: Dec;
  readonly fee: Dec;
  readonly vol: Dec;
  readonly maker: boolean;
  /** the candle this fill came from (ms) */
  readonly candleTs: number;
}

/**
 * An execution event of the engine, after its state change is complete (Kraken's executions channel reports
 * these): an order accepted, a fill, an order fully filled, cancelled (by the user, cancel-all, the dead man's
 * switch, an unfilled IOC, a post-only that would take, lack of funds) or expired.
 */
export type SimExecution =
  | { readonly type: 'new'; readonly order: SimOrder }
  | { readonly type: 'trade'; readonly order: SimOrder; readonly trade: SimTrade }
  | { readonly type: 'filled' | 'canceled' | 'expired'; readonly order: SimOrder };

export interface AddOrderParams {
  readonly pair: string;
  readonly type: string;
  readonly ordertype: string;
  readonly volume: string;
  readonly price?: string | undefined;
  readonly cl_ord_id?: string | undefined;
  readonly userref?: string | undefined;
  readonly validate?: boolean | undefined;
  readonly oflags?: string | undefined;
  readonly timeinforce?: string | undefined;
  readonly expiretm?: string | undefined;
}

export interface AddOrderResult {
  readonly descr: { readonly order: string };
  readonly txid?: string[];
}

/** one pair of the bundled AssetPairs snapshot, as Kraken sends it */
type RawPair = RawAssetPair;

/** every pair of the bundled AssetPairs snapshot (src/kraken), by Kraken pair key */
export const RAW_PAIRS: Readonly<Record<string, RawPair>> = rawAssetPairs();

/**
 * A balance's key as Kraken's Balance/BalanceEx writes it: USD → ZUSD, BTC/XBT/XXBT → XXBT, LTC → XLTC,
 * DOGE → XXDG, BONK → BONK; a suffixed variant keeps Kraken's altname spelling (BTC.F/XBT.F → XBT.F, ETH.S → ETH.S).
 * A common code is read first (LUNA is Terra 2.0, as in ccxt), then a Kraken id, then an altname. Null when unknown.
 */
export function assetCode(name: string): string | null {
  const dot = name.indexOf('.');
  if (dot > 0) {
    const id = resolveAssetId(name.slice(0, dot));
    const suffix = name.slice(dot + 1).toUpperCase();
    return id && /^[A-Z]+$/.test(suffix) ? `${krakenAssets().get(id)!.altname}.${suffix}` : null;
  }
  return resolveAssetId(name);
}

/** Kraken's cl_ord_id: a UUID, a 32-hex short UUID, or printable ASCII of at most 18 characters */
export function validClOrdId(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) || /^[0-9a-f]{32}$/i.test(s) || /^[\x21-\x7e]{1,18}$/.test(s);
}

const DECIMAL = /^\d+(\.\d+)?$/;

interface Book {
  readonly meta: MarketMeta;
  readonly series: CandleSeries;
  cursor: number;
  status: string;
}

export interface ExchangeOptions {
  readonly markets: Map<string, MarketMeta>;
  readonly series: readonly CandleSeries[];
  readonly clock: Clock;
  readonly fill: FillModelParams;
  /** starting balances by asset (USD, XBT, ZUSD, …) */
  readonly balances?: Record<string, string | number>;
  /** index of the first current candle (default 0) */
  readonly startIndex?: number;
  readonly seed?: number;
}

const ORDER_FLAGS = new Set(['post', 'fcib', 'fciq', 'nompp', 'viqc']);

export class SimExchange {
  private readonly books = new Map<string, Book>();
  /** every spelling book() accepts (Kraken key, altname, symbol with and without its slash) → its book */
  private readonly bookNames = new Map<string, Book>();
  private readonly balance = new Map<string, Dec>();
  private readonly orderList: SimOrder[] = [];
  private readonly byTxid = new Map<string, SimOrder>();
  private readonly tradeList: SimTrade[] = [];
  private tradeSeq = 0;
  private readonly advanceListeners = new Set<(pairs: readonly string[]) => void>();
  private readonly executionListeners = new Set<(e: SimExecution) => void>();
  readonly ids: KrakenIds;

  constructor(private readonly opts: ExchangeOptions) {
    this.ids = new KrakenIds(opts.seed ?? 1);
    for (const s of opts.series) {
      const meta = opts.markets.get(s.pair);
      if (!meta) throw new Error(`kraken-sim: unknown pair ${s.pair}`);
      if (this.books.has(meta.krakenPair)) throw new Error(`kraken-sim: two data files for ${s.pair}`);
      if (s.length === 0) throw new Error(`kraken-sim: no candles for ${s.pair}`);
      const book: Book = { meta, series: s, cursor: Math.min(Math.max(0, opts.startIndex ?? 0), s.length - 1), status: meta.status };
      this.books.set(meta.krakenPair, book);
      for (const n of [meta.krakenPair, meta.altname, meta.pair]) if (!this.bookNames.has(n)) this.bookNames.set(n, book);
    }
    // the symbol run together last: Kraken's own names win where they collide (LUNAUSD is Kraken's LUNC/USD)
    for (const b of this.books.values()) if (!this.bookNames.has(b.meta.pair.replace('/', ''))) this.bookNames.set(b.meta.pair.replace('/', ''), b);
    for (const b of this.books.values()) {
      const raw = RAW_PAIRS[b.meta.krakenPair]!;
      for (const code of [raw.base, raw.quote]) if (!this.balance.has(code)) this.balance.set(code, new Dec(0));
    }
    for (const [k, v] of Object.entries(opts.balances ?? {})) this.setBalance(k, String(v));
  }

  // ---------- market data ----------

  /** the pair (ccxt symbol, altname or Kraken key) → its book, or null */
  book(pair: string): Book | null {
    return this.bookNames.get(pair) ?? this.bookNames.get(pair.toUpperCase().replace('/', '')) ?? null;
  }

  pairs(): MarketMeta[] {
    return [...this.books.values()].map((b) => b.meta);
  }

  /** the current (last visible) candle of a pair */
  current(pair: string): Candle {
    const b = this.mustBook(pair);
    return b.series.at(b.cursor);
  }

  cursor(pair: string): number {
    return this.mustBook(pair).cursor;
  }

  candles(pair: string, fromIndex: number, toIndex: number): Candle[] {
    const b = this.mustBook(pair);
    const out: Candle[] = [];
    for (let i = Math.max(0, fromIndex); i <= Math.min(toIndex, b.cursor); i++) out.push(b.series.at(i));
    return out;
  }

  setPairStatus(pair: string, status: 'online' | 'cancel_only' | 'post_only' | 'limit_only' | 'reduce_only'): void {
    this.mustBook(pair).status = status;
  }

  pairStatus(krakenPair: string): string | null {
    const b = this.books.get(krakenPair);
    return b ? b.status : null;
  }

  private mustBook(pair: string): Book {
    const b = this.book(pair);
    if (!b) throw new Error(`kraken-sim: no data for pair ${pair}`);
    return b;
  }

  /** true when every pair is at its last candle */
  get atEnd(): boolean {
    for (const b of this.books.values()) if (b.cursor < b.series.length - 1) return false;
    return true;
  }

  /**
   * Advances every pair by up to `n` candles, matching open orders against each new candle.
   * Returns how many candles the furthest pair advanced (0 at the end of the data).
   */
  step(n = 1): number {
    let advanced = 0;
    const movedPairs = new Set<string>();
    for (let k = 0; k < n; k++) {
      let moved = false;
      for (const b of this.books.values()) {
        if (b.cursor >= b.series.length - 1) continue;
        b.cursor++;
        moved = true;
        movedPairs.add(b.meta.pair);
        this.match(b);
      }
      this.expire();
      if (!moved) break;
      advanced++;
    }
    this.announce(movedPairs);
    return advanced;
  }

  /**
   * Advances each pair to its last candle that opened at or before `ts` (candles in time order, so pairs
   * with gaps stay aligned by time), matching open orders against each new candle. Returns how many candles
   * were taken in all.
   */
  advanceTo(ts: number): number {
    let taken = 0;
    const movedPairs = new Set<string>();
    for (const b of this.books.values()) {
      while (b.cursor < b.series.length - 1 && b.series.ts[b.cursor + 1]! <= ts) {
        b.cursor++;
        taken++;
        movedPairs.add(b.meta.pair);
        this.match(b);
      }
    }
    if (taken > 0) this.expire();
    this.announce(movedPairs);
    return taken;
  }

  /** open time of the next candle of any pair, or null at the end of the data */
  nextCandleTs(): number | null {
    let next: number | null = null;
    for (const b of this.books.values()) {
      if (b.cursor >= b.series.length - 1) continue;
      const t = b.series.ts[b.cursor + 1]!;
      if (next === null || t < next) next = t;
    }
    return next;
  }

  /** called with the pairs (ccxt symbols) whose current candle changed, after orders were matched */
  onAdvance(listener: (pairs: readonly string[]) => void): () => void {
    this.advanceListeners.add(listener);
    return () => this.advanceListeners.delete(listener);
  }

  private announce(pairs: Set<string>): void {
    if (pairs.size === 0) return;
    const list = [...pairs];
    for (const l of this.advanceListeners) {
      try {
        l(list);
      } catch (e) {
        process.stderr.write(`kraken-sim: advance listener failed: ${(e as Error).message}\n`);
      }
    }
  }

  /** called with every execution event (see SimExecution), synchronously, once the engine's state is consistent */
  onExecution(listener: (e: SimExecution) => void): () => void {
    this.executionListeners.add(listener);
    return () => this.executionListeners.delete(listener);
  }

  private executed(e: SimExecution): void {
    for (const l of this.executionListeners) {
      try {
        l(e);
      } catch (err) {
        process.stderr.write(`kraken-sim: execution listener failed: ${(err as Error).message}\n`);
      }
    }
  }

  // ---------- balances ----------

  setBalance(asset: string, amount: string | number | Dec): void {
    const code = assetCode(asset);
    if (!code) throw new Error(`kraken-sim: unknown asset ${asset}`);
    const v = amount instanceof Dec ? amount : new Dec(amount);
    if (v.isNaN() || v.lt(0)) throw new Error(`kraken-sim: bad balance ${String(amount)} for ${asset}`);
    this.balance.set(code, v);
  }

  /** balance and funds held for open orders, per Kraken asset code */
  balances(): Record<string, { balance: Dec; hold: Dec }> {
    // one pass over the open orders for every asset's hold (an account with many pairs has many balances)
    const holds = new Map<string, Dec>();
    for (const o of this.orderList) {
      if (o.status !== 'open' && o.status !== 'pending') continue;
      const asset = o.side === 'buy' ? RAW_PAIRS[o.meta.krakenPair]!.quote : RAW_PAIRS[o.meta.krakenPair]!.base;
      holds.set(asset, (holds.get(asset) ?? new Dec(0)).plus(this.held(o)));
    }
    const out: Record<string, { balance: Dec; hold: Dec }> = {};
    for (const [code, v] of this.balance) out[code] = { balance: v, hold: holds.get(code) ?? new Dec(0) };
    return out;
  }

  balanceOf(asset: string): Dec {
    const code = assetCode(asset);
    return (code && this.balance.get(code)) || new Dec(0);
  }

  private add(code: string, delta: Dec): void {
    this.balance.set(code, (this.balance.get(code) ?? new Dec(0)).plus(delta));
  }

  private refPrice(o: { meta: MarketMeta; price: Dec | null }): Dec {
    return o.price ?? new Dec(this.current(o.meta.krakenPair).close);
  }

  /** what an open order holds: quote for buys (at its limit or the last price, taker fee included), base for sells */
  private held(o: SimOrder): Dec {
    const remaining = o.volume.minus(o.volExec);
    if (o.side === 'sell') return remaining;
    return remaining.mul(this.refPrice(o)).mul(o.meta.takerFee.plus(1));
  }

  private hold(code: string, except?: SimOrder): Dec {
    let h = new Dec(0);
    for (const o of this.orderList) {
      if (o === except || (o.status !== 'open' && o.status !== 'pending')) continue;
      const asset = o.side === 'buy' ? RAW_PAIRS[o.meta.krakenPair]!.quote : RAW_PAIRS[o.meta.krakenPair]!.base;
      if (asset === code) h = h.plus(this.held(o));
    }
    return h;
  }

  // ---------- orders ----------

  /** AddOrder with Kraken's checks; throws KrakenError */
  addOrder(p: AddOrderParams): AddOrderResult {
    if (!p.pair || !p.type || !p.ordertype || p.volume === undefined) throw new KrakenError('EGeneral:Invalid arguments');
    const raw = this.rawPair(p.pair);
    if (!raw) throw new KrakenError('EQuery:Unknown asset pair');
    const book = this.books.get(raw.key);
    if (!book) throw new KrakenError('EQuery:Unknown asset pair');
    const meta = book.meta;
    if (p.type !== 'buy' && p.type !== 'sell') throw new KrakenError('EGeneral:Invalid arguments:type');
    if (p.ordertype !== 'market' && p.ordertype !== 'limit') throw new KrakenError('EGeneral:Invalid arguments:ordertype');
    const flags = (p.oflags ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
    if (flags.some((f) => !ORDER_FLAGS.has(f))) throw new KrakenError('EGeneral:Invalid arguments:oflags');
    if (flags.includes('viqc')) throw new KrakenError('EGeneral:Invalid arguments:viqc');
    const postOnly = flags.includes('post');
    if (postOnly && p.ordertype === 'market') throw new KrakenError('EGeneral:Invalid arguments:oflags');
    if (!DECIMAL.test(p.volume)) throw new KrakenError('EGeneral:Invalid arguments:volume');
    if (p.ordertype === 'limit' && (p.price === undefined || !DECIMAL.test(p.price))) throw new KrakenError('EGeneral:Invalid arguments:price');
    const volume = new Dec(p.volume);
    const price: Dec | null = p.ordertype === 'limit' ? new Dec(p.price!) : null;
    const badNumber = precisionRefusal(meta, { quantity: volume, limitPrice: price });
    if (badNumber) throw new KrakenError(badNumber);
    const clOrdId = p.cl_ord_id ?? null;
    if (clOrdId !== null && !validClOrdId(clOrdId)) throw new KrakenError('EGeneral:Invalid arguments:cl_ord_id');
    let userref: number | null = null;
    if (p.userref !== undefined) {
      if (clOrdId !== null) throw new KrakenError('EGeneral:Invalid arguments');
      const u = Number(p.userref);
      if (!/^-?\d+$/.test(p.userref) || u < -(2 ** 31) || u >= 2 ** 31) throw new KrakenError('EGeneral:Invalid arguments:userref');
      userref = u;
    }
    const tif = (p.timeinforce ?? 'GTC').toUpperCase();
    if (tif !== 'GTC' && tif !== 'IOC' && tif !== 'GTD') throw new KrakenError('EGeneral:Invalid arguments:timeinforce');
    let expireTm = 0;
    if (tif === 'GTD') {
      const e = p.expiretm ?? '';
      const now = this.opts.clock.now() / 1000;
      const m = /^\+(\d+)$/.exec(e);
      expireTm = m ? now + Number(m[1]) : Number(e);
      if (!Number.isFinite(expireTm) || expireTm <= now) throw new KrakenError('EGeneral:Invalid arguments:expiretm');
    }
    // market state
    if (book.status === 'cancel_only') throw new KrakenError('EService:Market in cancel_only mode');
    if (book.status === 'post_only' && !postOnly) throw new KrakenError('EService:Market in post_only mode');
    if (book.status === 'limit_only' && p.ordertype !== 'limit') throw new KrakenError('EService:Market in limit_only mode');
    // minimums
    const ref = price ?? new Dec(book.series.decimal('close', book.cursor));
    const small = minimumRefusal(meta, volume, ref);
    if (small) throw new KrakenError(small);
    if (clOrdId !== null && this.orderList.some((o) => o.clOrdId === clOrdId && (o.status === 'open' || o.status === 'pending'))) {
      throw new KrakenError('EOrder:Duplicate cl_ord_id');
    }
    // funds
    if (p.type === 'buy') {
      const need = volume.mul(ref).mul(meta.takerFee.plus(1));
      const free = (this.balance.get(raw.raw.quote) ?? new Dec(0)).minus(this.hold(raw.raw.quote));
      if (need.gt(free)) throw new KrakenError('EOrder:Insufficient funds');
    } else {
      const free = (this.balance.get(raw.raw.base) ?? new Dec(0)).minus(this.hold(raw.raw.base));
      if (volume.gt(free)) throw new KrakenError('EOrder:Insufficient funds');
    }
    const descr = { order: describe(p.type, volume, meta, p.ordertype, price) };
    if (p.validate) return { descr };
    const now = this.opts.clock.now() / 1000;
    const order: SimOrder = {
      txid: this.ids.order(), clOrdId, userref, pair: meta.pair, meta, side: p.type, type: p.ordertype, volume, price, postOnly,
      timeInForce: tif, expireTm, openTm: now, acceptedIndex: book.cursor, status: 'open', reason: null, closeTm: null,
      volExec: new Dec(0), cost: new Dec(0), fee: new Dec(0), trades: [], fillCap: null,
    };
    this.orderList.push(order);
    this.byTxid.set(order.txid, order);
    this.executed({ type: 'new', order });
    // post-only: a limit that would take liquidity at once is cancelled by the engine (Kraken accepts, then cancels)
    if (postOnly && price !== null) {
      const last = new Dec(book.series.decimal('close', book.cursor));
      if ((p.type === 'buy' && price.gte(last)) || (p.type === 'sell' && price.lte(last))) this.closeAndReport(order, 'canceled', 'Post only order');
    }
    return { descr, txid: [order.txid] };
  }

  private rawPair(name: string): { key: string; raw: RawPair } | null {
    const key = krakenPairKey(name);
    if (key) return { key, raw: RAW_PAIRS[key]! };
    const b = this.book(name);
    return b ? { key: b.meta.krakenPair, raw: RAW_PAIRS[b.meta.krakenPair]! } : null;
  }

  private close(o: SimOrder, status: 'closed' | 'canceled' | 'expired', reason: string | null): void {
    o.status = status;
    o.reason = reason;
    o.closeTm = this.opts.clock.now() / 1000;
  }

  /** closes an order as cancelled or expired and reports it to the execution listeners */
  private closeAndReport(o: SimOrder, status: 'canceled' | 'expired', reason: string | null): void {
    this.close(o, status, reason);
    this.executed({ type: status, order: o });
  }

  /** open orders matching `txid` (a txid or a userref) or `clOrdId` */
  private findOpen(txid: string | undefined, clOrdId: string | undefined): SimOrder[] {
    const open = this.orderList.filter((o) => o.status === 'open' || o.status === 'pending');
    if (clOrdId !== undefined) return open.filter((o) => o.clOrdId === clOrdId);
    if (txid === undefined) return [];
    if (/^-?\d+$/.test(txid)) return open.filter((o) => o.userref === Number(txid));
    return open.filter((o) => o.txid === txid);
  }

  /** the open order a CancelOrder would cancel, or null */
  cancelTarget(txid: string | undefined, clOrdId: string | undefined): SimOrder | null {
    return this.findOpen(txid, clOrdId)[0] ?? null;
  }

  cancelOrder(txid: string | undefined, clOrdId: string | undefined): { count: number } {
    if (txid === undefined && clOrdId === undefined) throw new KrakenError('EGeneral:Invalid arguments');
    const targets = this.findOpen(txid, clOrdId);
    if (targets.length === 0) throw new KrakenError('EOrder:Unknown order');
    for (const o of targets) this.closeAndReport(o, 'canceled', 'User requested');
    return { count: targets.length };
  }

  cancelAll(reason = 'User requested'): number {
    let n = 0;
    for (const o of this.orderList) {
      if (o.status === 'open' || o.status === 'pending') {
        this.closeAndReport(o, 'canceled', reason);
        n++;
      }
    }
    return n;
  }

  orders(): readonly SimOrder[] {
    return this.orderList;
  }

  order(idOrClOrdId: string): SimOrder | null {
    return this.byTxid.get(idOrClOrdId) ?? [...this.orderList].reverse().find((o) => o.clOrdId === idOrClOrdId) ?? null;
  }

  trades(): readonly SimTrade[] {
    return this.tradeList;
  }

  // ---------- matching ----------

  private match(b: Book): void {
    const candle = b.series.at(b.cursor);
    let used = new Dec(0);
    for (const o of this.orderList) {
      if (o.meta.krakenPair !== b.meta.krakenPair || (o.status !== 'open' && o.status !== 'pending') || o.acceptedIndex >= b.cursor) continue;
      let remaining = o.volume.minus(o.volExec);
      if (o.fillCap !== null) remaining = Dec.min(remaining, o.fillCap.minus(o.volExec));
      if (remaining.gt(0)) {
        const q = quoteFill(this.opts.fill, o.meta, { side: o.side, type: o.type, remaining, limitPrice: o.price ?? undefined }, candle, used);
        if (q) {
          const got = this.applyFill(o, q.quantity, q.price, q.liquidity, candle.ts);
          used = used.plus(got);
        }
      }
      if (o.timeInForce === 'IOC' && (o.status === 'open' || o.status === 'pending')) this.closeAndReport(o, 'canceled', 'Unfilled IOC');
    }
  }

  private expire(): void {
    const now = this.opts.clock.now() / 1000;
    for (const o of this.orderList) {
      if ((o.status === 'open' || o.status === 'pending') && o.timeInForce === 'GTD' && o.expireTm <= now) this.closeAndReport(o, 'expired', null);
    }
  }

  /**
   * Books a fill, shrinking a buy to what the free quote balance pays for (as the paper venue does).
   * Returns the quantity filled.
   */
  private applyFill(o: SimOrder, quantity0: Dec, price: Dec, liquidity: 'maker' | 'taker', candleTs: number): Dec {
    const raw = RAW_PAIRS[o.meta.krakenPair]!;
    const meta = o.meta;
    let quantity = quantity0;
    let fee = feeFor(meta, quantity.mul(price), liquidity);
    if (o.side === 'buy') {
      const cash = (this.balance.get(raw.quote) ?? new Dec(0)).minus(this.hold(raw.quote, o));
      if (quantity.mul(price).plus(fee).gt(cash)) {
        const rate = liquidity === 'maker' ? meta.makerFee : meta.takerFee;
        quantity = cash.gt(0) ? cash.div(price.mul(rate.plus(1))).toDecimalPlaces(meta.lotDecimals, Dec.ROUND_DOWN) : new Dec(0);
        fee = feeFor(meta, quantity.mul(price), liquidity);
        const lot = new Dec(10).pow(-meta.lotDecimals);
        while (quantity.gt(0) && quantity.mul(price).plus(fee).gt(cash)) {
          quantity = quantity.minus(lot);
          fee = feeFor(meta, quantity.mul(price), liquidity);
        }
        if (quantity.lte(0)) {
          this.closeAndReport(o, 'canceled', 'Insufficient funds');
          return new Dec(0);
        }
      }
    } else {
      const have = this.balance.get(raw.base) ?? new Dec(0);
      if (quantity.gt(have)) quantity = have;
      if (quantity.lte(0)) {
        this.closeAndReport(o, 'canceled', 'Insufficient funds');
        return new Dec(0);
      }
      fee = feeFor(meta, quantity.mul(price), liquidity);
    }
    const cost = quantity.mul(price);
    if (o.side === 'buy') {
      this.add(raw.quote, cost.plus(fee).neg());
      this.add(raw.base, quantity);
    } else {
      this.add(raw.base, quantity.neg());
      this.add(raw.quote, cost.minus(fee));
    }
    const id = this.ids.trade();
    const trade: SimTrade = {
      id, tradeId: ++this.tradeSeq, ordertxid: o.txid, postxid: this.ids.trade(), pair: meta.pair, krakenPair: meta.krakenPair,
      time: this.opts.clock.now() / 1000, side: o.side, ordertype: o.type, price, cost, fee, vol: quantity, maker: liquidity === 'maker', candleTs,
    };
    this.tradeList.push(trade);
    o.trades.push(id);
    o.volExec = o.volExec.plus(quantity);
    o.cost = o.cost.plus(cost);
    o.fee = o.fee.plus(fee);
    if (o.volExec.gte(o.volume)) this.close(o, 'closed', null);
    this.executed({ type: 'trade', order: o, trade });
    if (o.status === 'closed') this.executed({ type: 'filled', order: o });
    return quantity;
  }

  /**
   * Fills an open order at once (tests, cancel races): `quantity` (default: all that remains) at its limit
   * price (maker) or, for a market order, at the current close with slippage (taker).
   */
  forceFill(idOrClOrdId: string, quantity?: Dec | string | number): SimOrder {
    const o = this.order(idOrClOrdId);
    if (!o || (o.status !== 'open' && o.status !== 'pending')) throw new Error(`kraken-sim: no open order ${idOrClOrdId}`);
    const remaining = o.volume.minus(o.volExec);
    const q = quantity === undefined ? remaining : Dec.min(remaining, new Dec(quantity));
    const candle = this.current(o.meta.krakenPair);
    const price =
      o.price ??
      roundPriceAdverse(o.meta, new Dec(candle.close).mul(o.side === 'buy' ? bps(this.opts.fill.slippageBps).plus(1) : new Dec(1).minus(bps(this.opts.fill.slippageBps))), o.side);
    this.applyFill(o, q, price, o.price ? 'maker' : 'taker', candle.ts);
    return o;
  }
}

export function describe(side: string, volume: Dec, meta: MarketMeta, ordertype: string, price: Dec | null): string {
  return `${side} ${volume.toFixed(meta.lotDecimals)} ${meta.altname} @ ${ordertype === 'limit' && price ? `limit ${price.toFixed(meta.priceDecimals)}` : 'market'}`;
}
