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
 * A live actor per signal costs more than everything else the kernel does for it (most signals are blocked
 * straight from `guarded`), so a signal's steps are taken on a plain record instead: what each event does in
 * each state is read off the machine once, here, by driving real actors to every reachable state and sending
 * each kind of event there. An actor is built (the signal's events replayed into it, nothing published
 * again) only when the signal's machine snapshot is asked for (live runs persist it); from then on the
 * signal's events go to that actor. What XState would do is what happens; only the cost differs.
 *
 * A step is found by the state, the GUARD verdict so far (the one context field the machine's guards read)
 * and the event's kind (GUARD with its verdict): `stepOf`, with no key string built per event. The registry
 * test drives thousands of random event sequences through both and compares every transition, refusal and
 * snapshot.
 */
const eventKey = (e: SignalEvent): string => (e.type === 'GUARD' ? (e.approved ? 'GUARD:true' : 'GUARD:false') : e.type);
const verdictIndex = (verdict: boolean | null): 0 | 1 | 2 => (verdict === null ? 0 : verdict ? 1 : 2);
const verdictAfter = (verdict: boolean | null, e: SignalEvent): boolean | null => (e.type === 'GUARD' ? e.approved : verdict);
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
/** state → by verdict (verdictIndex) → event kind (eventKey) → the state the event leads to, or null (not allowed there) */
type StepTable = ReadonlyMap<string, ReadonlyArray<ReadonlyMap<string, LifecycleState | null>>>;
const STEPS: StepTable = (() => {
  const steps = new Map<string, Array<Map<string, LifecycleState | null>>>();
  const seen = new Set<string>(['received|null']);
  // every reachable (state, verdict), with one path of events that reaches it
  const todo: Array<{ state: LifecycleState; verdict: boolean | null; path: SignalEvent[] }> = [{ state: 'received', verdict: null, path: [] }];
  while (todo.length) {
    const { state, verdict, path } = todo.pop()!;
    for (const e of SAMPLE_EVENTS) {
      const actor = createActor(signalMachine, { input: { signalId: 'probe' } });
      actor.start();
      for (const p of path) actor.send(p);
      const allowed = actor.getSnapshot().can(e);
      if (allowed) actor.send(e);
      const to = allowed ? (actor.getSnapshot().value as LifecycleState) : null;
      actor.stop();
      let byVerdict = steps.get(state);
      if (!byVerdict) steps.set(state, (byVerdict = [new Map(), new Map(), new Map()]));
      byVerdict[verdictIndex(verdict)]!.set(eventKey(e), to);
      if (to === null || TERMINAL.has(to)) continue;
      const next = verdictAfter(verdict, e);
      if (!seen.has(`${to}|${next}`)) {
        seen.add(`${to}|${next}`);
        todo.push({ state: to, verdict: next, path: [...path, e] });
      }
    }
  }
  return steps;
})();
/** where the event leads from this state and verdict: a state, null (refused), undefined (not in the table) */
const stepOf = (state: string, verdict: boolean | null, e: SignalEvent): LifecycleState | null | undefined =>
  STEPS.get(state)?.[verdictIndex(verdict)]!.get(eventKey(e));

interface Live {
  /** the actor, once the signal's snapshot was asked for (or it was restored from one) */
  actor: SignalActor | null;
  state: LifecycleState;
  /** the GUARD verdict so far */
  verdict: boolean | null;
  /** without an actor: the events taken so far (replayed into the actor when one is built) */
  readonly events: SignalEvent[];
  /** when it entered its current state (clock time): what the monitor ages */
  enteredAt: number;
}

export class LifecycleRegistry {
  private readonly live = new Map<string, Live>();
  private disposed = 0;
  /** inFlight()'s answer, kept until a signal is created, restored, changes state or ends (null: build it again) */
  private inFlightView: ReadonlyMap<string, LifecycleState> | null = null;

  constructor(private readonly bus: SignalBus, private readonly clock: Clock) {}

  /** Start the lifecycle of a new signal (state `received`). A known id is refused. */
  create(signalId: string): void {
    if (this.live.has(signalId)) throw new InvalidTransitionError(`signal ${signalId} already has a live lifecycle`);
    this.live.set(signalId, { actor: null, state: 'received', verdict: null, events: [], enteredAt: this.clock.now() });
    this.inFlightView = null;
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
    this.live.set(signalId, { actor, state, verdict: null, events: [], enteredAt });
    this.inFlightView = null;
    return state;
  }

  /** When the signal entered its current state, or undefined when it is not live. */
  enteredAt(signalId: string): number | undefined {
    return this.live.get(signalId)?.enteredAt;
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
    const step = l.actor === null ? stepOf(from, l.verdict, event) : undefined;
    if (step === null) throw new InvalidTransitionError(`signal ${signalId}: event ${event.type} is not allowed in state ${from}`);
    if (step !== undefined) {
      // a step on the record (an actor, if one is built later, replays it)
      to = step;
      l.events.push(event);
    } else {
      const actor = this.actorOf(signalId, l);
      if (!actor.getSnapshot().can(event)) {
        throw new InvalidTransitionError(`signal ${signalId}: event ${event.type} is not allowed in state ${from}`);
      }
      actor.send(event);
      to = actor.getSnapshot().value as LifecycleState;
    }
    l.verdict = verdictAfter(l.verdict, event);
    l.state = to;
    if (from !== to) {
      this.inFlightView = null;
      const terminal = TERMINAL.has(to);
      const ts = this.clock.now();
      l.enteredAt = ts;
      this.bus.publish('transition', { signalId, from, to, event: event.type, terminal, ts, detail });
      if (terminal) {
        l.actor?.stop();
        this.live.delete(signalId);
        this.disposed++;
      }
    }
    return to;
  }

  /**
   * Signals still in flight (non-terminal), by state. The map is not changed after it is returned: while no
   * signal starts, moves or ends, the same one is given again (the monitor asks on every candle).
   */
  inFlight(): ReadonlyMap<string, LifecycleState> {
    if (this.inFlightView === null) {
      const out = new Map<string, LifecycleState>();
      for (const [id, l] of this.live) out.set(id, l.state);
      this.inFlightView = out;
    }
    return this.inFlightView;
  }

  get size(): number {
    return this.live.size;
  }

  get disposedCount(): number {
    return this.disposed;
  }
}
