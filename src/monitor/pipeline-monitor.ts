/**
 * The pipeline monitor: on a period of clock time it counts signals in flight per state, finds signals
 * stuck in a non-terminal state for longer than the policy allows, warns about each one once (bus
 * `warning`, code STUCK_SIGNAL), expires the ones the policy allows to expire, and publishes a `health`
 * snapshot (states, throughput, stuck, errors) for the health endpoint and dashboard.
 *
 * Positions (`open`) are never stuck: holding is their job. Only signals with no order at the venue
 * can be expired (the owner of the lifecycle decides, through `expire`); the others are warned about.
 */
import type { SignalBus } from '../bus/bus.ts';
import type { Clock } from '../ports/clock.ts';

export interface MonitorPolicy {
  /** how often to check, in clock ms (replay: candle time) */
  readonly checkEveryMs: number;
  /** a signal in one non-terminal state longer than this is stuck */
  readonly stuckAfterMs: number;
  /** warn only, or also expire stuck signals that have no order at the venue */
  readonly action: 'warn' | 'expire';
}

/** What the monitor needs from the lifecycle owner (the kernel and its registry). */
export interface LifecycleView {
  /**
   * Signals in flight by state. A map given out must not change afterwards: a change comes as a new map, and
   * so does a change of any signal's `enteredAt` (a signal enters a state only by moving).
   */
  inFlight(): ReadonlyMap<string, string>;
  enteredAt(signalId: string): number | undefined;
  /** expire a stuck signal if it has no order at the venue; true when it did. A refusal holds while the signal stays in that state (it is asked once per state). */
  expire(signalId: string, reason: string): boolean;
}

const NEVER_STUCK = new Set(['open']);
const HOUR = 3_600_000;

export class PipelineMonitor {
  private lastCheck = -Infinity;
  private readonly received: number[] = [];
  private total = 0;
  private errors = 0;
  /** signal → state it was warned about (one warning per stuck state) */
  private readonly warned = new Map<string, string>();
  private expiredCount = 0;
  /** the in-flight map last counted, its counts per state and its signals that can get stuck (not `open`) */
  private counted: ReadonlyMap<string, string> | null = null;
  private byState: Readonly<Record<string, number>> = {};
  private ageing: ReadonlyArray<readonly [string, string]> = [];
  /** the earliest time one of `ageing` entered its state: none is stuck before stuckAfterMs past it */
  private firstEntered = Infinity;

  constructor(private readonly bus: SignalBus, private readonly clock: Clock, private readonly view: LifecycleView, private readonly policy: MonitorPolicy) {
    bus.subscribe('signal', 'monitor', (s) => {
      this.total++;
      this.received.push(s.tsEvent);
    });
    bus.subscribe('error', 'monitor', () => this.errors++);
    bus.subscribe('candleDone', 'monitor', () => this.tick());
  }

  get expired(): number {
    return this.expiredCount;
  }

  /** Run a check if the period has passed (or `force`). */
  tick(force = false): void {
    const now = this.clock.now();
    if (!force && now - this.lastCheck < this.policy.checkEveryMs) return;
    this.lastCheck = now;
    while (this.received.length && this.received[0]! <= now - HOUR) this.received.shift();
    const inFlight = this.view.inFlight();
    if (inFlight !== this.counted) {
      // counted again only when the owner gives a different map (the registry keeps one while nothing moves)
      const byState: Record<string, number> = {};
      const ageing: Array<readonly [string, string]> = [];
      for (const entry of inFlight) {
        const state = entry[1];
        byState[state] = (byState[state] ?? 0) + 1;
        if (!NEVER_STUCK.has(state)) ageing.push(entry);
      }
      this.counted = inFlight;
      this.byState = byState;
      this.ageing = ageing;
      this.firstEntered = Infinity;
      for (const [id] of ageing) this.firstEntered = Math.min(this.firstEntered, this.view.enteredAt(id) ?? Infinity);
    }
    let stuck = 0;
    // the same map, the same entry times: while the oldest is within the threshold, none is stuck (most checks)
    if (now - this.firstEntered > this.policy.stuckAfterMs) {
      for (const [id, state] of this.ageing) {
        const since = this.view.enteredAt(id);
        if (since === undefined || now - since <= this.policy.stuckAfterMs) continue;
        stuck++;
        // warned about in this state: the owner refused to expire it in this state already, no need to ask again
        if (this.warned.get(id) === state) continue;
        const ageMin = Math.round((now - since) / 60_000);
        if (this.policy.action === 'expire' && this.view.expire(id, `stuck in ${state} for ${ageMin} min`)) {
          this.expiredCount++;
          this.bus.publish('warning', { code: 'STUCK_SIGNAL', message: `signal ${id} stuck in ${state} for ${ageMin} min: expired`, ts: now, signalId: id });
          this.warned.delete(id);
          continue;
        }
        this.warned.set(id, state);
        this.bus.publish('warning', { code: 'STUCK_SIGNAL', message: `signal ${id} stuck in ${state} for ${ageMin} min`, ts: now, signalId: id });
      }
    }
    if (this.warned.size) for (const id of this.warned.keys()) if (!inFlight.has(id)) this.warned.delete(id);
    // a replay checks every candle and nobody reads its health: no snapshot is built for no one
    if (this.bus.hasSubscribers('health')) {
      this.bus.publish('health', { ts: now, inFlightByState: this.byState, signalsLastHour: this.received.length, signalsTotal: this.total, stuck, errors: this.errors });
    }
  }
}
