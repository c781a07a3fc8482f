/**
 * LOW_PROFIT_PAIR — Freqtrade's LowProfitPairs: when the pair has at least `tradeLimit` closed trades in
 * the lookback and the sum of their profit ratios is below `requiredProfit`, lock the pair until the
 * last of them closed + stop duration. (Summing ratios is Freqtrade's rule; our reports never do.)
 */
import { isoTime } from '../domain/time.ts';
import { activeLock, everyTrade, onPair } from './protections.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface LowProfitPairParams {
  readonly lookback: Duration;
  readonly tradeLimit: number;
  readonly stopDuration: Duration;
  readonly requiredProfit: number;
}

export const lowProfitPair: GuardDefinition<LowProfitPairParams> = {
  code: 'LOW_PROFIT_PAIR',
  describe: 'lock a pair whose recent trades did not reach the required profit',
  create: (p) => (signal, s, now) => {
    let profit = 0;
    const lock = activeLock({
      trades: s.closedTrades,
      now,
      lookbackMs: durationMs(p.lookback, s.intervalMs),
      stopDurationMs: durationMs(p.stopDuration, s.intervalMs),
      inScope: onPair(signal.pair),
      qualifies: everyTrade,
      triggers: (w) => {
        if (w.length < p.tradeLimit) return false;
        profit = w.reduce((a, t) => a + t.pnlRatio, 0);
        return profit < p.requiredProfit;
      },
    });
    if (!lock) return allow;
    profit = lock.window.reduce((a, t) => a + t.pnlRatio, 0);
    return block('LOW_PROFIT_PAIR', `${signal.pair}: ${lock.window.length} trades summed ${(profit * 100).toFixed(2)}% < required ${(p.requiredProfit * 100).toFixed(2)}%; locked until ${isoTime(lock.until)}`);
  },
};
