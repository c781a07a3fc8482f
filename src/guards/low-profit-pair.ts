/**
 * LOW_PROFIT_PAIR — Freqtrade's LowProfitPairs: when the pair has at least `tradeLimit` closed trades in
 * the lookback and the sum of their profit ratios is below `requiredProfit`, lock the pair until the
 * last of them closed + stop duration. (Summing ratios is Freqtrade's rule; our reports never do.)
 */
import { isoTime } from '../domain/time.ts';
import type { ClosedTrade } from '../domain/types.ts';
import { activeLock, everyTrade, onPair } from './protections.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface LowProfitPairParams {
  readonly lookback: Duration;
  readonly tradeLimit: number;
  readonly stopDuration: Duration;
  readonly requiredProfit: number;
}

/** the window's profit ratios summed, oldest first */
function summedProfit(w: readonly ClosedTrade[]): number {
  let profit = 0;
  for (const t of w) profit += t.pnlRatio;
  return profit;
}

export const lowProfitPair: GuardDefinition<LowProfitPairParams> = {
  code: 'LOW_PROFIT_PAIR',
  describe: 'lock a pair whose recent trades did not reach the required profit',
  create: (p) => {
    // built once per guard, not per evaluation (tsx names each closure it builds with a defineProperty)
    const triggers = (w: readonly ClosedTrade[]): boolean => w.length >= p.tradeLimit && summedProfit(w) < p.requiredProfit;
    return (signal, s, now) => {
      const lock = activeLock({
        trades: s.closedTrades,
        now,
        lookbackMs: durationMs(p.lookback, s.intervalMs),
        stopDurationMs: durationMs(p.stopDuration, s.intervalMs),
        inScope: onPair(signal.pair),
        qualifies: everyTrade,
        triggers,
      });
      if (!lock) return allow;
      const profit = summedProfit(lock.window);
      return block('LOW_PROFIT_PAIR', `${signal.pair}: ${lock.window.length} trades summed ${(profit * 100).toFixed(2)}% < required ${(p.requiredProfit * 100).toFixed(2)}%; locked until ${isoTime(lock.until)}`);
    };
  },
};
