/**
 * Order and trade construction shared by the live path (kernel) and the shadow engine, so a shadow
 * trade is priced, timed and settled by exactly the same rules as a real one.
 */
import { clientOrderId } from './ids.ts';
import { roundPriceAdverse } from './market.ts';
import { bps, Dec, ONE } from './money.ts';
import type { ClosedTrade, ExitReason, MarketMeta, OrderIntent, OrderType, Position, Signal } from './types.ts';

export interface EntryPlan {
  readonly orderType: OrderType;
  /** limit entries: price = signal price × (1 − offset) */
  readonly limitOffsetBps: number;
  /** the unfilled remainder is cancelled this many candles after submission */
  readonly entryTimeoutCandles: number;
  readonly intervalMs: number;
}

/** The entry order a signal becomes, submitted at `now`. */
export function entryIntent(signal: Signal, meta: MarketMeta, quantity: Dec, plan: EntryPlan, now: number): OrderIntent {
  const price = new Dec(signal.price);
  const limitPrice = plan.orderType === 'limit' ? roundPriceAdverse(meta, price.mul(ONE.minus(bps(plan.limitOffsetBps))), 'sell') : undefined;
  return {
    id: `${signal.id}:entry`,
    signalId: signal.id,
    clientOrderId: clientOrderId(signal.id, 'entry'),
    pair: signal.pair,
    side: 'buy',
    type: plan.orderType,
    quantity,
    ...(limitPrice ? { limitPrice } : {}),
    purpose: 'entry',
    deadlineTs: now + plan.entryTimeoutCandles * plan.intervalMs,
    tsEvent: now,
    tsInit: now,
  };
}

/** The market order that closes what a position still holds. */
export function exitIntent(position: Position, attempt: number, reason: ExitReason | undefined, now: number): OrderIntent {
  return {
    id: `${position.signalId}:exit:${attempt}`,
    signalId: position.signalId,
    clientOrderId: clientOrderId(position.signalId, 'exit', attempt),
    pair: position.pair,
    side: 'sell',
    type: 'market',
    quantity: position.quantity,
    purpose: 'exit',
    ...(reason ? { exitReason: reason } : {}),
    tsEvent: now,
    tsInit: now,
  };
}

export { closedTradeOf, entryPriceOf } from './position.ts';
