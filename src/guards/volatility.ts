/** VOLATILITY — stay out when ATR relative to price is outside [minAtrPct, maxAtrPct]. */
import { allow, block, type GuardDefinition } from './types.ts';

export interface VolatilityParams {
  readonly maxAtrPct: number | null;
  readonly minAtrPct: number | null;
}

export const volatility: GuardDefinition<VolatilityParams> = {
  code: 'VOLATILITY',
  describe: 'avoid markets that are too wild (or too dead)',
  create: (p) => (signal, s) => {
    const v = s.volatility;
    if (v === null) return allow; // indicator still warming up: nothing to judge by
    if (p.maxAtrPct !== null && v > p.maxAtrPct) return block('VOLATILITY', `${signal.pair} ATR ${(v * 100).toFixed(2)}% of price > max ${(p.maxAtrPct * 100).toFixed(2)}%`);
    if (p.minAtrPct !== null && v < p.minAtrPct) return block('VOLATILITY', `${signal.pair} ATR ${(v * 100).toFixed(2)}% of price < min ${(p.minAtrPct * 100).toFixed(2)}%`);
    return allow;
  },
};
