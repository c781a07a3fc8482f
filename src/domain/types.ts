/** Plain domain types. No I/O, no framework: messages are immutable values. */
import { Dec } from './money.ts';

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type GuardMode = 'enforce' | 'observe' | 'off';

export const BLOCK_CODES = [
  'MAX_OPEN_POSITIONS',
  'COOLDOWN',
  'DUPLICATE_SIGNAL',
  'STOPLOSS_GUARD',
  'MAX_DRAWDOWN',
  'LOW_PROFIT_PAIR',
  'DAILY_LOSS_LIMIT',
  'MIN_CONFIDENCE',
  'EXPOSURE_LIMIT',
  'MIN_ORDER_SIZE',
  'STALE_MARKET_DATA',
  'VOLATILITY',
] as const;
/**
 * Guards that are in the chain only when their config section is given (absent: not evaluated, not listed
 * in decisions, so a config without them logs exactly what it logged before they existed).
 */
export const OPT_IN_GUARD_CODES = ['TRADING_HOURS'] as const;
/** Every guard code, in the canonical evaluation order: the default chain's, then the opt-in ones. */
export const GUARD_CODES = [...BLOCK_CODES, ...OPT_IN_GUARD_CODES] as const;
/** The guards' codes, in their canonical evaluation order. */
export type GuardCode = (typeof GUARD_CODES)[number];
/**
 * Not a guard: the operator paused new entries (`pause`). A signal that arrives while entries are paused is
 * blocked with this code after every guard has been evaluated, so the shadow engine measures what the pause cost.
 */
export const ENTRIES_PAUSED = 'ENTRIES_PAUSED' as const;
/** Why new entries are paused, when they are (set through the operator service). */
export interface EntryPause {
  readonly by: string;
  readonly reason: string;
  readonly since: number;
}

/** Every code a decision can be blocked by: the guards' and the operator's pause. */
export type BlockCode = GuardCode | typeof ENTRIES_PAUSED;

export const EXIT_REASONS = ['stop_loss', 'trailing_stop', 'take_profit', 'max_hold', 'strategy_exit', 'operator'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** The decimal fields of a candle: prices and base volume. */
export type CandleDecimalField = 'open' | 'high' | 'low' | 'close' | 'volume';

/** One OHLCV candle. `ts` is the open time in ms (Kraken's `unix` column × 1000). Prices and volume are the
 * exchange's printed decimals as the nearest number (for indicators). `new Dec(candle.x)` is that decimal
 * exactly unless `exact.x` is present, which holds it when the number cannot (more than 15 significant
 * digits); money code reads `candleDec(candle, 'x')`. */
export interface Candle {
  readonly pair: string;
  readonly intervalMs: number;
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly trades: number;
  /** Exact decimal strings (plain notation) of the fields whose number above is not the printed decimal; absent when there are none. */
  readonly exact?: Readonly<Partial<Record<CandleDecimalField, string>>>;
}

/** the exact decimals of a candle already asked for (a candle is read by the venue, the exits and every shadow) */
const candleDecs = new WeakMap<Candle, Partial<Record<CandleDecimalField, Dec>>>();

/** A candle's price or volume as an exact decimal: the printed one, also where the number cannot hold it.
 * Built once per candle and field (a Dec is immutable, so every caller may share it). */
export function candleDec(c: Candle, field: CandleDecimalField): Dec {
  let decs = candleDecs.get(c);
  if (decs === undefined) candleDecs.set(c, (decs = {}));
  return (decs[field] ??= new Dec(c.exact?.[field] ?? c[field]));
}

/** A candle's price or volume as the nearest double of its exact decimal (what `candleDec(c, field).toNumber()` gives). */
export function candleNumber(c: Candle, field: CandleDecimalField): number {
  return c.exact?.[field] === undefined ? c[field] : candleDec(c, field).toNumber();
}

export interface Signal {
  readonly id: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: Side;
  /** 0..1 */
  readonly confidence: number;
  /** Reference price the strategy saw (candle close). */
  readonly price: number;
  readonly reason: string;
  readonly source: 'strategy' | 'webhook' | 'operator';
  readonly tsEvent: number;
  readonly tsInit: number;
}

export interface MarketMeta {
  /** ccxt-style symbol, e.g. BTC/USD */
  readonly pair: string;
  /** Kraken's pair key, e.g. XXBTZUSD */
  readonly krakenPair: string;
  readonly altname: string;
  readonly base: string;
  readonly quote: string;
  readonly priceDecimals: number;
  readonly lotDecimals: number;
  readonly costDecimals: number;
  readonly orderMin: Dec;
  readonly costMin: Dec;
  /** fee rates as fractions (0.004 = 0.40 %) */
  readonly takerFee: Dec;
  readonly makerFee: Dec;
  readonly status: string;
}

export interface OrderIntent {
  readonly id: string;
  readonly signalId: string;
  /** client order id (Kraken cl_ord_id), derived from the signal */
  readonly clientOrderId: string;
  readonly pair: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly quantity: Dec;
  readonly limitPrice?: Dec;
  /** what the order is for: opening the signal's position, or closing it */
  readonly purpose: 'entry' | 'exit';
  readonly exitReason?: ExitReason;
  /** candle time after which the unfilled remainder is cancelled (entry orders) */
  readonly deadlineTs?: number;
  readonly tsEvent: number;
  readonly tsInit: number;
}

export interface Fill {
  readonly id: string;
  readonly orderId: string;
  readonly signalId: string;
  readonly pair: string;
  readonly side: Side;
  readonly quantity: Dec;
  readonly price: Dec;
  readonly fee: Dec;
  readonly liquidity: 'maker' | 'taker';
  readonly purpose: 'entry' | 'exit';
  readonly tsEvent: number;
  readonly tsInit: number;
}

/** One trade of the account as the venue reports it, in exact figures: what a fill is made from. */
export interface VenueTrade {
  readonly id: string;
  readonly venueOrderId: string;
  /** the client order id of the trade's order, where the venue knows it */
  readonly clientOrderId: string | null;
  readonly quantity: Dec;
  readonly price: Dec;
  readonly fee: Dec;
  readonly liquidity: 'maker' | 'taker';
  /** epoch ms, or null when the venue did not say */
  readonly ts: number | null;
}

/**
 * The one trade-to-fill conversion: a venue trade of the order `intent` placed, booked at `now` (and at the
 * trade's own time when the venue gave one). The live venue's fills and reconciliation's adopted fills both
 * come from here, so they are the same fill to the last field.
 */
export function fillFromTrade(t: VenueTrade, intent: Pick<OrderIntent, 'clientOrderId' | 'signalId' | 'pair' | 'side' | 'purpose'>, now: number): Fill {
  return {
    id: t.id, orderId: intent.clientOrderId, signalId: intent.signalId, pair: intent.pair, side: intent.side,
    quantity: t.quantity, price: t.price, fee: t.fee, liquidity: t.liquidity, purpose: intent.purpose, tsEvent: t.ts ?? now, tsInit: now,
  };
}

/** What the venue reports of an order. Each kind is also the order status it moves the order to (./order-status.ts). */
export type OrderEvent =
  | { readonly kind: 'accepted'; readonly order: OrderIntent; readonly ts: number }
  | { readonly kind: 'rejected'; readonly order: OrderIntent; readonly reason: string; readonly ts: number }
  | { readonly kind: 'filled'; readonly order: OrderIntent; readonly filledQty: Dec; readonly ts: number }
  | { readonly kind: 'cancelled'; readonly order: OrderIntent; readonly filledQty: Dec; readonly reason: string; readonly ts: number }
  /** the submit's outcome is unknown (timeout, 5xx, dropped response): the venue looks the order up before anything is re-sent */
  | { readonly kind: 'unknown'; readonly order: OrderIntent; readonly reason: string; readonly ts: number }
  /** an unknown submit was resolved: the order was found on the venue, or found nowhere and sent again */
  | { readonly kind: 'resolved'; readonly order: OrderIntent; readonly how: 'found' | 'resent'; readonly ts: number };

export interface Position {
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly quantity: Dec;
  /** total quote paid for the quantity still held plus sold (entry side), excluding fees */
  readonly entryCost: Dec;
  readonly entryQuantity: Dec;
  readonly entryFees: Dec;
  readonly exitProceeds: Dec;
  readonly exitQuantity: Dec;
  readonly exitFees: Dec;
  readonly openedTs: number;
}

/** Entry cost of the quantity still held (the sold part excluded). */
export function heldCost(p: Position): Dec {
  return p.entryQuantity.isZero() ? p.entryCost : p.entryCost.mul(p.quantity).div(p.entryQuantity);
}

export interface ClosedTrade {
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: Side;
  readonly quantity: Dec;
  readonly entryTs: number;
  readonly entryPrice: Dec;
  readonly exitTs: number;
  readonly exitPrice: Dec;
  readonly exitReason: ExitReason;
  readonly fees: Dec;
  /** net PnL in quote after all fees */
  readonly pnl: Dec;
  /** pnl / entry cost, as a float ratio */
  readonly pnlRatio: number;
}

export type GuardResult = { readonly verdict: 'allow' } | { readonly verdict: 'block'; readonly code: BlockCode; readonly detail: string };

export interface GuardOutcome {
  readonly code: BlockCode;
  readonly mode: GuardMode;
  readonly verdict: 'allow' | 'block';
  readonly detail: string | null;
}

export interface Decision {
  readonly signalId: string;
  readonly decision: 'approved' | 'blocked';
  readonly guards: readonly GuardOutcome[];
  /** enforcing guards that blocked */
  readonly blockedBy: readonly BlockCode[];
  /** observing guards that would have blocked */
  readonly observedBlocks: readonly BlockCode[];
  readonly ts: number;
}

/** How a blocked signal's shadow trade ended: closed by the exit rules, still open when the data ended
 * (marked to market), entry never filled before its deadline, or refused by the venue's checks. */
export type ShadowStatus = 'closed' | 'open_at_end' | 'expired' | 'rejected';

/** The shadow trade of a blocked signal: what it would have made had it been traded. */
export interface ShadowOutcome {
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: Side;
  /** enforcing guards that blocked it */
  readonly blockedBy: readonly BlockCode[];
  /** every guard that voted block, enforcing or observing */
  readonly blockingGuards: readonly BlockCode[];
  readonly status: ShadowStatus;
  /** venue refusal or expiry reason (status rejected/expired) */
  readonly reason: string | null;
  readonly decidedTs: number;
  readonly entryTs: number | null;
  readonly entryPrice: Dec | null;
  readonly exitTs: number | null;
  readonly exitPrice: Dec | null;
  readonly exitReason: ExitReason | 'open_at_end' | null;
  readonly quantity: Dec;
  readonly fees: Dec;
  readonly pnl: Dec;
  /** pnl / entry cost; null when nothing was bought */
  readonly pnlRatio: number | null;
  /** worst and best price excursion while held: lowest low (highest high) × quantity − entry cost, before fees; ≤ 0 and ≥ 0 */
  readonly maxAdverse: Dec;
  readonly maxFavourable: Dec;
  /** a shadow or live position of the same strategy and pair was already open at the decision */
  readonly overlaps: boolean;
  /** when the outcome was settled */
  readonly ts: number;
}
