/**
 * The fill model shared by the paper venue and the shadow engine: market orders fill at the candle's
 * open with slippage, limit orders when the candle touches the limit, never more than a share of the
 * candle's volume. Pure: the caller says how much of this candle's volume is already used.
 */
import { Dec, bps, ZERO, ONE } from './money.ts';
import { feeFor, roundPriceAdverse, roundQuantity } from './market.ts';
import { candleDec, type Candle, type MarketMeta, type OrderType, type Side } from './types.ts';

export interface FillModelParams {
  readonly slippageBps: number;
  /** 0 < share ≤ 1: the most of one candle's volume all orders together may take */
  readonly maxVolumeShare: number;
}

export interface FillQuote {
  readonly quantity: Dec;
  readonly price: Dec;
  readonly fee: Dec;
  readonly liquidity: 'maker' | 'taker';
}

export interface WorkingOrder {
  readonly side: Side;
  readonly type: OrderType;
  readonly remaining: Dec;
  readonly limitPrice?: Dec | undefined;
}

/** Base-quantity cap for this candle: share × volume, minus what other orders already took. */
export function volumeCapacity(params: FillModelParams, meta: MarketMeta, candle: Candle, used: Dec): Dec {
  const cap = roundQuantity(meta, candleDec(candle, 'volume').mul(params.maxVolumeShare)).minus(used);
  return cap.gt(ZERO) ? cap : ZERO;
}

export function quoteFill(params: FillModelParams, meta: MarketMeta, order: WorkingOrder, candle: Candle, used: Dec): FillQuote | null {
  let price: Dec;
  let liquidity: 'maker' | 'taker';
  if (order.type === 'market') {
    const slip = bps(params.slippageBps);
    const open = candleDec(candle, 'open');
    price = roundPriceAdverse(meta, order.side === 'buy' ? open.mul(slip.plus(ONE)) : open.mul(ONE.minus(slip)), order.side);
    liquidity = 'taker';
  } else {
    const limit = order.limitPrice;
    if (limit === undefined) return null;
    const touched = order.side === 'buy' ? candleDec(candle, 'low').lte(limit) : candleDec(candle, 'high').gte(limit);
    if (!touched) return null;
    price = limit;
    liquidity = 'maker';
  }
  const capacity = volumeCapacity(params, meta, candle, used);
  const quantity = order.remaining.lt(capacity) ? order.remaining : capacity;
  if (quantity.lte(ZERO)) return null;
  return { quantity, price, fee: feeFor(meta, quantity.mul(price), liquidity), liquidity };
}
