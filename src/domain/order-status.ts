/**
 * The order status: what Tollgate knows of one order, and the moves between statuses (the order state
 * table). NautilusTrader's order state table is the model; the names are the strings stored in the
 * state database (`orders.status`) and carried by venue events (`OrderEvent.kind`), so they stay as
 * they are:
 *
 *   Nautilus           Tollgate
 *   INITIALIZED        initialized   intent recorded, no order row yet (never stored: a missing row)
 *   SUBMITTED          sending       recorded BEFORE the send; the send may or may not have reached the venue
 *   ACCEPTED           accepted      the venue has it (placed, found by a lookup, or adopted at recovery)
 *   (none)             unknown       the submit's outcome is ambiguous (timeout, 5xx): look it up before any resend
 *   (none)             resolved      an unknown submit was looked up: found (→ accepted) or absent and sent again
 *   FILLED             filled        final
 *   CANCELED           cancelled     final (what filled before the cancel is in `filledQuantity`)
 *   REJECTED           rejected      final
 *   (none)             not_sent      final: recovery found it nowhere on the venue (the process died before the send)
 *
 * PARTIALLY_FILLED and EXPIRED have no Tollgate status: fills go to the ledger without changing the
 * order's status, and an entry past its deadline is cancelled (`cancelled`), not expired by the venue.
 *
 * Pure data and functions: the durable order path (engine) and the state store (adapter) both move
 * statuses through `transitionOrder`, so the table lives in domain. Execution policy on top of it is
 * in src/execution/order-status.ts.
 */

export const ORDER_STATUSES = ['initialized', 'sending', 'accepted', 'unknown', 'resolved', 'filled', 'cancelled', 'rejected', 'not_sent'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The status of an order intent that has no order row yet. */
export const INITIAL_ORDER_STATUS = 'initialized' satisfies OrderStatus;

/** Statuses an order never leaves. Defined here only: every "is it done?" question asks `isFinalOrderStatus`. */
export const FINAL_ORDER_STATUSES = ['filled', 'cancelled', 'rejected', 'not_sent'] as const satisfies readonly OrderStatus[];
export type FinalOrderStatus = (typeof FINAL_ORDER_STATUSES)[number];

/** Stored statuses of an order that may still be working on the venue (neither final nor the initial, unstored one). */
export const WORKING_ORDER_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((s) => s !== INITIAL_ORDER_STATUS && !isFinalOrderStatus(s));

export function isOrderStatus(s: unknown): s is OrderStatus {
  return typeof s === 'string' && (ORDER_STATUSES as readonly string[]).includes(s);
}

export function isFinalOrderStatus(s: string | null | undefined): s is FinalOrderStatus {
  return typeof s === 'string' && (FINAL_ORDER_STATUSES as readonly string[]).includes(s);
}

/**
 * The order state table: from each status, where it may go. Every move here is one the code makes:
 * - initialized → sending: the durable path records the intent and its order row before sending;
 *   → accepted | not_sent: recovery (or reconciliation's adoption) of an intent with no order row finds it on the venue, or nowhere.
 * - sending → accepted | rejected | unknown: the send's outcome; → not_sent: recovery, nowhere on the venue.
 * - accepted → accepted: recovery re-adopts an order the store already has as accepted; → filled | cancelled: its end;
 *   → not_sent: recovery finds it neither open nor closed on the venue.
 * - unknown → unknown: the lookup itself failed; → resolved: the lookup found it or found nothing and sends again;
 *   → cancelled: nowhere and cancelled meanwhile (never sent again); → rejected: nowhere after the last send;
 *   → accepted | not_sent: recovery after a restart, found or not.
 * - resolved → accepted: found (or the resend was accepted); → unknown | rejected: the resend's outcome;
 *   → not_sent: recovery, nowhere on the venue.
 * A final status has no way out, not even to itself: nothing reports an order's end twice.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  initialized: ['sending', 'accepted', 'not_sent'],
  sending: ['accepted', 'rejected', 'unknown', 'not_sent'],
  accepted: ['accepted', 'filled', 'cancelled', 'not_sent'],
  unknown: ['unknown', 'resolved', 'accepted', 'cancelled', 'rejected', 'not_sent'],
  resolved: ['accepted', 'unknown', 'rejected', 'not_sent'],
  filled: [],
  cancelled: [],
  rejected: [],
  not_sent: [],
};

export class OrderTransitionError extends Error {
  constructor(readonly from: string, readonly to: string, message: string) {
    super(message);
    this.name = 'OrderTransitionError';
  }
}

export function canTransitionOrder(from: OrderStatus, to: OrderStatus): boolean {
  return isOrderStatus(from) && TRANSITIONS[from].includes(to);
}

/**
 * The status after moving `from` → `to`, or an OrderTransitionError naming both (and `subject`, e.g. the
 * client order id) when the table has no such move.
 */
/**
 * Moves a stored order to `o.status` inside the store's write transaction: its stored status (`initialized`
 * while it has no row) must allow the move, else an OrderTransitionError and nothing is written. The one
 * implementation behind both state adapters' `moveOrder`. @returns the status it moved from
 */
export function moveStoredOrder<O extends { readonly clientOrderId: string; readonly status: OrderStatus }>(
  store: { write<T>(fn: () => T): T; order(clientOrderId: string): { readonly status: OrderStatus } | undefined; saveOrder(o: O): void }, o: O,
): OrderStatus {
  return store.write(() => {
    const from = store.order(o.clientOrderId)?.status ?? INITIAL_ORDER_STATUS;
    transitionOrder(from, o.status, `order ${o.clientOrderId}`);
    store.saveOrder(o);
    return from;
  });
}

export function transitionOrder(from: OrderStatus, to: OrderStatus, subject = 'order'): OrderStatus {
  if (!isOrderStatus(from)) throw new OrderTransitionError(from, to, `${subject}: stored status '${from}' is not an order status (${ORDER_STATUSES.join(', ')}); cannot move it to '${to}'`);
  if (!isOrderStatus(to)) throw new OrderTransitionError(from, to, `${subject}: '${to}' is not an order status (${ORDER_STATUSES.join(', ')}); cannot move it from '${from}'`);
  if (TRANSITIONS[from].includes(to)) return to;
  const ways = TRANSITIONS[from];
  throw new OrderTransitionError(from, to,
    `${subject}: illegal order status move '${from}' → '${to}' (${ways.length ? `from '${from}' only to ${ways.map((s) => `'${s}'`).join(', ')}` : `'${from}' is final`})`);
}
