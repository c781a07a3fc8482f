/** Position sizing: a fixed quote amount or a fraction of equity, rounded down to the lot decimals. */
import { Dec } from './money.ts';
import { roundQuantity } from './market.ts';
import type { MarketMeta } from './types.ts';

export type Sizing = { readonly mode: 'fixed_quote'; readonly amount: string } | { readonly mode: 'equity_fraction'; readonly fraction: number };

export interface SizedOrder {
  readonly quantity: Dec;
  /** quantity × reference price, before fees and slippage */
  readonly cost: Dec;
}

export function sizeOrder(sizing: Sizing, meta: MarketMeta, price: Dec, equity: Dec): SizedOrder {
  const quote = sizing.mode === 'fixed_quote' ? new Dec(sizing.amount) : equity.mul(sizing.fraction);
  const quantity = price.gt(0) && quote.gt(0) ? roundQuantity(meta, quote.div(price)) : new Dec(0);
  return { quantity, cost: quantity.mul(price) };
}
