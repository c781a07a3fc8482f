/**
 * The one position arithmetic: how an entry or an exit execution moves a long spot position's money, how a
 * closed position becomes a trade, and what an open one is worth at a mark. Used by the in-memory Portfolio
 * (replay), the durable Ledger (SQLite) and the shadow engine alike, so a shadow trade and a real one with the
 * same fills have the same PnL to the last digit. Exact (Dec), pure, no I/O.
 */
import { Dec, quotientNumber, ZERO } from './money.ts';
import type { ClosedTrade, ExitReason, Position } from './types.ts';

/**
 * Quotients already known, keyed by the numerator's Dec (a Dec is immutable, and a position's unchanged amounts
 * stay the same objects): an average price asked again of the same amounts is not divided again, and a single
 * fill's average is its price. Only exact facts go in, so a hit equals the division it saves.
 */
const quotients = new WeakMap<Dec, { readonly den: Dec; readonly q: Dec }>();
/** `precision` of the Dec class: a product of operands with at most this many digits together is exact */
const EXACT_DIGITS = 40;

/** num ÷ den as Dec divides it (40 significant digits, half-even), remembered for these two objects. */
function quotient(num: Dec, den: Dec): Dec {
  const k = quotients.get(num);
  if (k !== undefined && k.den === den) return k.q;
  const q = num.div(den);
  quotients.set(num, { den, q });
  return q;
}

/**
 * `total` = 0 + quantity × price (the first execution of a side): total ÷ quantity is exactly `price`, and Dec's
 * division gives exactly that when quantity × price was exact (their digits fit the precision) and price fits it.
 */
function firstExecution(total: Dec, quantity: Dec, price: Dec): void {
  const pd = price.sd();
  if (!quantity.isZero() && pd + quantity.sd() <= EXACT_DIGITS) quotients.set(total, { den: quantity, q: price });
}

/** The money fields of a position (what an execution changes). */
export type PositionAmounts = Pick<Position, 'quantity' | 'entryCost' | 'entryQuantity' | 'entryFees' | 'exitProceeds' | 'exitQuantity' | 'exitFees'>;

type EntryAmounts = Pick<PositionAmounts, 'quantity' | 'entryCost' | 'entryQuantity' | 'entryFees'>;
type ExitAmounts = Pick<PositionAmounts, 'quantity' | 'exitProceeds' | 'exitQuantity' | 'exitFees'>;

/** A buy of `quantity` at `price` paying `fee`: the fields it changes; cash falls by quantity × price + fee. */
export function entryAmounts(p: PositionAmounts, quantity: Dec, price: Dec, fee: Dec): EntryAmounts {
  const next = {
    quantity: p.quantity.plus(quantity),
    entryCost: p.entryCost.plus(quantity.mul(price)),
    entryQuantity: p.entryQuantity.plus(quantity),
    entryFees: p.entryFees.plus(fee),
  };
  if (p.entryQuantity.isZero() && p.entryCost.isZero()) firstExecution(next.entryCost, next.entryQuantity, price);
  return next;
}

/** A sell of `quantity` at `price` paying `fee`: the fields it changes; cash rises by quantity × price − fee. */
export function exitAmounts(p: PositionAmounts, quantity: Dec, price: Dec, fee: Dec): ExitAmounts {
  const next = {
    quantity: p.quantity.minus(quantity),
    exitProceeds: p.exitProceeds.plus(quantity.mul(price)),
    exitQuantity: p.exitQuantity.plus(quantity),
    exitFees: p.exitFees.plus(fee),
  };
  if (p.exitQuantity.isZero() && p.exitProceeds.isZero()) firstExecution(next.exitProceeds, next.exitQuantity, price);
  return next;
}

/** The position after a buy (entryAmounts on a copy). */
export function withEntry<P extends PositionAmounts>(p: P, quantity: Dec, price: Dec, fee: Dec): P {
  return { ...p, ...entryAmounts(p, quantity, price, fee) };
}

/** The position after a sell (exitAmounts on a copy). */
export function withExit<P extends PositionAmounts>(p: P, quantity: Dec, price: Dec, fee: Dec): P {
  return { ...p, ...exitAmounts(p, quantity, price, fee) };
}

/** Signed change of the quote cash of an execution: −(q × price + fee) for a buy, q × price − fee for a sell. */
export function cashDelta(side: 'buy' | 'sell', quantity: Dec, price: Dec, fee: Dec): Dec {
  const notional = quantity.mul(price);
  return side === 'buy' ? notional.plus(fee).neg() : notional.minus(fee);
}

/** Average entry price of what was bought. */
export function entryPriceOf(p: Pick<Position, 'entryCost' | 'entryQuantity'>): Dec {
  return quotient(p.entryCost, p.entryQuantity);
}

/** Net PnL of an amount of proceeds against the whole entry: proceeds − entry cost − fees. */
function netPnl(p: PositionAmounts, proceeds: Dec, fees: Dec): Dec {
  return proceeds.minus(p.entryCost).minus(fees);
}

function ratio(pnl: Dec, p: PositionAmounts): number {
  return p.entryCost.isZero() ? 0 : quotientNumber(pnl, p.entryCost);
}

/** The closed trade of a fully exited long position: net PnL after all fees, prices volume-weighted. */
export function closedTradeOf(p: Position, exitTs: number, exitReason: ExitReason): ClosedTrade {
  const fees = p.entryFees.plus(p.exitFees);
  const pnl = netPnl(p, p.exitProceeds, fees);
  return {
    signalId: p.signalId, strategy: p.strategy, pair: p.pair, side: 'buy',
    quantity: p.entryQuantity,
    entryTs: p.openedTs, entryPrice: entryPriceOf(p),
    exitTs, exitPrice: quotient(p.exitProceeds, p.exitQuantity),
    exitReason,
    fees, pnl, pnlRatio: ratio(pnl, p),
  };
}

/**
 * An open position valued as if the rest were sold at `mark` paying `exitFee`: proceeds (so far plus the
 * rest at the mark), all fees, net PnL and its ratio to the entry cost, and the average exit price.
 */
export function markedToMarket(p: PositionAmounts, mark: Dec, exitFee: Dec = ZERO): { proceeds: Dec; fees: Dec; pnl: Dec; pnlRatio: number; exitPrice: Dec } {
  const proceeds = p.exitProceeds.plus(p.quantity.mul(mark));
  const fees = p.entryFees.plus(p.exitFees).plus(exitFee);
  const pnl = netPnl(p, proceeds, fees);
  return { proceeds, fees, pnl, pnlRatio: ratio(pnl, p), exitPrice: proceeds.div(p.entryQuantity) };
}
