/**
 * The ports of the durable order path (src/execution/durable-orders.ts) and reconciliation
 * (src/execution/reconciliation.ts): where order intents and their statuses are kept (the SQLite state
 * implements it; no SQL outside adapters/sqlite), the live venue's order calls, what the venue's account
 * holds (balances, open orders, trades), and the ledger operations they book. Amounts cross as exact
 * decimal strings or Dec, never floats.
 */
import type { Dec } from '../domain/money.ts';
import type { OrderStatus } from '../domain/order-status.ts';
import type { Fill, OrderIntent, VenueTrade } from '../domain/types.ts';
import type { VenueSink } from './venue.ts';

/** An order intent as stored: recorded before the send. */
export interface OrderIntentRecord {
  readonly id: string;
  readonly signalId: string;
  readonly clientOrderId: string;
  readonly pair: string;
  readonly side: string;
  readonly type: string;
  readonly quantity: string;
  readonly limitPrice: string | null;
  readonly purpose: string;
  readonly exitReason: string | null;
  readonly deadlineTs: number | null;
  readonly tsEvent: number;
  readonly tsInit: number;
}

/** What is known of an order on the venue (its row; none while only the intent is recorded). */
export interface OrderRecord {
  readonly clientOrderId: string;
  readonly venueOrderId: string | null;
  readonly status: OrderStatus;
  readonly filledQuantity: string;
  readonly detail: string | null;
  readonly updatedTs: number;
}

export interface OrderStore {
  /** runs `fn` in one transaction */
  write<T>(fn: () => T): T;
  saveOrderIntent(r: OrderIntentRecord): void;
  orderIntentByClientId(clientOrderId: string): OrderIntentRecord | undefined;
  /** moves an order along the order state table (src/domain/order-status.ts), refusing an illegal move; returns where it came from */
  moveOrder(o: OrderRecord): OrderStatus;
  order(clientOrderId: string): OrderRecord | undefined;
  /** intents whose order is not final, oldest first (status null: no order row) */
  unresolvedOrderIntents(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }>;
  /** every intent with its order's status (null: no row), oldest first */
  orderIntentsWithStatus(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }>;
  /** client order ids of orders of `purpose` that may still be working on the venue, oldest first */
  workingOrderIds(purpose: 'entry' | 'exit'): string[];
  /** ids of the fills the ledger has booked */
  fillIds(): Set<string>;
  setGuardState(key: string, value: unknown, ts: number): void;
}

/** The live venue's order calls the durable path and reconciliation make (src/adapters/kraken/kraken-venue.ts). */
export interface VenueOrders {
  connect(sink: VenueSink): void;
  submit(order: OrderIntent): void;
  cancel(clientOrderId: string, reason: string): void;
  /** looks an order up by client order id (or by its venue id when known) and follows it if found */
  recover(order: OrderIntent, submittedAt: number, venueId?: string): Promise<'found' | 'absent'>;
  /** resolves when every call started so far has finished */
  idle(): Promise<void>;
  poll(): Promise<void>;
}

/** What the live loop does with an asynchronous venue between candles: poll it, keep its dead man's switch armed. */
export interface PolledVenue {
  poll(): Promise<void>;
  idle(): Promise<void>;
  /** arms Kraken's CancelAllOrdersAfter for `ms`; false when it could not be refreshed */
  deadMansSwitch(ms: number): Promise<boolean>;
  readonly haltReason: string | null;
}

/** What the venue's account holds, read for reconciliation (exact figures, common asset codes). */
export interface AccountSnapshot {
  /** tradable balance by common code (BTC, USD, LTC, …) */
  readonly balances: ReadonlyMap<string, Dec>;
  readonly openOrders: ReadonlyArray<{ readonly venueOrderId: string; readonly clientOrderId: string | null; readonly pair: string; readonly side: 'buy' | 'sell'; readonly amount: Dec }>;
  /** the account's trades on the pairs asked for, with the client order id of their order where the venue knows it */
  readonly trades: readonly VenueTrade[];
}

export interface VenueAccount {
  snapshot(pairs: readonly string[]): Promise<AccountSnapshot>;
}

/** The ledger operations the order path books (src/portfolio/ledger.ts implements them). */
export interface OrderLedger {
  applyFill(fill: Fill, strategy: string, ctx?: { readonly actor: string; readonly key?: string }): { readonly repeated: boolean };
  recordReconciliation(input: { kind: string; detail: string; policy: string }, ctx: { readonly actor: string; readonly key?: string }): unknown;
  setCash(input: { currency: string; amount: string }, ctx: { readonly actor: string; readonly reason?: string; readonly key?: string }): unknown;
  load(): { readonly cash: ReadonlyMap<string, Dec>; readonly positions: ReadonlyMap<string, { readonly pair: string; readonly quantity: Dec }> };
}

/**
 * The ledger operations `tollgate manage` / `unmanage` book (src/execution/holdings.ts; src/portfolio/ledger.ts
 * implements them): an adopted holding becomes a bot position through the audited `import` operation (cash
 * unchanged, entry price stated); a release reduces a bot position without cash (`release`, where the ledger has it).
 */
export interface HoldingsLedger {
  /** several operations in one transaction: all of them, or none */
  batch<T>(fn: () => T): T;
  importPortfolio(
    input: { readonly cash: Readonly<Record<string, string>>; readonly positions: ReadonlyArray<{ readonly id: string; readonly pair: string; readonly quantity: string; readonly entryPrice: string; readonly strategy: string; readonly signalId: null }> },
    ctx: { readonly actor: string; readonly key?: string; readonly reason?: string },
  ): { readonly seq: number; readonly repeated: boolean };
  /** quantity leaves a bot position at its cost, without cash: audited (the `release` operation) */
  release(input: { readonly positionId: string; readonly quantity: string }, ctx: { readonly actor: string; readonly key?: string; readonly reason?: string }): { readonly seq: number; readonly repeated: boolean };
  load(): {
    readonly positions: ReadonlyMap<string, { readonly id: string; readonly signalId: string | null; readonly pair: string; readonly quantity: Dec; readonly entryCost: Dec; readonly entryQuantity: Dec; readonly openedTs: number }>;
    readonly marks: ReadonlyMap<string, { readonly price: Dec; readonly ts: number }>;
  };
}
