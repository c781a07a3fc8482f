import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { SignalBus, type BusWarning, type HealthEvent } from '../bus/bus.ts';
import type { Candle } from '../domain/types.ts';
import { PipelineMonitor, type LifecycleView, type MonitorPolicy } from './pipeline-monitor.ts';

const H = 3_600_000;
const candle = { pair: 'BTC/USD', intervalMs: H, ts: 0, open: 1, high: 1, low: 1, close: 1, volume: 1, trades: 1 } as Candle;

function setup(policy: Partial<MonitorPolicy> = {}) {
  const clock = new ManualClock(0);
  const bus = new SignalBus(() => clock.now());
  const states = new Map<string, string>();
  const entered = new Map<string, number>();
  const expired: string[] = [];
  const asked: string[] = [];
  const view: LifecycleView = {
    inFlight: () => new Map(states), // as the registry gives it: a map that does not change once given
    enteredAt: (id) => entered.get(id),
    expire: (id) => {
      asked.push(id);
      if (states.get(id) !== 'approved') return false; // only pre-order signals can be expired
      states.delete(id);
      expired.push(id);
      return true;
    },
  };
  const monitor = new PipelineMonitor(bus, clock, view, { checkEveryMs: H, stuckAfterMs: 2 * H, action: 'expire', ...policy });
  const warnings: BusWarning[] = [];
  const health: HealthEvent[] = [];
  bus.subscribe('warning', 't', (w) => warnings.push(w));
  bus.subscribe('health', 't', (h) => health.push(h));
  const put = (id: string, state: string, since: number) => {
    states.set(id, state);
    entered.set(id, since);
  };
  const step = (t: number) => {
    clock.set(t);
    bus.publish('candleDone', candle);
  };
  return { monitor, bus, clock, put, step, warnings, health, expired, asked, states };
}

describe('pipeline monitor', () => {
  it('when a signal sits in one state longer than the threshold then it is warned about once, with its state and age', () => {
    const m = setup({ action: 'warn' });
    m.put('s1', 'submitted', 0);
    m.step(H);
    expect(m.warnings).toHaveLength(0);
    m.step(3 * H);
    m.step(4 * H);
    expect(m.warnings).toHaveLength(1);
    expect(m.warnings[0]).toMatchObject({ code: 'STUCK_SIGNAL', signalId: 's1' });
    expect(m.warnings[0]!.message).toContain('stuck in submitted for 180 min');
    expect(m.health.at(-1)).toMatchObject({ stuck: 1, inFlightByState: { submitted: 1 } });
  });

  it('when the policy says expire then a stuck signal without an order is expired and one with an order is only warned about', () => {
    const m = setup();
    m.put('pre', 'approved', 0);
    m.put('sent', 'submitted', 0);
    m.step(3 * H);
    expect(m.expired).toEqual(['pre']);
    expect(m.monitor.expired).toBe(1);
    expect(m.warnings.map((w) => [w.signalId, w.message.endsWith('expired')])).toEqual([
      ['pre', true],
      ['sent', false],
    ]);
  });

  it('when a stuck signal cannot be expired then the owner is asked once in that state, not on every check, and it stays counted as stuck', () => {
    const m = setup();
    m.put('sent', 'submitted', 0);
    for (const t of [3, 4, 5, 6]) m.step(t * H);
    expect(m.asked).toEqual(['sent']);
    expect(m.warnings).toHaveLength(1);
    expect(m.health.map((h) => h.stuck)).toEqual([1, 1, 1, 1]);
    m.put('sent', 'exiting', 6 * H);
    m.step(9 * H);
    expect(m.asked).toEqual(['sent', 'sent']);
  });

  it('an open position is never stuck, however long it is held', () => {
    const m = setup();
    m.put('p', 'open', 0);
    m.step(100 * H);
    expect(m.warnings).toHaveLength(0);
    expect(m.health.at(-1)!.stuck).toBe(0);
  });

  it('checks run once per period of clock time and publish health with the last hour’s signal count and errors', () => {
    const m = setup();
    m.step(0);
    m.step(H / 2); // within the period: no check
    expect(m.health).toHaveLength(1);
    for (const t of [H, H + 10, 2 * H - 5]) m.bus.publish('signal', { id: `x${t}`, strategy: 's', pair: 'BTC/USD', side: 'buy', confidence: 1, price: 1, reason: '', source: 'strategy', tsEvent: t, tsInit: t });
    m.bus.publish('error', { topic: 'x', subscriber: 'y', error: 'boom', ts: 0 });
    m.step(2 * H);
    expect(m.health).toHaveLength(2);
    expect(m.health[1]).toMatchObject({ signalsLastHour: 2, signalsTotal: 3, errors: 1 });
  });

  it('when a stuck signal moves on and gets stuck again in another state then it is warned about again', () => {
    const m = setup({ action: 'warn' });
    m.put('s', 'submitted', 0);
    m.step(3 * H);
    m.put('s', 'exiting', 3 * H);
    m.step(6 * H);
    expect(m.warnings.map((w) => w.message.split(' for')[0])).toEqual(['signal s stuck in submitted', 'signal s stuck in exiting']);
  });

  it('when the owner gives the same map on every check then its signals are still aged by the clock and counted by state', () => {
    const clock = new ManualClock(0);
    const bus = new SignalBus(() => clock.now());
    const same = new Map([['s', 'submitted'], ['o', 'open'], ['t', 'submitted']]);
    const monitor = new PipelineMonitor(bus, clock, { inFlight: () => same, enteredAt: (id) => (id === 't' ? 2 * H : 0), expire: () => false }, { checkEveryMs: H, stuckAfterMs: 2 * H, action: 'warn' });
    const health: HealthEvent[] = [];
    const warnings: BusWarning[] = [];
    bus.subscribe('health', 't', (h) => health.push(h));
    bus.subscribe('warning', 't', (w) => warnings.push(w));
    for (const t of [H, 3 * H, 5 * H]) {
      clock.set(t);
      monitor.tick();
    }
    expect(health.map((h) => h.stuck)).toEqual([0, 1, 2]);
    expect(health.map((h) => h.inFlightByState)).toEqual(Array(3).fill({ submitted: 2, open: 1 }));
    expect(warnings.map((w) => w.signalId)).toEqual(['s', 't']);
  });

  it('when nobody listens to health then stuck signals are still warned about and expired', () => {
    const clock = new ManualClock(0);
    const bus = new SignalBus(() => clock.now());
    const states = new Map([['s', 'approved']]);
    const monitor = new PipelineMonitor(bus, clock, {
      inFlight: () => new Map(states), enteredAt: () => 0, expire: (id) => states.delete(id),
    }, { checkEveryMs: H, stuckAfterMs: 2 * H, action: 'expire' });
    const warnings: BusWarning[] = [];
    bus.subscribe('warning', 't', (w) => warnings.push(w));
    expect(bus.hasSubscribers('health')).toBe(false);
    for (const t of [H, 3 * H]) {
      clock.set(t);
      monitor.tick();
    }
    expect(warnings.map((w) => w.message)).toEqual(['signal s stuck in approved for 180 min: expired']);
    expect(monitor.expired).toBe(1);
  });
});
