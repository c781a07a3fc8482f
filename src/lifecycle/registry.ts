/**
 * Holds one live lifecycle per non-terminal signal and disposes of it the moment it reaches a final state,
 * so memory follows the number of signals in flight, not the number processed. Every state change is
 * published on the bus as a `transition`.
 */
import { createActor, type Actor, type Snapshot } from 'xstate';
import type { SignalBus } from '../bus/bus.ts';
import type { Clock } from '../ports/clock.ts';
import { LIFECYCLE_STATES, SIGNAL_EVENT_TYPES, signalMachine, TERMINAL_STATES, type LifecycleState, type SignalEvent } from './machine.ts';

type SignalActor = Actor<typeof signalMachine>;
const TERMINAL = new Set<string>(TERMINAL_STATES);

export class InvalidTransitionError extends Error {}

/**
 * Signals are decided before any order exists: most are blocked straight from `guarded`. Their first steps
 * (received → validated → guarded → blocked, or failed/expired on the way) need no live actor: what each
 * event does there is read off the machine once, here, by driving real actors over every path through those
 * first states, and a signal takes those steps on a plain record. An actor is built (the same events
 * replayed into it, nothing published again) only when a signal moves on past them, or when its machine
 * snapshot is asked for. What XState would do is what happens; only the cost differs.
 *
 * The paths are told apart by their event types and the GUARD verdict (the one event field the machine's
 * guards read in these states): `pathKey`.
 */
const EARLY_STATES = new Set<LifecycleState>(['received', 'validated', 'guarded']);
const eventKey = (e: SignalEvent): string => (e.type === 'GUARD' ? `GUARD:${e.approved}` : e.type);
/** one event of each kind (GUARD in both verdicts), to drive the machine with */
const SAMPLE_EVENTS: readonly SignalEvent[] = SIGNAL_EVENT_TYPES.flatMap((type): SignalEvent[] => {
  switch (type) {
    case 'GUARD': return [{ type, approved: true, blockedBy: [] }, { type, approved: false, blockedBy: ['X'] }];
    case 'INVALID': case 'REJECT': case 'SUBMIT_UNKNOWN': case 'EXPIRE': return [{ type, reason: 'x' }];
    case 'SUBMIT': return [{ type, clientOrderId: 'x' }];
    case 'RESOLVED': return [{ type, how: 'found' }];
    case 'PARTIAL_FILL': case 'FILL': return [{ type, quantity: '1' }];
    case 'EXIT': return [{ type, reason: 'x', clientOrderId: 'x' }];
    default: return [{ type } as SignalEvent];
  }
});
/** path key (the event keys so far, comma-joined) + ' ' + next event key → the state the event leads to, or null (not allowed) */
const EARLY_STEPS: ReadonlyMap<string, LifecycleState | null> = (() => {
  const steps = new Map<string, LifecycleState | null>();
  const paths: SignalEvent[][] = [[]];
  while (paths.length) {
    const path = paths.pop()!;
    const key = path.map(eventKey).join(',');
    for (const e of SAMPLE_EVENTS) {
      const actor = createActor(signalMachine, { input: { signalId: 'probe' } });
      actor.start();
      for (const p of path) actor.send(p);
      const allowed = actor.getSnapshot().can(e);
      if (allowed) actor.send(e);
      const to = allowed ? (actor.getSnapshot().value as LifecycleState) : null;
      actor.stop();
      steps.set(`${key} ${eventKey(e)}`, to);
      // on through the early states (bounded: a loop among them would otherwise never end)
      if (to !== null && EARLY_STATES.has(to) && path.length < LIFECYCLE_STATES.length) paths.push([...path, e]);
    }
  }
  return steps;
})();

interface Live {
  /** the actor, once the signal moved on past the early states (or its snapshot was asked for) */
  actor: SignalActor | null;
  state: LifecycleState;
  /** early states: the events taken so far (replayed into the actor when one is built) */
  readonly events: SignalEvent[];
  path: string;
}

export class LifecycleRegistry {
  private readonly live = new Map<string, Live>();
  /** when each live signal entered its current state (clock time): what the monitor ages */
  private readonly entered = new Map<string, number>();
  private disposed = 0;

  constructor(private readonly bus: SignalBus, private readonly clock: Clock) {}

  /** Start the lifecycle of a new signal (state `received`). A known id is refused. */
  create(signalId: string): void {
    if (this.live.has(signalId)) throw new InvalidTransitionError(`signal ${signalId} already has a live lifecycle`);
    this.live.set(signalId, { actor: null, state: 'received', events: [], path: '' });
    this.entered.set(signalId, this.clock.now());
  }

  /** The signal's actor, built now from the events it took so far if it has none yet. */
  private actorOf(signalId: string, l: Live): SignalActor {
    if (l.actor === null) {
      const actor = createActor(signalMachine, { input: { signalId } });
      actor.start();
      for (const e of l.events) actor.send(e);
      const state = actor.getSnapshot().value as LifecycleState;
      if (state !== l.state) throw new Error(`lifecycle of ${signalId}: replayed to ${state}, expected ${l.state}`); // the early steps disagree with the machine: a bug here
      l.actor = actor;
      l.events.length = 0;
    }
    return l.actor;
  }

  /** The persisted machine snapshot of a live signal (what the store keeps), or undefined. */
  persisted(signalId: string): unknown {
    const l = this.live.get(signalId);
    return l && this.actorOf(signalId, l).getPersistedSnapshot();
  }

  /**
   * Recovery: bring a non-terminal signal back as a live actor from its persisted snapshot, in the
   * state it was in (no transition is replayed, nothing is published). `enteredAt` is the stored time.
   */
  restore(signalId: string, snapshot: unknown, enteredAt: number): LifecycleState {
    if (this.live.has(signalId)) throw new InvalidTransitionError(`signal ${signalId} already has a live lifecycle`);
    // a stored snapshot is input: check its shape before XState sees it (it would fail later, asynchronously)
    const snap = snapshot as { value?: unknown; status?: unknown; context?: { signalId?: unknown } } | null;
    if (snap && (snap.status === 'done' || (typeof snap.value === 'string' && TERMINAL.has(snap.value)))) {
      throw new InvalidTransitionError(`signal ${signalId}: a ${String(snap.value)} signal is final and is not restored`);
    }
    if (!snap || typeof snap.value !== 'string' || !(LIFECYCLE_STATES as readonly string[]).includes(snap.value) || snap.status !== 'active' || snap.context?.signalId !== signalId) {
      throw new InvalidTransitionError(`signal ${signalId}: the stored snapshot is not a lifecycle snapshot of this signal`);
    }
    const actor = createActor(signalMachine, { snapshot: snapshot as Snapshot<unknown>, input: { signalId } });
    actor.start();
    const state = actor.getSnapshot().value as LifecycleState;
    if (TERMINAL.has(state)) {
      actor.stop();
      throw new InvalidTransitionError(`signal ${signalId}: a ${state} signal is final and is not restored`);
    }
    this.live.set(signalId, { actor, state, events: [], path: '' });
    this.entered.set(signalId, enteredAt);
    return state;
  }

  /** When the signal entered its current state, or undefined when it is not live. */
  enteredAt(signalId: string): number | undefined {
    return this.entered.get(signalId);
  }

  state(signalId: string): LifecycleState | undefined {
    return this.live.get(signalId)?.state;
  }

  has(signalId: string): boolean {
    return this.live.has(signalId);
  }

  /** Send an event; an event the current state does not accept is a bug upstream and throws. */
  send(signalId: string, event: SignalEvent, detail?: string): LifecycleState {
    const l = this.live.get(signalId);
    if (!l) throw new InvalidTransitionError(`no live lifecycle for signal ${signalId} (event ${event.type})`);
    const from = l.state;
    let to: LifecycleState;
    const early = l.actor === null ? EARLY_STEPS.get(`${l.path} ${eventKey(event)}`) : undefined;
    if (early === null) throw new InvalidTransitionError(`signal ${signalId}: event ${event.type} is not allowed in state ${from}`);
    if (early !== undefined && (EARLY_STATES.has(early) || TERMINAL.has(early))) {
      // an early step: taken on the record (the actor, if one is built later, replays it)
      to = early;
      l.events.push(event);
      l.path = l.path ? `${l.path},${eventKey(event)}` : eventKey(event);
    } else {
      const actor = this.actorOf(signalId, l);
      if (!actor.getSnapshot().can(event)) {
        throw new InvalidTransitionError(`signal ${signalId}: event ${event.type} is not allowed in state ${from}`);
      }
      actor.send(event);
      to = actor.getSnapshot().value as LifecycleState;
    }
    l.state = to;
    if (from !== to) {
      const terminal = TERMINAL.has(to);
      const ts = this.clock.now();
      this.entered.set(signalId, ts);
      this.bus.publish('transition', { signalId, from, to, event: event.type, terminal, ts, detail });
      if (terminal) {
        l.actor?.stop();
        this.live.delete(signalId);
        this.entered.delete(signalId);
        this.disposed++;
      }
    }
    return to;
  }

  /** Signals still in flight (non-terminal), by state. */
  inFlight(): Map<string, LifecycleState> {
    const out = new Map<string, LifecycleState>();
    for (const [id, l] of this.live) out.set(id, l.state);
    return out;
  }

  get size(): number {
    return this.live.size;
  }

  get disposedCount(): number {
    return this.disposed;
  }
}
