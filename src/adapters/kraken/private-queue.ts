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
}

interface Waiting {
  readonly start: () => void;
}

/** Order calls in a row before one waiting read goes (default). */
export const DEFAULT_ORDER_BURST = 4;

export class PrivateCallQueue {
  private readonly orders: Waiting[] = [];
  private readonly reads: Waiting[] = [];
  private busy = false;
  private ordersInARow = 0;
  private readonly counts = { sent: { order: 0, read: 0 }, jumped: 0, readsLetThrough: 0, maxWaiting: 0 };
  private readonly orderBurst: number;

  constructor(o: { orderBurst?: number } = {}) {
    const burst = o.orderBurst ?? DEFAULT_ORDER_BURST;
    if (!Number.isInteger(burst) || burst < 1) throw new Error(`PrivateCallQueue: orderBurst must be a positive integer, got ${burst}`);
    this.orderBurst = burst;
  }

  /**
   * Runs `fn` when its turn comes (at once when nothing is in flight) and settles as it does. `fn` must
   * not itself wait for another call of this queue (it would wait for its own slot).
   */
  run<T>(priority: CallPriority, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        let p: Promise<T>;
        try {
          p = fn();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => this.next());
      };
      (priority === 'order' ? this.orders : this.reads).push({ start });
      const waiting = this.orders.length + this.reads.length;
      if (waiting > this.counts.maxWaiting) this.counts.maxWaiting = waiting;
      if (!this.busy) this.next();
    });
  }

  /** calls waiting (not started), by priority */
  get waiting(): { order: number; read: number } {
    return { order: this.orders.length, read: this.reads.length };
  }

  get stats(): PrivateQueueStats {
    return { ...this.counts, sent: { ...this.counts.sent } };
  }

  private next(): void {
    const readsWaiting = this.reads.length > 0;
    const orderFirst = this.orders.length > 0 && (!readsWaiting || this.ordersInARow < this.orderBurst);
    const w = orderFirst ? this.orders.shift() : this.reads.shift();
    if (!w) {
      this.busy = false;
      this.ordersInARow = 0;
      return;
    }
    this.busy = true;
    if (orderFirst) {
      this.ordersInARow++;
      this.counts.sent.order++;
      if (readsWaiting) this.counts.jumped++;
    } else {
      if (this.orders.length > 0) this.counts.readsLetThrough++;
      this.ordersInARow = 0;
      this.counts.sent.read++;
    }
    w.start();
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
