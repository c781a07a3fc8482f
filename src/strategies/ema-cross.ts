/** EMA cross: enter when the fast EMA crosses above the slow one, exit when it crosses back below. */
import { EMA } from 'trading-signals';
import type { ExitRules } from '../domain/exits.ts';
import type { Candle } from '../domain/types.ts';
import { clamp01, EXIT, NOTHING, type Strategy, type StrategyOutput } from './types.ts';

export interface EmaCrossParams {
  readonly fast: number;
  readonly slow: number;
}

export function emaCross(name: string, p: EmaCrossParams, exitRules: ExitRules): Strategy {
  if (p.fast >= p.slow) throw new Error(`${name}: fast (${p.fast}) must be shorter than slow (${p.slow})`);
  const fast = new EMA(p.fast);
  const slow = new EMA(p.slow);
  let prevDiff: number | null = null;
  return {
    name,
    exitRules,
    onCandle(c: Candle): StrategyOutput {
      const f = fast.add(c.close);
      const s = slow.add(c.close);
      if (!slow.isStable || f === null || s === null) return NOTHING;
      const diff = f - s;
      const prev = prevDiff;
      prevDiff = diff;
      if (prev === null) return NOTHING;
      if (prev <= 0 && diff > 0) {
        // confidence grows with the separation the cross achieved, relative to price
        const confidence = clamp01(0.4 + (diff / s) * 100);
        return { entry: { confidence, reason: `EMA${p.fast} crossed above EMA${p.slow}` }, exit: false };
      }
      return prev >= 0 && diff < 0 ? EXIT : NOTHING;
    },
  };
}
