/** Printing and timing helpers shared by the benchmark scripts (they print; they never fail on time). */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** nearest-rank percentile, p in 0..100 */
export function pct(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export const row = (name: string, value: string): void => console.log(`  ${name.padEnd(44)} ${value}`);

/**
 * One figure of the JSON summary. `usPerUnit` is its cost per unit (candle, signal, decision line…) in
 * µs, divided by the bare loop's µs per candle to give the ratio (null when not a cost, e.g. RSS).
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly usPerUnit: number | null;
  readonly per?: string;
}
