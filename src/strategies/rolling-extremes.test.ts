import { DonchianChannels } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { RollingExtremes } from './rolling-extremes.ts';

/** a deterministic pseudo-random walk with many repeated values (ties) and long monotone runs */
function series(n: number, seed: number): Array<{ high: number; low: number }> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Array<{ high: number; low: number }> = [];
  let mid = 100;
  for (let i = 0; i < n; i++) {
    const step = rnd() < 0.2 ? 0 : Math.round((rnd() - 0.5) * 8) / 4; // quarter steps: equal values recur
    mid = i % 500 < 100 ? mid + Math.abs(step) : i % 500 < 200 ? mid - Math.abs(step) : mid + step;
    const spread = Math.round(rnd() * 4) / 4;
    out.push({ high: mid + spread, low: mid - spread });
  }
  return out;
}

describe('RollingExtremes', () => {
  it('when candles are added then the bands equal trading-signals DonchianChannels over every window length', () => {
    for (const period of [1, 2, 3, 24, 48, 200]) {
      const ours = new RollingExtremes(period);
      const theirs = new DonchianChannels(period);
      for (const c of series(5_000, period)) {
        const a = ours.add(c.high, c.low);
        const b = theirs.add(c);
        expect(a === null ? null : { upper: a.upper, lower: a.lower }).toEqual(b === null ? null : { upper: b.upper, lower: b.lower });
      }
    }
  });

  it('when fewer candles than the period were added then there are no bands', () => {
    const r = new RollingExtremes(3);
    expect(r.add(2, 1)).toBeNull();
    expect(r.add(5, 0)).toBeNull();
    expect(r.add(3, 2)).toEqual({ upper: 5, lower: 0 });
    expect(r.add(4, 3)).toEqual({ upper: 5, lower: 0 });
    expect(r.add(1, 1)).toEqual({ upper: 4, lower: 1 });
  });

  it('when the period is not a positive integer then it is refused naming the period', () => {
    expect(() => new RollingExtremes(0)).toThrow(/period must be a positive integer, got 0/);
    expect(() => new RollingExtremes(2.5)).toThrow(/got 2.5/);
  });
});
