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

const factors = new Map<number, { readonly buy: Dec; readonly sell: Dec }>();
/** 1 + slippage for a buy, 1 − slippage for a sell: built once per rate (a Dec is immutable) */
function slippageFactor(slippageBps: number, side: Side): Dec {
  let f = factors.get(slippageBps);
  if (f === undefined) {
    if (factors.size >= 256) factors.clear();
    const slip = bps(slippageBps);
    factors.set(slippageBps, (f = { buy: slip.plus(ONE), sell: ONE.minus(slip) }));
  }
  return side === 'buy' ? f.buy : f.sell;
}

/** Base-quantity cap for this candle: share × volume, minus what other orders already took. */
export function volumeCapacity(params: FillModelParams, meta: MarketMeta, candle: Candle, used: Dec): Dec {
  const share = roundQuantity(meta, candleDec(candle, 'volume').mul(params.maxVolumeShare));
  const cap = used.isZero() ? share : share.minus(used);
  return cap.gt(ZERO) ? cap : ZERO;
}

export function quoteFill(params: FillModelParams, meta: MarketMeta, order: WorkingOrder, candle: Candle, used: Dec): FillQuote | null {
  let price: Dec;
  let liquidity: 'maker' | 'taker';
  if (order.type === 'market') {
    const open = candleDec(candle, 'open');
    price = roundPriceAdverse(meta, open.mul(slippageFactor(params.slippageBps, order.side)), order.side);
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
