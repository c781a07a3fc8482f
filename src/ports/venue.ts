import type { Candle, Fill, OrderEvent, OrderIntent } from '../domain/types.ts';

/** What a venue reports back: order events and fills. Paper reports synchronously, live asynchronously. */
export interface VenueSink {
  onOrderEvent(event: OrderEvent): void;
  onFill(fill: Fill): void;
}

export interface Venue {
  readonly name: string;
  /** Send an order. The outcome arrives through the sink (accepted/rejected, then fills). */
  submit(order: OrderIntent): void;
  /** Cancel the unfilled remainder of an order. */
  cancel(clientOrderId: string, reason: string): void;
  /** Offline venues match working orders against each new candle; live venues ignore it. */
  onCandle(candle: Candle): void;
}
