/**
 * Kraken's private calls on one key go one at a time (each nonce must exceed the last one Kraken accepted,
 * so two calls in flight could arrive in the wrong order). This is that one-at-a-time order, with a priority:
 *
 * - order entry (`order`: AddOrder, CancelOrder, …) goes before every read (`read`: balances, open orders,
 *   trades history, …) that has not been started yet; a call already started is never interrupted;
 * - the call is only started (ccxt builds and signs it, so its nonce is taken) when it leaves the queue, so
 *   reordering never sends a nonce below one already sent;
 * - reads are not starved: after `orderBurst` order calls in a row, one waiting read goes next;
 * - within a priority, first come first served.
 *
 * With the key's nonce window (`nonceWindow`, set on the key at Kraken; 0 by default), an order call does
 * not wait for the calls in flight either: Kraken accepts, once each, a nonce below the highest it has seen
 * by less than the window, so a call in flight may arrive after the order that overtook it. An order starts
 * beside them only while the nonce it takes is less than half the window above the oldest nonce in flight
 * (a call in flight too long makes orders wait again), and at most MAX_IN_FLIGHT calls are in flight. Reads
 * still start only when nothing is in flight.
 */

export type CallPriority = 'order' | 'read';

export interface PrivateQueueStats {
  /** calls started, by priority */
  readonly sent: { order: number; read: number };
  /** order calls started while at least one read (queued earlier) was still waiting */
  readonly jumped: number;
  /** reads started ahead of waiting order calls (the starvation bound at work) */
  readonly readsLetThrough: number;
  /** the longest queue seen (both priorities) */
  readonly maxWaiting: number;
  /** order calls started while another call was in flight (only with a nonce window) */
  readonly overlapped: number;
  /** the most calls in flight at once */
  readonly maxInFlight: number;
}

/** The key's nonces as the queue sees them (NonceSource). */
export interface NonceView {
  /** the last nonce handed out */
  readonly current: number;
  /** the nonce the next call would take */
  peek(): number;
}

export interface PrivateQueueOptions {
  /** order calls in a row before one waiting read goes (default DEFAULT_ORDER_BURST) */
  readonly orderBurst?: number;
  /** the key's nonce window at Kraken (nonce units; 0 = none, Kraken's default): order calls may overlap calls in flight */
  readonly nonceWindow?: number;
  /** the key's nonces (needed with a nonce window) */
  readonly nonces?: NonceView;
}

interface Waiting {
  readonly start: () => void;
}

/** Order calls in a row before one waiting read goes (default). */
export const DEFAULT_ORDER_BURST = 4;
/** calls in flight at once at most with a nonce window (Kraken throttles many concurrent requests) */
export const MAX_IN_FLIGHT = 3;

export class PrivateCallQueue {
  private readonly orders: Waiting[] = [];
  private readonly reads: Waiting[] = [];
  /** the nonce of each call in flight (NaN until known) */
  private readonly inFlight: Array<{ nonce: number }> = [];
  private ordersInARow = 0;
  private readonly counts = { sent: { order: 0, read: 0 }, jumped: 0, readsLetThrough: 0, maxWaiting: 0, overlapped: 0, maxInFlight: 0 };
  private readonly orderBurst: number;
  private readonly nonceWindow: number;
  private readonly nonces: NonceView | null;

  constructor(o: PrivateQueueOptions = {}) {
    const burst = o.orderBurst ?? DEFAULT_ORDER_BURST;
    if (!Number.isInteger(burst) || burst < 1) throw new Error(`PrivateCallQueue: orderBurst must be a positive integer, got ${burst}`);
    const window = o.nonceWindow ?? 0;
    if (!Number.isFinite(window) || window < 0) throw new Error(`PrivateCallQueue: nonceWindow must be 0 or more, got ${window}`);
    if (window > 0 && !o.nonces) throw new Error('PrivateCallQueue: a nonce window needs the key\'s nonces');
    this.orderBurst = burst;
    this.nonceWindow = window;
    this.nonces = o.nonces ?? null;
  }

  /**
   * Runs `fn` when its turn comes (at once when nothing is in flight) and settles as it does. `fn` must
   * not itself wait for another call of this queue (it would wait for its own slot).
   */
  run<T>(priority: CallPriority, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        const slot = { nonce: NaN };
        this.inFlight.push(slot);
        if (this.inFlight.length > this.counts.maxInFlight) this.counts.maxInFlight = this.inFlight.length;
        let p: Promise<T>;
        try {
          p = fn();
        } catch (e) {
          p = Promise.reject(e);
        }
        // ccxt signs (takes the nonce) before its first await: this is the call's nonce. Were it taken later,
        // this one is lower than the call's, which only makes the overlap check stricter.
        if (this.nonces) slot.nonce = this.nonces.current;
        p.then(resolve, reject).finally(() => {
          this.inFlight.splice(this.inFlight.indexOf(slot), 1);
          this.next();
        });
      };
      (priority === 'order' ? this.orders : this.reads).push({ start });
      const waiting = this.orders.length + this.reads.length;
      if (waiting > this.counts.maxWaiting) this.counts.maxWaiting = waiting;
      this.next();
    });
  }

  /** calls waiting (not started), by priority */
  get waiting(): { order: number; read: number } {
    return { order: this.orders.length, read: this.reads.length };
  }

  get stats(): PrivateQueueStats {
    return { ...this.counts, sent: { ...this.counts.sent } };
  }

  /** Starts the calls whose turn it is: one when nothing is in flight; with a nonce window, orders beside calls in flight. */
  private next(): void {
    for (;;) {
      const readsWaiting = this.reads.length > 0;
      const orderFirst = this.orders.length > 0 && (!readsWaiting || this.ordersInARow < this.orderBurst);
      if (!orderFirst && !readsWaiting) {
        this.ordersInARow = 0;
        return;
      }
      const overlap = this.inFlight.length > 0;
      if (overlap && !(orderFirst && this.mayOverlap())) return;
      const w = (orderFirst ? this.orders : this.reads).shift()!;
      if (orderFirst) {
        this.ordersInARow++;
        this.counts.sent.order++;
        if (readsWaiting) this.counts.jumped++;
        if (overlap) this.counts.overlapped++;
      } else {
        if (this.orders.length > 0) this.counts.readsLetThrough++;
        this.ordersInARow = 0;
        this.counts.sent.read++;
      }
      w.start();
    }
  }

  /** an order may start beside the calls in flight: Kraken will accept their nonces if they arrive after it */
  private mayOverlap(): boolean {
    if (this.nonceWindow <= 0 || !this.nonces || this.inFlight.length >= MAX_IN_FLIGHT) return false;
    let oldest = Infinity;
    for (const c of this.inFlight) oldest = Math.min(oldest, c.nonce);
    // NaN (a call whose nonce is not known) never passes
    return this.nonces.peek() - oldest < this.nonceWindow / 2;
  }
}

/** Kraken's order-entry methods (private REST paths): they go before waiting reads. */
const ORDER_ENTRY = new Set(['AddOrder', 'AddOrderBatch', 'AmendOrder', 'EditOrder', 'CancelOrder', 'CancelOrderBatch', 'CancelAll']);

/** The priority of a Kraken private method (`AddOrder` → order; `Balance`, `OpenOrders`, … → read). */
export function priorityOf(method: string): CallPriority {
  return ORDER_ENTRY.has(method) ? 'order' : 'read';
}

const QUEUE = Symbol.for('tollgate.kraken.privateCalls');

/** Marks `api` as one whose private calls already go through `queue` (krakenClient's exchange). */
export function markQueued(api: object, queue: PrivateCallQueue): void {
  Object.defineProperty(api, QUEUE, { value: queue, enumerable: false });
}

/** The private-call queue `api`'s calls already go through (undefined for anything else, e.g. a test fake). */
export function privateQueueOf(api: object): PrivateCallQueue | undefined {
  return (api as { [QUEUE]?: PrivateCallQueue })[QUEUE];
}
