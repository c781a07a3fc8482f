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
    const index = s.recentIndex;
    if (index !== undefined) {
      // the same answer without the scan: the id seen at all, then the newest same-series signal in the window
      if (index.hasId(signal.id)) return block('DUPLICATE_SIGNAL', `signal id ${signal.id} was already received`);
      // 0 ≤ age < window: tsEvent − window < ts ≤ tsEvent
      const r = index.newestWithin(signal.strategy, signal.pair, signal.side, signal.tsEvent - windowMs, signal.tsEvent);
      return r === undefined ? allow : block('DUPLICATE_SIGNAL', `same ${signal.strategy} ${signal.side} ${signal.pair} as ${r.id} at ${isoTime(r.ts)}`);
    }
    const recent = s.recentSignals;
    // the whole recent list is scanned (it is bounded): an id repeat is a duplicate however old, and
    // signals may arrive out of time order (late webhooks), so the window is judged by time, not position
    for (let i = recent.length - 1; i >= 0; i--) {
      if (recent[i]!.id === signal.id) return block('DUPLICATE_SIGNAL', `signal id ${signal.id} was already received`);
    }
    for (let i = recent.length - 1; i >= 0; i--) {
      const r = recent[i]!;
      const age = signal.tsEvent - r.ts;
      if (age >= 0 && age < windowMs && r.strategy === signal.strategy && r.pair === signal.pair && r.side === signal.side) {
        return block('DUPLICATE_SIGNAL', `same ${signal.strategy} ${signal.side} ${signal.pair} as ${r.id} at ${isoTime(r.ts)}`);
      }
    }
    return allow;
  },
};
