/**
 * A pair's candles in columnar typed arrays: what every replay, the simulator and the shadow engine read.
 * Pure data (the CSV adapter builds it from Kraken's OHLCVT files); it is a MarketDataFeed (src/ports/feed.ts)
 * by shape.
 */
import { Dec } from './money.ts';
import type { Candle, CandleDecimalField } from './types.ts';

export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

/** Exact decimal strings of one row's decimal columns whose float is not that decimal exactly. */
export type ExactDecimals = Readonly<Partial<Record<CandleDecimalField, string>>>;

/**
 * Candles in columnar typed arrays: ~56 bytes a candle, so multi-million-row files fit. The rare values a
 * float cannot hold exactly are kept as decimal strings in `exact`, keyed by row index.
 */
export class CandleSeries {
  constructor(
    readonly pair: string,
    readonly intervalMs: number,
    readonly ts: Float64Array,
    readonly open: Float64Array,
    readonly high: Float64Array,
    readonly low: Float64Array,
    readonly close: Float64Array,
    readonly volume: Float64Array,
    readonly trades: Float64Array,
    readonly badRows: readonly BadRow[],
    readonly source: string,
    /** row index → exact decimals of the columns whose float above is not the printed decimal */
    readonly exact: ReadonlyMap<number, ExactDecimals> = new Map(),
  ) {}

  get length(): number {
    return this.ts.length;
  }

  at(i: number): Candle {
    const c: Candle = {
      pair: this.pair, intervalMs: this.intervalMs, ts: this.ts[i]!, open: this.open[i]!, high: this.high[i]!,
      low: this.low[i]!, close: this.close[i]!, volume: this.volume[i]!, trades: this.trades[i]!,
    };
    const exact = this.exact.get(i);
    return exact === undefined ? c : { ...c, exact };
  }

  /** The exact decimal (plain notation) of row `i`'s `field`, as the file printed it. */
  decimal(field: CandleDecimalField, i: number): string {
    return this.exact.get(i)?.[field] ?? new Dec(this[field][i]!).toFixed();
  }

  *candles(): Iterable<Candle> {
    for (let i = 0; i < this.ts.length; i++) yield this.at(i);
  }
}

