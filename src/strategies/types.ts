import type { ExitRules } from '../domain/exits.ts';
import type { Candle } from '../domain/types.ts';

export interface StrategyOutput {
  /** open a long position, with a confidence in [0, 1] and a human reason */
  readonly entry: { readonly confidence: number; readonly reason: string } | null;
  /** the strategy's own exit advice for positions it holds on this pair */
  readonly exit: boolean;
}

/** A signal generator for one pair. Stateful over candles (indicators), deterministic. */
export interface Strategy {
  readonly name: string;
  readonly exitRules: ExitRules;
  onCandle(candle: Candle): StrategyOutput;
}

export const NOTHING: StrategyOutput = { entry: null, exit: false };
/** exit advice and no entry (one object: an overbought stretch advises it on every candle) */
export const EXIT: StrategyOutput = { entry: null, exit: true };

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
