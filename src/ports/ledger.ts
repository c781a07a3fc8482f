/**
 * The LedgerStore port: where the durable ledger keeps cash, positions, the gapless sequence number, the
 * append-only audit log and idempotency keys. The rules live in `portfolio/ledger.ts`; an implementation only
 * stores. Amounts cross this port as exact decimal strings, never floats.
 */

/** A position as stored: exact decimal strings. */
export interface PositionRow {
  readonly id: string;
  readonly signalId: string | null;
  readonly strategy: string;
  readonly pair: string;
  readonly quote: string;
  readonly quantity: string;
  readonly entryCost: string;
  readonly entryQuantity: string;
  readonly entryFees: string;
  readonly exitProceeds: string;
  readonly exitQuantity: string;
  readonly exitFees: string;
  readonly openedTs: number;
  readonly exitReason: string | null;
}

/** Realized PnL and fees paid, per quote currency. */
export interface TotalsRow {
  readonly currency: string;
  readonly realized: string;
  readonly fees: string;
}

export interface ClosedTradeRow {
  readonly seq: number;
  readonly positionId: string;
  readonly signalId: string | null;
  readonly strategy: string;
  readonly pair: string;
  readonly quantity: string;
  readonly entryTs: number;
  readonly entryPrice: string;
  readonly exitTs: number;
  readonly exitPrice: string;
  readonly exitReason: string;
  readonly fees: string;
  readonly pnl: string;
}

/** A fill as stored (the venue's execution report). */
export interface FillRow {
  readonly id: string;
  readonly orderId: string;
  readonly signalId: string;
  readonly pair: string;
  readonly side: string;
  readonly quantity: string;
  readonly price: string;
  readonly fee: string;
  readonly liquidity: string;
  readonly purpose: string;
  readonly tsEvent: number;
  readonly tsInit: number;
}

/** One line of the append-only audit log: what changed, who asked, why, and the touched state before and after. */
export interface AuditRow {
  readonly seq: number;
  /** epoch ms */
  readonly ts: number;
  readonly operation: string;
  readonly actor: string;
  readonly reason: string | null;
  readonly idempotencyKey: string | null;
  /** the operation's input as JSON: enough to re-apply it to an empty ledger */
  readonly input: string;
  /** touched entities before and after, as JSON: `{ cash: {CCY: "x"|null}, positions: {id: row|null}, totals: {...} }` */
  readonly before: string;
  readonly after: string;
}

export interface IdempotencyRow {
  readonly key: string;
  readonly seq: number;
  readonly operation: string;
  /** the request (operation + input) as JSON, to tell a repeat from a different command under the same key */
  readonly request: string;
  /** the first result as JSON */
  readonly result: string;
}

export interface Mark {
  readonly pair: string;
  readonly price: string;
  readonly ts: number;
}

/** What a transaction of the ledger may read and write. */
export interface LedgerTx {
  sequence(): number;
  cash(currency: string): string | undefined;
  setCash(currency: string, amount: string): void;
  position(id: string): PositionRow | undefined;
  putPosition(p: PositionRow): void;
  deletePosition(id: string): void;
  /** ids of the stored positions of `pair` */
  positionIdsOfPair(pair: string): string[];
  totals(currency: string): TotalsRow | undefined;
  putTotals(t: TotalsRow): void;
  addClosedTrade(t: ClosedTradeRow): void;
  /** records a fill; false when a fill with this id is already stored */
  addFill(f: FillRow, seq: number): boolean;
  mark(pair: string): Mark | undefined;
  /** keeps the newer of the stored mark and this one */
  putMark(m: Mark): void;
  idempotency(key: string): IdempotencyRow | undefined;
  putIdempotency(row: IdempotencyRow): void;
  /** appends the audit row and sets the sequence number to its `seq` (which must be sequence() + 1) */
  appendAudit(row: AuditRow): void;
}

/** Everything the ledger holds, loaded at once (recovery, `status`, `audit verify`). */
export interface LedgerSnapshot {
  readonly sequence: number;
  /** ts of the last audit row, null when the ledger is empty */
  readonly updatedAt: number | null;
  readonly cash: readonly { currency: string; amount: string }[];
  readonly positions: readonly PositionRow[];
  readonly totals: readonly TotalsRow[];
  readonly closedTrades: readonly ClosedTradeRow[];
  readonly marks: readonly Mark[];
}

export interface LedgerStore {
  /** runs `fn` in one write transaction (BEGIN IMMEDIATE): all of it is committed, or none of it. Nests. */
  write<T>(fn: (tx: LedgerTx) => T): T;
  /** a consistent read of everything */
  snapshot(): LedgerSnapshot;
  /** audit rows in sequence order */
  audit(): Iterable<AuditRow>;
  setMark(m: Mark): void;
}

/**
 * A holding on the venue that the bot did not buy (issue 16): captured by reconciliation as the venue's balance
 * of an asset above what the bot's positions hold, `origin: external, managed: false`. It is never sold by an
 * exit and is not part of the bot's equity or exposure; `tollgate manage` adopts some of it into a bot position,
 * `tollgate unmanage` releases bot quantity back to it. Quantities are exact decimal strings.
 */
export interface ExternalHoldingRow {
  /** the common asset code (BTC, ETH, …) */
  readonly asset: string;
  readonly quantity: string;
  readonly origin: 'external';
  readonly managed: false;
  /** epoch ms of the last change */
  readonly updatedTs: number;
  /** why it has this figure: the reconciliation or operator command that set it */
  readonly detail: string;
}

/** Where external holdings are kept (the state store; written inside the ledger's transaction when a command moves quantity). */
export interface HoldingsStore {
  /** every asset with a record, by asset code */
  externalHoldings(): ExternalHoldingRow[];
  putExternalHolding(row: ExternalHoldingRow): void;
}
