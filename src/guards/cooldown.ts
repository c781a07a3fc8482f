/** COOLDOWN — Freqtrade's CooldownPeriod: after a trade on the pair closes, stay out of the pair for the stop duration. */
import { isoTime } from '../domain/time.ts';
import { activeLock, everyTrade, onPair } from './protections.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface CooldownParams {
  readonly stopDuration: Duration;
  /** 'pair' (Freqtrade) or 'global' */
  readonly scope: 'pair' | 'global';
}

const atLeastOne = (w: readonly unknown[]): boolean => w.length >= 1;

export const cooldown: GuardDefinition<CooldownParams> = {
  code: 'COOLDOWN',
  describe: 'no new entry on a pair until the stop duration has passed since its last trade closed',
  create: (p) => (signal, s, now) => {
    const stop = durationMs(p.stopDuration, s.intervalMs);
    const lock = activeLock({
      trades: s.closedTrades,
      now,
      lookbackMs: stop,
      stopDurationMs: stop,
      inScope: p.scope === 'global' ? everyTrade : onPair(signal.pair),
      qualifies: everyTrade,
      triggers: atLeastOne,
    });
    if (!lock) return allow;
    const last = lock.window[lock.window.length - 1]!;
    return block('COOLDOWN', `${p.scope === 'pair' ? signal.pair : 'all pairs'} cooling down until ${isoTime(lock.until)} after trade ${last.signalId} closed at ${isoTime(last.exitTs)}`);
  },
};
