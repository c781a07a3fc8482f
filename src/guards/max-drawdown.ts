/**
 * MAX_DRAWDOWN — Freqtrade's MaxDrawdown: with at least `tradeLimit` closed trades inside the lookback,
 * compute the relative drawdown of the closed-trade balance over that window (balance at window start
 * = starting balance + PnL of every trade closed before the window); above `maxAllowedDrawdown`, stop all
 * trading until the last trade's close + stop duration.
 */
import { isoTime } from '../domain/time.ts';
import type { ClosedTrade } from '../domain/types.ts';
import { activeLock, everyTrade } from './protections.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition, type GuardSnapshot } from './types.ts';

export interface MaxDrawdownParams {
  readonly lookback: Duration;
  readonly tradeLimit: number;
  readonly stopDuration: Duration;
  /** 0.2 = 20 % */
  readonly maxAllowedDrawdown: number;
}

/** Largest peak-to-trough fall of `start + cumulative pnl`, relative to the peak. Exported for tests. */
export function relativeDrawdown(startBalance: number, pnls: readonly number[]): number {
  let balance = startBalance;
  let peak = startBalance;
  let worst = 0;
  for (const p of pnls) {
    balance += p;
    if (balance > peak) peak = balance;
    if (peak > 0) worst = Math.max(worst, (peak - balance) / peak);
  }
  return worst;
}

/**
 * The drawdown of a window's trades from the balance before the window: start + everything realized − what
 * was realized since the window began (walks back over the window only, not the whole history). A module
 * function, not a closure per evaluation (tsx names each closure with a defineProperty).
 */
function windowDrawdown(s: GuardSnapshot, w: readonly ClosedTrade[], windowStart: number): number {
  const trades = s.closedTrades;
  let before = s.realizedPnl;
  for (let i = trades.length - 1; i >= 0 && trades[i]!.exitTs >= windowStart; i--) before = before.minus(trades[i]!.pnl);
  return relativeDrawdown(s.startingBalance.plus(before).toNumber(), w.map(pnlNumber));
}

/** a closed trade's pnl as a double, converted once per trade (a trade is immutable; windows overlap) */
const pnlNumbers = new WeakMap<ClosedTrade, number>();
function pnlNumber(t: ClosedTrade): number {
  let n = pnlNumbers.get(t);
  if (n === undefined) pnlNumbers.set(t, (n = t.pnl.toNumber()));
  return n;
}

export const maxDrawdown: GuardDefinition<MaxDrawdownParams> = {
  code: 'MAX_DRAWDOWN',
  describe: 'pause all trading when closed-trade drawdown within the lookback is too deep',
  create: (p) => {
    // the lock query's trigger is built once per guard, not per evaluation (tsx names each closure it builds
    // with a defineProperty): it reads the snapshot of the evaluation under way, set just before the query
    let current: GuardSnapshot | null = null;
    const triggers = (w: readonly ClosedTrade[], start: number): boolean => w.length >= p.tradeLimit && windowDrawdown(current!, w, start) > p.maxAllowedDrawdown;
    return (_signal, s, now) => {
      current = s;
      const lookbackMs = durationMs(p.lookback, s.intervalMs);
      const lock = activeLock({ trades: s.closedTrades, now, lookbackMs, stopDurationMs: durationMs(p.stopDuration, s.intervalMs), inScope: everyTrade, qualifies: everyTrade, triggers });
      current = null;
      if (!lock) return allow;
      const dd = windowDrawdown(s, lock.window, lock.evaluatedAt - lookbackMs);
      return block('MAX_DRAWDOWN', `drawdown ${(dd * 100).toFixed(2)}% over ${lock.window.length} trades > ${(p.maxAllowedDrawdown * 100).toFixed(2)}%; locked until ${isoTime(lock.until)}`);
    };
  },
};
