/**
 * The execution gateway: the one way orders reach a venue. It records every order intent before it is
 * sent, tracks what each order filled, cancels entry remainders past their deadline, and republishes
 * the venue's reports on the bus.
 */
import type { SignalBus } from '../bus/bus.ts';
import { Dec } from '../domain/money.ts';
import type { Fill, OrderEvent, OrderIntent } from '../domain/types.ts';
import type { Venue, VenueSink } from '../ports/venue.ts';
import { endsOrder } from './order-status.ts';

interface Tracked {
  readonly intent: OrderIntent;
  filled: Dec;
  done: boolean;
}

export class ExecutionGateway implements VenueSink {
  private readonly orders = new Map<string, Tracked>();

  constructor(private readonly bus: SignalBus, private readonly venue: Venue) {}

  submit(intent: OrderIntent): void {
    if (this.orders.has(intent.clientOrderId)) throw new Error(`order ${intent.clientOrderId} was already submitted`);
    this.orders.set(intent.clientOrderId, { intent, filled: new Dec(0), done: false });
    this.bus.publish('orderIntent', intent);
    this.venue.submit(intent);
  }

  onOrderEvent(event: OrderEvent): void {
    const t = this.orders.get(event.order.clientOrderId);
    if (t && endsOrder(event)) {
      t.done = true;
      this.orders.delete(event.order.clientOrderId);
    }
    this.bus.publish('order', event);
  }

  onFill(fill: Fill): void {
    const t = this.orders.get(fill.orderId);
    if (t) t.filled = t.filled.plus(fill.quantity);
    this.bus.publish('fill', fill);
  }

  /** Quantity still to fill, or zero for an order that is done or unknown. */
  remaining(clientOrderId: string): Dec {
    const t = this.orders.get(clientOrderId);
    return t ? t.intent.quantity.minus(t.filled) : new Dec(0);
  }

  /** Cancel the remainder of entry orders whose deadline has passed. */
  expireDue(now: number): void {
    for (const t of [...this.orders.values()]) {
      if (!t.done && t.intent.deadlineTs !== undefined && t.intent.deadlineTs <= now) this.venue.cancel(t.intent.clientOrderId, 'entry timeout: unfilled remainder cancelled');
    }
  }

  /** Working entry orders (for guard snapshots: a working entry holds a position slot). */
  workingEntries(): Array<{ intent: OrderIntent; remaining: Dec }> {
    const out: Array<{ intent: OrderIntent; remaining: Dec }> = [];
    for (const t of this.orders.values()) if (t.intent.purpose === 'entry') out.push({ intent: t.intent, remaining: t.intent.quantity.minus(t.filled) });
    return out;
  }

  get workingCount(): number {
    return this.orders.size;
  }
}
