/**
 * Memory figures for the benchmarks (issue 13: "RSS flat"), measured the same way in-process (the replay)
 * and in a child process (the paced sim run, through scripts/memory-probe.mjs).
 *
 * RSS alone does not tell retained memory from heap headroom: V8 grows its heap ahead of need and collects
 * lazily, so a replay's RSS climbs for a while whatever it keeps. Each sample here is therefore taken after a
 * full, forced GC: `heapUsed` is then what the process really keeps alive, and RSS is what it holds after
 * giving back what it can. Samples are taken at the start (after a warm-up, once indicators, caches and the JIT
 * have settled), the middle and the end.
 *
 * The criterion for "flat" (FLAT_TOLERANCE): from the middle to the end of the run, heapUsed after GC grows by
 * at most 2 % or 1 MiB, whichever is more, and so does RSS after GC. The first half is reported, not judged: it
 * includes the bounded caches (the report sidecar's value tables, the recent-signal look-back) filling up to
 * their caps. Memory that grows with the run's history by design (the ledger's closed trades, about 1 KiB a
 * trade) is inside the tolerance for the bundled data; it is counted and printed beside the samples.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemorySample {
  /** where the sample was taken, e.g. "5000 candles" */
  readonly at: string;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

const MIB = 2 ** 20;

let gcFn: (() => void) | null = null;
/** A full GC, available without `node --expose-gc` (the flag is set at run time, the function taken from a fresh context). */
export function fullGc(): void {
  if (gcFn === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  // twice: the first pass may leave objects whose finalizers or weak callbacks free more on the second
  gcFn();
  gcFn();
}

/** RSS and heapUsed of this process right after a full GC. */
export function sampleAfterGc(at: string): MemorySample {
  fullGc();
  const m = process.memoryUsage();
  return { at, rssMiB: m.rss / MIB, heapUsedMiB: m.heapUsed / MIB };
}

/** flat: from the middle to the end, growth within max(2 %, 1 MiB), of heapUsed and of RSS (both after GC) */
export const FLAT_TOLERANCE = { share: 0.02, mib: 1 } as const;

export interface FlatVerdict {
  readonly flat: boolean;
  readonly heapGrowthMiB: number;
  readonly rssGrowthMiB: number;
  readonly text: string;
}

const within = (from: number, to: number): boolean => to - from <= Math.max(FLAT_TOLERANCE.mib, from * FLAT_TOLERANCE.share);

/** Judge start/middle/end samples (at least two: the last two are compared) by FLAT_TOLERANCE. */
export function flatVerdict(samples: readonly MemorySample[]): FlatVerdict {
  if (samples.length < 2) return { flat: false, heapGrowthMiB: NaN, rssGrowthMiB: NaN, text: 'not enough samples' };
  const mid = samples[samples.length - 2]!;
  const end = samples[samples.length - 1]!;
  const heapGrowthMiB = end.heapUsedMiB - mid.heapUsedMiB;
  const rssGrowthMiB = end.rssMiB - mid.rssMiB;
  const flat = within(mid.heapUsedMiB, end.heapUsedMiB) && within(mid.rssMiB, end.rssMiB);
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  return {
    flat, heapGrowthMiB, rssGrowthMiB,
    text: `${flat ? 'flat' : 'NOT flat'}: middle → end heap ${sign(heapGrowthMiB)} MiB, RSS ${sign(rssGrowthMiB)} MiB (flat: each within max(${FLAT_TOLERANCE.share * 100} %, ${FLAT_TOLERANCE.mib} MiB))`,
  };
}

/** "at: RSS r / heap h" for each sample */
export const formatSamples = (samples: readonly MemorySample[]): string =>
  samples.map((s) => `${s.at}: ${s.rssMiB.toFixed(1)} / ${s.heapUsedMiB.toFixed(1)}`).join(', ');
