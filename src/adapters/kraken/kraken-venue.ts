/**
 * Kraken through ccxt: the live (and sim) venue.
 *
 * - One private call at a time per key, each with a strictly increasing nonce (NonceSource), so nonces
 *   reach Kraken in order however many orders are placed at once; order entry (create, cancel) goes before
 *   every read not yet sent (PrivateCallQueue: krakenClient's, which every private call of the key goes
 *   through, or the venue's own around a client that has none, e.g. a test fake).
 * - Errors are classified at this boundary (errors.ts). A create whose outcome is unknown (timeout, 5xx,
 *   dropped response) is never sent again blindly: the order is reported `unknown`, looked up by its
 *   client order id (`cl_ord_id`) in open orders, then closed orders, and only if it is nowhere is it
 *   sent again — with the same client order id, so Kraken itself refuses a duplicate among open orders.
 * - Fills come from the trade history, each trade id exactly once (and the ledger keys fills by id too).
 *   Exact amounts come from Kraken's own strings (`info`), not ccxt's floats.
 * - A cancel that finds the order gone (it filled while we cancelled) reports the fills it finds.
 */
import { Dec } from '../../domain/money.ts';
import { fillFromTrade, type Candle, type Fill, type MarketMeta, type OrderIntent } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Venue, VenueSink } from '../../ports/venue.ts';
import { orderRefusal, precisionRefusal } from '../../kraken/rules.ts';
import { venueOrderIdOf, venueTrade, type CcxtTrade } from './account.ts';
import { classifyVenueError, type ClassifiedError } from './errors.ts';
import { PrivateCallQueue, privateQueueOf, type CallPriority } from './private-queue.ts';

/** The part of ccxt's kraken class this venue uses (a fake implements it in unit tests). */
export interface KrakenApi {
  /**
   * ccxt's implicit method for Kraken's AddOrder: the parameters as Kraken takes them (see addOrderRequest);
   * ccxt adds the nonce, signs, sends, and raises its error classes for Kraken's errors as for createOrder
   */
  privatePostAddOrder(params: Record<string, string>): Promise<AddOrderResponse>;
  /** ccxt's markets once loaded: a symbol's Kraken pair id (`XXBTZUSD`) */
  readonly markets?: Readonly<Record<string, { readonly id?: string } | undefined>> | undefined;
  cancelOrder(id: string, symbol?: string, params?: Record<string, unknown>): Promise<unknown>;
  fetchOpenOrders(symbol?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<ApiOrder[]>;
  fetchClosedOrders(symbol?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<ApiOrder[]>;
  fetchMyTrades(symbol?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<ApiTrade[]>;
  /** Kraken's dead man's switch: cancel every order after `timeoutMs` unless refreshed (0 disarms) */
  cancelAllOrdersAfter?(timeoutMs: number): Promise<unknown>;
}

export interface ApiOrder {
  readonly id: string;
  readonly clientOrderId?: string | undefined;
  readonly status?: string | undefined;
  readonly filled?: number | undefined;
  /** when the venue opened it (Kraken's `opentm`), ms */
  readonly timestamp?: number | undefined;
  readonly info?: Record<string, any>;
}

/** Kraken's AddOrder answer (ccxt raises for a non-empty `error`). */
export interface AddOrderResponse {
  readonly result?: { readonly txid?: readonly string[]; readonly descr?: unknown } | undefined;
}

/**
 * Kraken's AddOrder parameters for an intent: those ccxt's createOrder sends for it (pair id, type,
 * ordertype, volume, cl_ord_id, and price for a limit order), built from the intent's exact decimals instead
 * of ccxt's float formatting (the venue has checked them against the pair's decimals: precisionRefusal).
 * ccxt's unified layer (market lookup, precision, params, parsing the answer) is not on the order's path.
 */
export function addOrderRequest(intent: OrderIntent, pairId: string): Record<string, string> {
  const request: Record<string, string> = { pair: pairId, type: intent.side, ordertype: intent.type, volume: intent.quantity.toFixed(), cl_ord_id: intent.clientOrderId };
  if (intent.type === 'limit' && intent.limitPrice !== undefined) request['price'] = intent.limitPrice.toFixed();
  return request;
}

/** A trade as ccxt returns it. */
export type ApiTrade = CcxtTrade;

export interface KrakenVenueOptions {
  /** sends of one order at most (first send + re-sends after a lookup found nothing) */
  readonly maxSends: number;
  /** retries of a call that surely did nothing (rate limit, nonce, throttling) before giving up */
  readonly maxRetries: number;
  readonly backoffMs: number;
  /** order calls in a row before one waiting read goes (the venue's own queue; krakenClient's has its own setting) */
  readonly orderBurst?: number;
  /** client order ids of finished orders remembered to refuse a duplicate submit (the most recent; default 10,000) */
  readonly rememberFinished?: number;
}

export interface KrakenVenueDeps {
  readonly api: KrakenApi;
  readonly clock: Clock;
  readonly meta: (pair: string) => MarketMeta;
  /** strings that must never appear in a reason or log line (API key and secret) */
  readonly secrets: readonly string[];
  readonly sleep?: (ms: number) => Promise<void>;
  /** the last known price of a pair: market orders are checked against Kraken's minimums before sending */
  readonly lastPrice?: (pair: string) => number | null;
  /**
   * how far before a submission (our clock) trades are asked for, for skew between our clock and the venue's
   * (default 60 s; in sim mode at a pace, simulated time: a few intervals)
   */
  readonly tradeTimeSlackMs?: number;
}

interface Tracked {
  readonly intent: OrderIntent;
  /** our clock when it was submitted (the lower bound of its trades' times) */
  readonly submittedAt: number;
  /** the venue's own open time, once seen: trades are asked for from here, whatever our clock said */
  venueOpenedAt?: number;
  venueId: string | null;
  filled: Dec;
  done: boolean;
  cancelReason: string | null;
  /** its trades reported so far (forgotten with it once it is done) */
  readonly tradeIds: string[];
}

/** Kraken's TradesHistory page size */
const TRADES_PAGE = 50;
/** trade times are the venue's: allow for clock skew when asking for trades since a submission (default) */
const TRADE_TIME_SLACK_MS = 60_000;

const DEFAULTS: KrakenVenueOptions = { maxSends: 3, maxRetries: 5, backoffMs: 250 };

export class KrakenVenue implements Venue {
  readonly name = 'kraken';
  private sink: VenueSink | null = null;
  /** null when the client's calls are already queued (krakenClient): the venue adds no order of its own */
  private readonly queue: PrivateCallQueue | null;
  private readonly orders = new Map<string, Tracked>();
  private readonly byVenueId = new Map<string, Tracked>();
  private readonly seenTrades = new Set<string>();
  /** client order ids of orders that are done and forgotten (insertion order: the oldest goes first) */
  private readonly finished = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private halted: string | null = null;
  private readonly o: KrakenVenueOptions;
  /** counts for tests and status: sends, lookups, nonce and rate-limit retries */
  readonly stats = { creates: 0, lookups: 0, resends: 0, retries: 0, invalidNonce: 0 };

  constructor(private readonly d: KrakenVenueDeps, options: Partial<KrakenVenueOptions> = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.queue = privateQueueOf(d.api) ? null : new PrivateCallQueue(this.o.orderBurst === undefined ? {} : { orderBurst: this.o.orderBurst });
  }

  connect(sink: VenueSink): void {
    this.sink = sink;
  }

  /** Stop sending orders (reconciliation found something that must be looked at first). */
  halt(reason: string): void {
    this.halted ??= reason;
  }

  /** null while healthy; the reason after a fatal error (bad key, locked account): no more orders */
  get haltReason(): string | null {
    return this.halted;
  }

  private out(): VenueSink {
    if (!this.sink) throw new Error('kraken venue: no sink connected');
    return this.sink;
  }

  private sleep(ms: number): Promise<void> {
    return this.d.sleep ? this.d.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }

  /** One private call at a time, order entry first: nonces reach Kraken in the order they were made. */
  private serial<T>(fn: () => Promise<T>, priority: CallPriority): Promise<T> {
    return this.queue ? this.queue.run(priority, fn) : new Promise<T>((resolve) => resolve(fn()));
  }

  /** A call that is safe to repeat (a read, a cancel): retried on retryable and ambiguous errors. */
  private async read<T>(fn: () => Promise<T>, priority: CallPriority = 'read'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.serial(fn, priority);
      } catch (e) {
        const c = this.classify(e);
        if ((c.kind === 'retryable' || c.kind === 'ambiguous') && attempt < this.o.maxRetries) {
          this.stats.retries++;
          await this.sleep(this.o.backoffMs * attempt);
          continue;
        }
        throw e;
      }
    }
  }

  private classify(e: unknown): ClassifiedError {
    const c = classifyVenueError(e, this.d.secrets);
    if (c.code === 'EAPI:Invalid nonce') this.stats.invalidNonce++;
    if (c.kind === 'fatal') this.halted = `${c.code}: ${c.message}`;
    return c;
  }

  private track<T>(p: Promise<T>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when every submit, cancel and poll started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  submit(order: OrderIntent): void {
    const now = this.d.clock.now();
    if (this.halted) return this.out().onOrderEvent({ kind: 'rejected', order, reason: `venue halted: ${this.halted}`, ts: now });
    const meta = this.d.meta(order.pair);
    // Kraken's acceptance rules (decimals, minimums), checked before sending, for every order as Kraken does: a refusal costs no call
    const last = this.d.lastPrice?.(order.pair) ?? null;
    const ref = order.limitPrice ?? (last === null ? null : new Dec(last));
    const refused = ref === null ? precisionRefusal(meta, order) : orderRefusal(meta, order, ref);
    if (refused !== null) return this.out().onOrderEvent({ kind: 'rejected', order, reason: refused, ts: now });
    if (this.orders.has(order.clientOrderId) || this.finished.has(order.clientOrderId)) return this.out().onOrderEvent({ kind: 'rejected', order, reason: 'EOrder:Duplicate cl_ord_id', ts: now });
    const t: Tracked = { intent: order, submittedAt: now, venueId: null, filled: new Dec(0), done: false, cancelReason: null, tradeIds: [] };
    this.orders.set(order.clientOrderId, t);
    this.track(this.place(t, 1));
  }

  private async place(t: Tracked, send: number): Promise<void> {
    const { intent } = t;
    const emit = (e: Parameters<VenueSink['onOrderEvent']>[0]) => this.out().onOrderEvent(e);
    for (let retry = 1; ; retry++) {
      try {
        this.stats.creates++;
        const request = addOrderRequest(intent, this.d.api.markets?.[intent.pair]?.id ?? this.d.meta(intent.pair).krakenPair);
        const answer = await this.serial(() => this.d.api.privatePostAddOrder(request), 'order');
        const venueId = answer?.result?.txid?.[0];
        // accepted without an id to follow it by: it may exist, so it is looked up by its cl_ord_id like a timeout
        if (typeof venueId !== 'string' || venueId === '') throw new Error('AddOrder answered without a txid');
        this.adopt(t, venueId);
        emit({ kind: 'accepted', order: intent, ts: this.d.clock.now() });
        if (t.cancelReason) await this.doCancel(t); // a cancel asked for while the submit was in flight
        return;
      } catch (e) {
        const c = this.classify(e);
        if (c.kind === 'retryable' && retry < this.o.maxRetries) {
          // nothing happened on the venue: sending again is safe, after a pause
          this.stats.retries++;
          await this.sleep(this.o.backoffMs * retry);
          continue;
        }
        if (c.kind === 'rejected' || c.kind === 'fatal' || c.kind === 'retryable') {
          this.retire(t);
          emit({ kind: 'rejected', order: intent, reason: c.kind === 'retryable' ? `${c.code} (gave up after ${retry} tries)` : c.code, ts: this.d.clock.now() });
          return;
        }
        // ambiguous (or not_found on a create): the order may exist. Look before sending anything again.
        emit({ kind: 'unknown', order: intent, reason: c.code, ts: this.d.clock.now() });
        return this.resolveUnknown(t, send);
      }
    }
  }

  private async resolveUnknown(t: Tracked, send: number): Promise<void> {
    const { intent } = t;
    let found: ApiOrder | null = null;
    try {
      found = await this.lookup(intent);
    } catch (e) {
      // cannot even look: leave it unknown and say so; the next poll or reconciliation tries again
      const c = this.classify(e);
      this.out().onOrderEvent({ kind: 'unknown', order: intent, reason: `lookup failed: ${c.code}`, ts: this.d.clock.now() });
      return;
    }
    if (found) {
      this.adopt(t, found.id);
      this.out().onOrderEvent({ kind: 'resolved', order: intent, how: 'found', ts: this.d.clock.now() });
      this.out().onOrderEvent({ kind: 'accepted', order: intent, ts: this.d.clock.now() });
      if (t.cancelReason) await this.doCancel(t);
      else await this.pollOrder(t);
      return;
    }
    if (t.cancelReason) {
      // nowhere on the venue and cancelled meanwhile (its deadline passed during the lookup): never send it
      this.retire(t);
      this.out().onOrderEvent({ kind: 'cancelled', order: intent, filledQty: new Dec(0), reason: t.cancelReason, ts: this.d.clock.now() });
      return;
    }
    if (send >= this.o.maxSends) {
      this.retire(t);
      this.out().onOrderEvent({ kind: 'rejected', order: intent, reason: `not on the venue after ${send} sends with unknown outcome`, ts: this.d.clock.now() });
      return;
    }
    this.stats.resends++;
    this.out().onOrderEvent({ kind: 'resolved', order: intent, how: 'resent', ts: this.d.clock.now() });
    return this.place(t, send + 1);
  }

  /** The order with this client order id: open orders first, then closed orders. */
  private async lookup(intent: OrderIntent): Promise<ApiOrder | null> {
    this.stats.lookups++;
    const match = (os: ApiOrder[]) => os.find((o) => (o.clientOrderId ?? o.info?.cl_ord_id) === intent.clientOrderId) ?? null;
    const open = match(await this.read(() => this.d.api.fetchOpenOrders(intent.pair, undefined, undefined, { clientOrderId: intent.clientOrderId })));
    if (open) return open;
    return match(await this.read(() => this.d.api.fetchClosedOrders(intent.pair, undefined, undefined, { clientOrderId: intent.clientOrderId })));
  }

  /**
   * The order is done (filled, cancelled, rejected, absent): it is forgotten — its venue id, its trade ids
   * (a trade is only ever booked to a working order) — so a bot that runs for months holds only its working
   * orders; its client order id is remembered (the most recent `rememberFinished`) to refuse a duplicate.
   */
  private retire(t: Tracked): void {
    t.done = true;
    const id = t.intent.clientOrderId;
    if (this.orders.get(id) === t) this.orders.delete(id);
    if (t.venueId !== null && this.byVenueId.get(t.venueId) === t) this.byVenueId.delete(t.venueId);
    for (const tr of t.tradeIds) this.seenTrades.delete(tr);
    this.finished.add(id);
    const keep = this.o.rememberFinished ?? 10_000;
    for (const old of this.finished) {
      if (this.finished.size <= keep) break;
      this.finished.delete(old);
    }
  }

  /** what the venue holds in memory: working orders, their venue ids and trade ids, remembered finished ids */
  get held(): { orders: number; venueIds: number; trades: number; finished: number } {
    return { orders: this.orders.size, venueIds: this.byVenueId.size, trades: this.seenTrades.size, finished: this.finished.size };
  }

  private adopt(t: Tracked, venueId: string): void {
    t.venueId = venueId;
    this.byVenueId.set(venueId, t);
  }

  /**
   * Recovery after a restart: an order intent that was recorded but whose fate is unknown (the process
   * died before, during or after the send). It is looked up by client order id and adopted if the venue
   * has it (its fills are then reported like any other); it is never sent again from here.
   */
  async recover(order: OrderIntent, submittedAt: number, venueId?: string): Promise<'found' | 'absent'> {
    const t: Tracked = { intent: order, submittedAt, venueId: null, filled: new Dec(0), done: false, cancelReason: null, tradeIds: [] };
    this.orders.set(order.clientOrderId, t);
    // an order known by its venue id (adopted from reconciliation) needs no lookup
    const found = venueId ? { id: venueId } : await this.lookup(order);
    if (!found) {
      this.retire(t);
      return 'absent';
    }
    this.adopt(t, found.id);
    this.out().onOrderEvent({ kind: 'accepted', order, ts: this.d.clock.now() });
    await this.pollOrder(t);
    return 'found';
  }

  cancel(clientOrderId: string, reason: string): void {
    const t = this.orders.get(clientOrderId);
    if (!t || t.done) return;
    t.cancelReason = reason;
    this.track(this.doCancel(t));
  }

  private async doCancel(t: Tracked): Promise<void> {
    if (!t.venueId) return; // not placed (yet): the pending submit decides; its lookup sees cancelReason
    try {
      await this.read(() => this.d.api.cancelOrder(t.venueId!, t.intent.pair), 'order');
    } catch (e) {
      const c = this.classify(e);
      if (c.kind !== 'not_found') throw e;
      // cancel race: it filled (or was cancelled) while we cancelled — what filled is reported below
    }
    await this.pollOrder(t);
  }

  /** Fetch the trades and state of one order and report what is new. */
  private pollOrder(t: Tracked): Promise<void> {
    return this.pollOrders([t]);
  }

  /**
   * Report what is new for these orders: their trades (Kraken pages its trade history by 50, newest
   * first: pages are read back to the oldest order's submission), then the end of those no longer open.
   */
  private async pollOrders(list: Tracked[]): Promise<void> {
    const working = list.filter((t) => !t.done && t.venueId);
    for (const pair of new Set(working.map((t) => t.intent.pair))) {
      const mine = working.filter((t) => t.intent.pair === pair);
      // open orders FIRST: an order that is not open now has all its trades behind it, so the trade read
      // that follows sees them; one that fills in between is still open here and is finished next poll
      const openOrders = await this.read(() => this.d.api.fetchOpenOrders(pair));
      this.learnOpenTimes(openOrders);
      const open = new Set(openOrders.map((o) => o.id));
      // trades since the earliest of these orders opened: the venue's time where known, else ours less the slack
      const since = Math.min(...mine.map((t) => (t.venueOpenedAt ?? t.submittedAt - (this.d.tradeTimeSlackMs ?? TRADE_TIME_SLACK_MS)) - 1_000));
      for (const tr of await this.tradesSince(pair, since)) {
        const t = this.byVenueId.get(venueOrderIdOf(tr));
        if (t && !t.done) this.fill(t, tr);
      }
      let closed: Map<string, ApiOrder> | null = null;
      for (const t of mine) {
        // another poll may have finished it while we awaited: report its end once
        if (t.done || open.has(t.venueId!)) continue;
        // belt and braces: the venue's executed volume must be booked before the order is declared done
        if (!closed) {
          const list = await this.read(() => this.d.api.fetchClosedOrders(pair));
          this.learnOpenTimes(list);
          closed = new Map(list.map((o) => [o.id, o]));
        }
        const volExec = closed.get(t.venueId!)?.info?.vol_exec;
        // its trades are not visible yet (or were asked for from too late: the next poll asks from its open time)
        if (volExec !== undefined && new Dec(String(volExec)).gt(t.filled)) continue;
        if (t.done) continue;
        this.retire(t);
        const now = this.d.clock.now();
        if (t.filled.gte(t.intent.quantity)) this.out().onOrderEvent({ kind: 'filled', order: t.intent, filledQty: t.filled, ts: now });
        else this.out().onOrderEvent({ kind: 'cancelled', order: t.intent, filledQty: t.filled, reason: t.cancelReason ?? 'cancelled on the venue', ts: now });
      }
    }
  }

  private learnOpenTimes(orders: readonly ApiOrder[]): void {
    for (const o of orders) {
      const t = this.byVenueId.get(o.id);
      if (t && typeof o.timestamp === 'number' && Number.isFinite(o.timestamp)) t.venueOpenedAt = o.timestamp;
    }
  }

  private async tradesSince(pair: string, since: number): Promise<ApiTrade[]> {
    const out: ApiTrade[] = [];
    for (let ofs = 0; ; ofs += TRADES_PAGE) {
      const page = await this.read(() => this.d.api.fetchMyTrades(pair, since > 0 ? since : undefined, undefined, ofs ? { ofs } : {}));
      out.push(...page);
      if (page.length < TRADES_PAGE) break;
    }
    // oldest first, ties by Kraken's trade sequence number: fills are booked in the order they happened
    const seq = (t: ApiTrade) => Number(t.info?.trade_id ?? 0);
    return out.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0) || seq(a) - seq(b));
  }

  private fill(t: Tracked, tr: ApiTrade): void {
    if (this.seenTrades.has(tr.id)) return;
    this.seenTrades.add(tr.id);
    t.tradeIds.push(tr.id);
    const f = fillFromTrade(venueTrade(tr, t.intent.clientOrderId), t.intent, this.d.clock.now());
    t.filled = t.filled.plus(f.quantity);
    this.out().onFill(f);
  }

  /** Poll every working order (the live loop calls this on its schedule). */
  poll(): Promise<void> {
    return this.pollOrders([...this.orders.values()]);
  }

  /**
   * Kraken's dead man's switch: arm (or refresh) `CancelAllOrdersAfter` so that every open order is
   * cancelled if the bot stops refreshing it — a crashed or cut-off bot leaves nothing working on the
   * book. The live loop calls this on a schedule while it is healthy, never while halted; 0 disarms it.
   * @returns false when the venue refused or could not be reached (the caller reports it)
   */
  async deadMansSwitch(timeoutMs: number): Promise<boolean> {
    if (!this.d.api.cancelAllOrdersAfter) return false;
    if (this.halted && timeoutMs > 0) return false;
    try {
      await this.read(() => this.d.api.cancelAllOrdersAfter!(timeoutMs));
      return true;
    } catch (e) {
      this.classify(e);
      return false;
    }
  }

  /** Live venues do not match candles; the live loop polls instead. */
  onCandle(_candle: Candle): void {}

  workingCount(): number {
    let n = 0;
    for (const t of this.orders.values()) if (!t.done) n++;
    return n;
  }
}
