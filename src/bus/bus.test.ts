import { describe, expect, it } from 'vitest';
import { SignalBus, type BusError, type BusSubscription } from './bus.ts';
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

  it('when a handler subscribes another during a delivery then the new one gets the next message, not that one', () => {
    const bus = new SignalBus(() => 0);
    const got: string[] = [];
    let added = false;
    bus.subscribe('exitAdvice', 'first', (m) => {
      got.push(`first ${m.ts}`);
      if (!added) {
        added = true;
        bus.subscribe('exitAdvice', 'late', (n) => got.push(`late ${n.ts}`));
      }
    });
    bus.publish('exitAdvice', advice(1));
    bus.publish('exitAdvice', advice(2));
    expect(got).toEqual(['first 1', 'first 2', 'late 2']);
  });

  it('when a subscriber is unsubscribed, even by an earlier handler of the same message, then it gets nothing more', () => {
    const bus = new SignalBus(() => 0);
    const got: string[] = [];
    let later: BusSubscription | null = null;
    bus.subscribe('exitAdvice', 'a', (m) => {
      got.push(`a ${m.ts}`);
      if (m.ts === 2) later?.unsubscribe();
    });
    later = bus.subscribe('exitAdvice', 'b', (m) => got.push(`b ${m.ts}`));
    bus.publish('exitAdvice', advice(1));
    bus.publish('exitAdvice', advice(2));
    bus.publish('exitAdvice', advice(3));
    expect(got).toEqual(['a 1', 'b 1', 'a 2', 'a 3']);
    expect(bus.hasSubscribers('exitAdvice')).toBe(true);
  });

  it('when a message is published inside a handler then it is delivered to everyone before the outer one goes on', () => {
    const bus = new SignalBus(() => 0);
    const order: string[] = [];
    bus.subscribe('candle', 'a', () => {
      order.push('a candle');
      bus.publish('exitAdvice', advice(1));
    });
    bus.subscribe('candle', 'b', () => order.push('b candle'));
    bus.subscribe('exitAdvice', 'c', () => order.push('c advice'));
    bus.publish('candle', { pair: 'BTC/USD', intervalMs: 1, ts: 0, open: 1, high: 1, low: 1, close: 1, volume: 1, trades: 1 });
    expect(order).toEqual(['a candle', 'c advice', 'b candle']);
  });

  it('when the bus is completed then nothing is delivered, to old or new subscribers', () => {
    const bus = new SignalBus(() => 0);
    const got: number[] = [];
    bus.subscribe('exitAdvice', 'a', (m) => got.push(m.ts));
    bus.publish('exitAdvice', advice(1));
    bus.complete();
    bus.subscribe('exitAdvice', 'b', (m) => got.push(m.ts));
    bus.publish('exitAdvice', advice(2));
    expect(got).toEqual([1]);
    expect(bus.hasSubscribers('exitAdvice')).toBe(false);
  });
});
