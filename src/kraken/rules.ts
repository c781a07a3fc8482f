/**
 * Kraken's order acceptance rules, in one place: what AddOrder refuses before an order reaches the book, and
 * with which error string. The paper venue, the Kraken venue (before it spends a call) and the simulator all
 * ask this module, so an order the paper bot accepts is one Kraken would accept, and the other way round.
 *
 * Kraken applies the minimums to every order, a sell that closes a position included (a position smaller than
 * `ordermin` cannot be sold). Decimals: volume with more than `lot_decimals`, or a price with more than
 * `pair_decimals`, is refused, not rounded.
 */
import { minimumViolation } from '../domain/market.ts';
import type { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';

export type KrakenOrderError =
  | 'EGeneral:Invalid arguments:volume'
  | 'EGeneral:Invalid arguments:price'
  | 'EOrder:Order minimum not met'
  | 'EOrder:Cost minimum not met'
  | `EOrder:Invalid price:${string}`;

export interface OrderToCheck {
  readonly quantity: Dec;
  /** the limit price; none (null or absent) for a market order */
  readonly limitPrice?: Dec | null | undefined;
}

/** Kraken's refusal of the order's volume or price as written (sign, decimals), or null. */
export function precisionRefusal(meta: MarketMeta, order: OrderToCheck): KrakenOrderError | null {
  if (order.quantity.lte(0) || order.quantity.decimalPlaces() > meta.lotDecimals) return 'EGeneral:Invalid arguments:volume';
  if (order.limitPrice === null || order.limitPrice === undefined) return null;
  if (order.limitPrice.lte(0)) return 'EGeneral:Invalid arguments:price';
  if (order.limitPrice.decimalPlaces() > meta.priceDecimals) {
    return `EOrder:Invalid price:${meta.krakenPair} price can only be specified up to ${meta.priceDecimals} decimals.`;
  }
  return null;
}

/** Kraken's refusal of an order below `ordermin` (volume) or `costmin` (volume × price), or null. */
export function minimumRefusal(meta: MarketMeta, quantity: Dec, price: Dec): KrakenOrderError | null {
  const small = minimumViolation(meta, quantity, price);
  if (small === null) return null;
  return small.startsWith('cost') ? 'EOrder:Cost minimum not met' : 'EOrder:Order minimum not met';
}

/**
 * Kraken's answer to an order, or null when it accepts it. `reference` is the price the cost minimum is
 * checked at for a market order (Kraken uses its book; we use the last price). Funds are the caller's check.
 */
export function orderRefusal(meta: MarketMeta, order: OrderToCheck, reference: Dec): KrakenOrderError | null {
  return precisionRefusal(meta, order) ?? minimumRefusal(meta, order.quantity, order.limitPrice ?? reference);
}
