/** Position sizing: a fixed quote amount or a fraction of equity, rounded down to the lot decimals. */
import { Dec, ZERO } from './money.ts';
import { roundQuantity } from './market.ts';
import type { MarketMeta } from './types.ts';

export type Sizing = { readonly mode: 'fixed_quote'; readonly amount: string } | { readonly mode: 'equity_fraction'; readonly fraction: number };

export interface SizedOrder {
  readonly quantity: Dec;
  /** quantity × reference price, before fees and slippage */
  readonly cost: Dec;
}

/** a fixed quote amount parsed once per config string (a Dec is immutable) */
const amounts = new Map<string, Dec>();
function amountOf(s: string): Dec {
  let d = amounts.get(s);
  if (d === undefined) {
    if (amounts.size >= 256) amounts.clear();
    amounts.set(s, (d = new Dec(s)));
  }
  return d;
}

export function sizeOrder(sizing: Sizing, meta: MarketMeta, price: Dec, equity: Dec): SizedOrder {
  const quote = sizing.mode === 'fixed_quote' ? amountOf(sizing.amount) : equity.mul(sizing.fraction);
  const quantity = price.gt(ZERO) && quote.gt(ZERO) ? roundQuantity(meta, quote.div(price)) : ZERO;
  return { quantity, cost: quantity.mul(price) };
}
