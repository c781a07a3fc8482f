/** Market rules from Kraken's AssetPairs facts: rounding to lot/price decimals and minimums. */
import { ceilTo, Dec, floorTo, ZERO } from './money.ts';
import type { MarketMeta, Side } from './types.ts';

export function roundQuantity(meta: MarketMeta, qty: Dec): Dec {
  return floorTo(qty, meta.lotDecimals);
}

/** Rounds a price to the pair's decimals, against the trader (buy up, sell down). */
export function roundPriceAdverse(meta: MarketMeta, price: Dec, side: Side): Dec {
  return side === 'buy' ? ceilTo(price, meta.priceDecimals) : floorTo(price, meta.priceDecimals);
}

export function feeFor(meta: MarketMeta, cost: Dec, liquidity: 'maker' | 'taker'): Dec {
  return ceilTo(cost.mul(liquidity === 'maker' ? meta.makerFee : meta.takerFee), meta.costDecimals);
}

/** Why an order of `qty` at `price` is below Kraken's minimums, or null when it is fine. */
export function minimumViolation(meta: MarketMeta, qty: Dec, price: Dec): string | null {
  if (qty.lte(ZERO)) return `quantity rounds to 0 at ${meta.lotDecimals} lot decimals`;
  if (qty.lt(meta.orderMin)) return `quantity ${qty.toFixed()} < ordermin ${meta.orderMin.toFixed()} ${meta.base}`;
  const cost = qty.mul(price);
  if (cost.lt(meta.costMin)) return `cost ${cost.toFixed(meta.costDecimals)} < costmin ${meta.costMin.toFixed()} ${meta.quote}`;
  return null;
}
