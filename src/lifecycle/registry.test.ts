import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { SignalBus, type TransitionEvent } from '../bus/bus.ts';
import { createActor } from 'xstate';
import { LIFECYCLE_STATES, signalMachine, TERMINAL_STATES, type SignalEvent } from './machine.ts';
import { InvalidTransitionError, LifecycleRegistry } from './registry.ts';

function setup() {
  const clock = new ManualClock(1_000);
  const bus = new SignalBus(() => clock.now());
  const transitions: TransitionEvent[] = [];
  bus.subscribe('transition', 'test', (t) => transitions.push(t));
  return { clock, bus, registry: new LifecycleRegistry(bus, clock), transitions };
}

describe('lifecycle registry', () => {
  it('when a signal changes state then a transition with from, to and terminal is published at clock time', () => {
    const { registry, transitions, clock } = setup();
    registry.create('a');
    registry.send('a', { type: 'VALIDATE' });
    clock.set(2_000);
    registry.send('a', { type: 'GUARD', approved: false, blockedBy: ['COOLDOWN'] });
    registry.send('a', { type: 'BLOCK' }, 'COOLDOWN');
    expect(transitions.map((t) => [t.from, t.to, t.terminal, t.ts])).toEqual([
      ['received', 'validated', false, 1_000],
      ['validated', 'guarded', false, 2_000],
      ['guarded', 'blocked', true, 2_000],
    ]);
    expect(transitions[2]!.detail).toBe('COOLDOWN');
  });

  it('when an event is not allowed in the current state then it throws and nothing is published', () => {
    const { registry, transitions } = setup();
    registry.create('a');
    expect(() => registry.send('a', { type: 'OPEN' })).toThrow(InvalidTransitionError);
    expect(() => registry.send('a', { type: 'OPEN' })).toThrow(/OPEN is not allowed in state received/);
    expect(transitions).toHaveLength(0);
    expect(registry.state('a')).toBe('received');
  });

  it('when a signal id is created twice while live then the second create is refused', () => {
    const { registry } = setup();
    registry.create('a');
    expect(() => registry.create('a')).toThrow(/already has a live lifecycle/);
  });

  it('when 20,000 signals reach a final state then no actor is left in memory', () => {
    const { registry } = setup();
    for (let i = 0; i < 20_000; i++) {
      const id = `s${i}`;
      registry.create(id);
      registry.send(id, { type: 'VALIDATE' });
      registry.send(id, { type: 'GUARD', approved: i % 2 === 0, blockedBy: [] });
      if (i % 2 === 0) {
        registry.send(id, { type: 'APPROVE' });
        registry.send(id, { type: 'REJECT', reason: 'x' });
      } else registry.send(id, { type: 'BLOCK' });
    }
    expect(registry.size).toBe(0);
    expect(registry.disposedCount).toBe(20_000);
    expect(() => registry.send('s1', { type: 'VALIDATE' })).toThrow(/no live lifecycle/);
  });

  it('when signals are still in flight then inFlight lists them by state', () => {
    const { registry } = setup();
    registry.create('a');
    registry.create('b');
    registry.send('b', { type: 'VALIDATE' });
    expect([...registry.inFlight()]).toEqual([['a', 'received'], ['b', 'validated']]);
  });

  it('when nothing starts, moves or ends then inFlight gives the same map; a change gives a new one and leaves the old one as it was', () => {
    const { registry } = setup();
    registry.create('a');
    const first = registry.inFlight();
    expect(registry.inFlight()).toBe(first);
    registry.send('a', { type: 'VALIDATE' });
    const second = registry.inFlight();
    expect(second).not.toBe(first);
    expect([...first]).toEqual([['a', 'received']]);
    expect([...second]).toEqual([['a', 'validated']]);
    registry.create('b');
    expect([...registry.inFlight()]).toEqual([['a', 'validated'], ['b', 'received']]);
    registry.send('b', { type: 'INVALID', reason: 'x' });
    expect([...registry.inFlight()]).toEqual([['a', 'validated']]);
  });
});

async function registries() {
  const { ManualClock } = await import('../adapters/clock/clocks.ts');
  const { SignalBus } = await import('../bus/bus.ts');
  const { LifecycleRegistry } = await import('./registry.ts');
  const clock = new ManualClock(1_000);
  const make = () => {
    const bus = new SignalBus(() => clock.now());
    return { bus, registry: new LifecycleRegistry(bus, clock) };
  };
  return { clock, make };
}

describe('recovery from persisted snapshots', () => {
  it('when a signal is restored from its persisted snapshot then it is live in the same state and goes on from there', async () => {
    const { make } = await registries();
    const a = make().registry;
    a.create('s1');
    for (const e of [{ type: 'VALIDATE' }, { type: 'GUARD', approved: true, blockedBy: [] }, { type: 'APPROVE' }, { type: 'SUBMIT', clientOrderId: 'tg1' }] as const) a.send('s1', e as never);
    const stored = JSON.parse(JSON.stringify(a.persisted('s1')));

    const { bus, registry: b } = make();
    const seen: string[] = [];
    bus.subscribe('transition', 't', (t) => seen.push(`${t.from}→${t.to}`));
    expect(b.restore('s1', stored, 900)).toBe('submitted');
    expect(b.enteredAt('s1')).toBe(900);
    expect(seen).toEqual([]); // restoring replays nothing
    b.send('s1', { type: 'FILL', quantity: '1' });
    expect(seen).toEqual(['submitted→filled']);
  });

  it('a final signal is not restored, and a live one cannot be restored twice', async () => {
    const { make } = await registries();
    const a = make().registry;
    a.create('x');
    const received = JSON.parse(JSON.stringify(a.persisted('x')));
    const b = make().registry;
    b.restore('x', received, 0);
    expect(() => b.restore('x', received, 0)).toThrow(/already has a live lifecycle/);
    const done = { ...received, value: 'blocked', status: 'done' };
    expect(() => b.restore('y', done, 0)).toThrow(/final/);
  });
});

describe('steps without an actor: the same as XState, event for event', () => {
  /** one event of each kind, with payloads that vary (the registry must not depend on them in the early states) */
  const EVENTS = (i: number): SignalEvent[] => [
    { type: 'VALIDATE' }, { type: 'INVALID', reason: `bad ${i}` }, { type: 'GUARD', approved: true, blockedBy: [] },
    { type: 'GUARD', approved: false, blockedBy: i % 2 ? ['COOLDOWN'] : ['MIN_CONFIDENCE', 'DUPLICATE_SIGNAL'] }, { type: 'APPROVE' }, { type: 'BLOCK' },
    { type: 'SUBMIT', clientOrderId: `c${i}` }, { type: 'REJECT', reason: 'EOrder:x' }, { type: 'SUBMIT_UNKNOWN', reason: 'timeout' },
    { type: 'RESOLVED', how: i % 2 ? 'found' : 'resent' }, { type: 'PARTIAL_FILL', quantity: `0.${i}` }, { type: 'FILL', quantity: `1.${i}` },
    { type: 'OPEN' }, { type: 'EXIT', reason: 'stop_loss', clientOrderId: `x${i}` }, { type: 'CLOSE' }, { type: 'EXPIRE', reason: 'not filled' },
  ];

  it('when 3,000 random event sequences are sent then every transition, refusal, state and persisted snapshot equals an actor fed the same events', () => {
    const { clock, bus, registry, transitions } = setup();
    let seed = 11;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    let refused = 0;
    let terminal = 0;
    let snapshots = 0;
    const visited = new Set<string>();
    for (let i = 0; i < 3_000; i++) {
      const id = `s${i}`;
      registry.create(id);
      const actor = createActor(signalMachine, { input: { signalId: id } });
      actor.start();
      const want: string[] = [];
      const got: string[] = [];
      const from = transitions.length;
      for (let k = 0; k < 12; k++) {
        clock.set(1_000 + i * 100 + k);
        // mostly an event the state accepts (so every state is reached), sometimes any event at all
        const accepted = EVENTS(i).filter((x) => actor.getSnapshot().can(x));
        const e = rnd(4) === 0 || accepted.length === 0 ? EVENTS(i)[rnd(16)]! : accepted[rnd(accepted.length)]!;
        const before = actor.getSnapshot();
        if (!before.can(e)) {
          expect(() => registry.send(id, e)).toThrow(new RegExp(`event ${e.type} is not allowed in state ${String(before.value)}`));
          refused++;
          continue;
        }
        actor.send(e);
        const to = actor.getSnapshot().value as string;
        if (to !== before.value) want.push(`${String(before.value)}→${to} ${e.type}`);
        visited.add(to);
        expect(registry.send(id, e)).toBe(to);
        if (TERMINAL_STATES.includes(to as never)) {
          terminal++;
          break;
        }
        expect(registry.state(id)).toBe(to);
        if (rnd(4) === 0) {
          expect(registry.persisted(id)).toEqual(actor.getPersistedSnapshot());
          snapshots++;
        }
      }
      for (const t of transitions.slice(from)) got.push(`${t.from}→${t.to} ${t.event}`);
      expect(got).toEqual(want);
      actor.stop();
    }
    expect([...visited].sort()).toEqual([...LIFECYCLE_STATES].filter((x) => x !== 'received').sort());
    expect(refused).toBeGreaterThan(300);
    expect(terminal).toBeGreaterThan(1_500);
    expect(snapshots).toBeGreaterThan(300);
    expect(bus.errors).toBe(0);
  });

  it('when a blocked signal goes received → validated → guarded → blocked then the same three transitions are published and nothing is left live', () => {
    const { registry, transitions } = setup();
    registry.create('b');
    registry.send('b', { type: 'VALIDATE' });
    registry.send('b', { type: 'GUARD', approved: false, blockedBy: ['COOLDOWN'] });
    expect(registry.inFlight()).toEqual(new Map([['b', 'guarded']]));
    expect(() => registry.send('b', { type: 'APPROVE' })).toThrow(/APPROVE is not allowed in state guarded/);
    expect(registry.send('b', { type: 'BLOCK' }, 'COOLDOWN')).toBe('blocked');
    expect(transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['received→validated', 'validated→guarded', 'guarded→blocked']);
    expect(registry.size).toBe(0);
  });

  it('when an early signal\'s snapshot is asked for and it then moves on then it carries on from that same snapshot', () => {
    const { registry } = setup();
    registry.create('a');
    registry.send('a', { type: 'VALIDATE' });
    registry.send('a', { type: 'GUARD', approved: true, blockedBy: [] });
    const snap = registry.persisted('a') as { value: string; context: { approved: boolean } };
    expect(snap.value).toBe('guarded');
    expect(snap.context.approved).toBe(true);
    registry.send('a', { type: 'APPROVE' });
    registry.send('a', { type: 'SUBMIT', clientOrderId: 'tg-a' });
    expect((registry.persisted('a') as { context: { clientOrderId: string } }).context.clientOrderId).toBe('tg-a');
  });
});
