/**
 * The typed in-process message bus (RxJS). Every subscriber is isolated: a throwing handler is reported on the
 * `error` topic and the stream goes on for everyone else. Delivery is synchronous and in subscription order,
 * which keeps replays deterministic.
 *
 * One RxJS Subject per topic (the architecture's bus): a handler subscribed while a message is being delivered
 * gets the next one, not that one; one unsubscribed meanwhile gets nothing more; after complete() nothing is
 * delivered. A topic nobody subscribed to has no Subject, so publishing to it costs one map lookup.
 */
import { Subject, type Subscription } from 'rxjs';
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

/** What `subscribe` returns: RxJS's Subscription. */
export type BusSubscription = Subscription;

export class SignalBus {
  /** one Subject per topic, made at its first subscriber (a topic nobody listens to costs a map lookup) */
  private readonly subjects = new Map<TopicName, Subject<unknown>>();
  private errorCount = 0;
  private completed = false;
  /** Fallback sink for errors raised by `error` subscribers themselves (never re-enters the bus). */
  constructor(private readonly now: () => number, private readonly onUnhandled: (e: BusError) => void = () => {}) {}

  publish<K extends TopicName>(topic: K, message: Topics[K]): void {
    this.subjects.get(topic)?.next(message);
  }

  /** Subscribe `name`'s handler to `topic`; its exceptions are caught, counted and published as `error`. */
  subscribe<K extends TopicName>(topic: K, name: string, handler: (message: Topics[K]) => void): BusSubscription {
    let s = this.subjects.get(topic);
    if (!s) {
      s = new Subject<unknown>();
      if (this.completed) s.complete();
      this.subjects.set(topic, s);
    }
    return (s as Subject<Topics[K]>).subscribe((message) => {
      try {
        handler(message);
      } catch (err) {
        this.errorCount++;
        const e: BusError = { topic, subscriber: name, error: err instanceof Error ? err.message : String(err), ts: this.now() };
        if (topic === 'error') this.onUnhandled(e);
        else this.publish('error', e);
      }
    });
  }

  /** Whether anyone listens to `topic` (a publisher may skip building a message nobody reads). */
  hasSubscribers(topic: TopicName): boolean {
    return this.subjects.get(topic)?.observed === true;
  }

  get errors(): number {
    return this.errorCount;
  }

  /** End every topic: nothing is delivered from now on. */
  complete(): void {
    this.completed = true;
    for (const s of this.subjects.values()) s.complete();
  }
}
