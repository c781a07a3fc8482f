/**
 * The one mapping between the order path's objects and what the state keeps of them: an order intent as
 * its stored record and back, and the order row a venue event leaves. The live durable path
 * (durable-orders.ts) and the resumable replay's recorder both write through these, so the rows they keep
 * of the same events are the same.
 */
import { Dec } from '../domain/money.ts';
import type { ExitReason, OrderEvent, OrderIntent } from '../domain/types.ts';
import type { OrderIntentRecord, OrderRecord } from '../ports/orders.ts';
import { orderStatusAfter } from './order-status.ts';

export function intentRecord(o: OrderIntent): OrderIntentRecord {
  return {
    id: o.id, signalId: o.signalId, clientOrderId: o.clientOrderId, pair: o.pair, side: o.side, type: o.type, quantity: o.quantity.toFixed(),
    limitPrice: o.limitPrice?.toFixed() ?? null, purpose: o.purpose, exitReason: o.exitReason ?? null, deadlineTs: o.deadlineTs ?? null, tsEvent: o.tsEvent, tsInit: o.tsInit,
  };
}

/** The order intent a stored record describes (recovery and reconciliation read intents back). */
export function intentOf(r: OrderIntentRecord): OrderIntent {
  return {
    id: r.id, signalId: r.signalId, clientOrderId: r.clientOrderId, pair: r.pair, side: r.side as OrderIntent['side'], type: r.type as OrderIntent['type'], quantity: new Dec(r.quantity),
    ...(r.limitPrice ? { limitPrice: new Dec(r.limitPrice) } : {}), purpose: r.purpose as OrderIntent['purpose'], ...(r.exitReason ? { exitReason: r.exitReason as ExitReason } : {}),
    ...(r.deadlineTs !== null ? { deadlineTs: r.deadlineTs } : {}), tsEvent: r.tsEvent, tsInit: r.tsInit,
  };
}

/** The order row after venue event `e`, given the row before it (if any), stamped `ts`. */
export function orderRecordAfter(e: OrderEvent, prev: OrderRecord | undefined, ts: number): OrderRecord {
  return {
    clientOrderId: e.order.clientOrderId, venueOrderId: prev?.venueOrderId ?? null, status: orderStatusAfter(e),
    filledQuantity: e.kind === 'filled' || e.kind === 'cancelled' ? e.filledQty.toFixed() : prev?.filledQuantity ?? '0',
    detail: e.kind === 'rejected' || e.kind === 'cancelled' || e.kind === 'unknown' ? e.reason : null, updatedTs: ts,
  };
}
