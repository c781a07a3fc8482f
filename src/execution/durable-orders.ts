/**
 * Durable order placement for a live venue: every order intent is written to the state database BEFORE
 * it is sent, its venue events update its stored state, and every fill goes to the ledger keyed by its
 * trade id (a fill seen twice is a no-op). At start-up, `recover()` resolves the intents whose fate was
 * not recorded: each is looked up on the venue by client order id — adopted with its fills if the venue
 * has it, marked `not_sent` if it does not (the process died before the send reached Kraken). Nothing
 * is ever re-sent blindly. Every status change goes through the order state table (src/domain/order-status.ts):
 * the store refuses an illegal move.
 */
import { Dec } from '../domain/money.ts';
import type { Fill, OrderEvent, OrderIntent } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { OrderLedger, OrderStore, VenueOrders } from '../ports/orders.ts';
import type { VenueSink } from '../ports/venue.ts';
import { intentOf, intentRecord, orderRecordAfter } from './order-records.ts';

export interface RecoveryReport {
  readonly unresolved: number;
  readonly adopted: string[];
  readonly notSent: string[];
}

export class DurableOrders implements VenueSink {
  constructor(
    private readonly store: OrderStore,
    private readonly ledger: OrderLedger,
    private readonly venue: VenueOrders,
    private readonly clock: Clock,
    /** the strategy a signal's fills belong to */
    private readonly strategyOf: (signalId: string) => string,
    /** who else hears the venue (the gateway; set later with `forward`) */
    private next: VenueSink | null = null,
    /** fault injection for the crash tests: 'after-intent' dies between recording and sending */
    private readonly fault: string | undefined = undefined,
    /**
     * the quantity the bot's own ledger position of a signal holds (undefined: none). Given, a sell is sent only
     * for what the bot holds: never more, whatever the venue's balance (external holdings are never sold).
     */
    private readonly botQuantity: ((signalId: string) => Dec | undefined) | null = null,
  ) {
    venue.connect(this);
  }

  /** events and fills are passed on to `sink` (the gateway) after they are stored */
  forward(sink: VenueSink): void {
    this.next = sink;
  }

  submit(intent: OrderIntent): void {
    this.store.write(() => {
      this.store.saveOrderIntent(intentRecord(intent));
      this.store.moveOrder({ clientOrderId: intent.clientOrderId, venueOrderId: null, status: 'sending', filledQuantity: '0', detail: null, updatedTs: this.clock.now() });
    });
    if (this.fault === 'after-intent') process.kill(process.pid, 'SIGKILL'); // crash test: recorded, never sent
    const refused = this.sellRefusal(intent);
    if (refused) this.onOrderEvent({ kind: 'rejected', order: intent, reason: refused, ts: this.clock.now() });
    else this.venue.submit(intent);
  }

  /** why a sell must not be sent: it asks for more than the bot's own position holds (null: it may go) */
  private sellRefusal(intent: OrderIntent): string | null {
    if (intent.side !== 'sell' || !this.botQuantity) return null;
    const held = this.botQuantity(intent.signalId) ?? new Dec(0);
    if (intent.quantity.lte(held)) return null;
    return `sell of ${intent.quantity.toFixed()} ${intent.pair} refused before sending: the bot's position ${intent.signalId} holds ${held.toFixed()} (an exit sells only the bot's own quantity, never external holdings)`;
  }

  onOrderEvent(e: OrderEvent): void {
    this.store.write(() => {
      this.store.moveOrder(orderRecordAfter(e, this.store.order(e.order.clientOrderId), this.clock.now()));
    });
    this.next?.onOrderEvent(e);
  }

  onFill(f: Fill): void {
    // a fill seen again (recovery, a later poll) is a no-op in the ledger and must not reach the kernel twice
    const r = this.ledger.applyFill(f, this.strategyOf(f.signalId), { actor: 'bot' });
    if (!r.repeated) this.next?.onFill(f);
  }

  /** Start-up: resolve every recorded order whose fate is unknown. */
  async recover(): Promise<RecoveryReport> {
    const report = { unresolved: 0, adopted: [] as string[], notSent: [] as string[] };
    for (const r of this.store.unresolvedOrderIntents()) {
      report.unresolved++;
      const intent = intentOf(r);
      const how = await this.venue.recover(intent, r.tsInit);
      if (how === 'found') report.adopted.push(intent.clientOrderId);
      else {
        report.notSent.push(intent.clientOrderId);
        this.store.moveOrder({ clientOrderId: intent.clientOrderId, venueOrderId: null, status: 'not_sent', filledQuantity: '0', detail: 'not on the venue after a restart: the process died before the send reached it', updatedTs: this.clock.now() });
      }
    }
    await this.venue.idle();
    return report;
  }
}

