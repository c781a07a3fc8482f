/**
 * The typed in-process message bus. Every subscriber is isolated: a throwing handler is reported on the
 * `error` topic and the stream goes on for everyone else. Delivery is synchronous and in subscription order,
 * which keeps replays deterministic.
 *
 * Each topic is a plain list of handlers, called in a loop: a replay publishes about four messages a candle
 * (most to one or two subscribers, some to none), and an RxJS Subject per topic cost three times the loop per
 * message (its per-call closure and observer layers) for nothing the bus used. The semantics are a Subject's:
 * a handler subscribed while a message is being delivered gets the next one, not that one (the list is copied
 * on change, a delivery runs over the list it started with); one unsubscribed meanwhile gets nothing more;
 * after complete() nothing is delivered.
 */
import type { Candle, ClosedTrade, Decision, Fill, OrderEvent, OrderIntent, Position, ShadowOutcome, Signal } from '../domain/types.ts';

export interface TransitionEvent {
  readonly signalId: string;
  readonly from: string;
  readonly to: string;
  readonly event: string;
  readonly terminal: boolean;
  readonly ts: number;
  readonly detail?: string | undefined;
}

export interface ExitAdvice {
  readonly strategy: string;
  readonly pair: string;
  readonly ts: number;
}

export interface PositionEvent {
  readonly kind: 'opened' | 'closed';
  readonly position: Position;
  readonly trade?: ClosedTrade | undefined;
  readonly ts: number;
}

export interface BusError {
  readonly topic: string;
  readonly subscriber: string;
  readonly error: string;
  readonly ts: number;
}

export interface BusWarning {
  readonly code: string;
  readonly message: string;
  readonly ts: number;
  readonly signalId?: string | undefined;
}

/** A guard-chain verdict with what it was about: the signal and the order it would become. */
export interface VerdictEvent {
  readonly decision: Decision;
  readonly signal: Signal;
  readonly proposal: { readonly quantity: string; readonly price: string; readonly cost: string };
}

/** Pipeline counters for the health endpoint and dashboard (published by the monitor). */
export interface HealthEvent {
  readonly ts: number;
  /** non-terminal signals by lifecycle state */
  readonly inFlightByState: Readonly<Record<string, number>>;
  /** signals received in the last hour of event time */
  readonly signalsLastHour: number;
  readonly signalsTotal: number;
  /** non-terminal signals older than the stuck threshold */
  readonly stuck: number;
  readonly errors: number;
}

export interface Topics {
  candle: Candle;
  /** the live path finished a candle (exits checked, exit advice in, new signals queued) */
  candleDone: Candle;
  signal: Signal;
  exitAdvice: ExitAdvice;
  verdict: VerdictEvent;
  orderIntent: OrderIntent;
  order: OrderEvent;
  fill: Fill;
  position: PositionEvent;
  transition: TransitionEvent;
  shadow: ShadowOutcome;
  health: HealthEvent;
  warning: BusWarning;
  error: BusError;
}
export type TopicName = keyof Topics;

export interface BusSubscription {
  unsubscribe(): void;
}

interface Subscriber {
  readonly name: string;
  readonly handler: (message: never) => void;
  active: boolean;
}

const NONE: readonly Subscriber[] = [];

export class SignalBus {
  /** topic → its subscribers in subscription order; replaced, never changed in place (see the header) */
  private readonly topics = new Map<TopicName, readonly Subscriber[]>();
  private errorCount = 0;
  private completed = false;
  /** Fallback sink for errors raised by `error` subscribers themselves (never re-enters the bus). */
  constructor(private readonly now: () => number, private readonly onUnhandled: (e: BusError) => void = () => {}) {}

  publish<K extends TopicName>(topic: K, message: Topics[K]): void {
    const subs = this.topics.get(topic);
    if (subs === undefined) return;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (!s.active) continue;
      try {
        (s.handler as (m: Topics[K]) => void)(message);
      } catch (err) {
        this.failed(topic, s.name, err);
      }
    }
  }

  private failed(topic: TopicName, subscriber: string, err: unknown): void {
    this.errorCount++;
    const e: BusError = { topic, subscriber, error: err instanceof Error ? err.message : String(err), ts: this.now() };
    if (topic === 'error') this.onUnhandled(e);
    else this.publish('error', e);
  }

  /** Subscribe `name`'s handler to `topic`; its exceptions are caught, counted and published as `error`. */
  subscribe<K extends TopicName>(topic: K, name: string, handler: (message: Topics[K]) => void): BusSubscription {
    if (this.completed) return { unsubscribe: () => {} };
    const sub: Subscriber = { name, handler, active: true };
    this.topics.set(topic, [...(this.topics.get(topic) ?? NONE), sub]);
    return {
      unsubscribe: () => {
        if (!sub.active) return;
        sub.active = false;
        const left = (this.topics.get(topic) ?? NONE).filter((s) => s !== sub);
        if (left.length) this.topics.set(topic, left);
        else this.topics.delete(topic);
      },
    };
  }

  /** Whether anyone listens to `topic` (a publisher may skip building a message nobody reads). */
  hasSubscribers(topic: TopicName): boolean {
    return this.topics.has(topic);
  }

  get errors(): number {
    return this.errorCount;
  }

  /** End every topic: nothing is delivered from now on. */
  complete(): void {
    this.completed = true;
    for (const subs of this.topics.values()) for (const s of subs) s.active = false;
    this.topics.clear();
  }
}
