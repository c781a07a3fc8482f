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

/**
 * What every order on one candle shares under one fill model and market: its volume share and its market fill
 * prices. The paper venue and the shadow engine quote many orders on the same candle object; these are built
 * once for it (one slot: the candle in hand), the same Decs a fresh computation gives.
 */
interface CandleTerms {
  readonly candle: Candle;
  readonly params: FillModelParams;
  readonly meta: MarketMeta;
  share: Dec | undefined;
  buy: Dec | undefined;
  sell: Dec | undefined;
}
let terms: CandleTerms | null = null;
function termsOf(params: FillModelParams, meta: MarketMeta, candle: Candle): CandleTerms {
  if (terms === null || terms.candle !== candle || terms.params !== params || terms.meta !== meta) {
    terms = { candle, params, meta, share: undefined, buy: undefined, sell: undefined };
  }
  return terms;
}

/** Base-quantity cap for this candle: share × volume, minus what other orders already took. */
export function volumeCapacity(params: FillModelParams, meta: MarketMeta, candle: Candle, used: Dec): Dec {
  const t = termsOf(params, meta, candle);
  const share = (t.share ??= roundQuantity(meta, candleDec(candle, 'volume').mul(params.maxVolumeShare)));
  const cap = used.isZero() ? share : share.minus(used);
  return cap.gt(ZERO) ? cap : ZERO;
}

/** The market fill price of a side on this candle: its open with slippage, rounded against the trader. */
function marketPrice(params: FillModelParams, meta: MarketMeta, candle: Candle, side: Side): Dec {
  const t = termsOf(params, meta, candle);
  const known = side === 'buy' ? t.buy : t.sell;
  if (known !== undefined) return known;
  const price = roundPriceAdverse(meta, candleDec(candle, 'open').mul(slippageFactor(params.slippageBps, side)), side);
  if (side === 'buy') t.buy = price;
  else t.sell = price;
  return price;
}

export function quoteFill(params: FillModelParams, meta: MarketMeta, order: WorkingOrder, candle: Candle, used: Dec): FillQuote | null {
  let price: Dec;
  let liquidity: 'maker' | 'taker';
  if (order.type === 'market') {
    price = marketPrice(params, meta, candle, order.side);
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
