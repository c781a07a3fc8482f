/**
 * STOPLOSS_GUARD — Freqtrade's StoplossGuard: when `tradeLimit` trades left through a stop
 * (stop_loss or trailing_stop) with a profit ratio below `requiredProfit` inside the lookback,
 * stop trading (globally, or for the pair with onlyPerPair) until the last such close + stop duration.
 */
import { isoTime } from '../domain/time.ts';
import type { ClosedTrade } from '../domain/types.ts';
import { activeLock, everyTrade, onPair } from './protections.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface StoplossGuardParams {
  readonly lookback: Duration;
  readonly tradeLimit: number;
  readonly stopDuration: Duration;
  readonly onlyPerPair: boolean;
  /** a stop exit counts when its profit ratio is below this (Freqtrade's required_profit, default 0) */
  readonly requiredProfit: number;
}

export const stoplossGuard: GuardDefinition<StoplossGuardParams> = {
  code: 'STOPLOSS_GUARD',
  describe: 'pause after too many stop-loss exits within the lookback',
  create: (p) => {
    const qualifies = (t: ClosedTrade): boolean => (t.exitReason === 'stop_loss' || t.exitReason === 'trailing_stop') && t.pnlRatio < p.requiredProfit;
    const triggers = (w: readonly ClosedTrade[]): boolean => w.length >= p.tradeLimit;
    return (signal, s, now) => {
      const lock = activeLock({
        trades: s.closedTrades,
        now,
        lookbackMs: durationMs(p.lookback, s.intervalMs),
        stopDurationMs: durationMs(p.stopDuration, s.intervalMs),
        inScope: p.onlyPerPair ? onPair(signal.pair) : everyTrade,
        qualifies,
        triggers,
      });
      if (!lock) return allow;
      return block('STOPLOSS_GUARD', `${lock.window.length} stop-loss exits within lookback (limit ${p.tradeLimit}${p.onlyPerPair ? ', ' + signal.pair : ''}); locked until ${isoTime(lock.until)}`);
    };
  },
};
