/**
 * The typed in-process message bus (RxJS). One Subject per topic; every subscriber is isolated:
 * a throwing handler is reported on the `error` topic and the stream goes on for everyone else.
 * Delivery is synchronous and in subscription order, which keeps replays deterministic.
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

export class SignalBus {
  private readonly subjects = new Map<TopicName, Subject<unknown>>();
  private errorCount = 0;
  /** Fallback sink for errors raised by `error` subscribers themselves (never re-enters the bus). */
  constructor(private readonly now: () => number, private readonly onUnhandled: (e: BusError) => void = () => {}) {}

  private subject<K extends TopicName>(topic: K): Subject<Topics[K]> {
    let s = this.subjects.get(topic);
    if (!s) {
      s = new Subject<unknown>();
      this.subjects.set(topic, s);
    }
    return s as Subject<Topics[K]>;
  }

  publish<K extends TopicName>(topic: K, message: Topics[K]): void {
    this.subject(topic).next(message);
  }

  /** Subscribe `name`'s handler to `topic`; its exceptions are caught, counted and published as `error`. */
  subscribe<K extends TopicName>(topic: K, name: string, handler: (message: Topics[K]) => void): Subscription {
    return this.subject(topic).subscribe((message) => {
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

  get errors(): number {
    return this.errorCount;
  }

  complete(): void {
    for (const s of this.subjects.values()) s.complete();
  }
}
