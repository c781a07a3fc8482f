/**
 * Statistics for the reports. Floats are fine here (ARCHITECTURE rule 6: analytics may use floats);
 * the money totals the reports print are summed exactly elsewhere.
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same bootstrap, run after run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** numbers in a list or a typed array (the read model's columns); every function here reads them in index order */
export type Nums = ArrayLike<number>;

export function mean(xs: Nums): number {
  if (!xs.length) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Sample standard deviation (n − 1). */
export function stdev(xs: Nums): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(xs: Nums, p: number): number {
  if (!xs.length) return NaN;
  const r = (p / 100) * (xs.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  // the two closest ranks by selection (O(n)) rather than a sort: the same order statistics, so the same number
  const s = Float64Array.from(xs);
  const a = select(s, lo, 0, s.length - 1);
  const b = hi === lo ? a : minOf(s, hi, s.length);
  return a + (b - a) * (r - lo);
}

/** the k-th smallest of s[from..to] (Hoare's quickselect, median-of-three pivot); reorders s so that s[k] holds it and s[k+1..] only values ≥ it */
function select(s: Float64Array, k: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot value
    let x = s[lo]!, y = s[mid]!, z = s[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) y = z;
    const pivot = x > y ? x : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (s[i]! < pivot) i++;
      while (s[j]! > pivot) j--;
      if (i <= j) {
        const t = s[i]!;
        s[i] = s[j]!;
        s[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return s[k]!;
  }
  return s[k]!;
}
/** the smallest of s[from..to) */
function minOf(s: Float64Array, from: number, to: number): number {
  let m = s[from]!;
  for (let i = from + 1; i < to; i++) if (s[i]! < m) m = s[i]!;
  return m;
}

export interface Interval {
  readonly low: number;
  readonly high: number;
  /** percentile bootstrap, or the normal approximation for very large samples (see meanCI) */
  readonly method: 'bootstrap' | 'normal';
}

/** Above this many values the bootstrap (B × n draws) gives way to the normal approximation. */
export const BOOTSTRAP_MAX_N = 10_000;

/**
 * 95% (by default) confidence interval of the mean: the seeded percentile bootstrap up to
 * BOOTSTRAP_MAX_N values; above that, mean ± z·s/√n, which the bootstrap converges to at that size
 * and which costs O(n) instead of O(B·n).
 */
export function meanCI(xs: Nums, opts: { resamples?: number; level?: number; seed?: number } = {}): Interval | null {
  if (xs.length <= BOOTSTRAP_MAX_N) return bootstrapMeanCI(xs, opts);
  const level = opts.level ?? 0.95;
  const z = normalQuantile((1 + level) / 2);
  const m = mean(xs);
  const half = (z * stdev(xs)) / Math.sqrt(xs.length);
  return { low: m - half, high: m + half, method: 'normal' };
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lowP) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Percentile bootstrap confidence interval of the mean: `resamples` resamples with replacement,
 * interval = the (1−level)/2 and (1+level)/2 percentiles of the resampled means. Seeded: reproducible.
 */
export function bootstrapMeanCI(xs: Nums, opts: { resamples?: number; level?: number; seed?: number } = {}): Interval | null {
  const n = xs.length;
  if (n < 2) return null;
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  // mulberry32 inlined over a typed copy: this loop runs B × n times
  const v = Float64Array.from(xs);
  let a = (opts.seed ?? 42) >>> 0;
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      s += v[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)]!;
    }
    means[b] = s / n;
  }
  means.sort();
  const at = (q: number) => {
    const r = q * (B - 1);
    const lo = Math.floor(r);
    return means[lo]! + (means[Math.ceil(r)]! - means[lo]!) * (r - lo);
  };
  return { low: at((1 - level) / 2), high: at((1 + level) / 2), method: 'bootstrap' };
}

/** Annualised Sharpe ratio of periodic returns (risk-free 0): mean / sample stdev × √periodsPerYear. */
export function sharpe(returns: Nums, periodsPerYear = 365): number | null {
  const sd = stdev(returns);
  if (!(sd > 0)) return null;
  return (mean(returns) / sd) * Math.sqrt(periodsPerYear);
}

/**
 * Annualised Sortino ratio (target 0): mean / downside deviation × √periodsPerYear, where the downside
 * deviation is √(Σ min(r, 0)² / n) over all n periods.
 */
export function sortino(returns: Nums, periodsPerYear = 365): number | null {
  if (returns.length < 2) return null;
  let s = 0;
  for (let i = 0; i < returns.length; i++) if (returns[i]! < 0) s += returns[i]! * returns[i]!;
  const dd = Math.sqrt(s / returns.length);
  if (!(dd > 0)) return null;
  return (mean(returns) / dd) * Math.sqrt(periodsPerYear);
}

export interface Drawdown {
  /** largest peak-to-trough fall, in the curve's units (≥ 0) */
  readonly amount: number;
  /** the same fall relative to the peak (0..1); null when the peak is not positive */
  readonly fraction: number | null;
  readonly peakIndex: number;
  readonly troughIndex: number;
}

/** Maximum drawdown of an equity curve. */
export function maxDrawdown(curve: Nums): Drawdown {
  let best: Drawdown = { amount: 0, fraction: curve.length ? 0 : null, peakIndex: 0, troughIndex: 0 };
  let peak = -Infinity;
  let peakIndex = 0;
  for (let i = 0; i < curve.length; i++) {
    const v = curve[i]!;
    if (v > peak) {
      peak = v;
      peakIndex = i;
    }
    const dd = peak - v;
    if (dd > best.amount) best = { amount: dd, fraction: peak > 0 ? dd / peak : null, peakIndex, troughIndex: i };
  }
  return best;
}

/** Gross profit / gross loss; null with no losing trade (undefined, not infinite). */
export function profitFactor(pnls: Nums): number | null {
  let win = 0;
  let loss = 0;
  for (let i = 0; i < pnls.length; i++) {
    const p = pnls[i]!;
    if (p > 0) win += p;
    else loss -= p;
  }
  return loss > 0 ? win / loss : null;
}
