/** MAX_OPEN_POSITIONS — at most `maxGlobal` positions open (entries still working count), and `maxPerPair` per pair. */
import { allow, block, type GuardDefinition } from './types.ts';

export interface MaxOpenPositionsParams {
  readonly maxGlobal: number;
  readonly maxPerPair: number;
}

export const maxOpenPositions: GuardDefinition<MaxOpenPositionsParams> = {
  code: 'MAX_OPEN_POSITIONS',
  describe: 'cap the number of open positions, globally and per pair',
  create: (p) => (signal, s) => {
    const total = s.openPositions.length;
    if (total >= p.maxGlobal) return block('MAX_OPEN_POSITIONS', `global: ${total} open ≥ max ${p.maxGlobal}`);
    let onPair = 0;
    for (const o of s.openPositions) if (o.pair === signal.pair) onPair++;
    if (onPair >= p.maxPerPair) return block('MAX_OPEN_POSITIONS', `${signal.pair}: ${onPair} open ≥ max ${p.maxPerPair} per pair`);
    return allow;
  },
};
