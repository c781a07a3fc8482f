/** Donchian breakout: enter when the close breaks above the previous `entryPeriod` high, exit below the previous `exitPeriod` low. */
import type { ExitRules } from '../domain/exits.ts';
import type { Candle } from '../domain/types.ts';
import { RollingExtremes } from './rolling-extremes.ts';
import { clamp01, EXIT, NOTHING, type Strategy, type StrategyOutput } from './types.ts';

export interface DonchianParams {
  readonly entryPeriod: number;
  readonly exitPeriod: number;
}

export function donchianBreakout(name: string, p: DonchianParams, exitRules: ExitRules): Strategy {
  // the channels' bands as trading-signals' DonchianChannels gives them, without rescanning the window per candle
  const entry = new RollingExtremes(p.entryPeriod);
  const exit = new RollingExtremes(p.exitPeriod);
  let prevUpper: number | null = null;
  let prevLower: number | null = null;
  let prevClose: number | null = null;
  return {
    name,
    exitRules,
    onCandle(c: Candle): StrategyOutput {
      const upper = prevUpper;
      const lower = prevLower;
      const lastClose = prevClose;
      // bands of the candles *before* this one: a breakout is measured against the past only
      const e = entry.add(c.high, c.low);
      const x = exit.add(c.high, c.low);
      prevUpper = e ? e.upper : null;
      prevLower = x ? x.lower : null;
      prevClose = c.close;
      if (upper === null || lower === null || lastClose === null) return NOTHING;
      if (c.close > upper && lastClose <= upper) {
        const width = upper > 0 && e ? (e.upper - e.lower) / upper : 0;
        const confidence = clamp01(0.5 + (c.close - upper) / upper * 20 - width);
        return { entry: { confidence, reason: `close ${c.close} broke the ${p.entryPeriod}-candle high ${upper}` }, exit: false };
      }
      return c.close < lower ? EXIT : NOTHING;
    },
  };
}
