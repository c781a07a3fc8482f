/** EXPOSURE_LIMIT — open value plus the new order may not exceed a share of equity, in total and per pair. */
import { Dec, ZERO } from '../domain/money.ts';
import { allow, block, type GuardDefinition } from './types.ts';

export interface ExposureLimitParams {
  /** 0.6 = 60 % of equity */
  readonly maxTotalPct: number;
  readonly maxPairPct: number | null;
}

export const exposureLimit: GuardDefinition<ExposureLimitParams> = {
  code: 'EXPOSURE_LIMIT',
  describe: 'cap the capital at risk as a share of equity',
  create: (p) => {
    // the shares as decimals once per guard (multiplying by the number builds the same Dec on every call)
    const totalPct = new Dec(p.maxTotalPct);
    const pairPct = p.maxPairPct === null ? null : new Dec(p.maxPairPct);
    return (signal, s) => {
      let total = s.proposal.cost;
      let pair = s.proposal.cost;
      for (const o of s.openPositions) {
        total = total.plus(o.value);
        if (pairPct !== null && o.pair === signal.pair) pair = pair.plus(o.value);
      }
      if (s.equity.lte(ZERO)) return block('EXPOSURE_LIMIT', `equity ${s.equity.toFixed(2)} ≤ 0`);
      const cap = s.equity.mul(totalPct);
      if (total.gt(cap)) return block('EXPOSURE_LIMIT', `exposure ${total.toFixed(2)} would exceed ${(p.maxTotalPct * 100).toFixed(1)}% of equity (${cap.toFixed(2)})`);
      if (p.maxPairPct !== null && pairPct !== null) {
        const pairCap = s.equity.mul(pairPct);
        if (pair.gt(pairCap)) return block('EXPOSURE_LIMIT', `${signal.pair} exposure ${pair.toFixed(2)} would exceed ${(p.maxPairPct * 100).toFixed(1)}% of equity (${pairCap.toFixed(2)})`);
      }
      return allow;
    };
  },
};
