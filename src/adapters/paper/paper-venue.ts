/**
 * Paper venue: simulated fills from candles. Market orders fill at the next candle's open with slippage,
 * limit orders when a candle touches the limit, all working orders of a pair together never take more
 * than `maxVolumeShare` of a candle's volume (the rest waits for the next candle: partial fills).
 * Funds are checked like Kraken does, with Kraken's error strings.
 */
import { quoteFill, type FillModelParams } from '../../domain/fill-model.ts';
import { feeFor } from '../../domain/market.ts';
import { Dec, decOfNumber, ONE, ZERO } from '../../domain/money.ts';
import type { Candle, MarketMeta, OrderIntent } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Venue, VenueSink } from '../../ports/venue.ts';
import { orderRefusal } from '../../kraken/rules.ts';

/** 1 + the taker fee of a market, built once per market (a Dec is immutable): every funds check multiplies by it */
const takerFactors = new WeakMap<MarketMeta, Dec>();
function takerFactor(meta: MarketMeta): Dec {
  let f = takerFactors.get(meta);
  if (f === undefined) takerFactors.set(meta, (f = meta.takerFee.plus(ONE)));
  return f;
}

interface Working {
  readonly order: OrderIntent;
  remaining: Dec;
  filled: Dec;
  /** the candle time at which it was accepted: it fills from the next candle on */
  readonly acceptedTs: number;
}

export interface PaperVenueDeps {
  readonly clock: Clock;
  readonly meta: (pair: string) => MarketMeta;
  /** free quote balance (cash) of a currency */
  readonly cash: (currency: string) => Dec;
  /** base quantity held by the signal's position (what an exit may sell) */
  readonly held: (signalId: string) => Dec;
  /** reference price for the funds check at submission (last close) */
  readonly lastPrice: (pair: string) => number | null;
}

export class PaperVenue implements Venue {
  readonly name = 'paper';
  private readonly working: Working[] = [];
  private sink: VenueSink | null = null;
  private fillSeq = 0;

  constructor(private readonly params: FillModelParams, private readonly deps: PaperVenueDeps) {}

  connect(sink: VenueSink): void {
    this.sink = sink;
  }

  private out(): VenueSink {
    if (!this.sink) throw new Error('paper venue: no sink connected');
    return this.sink;
  }

  /** quote reserved by working buy orders, at their reference price, fees included */
  private reserved(quote: string): Dec {
    let r = ZERO;
    for (const w of this.working) {
      if (w.order.side !== 'buy') continue;
      const meta = this.deps.meta(w.order.pair);
      if (meta.quote !== quote) continue;
      const px = w.order.limitPrice ?? decOfNumber(this.deps.lastPrice(w.order.pair) ?? 0);
      r = r.plus(w.remaining.mul(px).mul(takerFactor(meta)));
    }
    return r;
  }

  /** base quantity already promised to working sell orders of the signal's position */
  private sellingFor(signalId: string): Dec {
    let q = ZERO;
    for (const w of this.working) if (w.order.side === 'sell' && w.order.signalId === signalId) q = q.plus(w.remaining);
    return q;
  }

  /**
   * Kraken's acceptance checks at submission, with its error strings: null when the order would be
   * accepted now. The shadow engine asks the same question for blocked signals.
   */
  check(order: OrderIntent): string | null {
    const meta = this.deps.meta(order.pair);
    if (this.working.some((w) => w.order.clientOrderId === order.clientOrderId)) return 'EOrder:Duplicate cl_ord_id';
    if (meta.status !== 'online') return `EService:Market in ${meta.status} mode`;
    const ref = order.limitPrice ?? decOfNumber(this.deps.lastPrice(order.pair) ?? 0);
    const refused = orderRefusal(meta, order, ref);
    if (refused !== null) return refused;
    if (order.side === 'buy') {
      const need = order.quantity.mul(ref).mul(takerFactor(meta));
      if (need.plus(this.reserved(meta.quote)).gt(this.deps.cash(meta.quote))) return 'EOrder:Insufficient funds';
    } else if (order.quantity.plus(this.sellingFor(order.signalId)).gt(this.deps.held(order.signalId))) {
      return 'EOrder:Insufficient funds';
    }
    return null;
  }

  submit(order: OrderIntent): void {
    const now = this.deps.clock.now();
    const refusal = this.check(order);
    if (refusal !== null) return this.out().onOrderEvent({ kind: 'rejected', order, reason: refusal, ts: now });
    this.working.push({ order, remaining: order.quantity, filled: ZERO, acceptedTs: now });
    this.out().onOrderEvent({ kind: 'accepted', order, ts: now });
  }

  cancel(clientOrderId: string, reason: string): void {
    const i = this.working.findIndex((w) => w.order.clientOrderId === clientOrderId);
    if (i < 0) return;
    const [w] = this.working.splice(i, 1);
    this.out().onOrderEvent({ kind: 'cancelled', order: w!.order, filledQty: w!.filled, reason, ts: this.deps.clock.now() });
  }

  onCandle(candle: Candle): void {
    let used = ZERO;
    const done: Working[] = [];
    for (const w of [...this.working]) {
      if (w.order.pair !== candle.pair || w.acceptedTs > candle.ts) continue;
      const meta = this.deps.meta(w.order.pair);
      const q = quoteFill(this.params, meta, { side: w.order.side, type: w.order.type, remaining: w.remaining, limitPrice: w.order.limitPrice }, candle, used);
      if (!q) continue;
      let quantity = q.quantity;
      let fee = q.fee;
      if (w.order.side === 'buy') {
        // never spend cash we do not have: shrink the fill to what the balance pays for, fees included
        const cash = this.deps.cash(meta.quote);
        if (quantity.mul(q.price).plus(fee).gt(cash)) {
          const rate = q.liquidity === 'maker' ? meta.makerFee : meta.takerFee;
          quantity = cash.div(q.price.mul(rate.plus(ONE))).toDecimalPlaces(meta.lotDecimals, Dec.ROUND_DOWN);
          fee = feeFor(meta, quantity.mul(q.price), q.liquidity);
          // the fee is rounded up: step down one lot unit at a time until quantity × price + fee fits
          const lot = new Dec(10).pow(-meta.lotDecimals);
          while (quantity.gt(ZERO) && quantity.mul(q.price).plus(fee).gt(cash)) {
            quantity = quantity.minus(lot);
            fee = feeFor(meta, quantity.mul(q.price), q.liquidity);
          }
          if (quantity.lte(ZERO)) {
            this.cancel(w.order.clientOrderId, 'EOrder:Insufficient funds');
            continue;
          }
        }
      }
      used = used.plus(quantity);
      w.remaining = w.remaining.minus(quantity);
      w.filled = w.filled.plus(quantity);
      this.fillSeq++;
      this.out().onFill({
        id: `PT${this.fillSeq}`,
        orderId: w.order.clientOrderId,
        signalId: w.order.signalId,
        pair: w.order.pair,
        side: w.order.side,
        quantity,
        price: q.price,
        fee,
        liquidity: q.liquidity,
        purpose: w.order.purpose,
        tsEvent: candle.ts,
        tsInit: this.deps.clock.now(),
      });
      if (w.remaining.lte(ZERO)) done.push(w);
    }
    for (const w of done) {
      const i = this.working.indexOf(w);
      if (i >= 0) this.working.splice(i, 1);
      this.out().onOrderEvent({ kind: 'filled', order: w.order, filledQty: w.filled, ts: this.deps.clock.now() });
    }
  }

  workingOrders(): readonly OrderIntent[] {
    return this.working.map((w) => w.order);
  }
}
