/**
 * Holds one live actor per non-terminal signal and disposes of it the moment it reaches a final state,
 * so memory follows the number of signals in flight, not the number processed. Every state change is
 * published on the bus as a `transition`.
 */
import { createActor, type Actor, type Snapshot } from 'xstate';
import type { SignalBus } from '../bus/bus.ts';
import type { Clock } from '../ports/clock.ts';
import { LIFECYCLE_STATES, signalMachine, TERMINAL_STATES, type LifecycleState, type SignalEvent } from './machine.ts';

type SignalActor = Actor<typeof signalMachine>;
const TERMINAL = new Set<string>(TERMINAL_STATES);

export class InvalidTransitionError extends Error {}

export class LifecycleRegistry {
  private readonly actors = new Map<string, SignalActor>();
  /** when each live signal entered its current state (clock time): what the monitor ages */
  private readonly entered = new Map<string, number>();
  private disposed = 0;

  constructor(private readonly bus: SignalBus, private readonly clock: Clock) {}

  /** Create and start the actor of a new signal (state `received`). A known id is refused. */
  create(signalId: string): void {
    if (this.actors.has(signalId)) throw new InvalidTransitionError(`signal ${signalId} already has a live lifecycle`);
    const actor = createActor(signalMachine, { input: { signalId } });
    actor.start();
    this.actors.set(signalId, actor);
    this.entered.set(signalId, this.clock.now());
  }

  /** The persisted machine snapshot of a live signal (what the store keeps), or undefined. */
  persisted(signalId: string): unknown {
    return this.actors.get(signalId)?.getPersistedSnapshot();
  }

  /**
   * Recovery: bring a non-terminal signal back as a live actor from its persisted snapshot, in the
   * state it was in (no transition is replayed, nothing is published). `enteredAt` is the stored time.
   */
  restore(signalId: string, snapshot: unknown, enteredAt: number): LifecycleState {
    if (this.actors.has(signalId)) throw new InvalidTransitionError(`signal ${signalId} already has a live lifecycle`);
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
    this.actors.set(signalId, actor);
    this.entered.set(signalId, enteredAt);
    return state;
  }

  /** When the signal entered its current state, or undefined when it is not live. */
  enteredAt(signalId: string): number | undefined {
    return this.entered.get(signalId);
  }

  state(signalId: string): LifecycleState | undefined {
    return this.actors.get(signalId)?.getSnapshot().value as LifecycleState | undefined;
  }

  has(signalId: string): boolean {
    return this.actors.has(signalId);
  }

  /** Send an event; an event the current state does not accept is a bug upstream and throws. */
  send(signalId: string, event: SignalEvent, detail?: string): LifecycleState {
    const actor = this.actors.get(signalId);
    if (!actor) throw new InvalidTransitionError(`no live lifecycle for signal ${signalId} (event ${event.type})`);
    const before = actor.getSnapshot();
    if (!before.can(event)) {
      throw new InvalidTransitionError(`signal ${signalId}: event ${event.type} is not allowed in state ${String(before.value)}`);
    }
    actor.send(event);
    const after = actor.getSnapshot();
    const from = before.value as LifecycleState;
    const to = after.value as LifecycleState;
    if (from !== to) {
      const terminal = TERMINAL.has(to);
      const ts = this.clock.now();
      this.entered.set(signalId, ts);
      this.bus.publish('transition', { signalId, from, to, event: event.type, terminal, ts, detail });
      if (terminal) {
        actor.stop();
        this.actors.delete(signalId);
        this.entered.delete(signalId);
        this.disposed++;
      }
    }
    return to;
  }

  /** Signals still in flight (non-terminal), by state. */
  inFlight(): Map<string, LifecycleState> {
    const out = new Map<string, LifecycleState>();
    for (const [id, a] of this.actors) out.set(id, a.getSnapshot().value as LifecycleState);
    return out;
  }

  get size(): number {
    return this.actors.size;
  }

  get disposedCount(): number {
    return this.disposed;
  }
}
