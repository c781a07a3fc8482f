/**
 * Order status policy for the execution path. The status list, the final statuses and the order state
 * table (`TRANSITIONS`, `transitionOrder`) are defined once, in src/domain/order-status.ts — the state
 * store (an adapter, which may import only ports and domain) moves statuses through the same table —
 * and re-exported here so execution code has one place to import them from.
 */
import type { OrderEvent } from '../domain/types.ts';
import { isFinalOrderStatus, type OrderStatus } from '../domain/order-status.ts';

export {
  FINAL_ORDER_STATUSES,
  INITIAL_ORDER_STATUS,
  ORDER_STATUSES,
  OrderTransitionError,
  TRANSITIONS,
  WORKING_ORDER_STATUSES,
  canTransitionOrder,
  isFinalOrderStatus,
  isOrderStatus,
  transitionOrder,
  type FinalOrderStatus,
  type OrderStatus,
} from '../domain/order-status.ts';

/** The status a venue event moves its order to (every event kind is a status: this does not compile otherwise). */
export function orderStatusAfter(e: OrderEvent): OrderStatus {
  return e.kind;
}

/** Whether a venue event is its order's end (filled, cancelled, rejected): nothing more comes for it. */
export function endsOrder(e: OrderEvent): boolean {
  return isFinalOrderStatus(orderStatusAfter(e));
}
