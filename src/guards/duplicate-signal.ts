/** DUPLICATE_SIGNAL — the same signal id again, or the same strategy/pair/side within the window. */
import { isoTime } from '../domain/time.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface DuplicateSignalParams {
  readonly window: Duration;
}

export const duplicateSignal: GuardDefinition<DuplicateSignalParams> = {
  code: 'DUPLICATE_SIGNAL',
  describe: 'drop a repeat of a signal already seen within the window',
  create: (p) => (signal, s) => {
    const windowMs = durationMs(p.window, s.intervalMs);
    const recent = s.recentSignals;
    for (let i = recent.length - 1; i >= 0; i--) {
      const r = recent[i]!;
      if (r.id === signal.id) return block('DUPLICATE_SIGNAL', `signal id ${signal.id} was already received`);
      if (signal.tsEvent - r.ts >= windowMs) break;
      if (r.strategy === signal.strategy && r.pair === signal.pair && r.side === signal.side && r.ts <= signal.tsEvent) {
        return block('DUPLICATE_SIGNAL', `same ${signal.strategy} ${signal.side} ${signal.pair} as ${r.id} at ${isoTime(r.ts)}`);
      }
    }
    return allow;
  },
};
