/**
 * The money rules of a position, shared by the in-memory Portfolio (replay) and the durable Ledger
 * (SQLite): one place says how an entry or an exit moves cash and a position, exactly, in Decimal.
 * Pure functions over values; the callers decide where the values live.
 */
import { Dec, ZERO } from '../domain/money.ts';
import { cashDelta, closedTradeOf, markedToMarket, withEntry, withExit } from '../domain/position.ts';
import type { ClosedTrade, ExitReason, Position } from '../domain/types.ts';

/** A position's accumulated money: the domain `Position` plus its key, quote currency and exit reason. */
export interface PositionState extends Omit<Position, 'signalId'> {
  /** key of the position: the signal id for bot positions, `manual-BTCUSD` for operator positions */
  readonly id: string;
  /** the signal the position belongs to (null for operator and imported positions) */
  readonly signalId: string | null;
  readonly quote: string;
  readonly exitReason: ExitReason | null;
}

/** What one execution (a fill, an operator trade) did: the new position, the cash delta in `quote`, and the trade it closed. */
export interface TradeEffect {
  readonly position: PositionState;
  /** signed change of the quote currency's cash */
  readonly cashDelta: Dec;
  readonly closed: ClosedTrade | null;
}

export class LedgerRuleError extends Error {}

export function emptyPosition(o: { id: string; signalId: string | null; strategy: string; pair: string; quote: string; openedTs: number }): PositionState {
  const z = ZERO; // a Dec is immutable: every empty amount may be the same zero
  return { ...o, quantity: z, entryCost: z, entryQuantity: z, entryFees: z, exitProceeds: z, exitQuantity: z, exitFees: z, exitReason: null };
}

/** A buy that opens or grows `p` (the arithmetic: domain/position.ts). */
export function applyEntry(p: PositionState, quantity: Dec, price: Dec, fee: Dec): TradeEffect {
  return { position: withEntry(p, quantity, price, fee), cashDelta: cashDelta('buy', quantity, price, fee), closed: null };
}

/** A sell that shrinks `p`; at quantity zero the position closes into a trade (domain/position.ts). */
export function applyExit(p: PositionState, quantity: Dec, price: Dec, fee: Dec, ts: number, what: string): TradeEffect {
  if (quantity.gt(p.quantity)) throw new LedgerRuleError(`${what} sells ${quantity.toFixed()} > held ${p.quantity.toFixed()}`);
  const next = withExit(p, quantity, price, fee);
  const closed: ClosedTrade | null = next.quantity.isZero()
    ? closedTradeOf({ ...next, signalId: next.signalId ?? next.id }, ts, next.exitReason ?? 'operator')
    : null;
  return { position: next, cashDelta: cashDelta('sell', quantity, price, fee), closed };
}

/**
 * PnL of the position if it were sold now at `mark` without an exit fee: exit proceeds so far + quantity × mark
 * − entry cost − fees paid. Equals the closed trade's pnl when the rest is sold at `mark` for free.
 */
export function unrealizedPnl(p: PositionState, mark: Dec): Dec {
  return markedToMarket(p, mark).pnl;
}
