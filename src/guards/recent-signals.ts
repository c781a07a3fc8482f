/**
 * The signals the duplicate and cooldown guards look back over, bounded, oldest first, with the two
 * questions DUPLICATE_SIGNAL asks of them answered without a scan: was this id seen, and which earlier
 * signals share this strategy, pair and side (in arrival order). The owner (the kernel) adds each signal
 * after its verdict; the guard chain sees it as the snapshot's `recentSignals` and `recentIndex`.
 */
import type { Side } from '../domain/types.ts';
import type { RecentIndex, RecentSignal } from './types.ts';

const seriesKey = (strategy: string, pair: string, side: Side) => `${strategy}\u0000${pair}\u0000${side}`;
const NONE: readonly RecentSignal[] = [];

export class RecentSignals implements RecentIndex {
  private readonly list: RecentSignal[] = [];
  private readonly idCount = new Map<string, number>();
  private readonly bySeries = new Map<string, RecentSignal[]>();
  /** series whose times are not in arrival order (a late webhook): they are searched whole */
  private readonly unordered = new Set<string>();

  constructor(private readonly max: number) {}

  /** oldest first */
  get all(): readonly RecentSignal[] {
    return this.list;
  }

  hasId(id: string): boolean {
    return this.idCount.has(id);
  }

  /** the signals of this strategy, pair and side, oldest first */
  series(strategy: string, pair: string, side: Side): readonly RecentSignal[] {
    return this.bySeries.get(seriesKey(strategy, pair, side)) ?? NONE;
  }

  newestWithin(strategy: string, pair: string, side: Side, from: number, to: number): RecentSignal | undefined {
    const key = seriesKey(strategy, pair, side);
    const s = this.bySeries.get(key);
    if (s === undefined) return undefined;
    const ordered = !this.unordered.has(key);
    for (let i = s.length - 1; i >= 0; i--) {
      const r = s[i]!;
      if (r.ts > from && r.ts <= to) return r;
      if (ordered && r.ts <= from) return undefined; // in time order: every older one is older still
    }
    return undefined;
  }

  /** Add the newest signal; the oldest drops out beyond the bound. */
  push(r: RecentSignal, evict = true): void {
    this.list.push(r);
    this.idCount.set(r.id, (this.idCount.get(r.id) ?? 0) + 1);
    const key = seriesKey(r.strategy, r.pair, r.side);
    let s = this.bySeries.get(key);
    if (!s) this.bySeries.set(key, (s = []));
    if (s.length > 0 && r.ts < s[s.length - 1]!.ts) this.unordered.add(key);
    s.push(r);
    if (evict && this.list.length > this.max) this.dropOldest();
  }

  private dropOldest(): void {
    const old = this.list.shift()!;
    const n = this.idCount.get(old.id)!;
    if (n === 1) this.idCount.delete(old.id);
    else this.idCount.set(old.id, n - 1);
    const key = seriesKey(old.strategy, old.pair, old.side);
    const s = this.bySeries.get(key)!;
    s.shift(); // the oldest of all is the oldest of its series
    if (s.length === 0) {
      this.bySeries.delete(key);
      this.unordered.delete(key);
    }
  }
}
