/**
 * Freqtrade's protection semantics, shared by COOLDOWN, STOPLOSS_GUARD, MAX_DRAWDOWN and LOW_PROFIT_PAIR.
 *
 * Freqtrade evaluates a protection each time a trade closes (time e), over the closed trades of the
 * lookback window [e − lookback, e]; when it triggers, it locks until the close of the last qualifying
 * trade + stop duration. A pure guard cannot remember locks, so it recomputes them: for every trade close e
 * in scope that could still hold a lock (e > now − stop duration), it evaluates the window ending at e.
 * The result is the lock Freqtrade would hold at `now`, without any stored state.
 */
import type { ClosedTrade } from '../domain/types.ts';

export interface LockQuery {
  readonly trades: readonly ClosedTrade[];
  readonly now: number;
  readonly lookbackMs: number;
  readonly stopDurationMs: number;
  /** trades in scope (pair for per-pair protections, all for global) */
  readonly inScope: (t: ClosedTrade) => boolean;
  /** trades that count towards the trigger (e.g. stop-loss exits) */
  readonly qualifies: (t: ClosedTrade) => boolean;
  /** given the qualifying trades of a window, oldest first, does the protection trigger? */
  readonly triggers: (window: readonly ClosedTrade[], windowStart: number) => boolean;
}

export interface Lock {
  readonly until: number;
  readonly evaluatedAt: number;
  readonly window: readonly ClosedTrade[];
}

export function activeLock(q: LockQuery): Lock | null {
  const { trades, now } = q;
  let best: Lock | null = null;
  // candidate evaluation times: closes of in-scope trades, newest first, while they can still lock
  for (let i = trades.length - 1; i >= 0; i--) {
    const e = trades[i]!;
    if (e.exitTs > now) continue;
    if (e.exitTs <= now - q.stopDurationMs) break; // trades are in close order: older ones cannot lock now
    if (!q.inScope(e)) continue;
    const start = e.exitTs - q.lookbackMs;
    const window: ClosedTrade[] = [];
    for (let j = i; j >= 0; j--) {
      const t = trades[j]!;
      if (t.exitTs < start) break;
      if (t.exitTs <= e.exitTs && q.inScope(t) && q.qualifies(t)) window.push(t);
    }
    window.reverse();
    if (window.length === 0 || !q.triggers(window, start)) continue;
    const until = window[window.length - 1]!.exitTs + q.stopDurationMs;
    if (now < until && (best === null || until > best.until)) best = { until, evaluatedAt: e.exitTs, window };
  }
  return best;
}

/** Every trade (scope and qualification of the protections that take all). */
export const everyTrade = (_t: ClosedTrade): boolean => true;
/** The trades of one pair. (Built per call without a named closure: the per-signal cost stays a plain function.) */
export function onPair(pair: string): (t: ClosedTrade) => boolean {
  return (t) => t.pair === pair;
}
