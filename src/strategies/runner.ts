/**
 * Runs the configured strategies over each closed candle and publishes what they say:
 * entries as `signal`, exits as `exitAdvice`. Signal ids are deterministic (strategy, pair, time).
 */
import type { SignalBus } from '../bus/bus.ts';
import { signalId } from '../domain/ids.ts';
import type { Candle, Signal } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Strategy } from './types.ts';

export class StrategyRunner {
  private readonly byPair = new Map<string, Strategy[]>();

  constructor(private readonly bus: SignalBus, private readonly clock: Clock, private readonly factory: (pair: string) => Strategy[]) {}

  strategiesFor(pair: string): Strategy[] {
    let list = this.byPair.get(pair);
    if (!list) {
      list = this.factory(pair);
      this.byPair.set(pair, list);
    }
    return list;
  }

  /** History before a live start: the strategies' indicators see it, nothing is published. */
  warmUp(c: Candle): void {
    for (const s of this.strategiesFor(c.pair)) s.onCandle(c);
  }

  onCandle(c: Candle): void {
    const now = this.clock.now();
    for (const s of this.strategiesFor(c.pair)) {
      const out = s.onCandle(c);
      if (out.exit) this.bus.publish('exitAdvice', { strategy: s.name, pair: c.pair, ts: now });
      if (out.entry) {
        const signal: Signal = {
          id: signalId(s.name, c.pair, now),
          strategy: s.name,
          pair: c.pair,
          side: 'buy',
          confidence: out.entry.confidence,
          price: c.close,
          reason: out.entry.reason,
          source: 'strategy',
          tsEvent: now,
          tsInit: now,
        };
        this.bus.publish('signal', signal);
      }
    }
  }
}
