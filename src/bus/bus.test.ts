import { describe, expect, it } from 'vitest';
import { SignalBus, type BusError } from './bus.ts';
import type { ExitAdvice } from './bus.ts';

const advice = (n: number): ExitAdvice => ({ strategy: 's', pair: 'BTC/USD', ts: n });

describe('signal bus', () => {
  it('when a subscriber throws then the error is published and the other subscribers still get every message', () => {
    const bus = new SignalBus(() => 42);
    const got: number[] = [];
    const errors: BusError[] = [];
    bus.subscribe('error', 'errors', (e) => errors.push(e));
    bus.subscribe('exitAdvice', 'bad', (m) => {
      if (m.ts === 2) throw new Error('boom');
    });
    bus.subscribe('exitAdvice', 'good', (m) => got.push(m.ts));
    for (const n of [1, 2, 3]) bus.publish('exitAdvice', advice(n));
    expect(got).toEqual([1, 2, 3]);
    expect(errors).toEqual([{ topic: 'exitAdvice', subscriber: 'bad', error: 'boom', ts: 42 }]);
    expect(bus.errors).toBe(1);
  });

  it('when the throwing subscriber throws again later then its subscription is still alive', () => {
    const bus = new SignalBus(() => 0);
    let calls = 0;
    bus.subscribe('exitAdvice', 'flaky', () => {
      calls++;
      throw new Error('again');
    });
    bus.publish('exitAdvice', advice(1));
    bus.publish('exitAdvice', advice(2));
    expect(calls).toBe(2);
    expect(bus.errors).toBe(2);
  });

  it('when an error subscriber itself throws then the fallback sink gets it and nothing recurses', () => {
    const unhandled: BusError[] = [];
    const bus = new SignalBus(() => 0, (e) => unhandled.push(e));
    bus.subscribe('error', 'broken-logger', () => {
      throw new Error('disk full');
    });
    bus.subscribe('exitAdvice', 'bad', () => {
      throw new Error('boom');
    });
    bus.publish('exitAdvice', advice(1));
    expect(unhandled.map((e) => e.error)).toEqual(['disk full']);
  });

  it('when messages are published then subscribers receive them synchronously in subscription order', () => {
    const bus = new SignalBus(() => 0);
    const order: string[] = [];
    bus.subscribe('exitAdvice', 'a', () => order.push('a'));
    bus.subscribe('exitAdvice', 'b', () => order.push('b'));
    bus.publish('exitAdvice', advice(1));
    order.push('after');
    expect(order).toEqual(['a', 'b', 'after']);
  });
});
