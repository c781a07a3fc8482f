import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_MAX_N, bootstrapMeanCI, maxDrawdown, mean, meanCI, mulberry32, normalQuantile, percentile, profitFactor, sharpe, sortino, stdev } from './stats.ts';

describe('statistics against known values', () => {
  it('mean and sample standard deviation of a hand-made series', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    // population sd is 2; the sample sd is √(32/7)
    expect(stdev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('percentiles interpolate between closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48, 12);
    expect(percentile([7], 99)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it('when the returns are 1%, −1%, 2%, 0% then Sharpe = mean/sd × √365 and Sortino uses the downside deviation', () => {
    const r = [0.01, -0.01, 0.02, 0];
    const m = 0.005;
    const sd = Math.sqrt((0.005 ** 2 + 0.015 ** 2 + 0.015 ** 2 + 0.005 ** 2) / 3);
    expect(sharpe(r)).toBeCloseTo((m / sd) * Math.sqrt(365), 10);
    const dd = Math.sqrt(0.0001 / 4);
    expect(sortino(r)).toBeCloseTo((m / dd) * Math.sqrt(365), 10);
    expect(sharpe([0.01, 0.01, 0.01])).toBeNull(); // zero variance: undefined, not infinite
    expect(sortino([0.01, 0.02])).toBeNull(); // no downside
  });

  it('max drawdown finds the deepest fall from a running peak', () => {
    const d = maxDrawdown([100, 120, 90, 130, 80, 140]);
    expect(d.amount).toBe(50);
    expect(d.fraction).toBeCloseTo(50 / 130, 12);
    expect([d.peakIndex, d.troughIndex]).toEqual([3, 4]);
    expect(maxDrawdown([1, 2, 3]).amount).toBe(0);
  });

  it('profit factor is gross profit over gross loss, undefined without losses', () => {
    expect(profitFactor([10, -5, 20, -10])).toBe(2);
    expect(profitFactor([1, 2])).toBeNull();
  });
});

describe('bootstrap confidence interval of the mean', () => {
  const xs = Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) - 40); // mean ≈ 10

  it('is reproducible with a fixed seed and changes with another seed', () => {
    const a = bootstrapMeanCI(xs, { seed: 7 });
    const b = bootstrapMeanCI(xs, { seed: 7 });
    expect(a).toEqual(b);
    expect(bootstrapMeanCI(xs, { seed: 8 })).not.toEqual(a);
  });

  it('brackets the sample mean and has about the normal-theory width', () => {
    const ci = bootstrapMeanCI(xs, { seed: 1, resamples: 4000 })!;
    const m = mean(xs);
    const se = stdev(xs) / Math.sqrt(xs.length);
    expect(ci.low).toBeLessThan(m);
    expect(ci.high).toBeGreaterThan(m);
    // percentile bootstrap ≈ mean ± 1.96 se for a symmetric sample; allow 10%
    expect((ci.high - ci.low) / (2 * 1.96 * se)).toBeGreaterThan(0.9);
    expect((ci.high - ci.low) / (2 * 1.96 * se)).toBeLessThan(1.1);
  });

  it('of a constant sample is that constant; fewer than two values give no interval', () => {
    expect(bootstrapMeanCI([3, 3, 3, 3])).toEqual({ low: 3, high: 3, method: 'bootstrap' });
    expect(bootstrapMeanCI([3])).toBeNull();
  });

  it('the PRNG is the published mulberry32 sequence', () => {
    const r = mulberry32(1);
    expect([r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478]);
  });
});

describe('confidence interval of the mean for very large samples', () => {
  it('the normal quantile matches the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829304, 8);
  });

  it('up to the bootstrap limit the interval is the seeded bootstrap; above it, mean ± 1.96 s/√n', () => {
    const small = Array.from({ length: 500 }, (_, i) => (i % 17) - 8);
    expect(meanCI(small, { seed: 3 })).toEqual(bootstrapMeanCI(small, { seed: 3 }));
    const big = Array.from({ length: BOOTSTRAP_MAX_N + 1 }, (_, i) => (i % 101) - 50);
    const ci = meanCI(big)!;
    const half = (normalQuantile(0.975) * stdev(big)) / Math.sqrt(big.length);
    expect(ci.method).toBe('normal');
    expect(ci.low).toBeCloseTo(mean(big) - half, 12);
    expect(ci.high).toBeCloseTo(mean(big) + half, 12);
  });
});
