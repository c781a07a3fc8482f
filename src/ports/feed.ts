import type { Candle } from '../domain/types.ts';

/** A source of candles for one pair, in time order. */
export interface MarketDataFeed {
  readonly pair: string;
  readonly intervalMs: number;
  /** number of candles, when known in advance (replay) */
  readonly length: number | null;
  candles(): Iterable<Candle>;
}
