/**
 * The highest high and lowest low of the last `period` candles (a Donchian channel's upper and lower bands),
 * kept in two monotonic queues: O(1) amortised per candle instead of rescanning the window (what
 * trading-signals' DonchianChannels does, 48 + 24 comparisons per candle in the default config). The bands
 * are the same numbers (a maximum and a minimum are exact); `null` until `period` candles were added.
 */
class MonotonicQueue {
  private readonly idx: number[] = [];
  private readonly val: number[] = [];
  private head = 0;

  /** `keepsAbove(a, b)`: an older value `a` can still be the extreme once `b` arrived */
  constructor(private readonly keepsAbove: (older: number, newer: number) => boolean) {}

  push(i: number, v: number, period: number): number {
    const { idx, val } = this;
    while (val.length > this.head && !this.keepsAbove(val[val.length - 1]!, v)) {
      val.pop();
      idx.pop();
    }
    idx.push(i);
    val.push(v);
    while (idx[this.head]! <= i - period) this.head++;
    if (this.head > 1024 && this.head * 2 > idx.length) {
      idx.splice(0, this.head);
      val.splice(0, this.head);
      this.head = 0;
    }
    return val[this.head]!;
  }
}

const olderStaysMax = (older: number, newer: number): boolean => older > newer;
const olderStaysMin = (older: number, newer: number): boolean => older < newer;

export interface Extremes {
  readonly upper: number;
  readonly lower: number;
}

export class RollingExtremes {
  private n = 0;
  private readonly highs = new MonotonicQueue(olderStaysMax);
  private readonly lows = new MonotonicQueue(olderStaysMin);

  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError(`period must be a positive integer, got ${period}`);
  }

  /** Adds a candle; the bands over the last `period` candles (this one included), or null before there are that many. */
  add(high: number, low: number): Extremes | null {
    const i = this.n++;
    const upper = this.highs.push(i, high, this.period);
    const lower = this.lows.push(i, low, this.period);
    return this.n >= this.period ? { upper, lower } : null;
  }
}
