/** RSI mean reversion: enter when RSI climbs back above `oversold`, exit when it reaches `overbought`. */
import { RSI } from 'trading-signals';
import type { ExitRules } from '../domain/exits.ts';
import type { Candle } from '../domain/types.ts';
import { clamp01, EXIT, NOTHING, type Strategy, type StrategyOutput } from './types.ts';

export interface RsiReversionParams {
  readonly period: number;
  readonly oversold: number;
  readonly overbought: number;
}

export function rsiReversion(name: string, p: RsiReversionParams, exitRules: ExitRules): Strategy {
  if (p.oversold >= p.overbought) throw new Error(`${name}: oversold (${p.oversold}) must be below overbought (${p.overbought})`);
  const rsi = new RSI(p.period);
  let prev: number | null = null;
  let trough = 100;
  return {
    name,
    exitRules,
    onCandle(c: Candle): StrategyOutput {
      const r = rsi.add(c.close);
      if (r === null || !rsi.isStable) return NOTHING;
      const before = prev;
      prev = r;
      if (r < p.oversold) trough = Math.min(trough, r);
      if (before === null) return NOTHING;
      if (before < p.oversold && r >= p.oversold) {
        // the deeper the dip we are bouncing from, the more confident
        const confidence = clamp01(0.45 + (p.oversold - trough) / p.oversold);
        const reason = `RSI${p.period} back above ${p.oversold} from ${trough.toFixed(1)}`;
        trough = 100;
        return { entry: { confidence, reason }, exit: false };
      }
      return r >= p.overbought ? EXIT : NOTHING;
    },
  };
}
