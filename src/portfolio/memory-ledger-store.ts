/**
 * An in-memory LedgerStore: the empty ledger `audit verify` re-applies the log to, and the store of the
 * ledger's unit tests. Writes are transactional (an undo log rolls back a failed operation).
 */
import type { AuditRow, ClosedTradeRow, FillRow, IdempotencyRow, LedgerSnapshot, LedgerStore, LedgerTx, Mark, PositionRow, TotalsRow } from '../ports/ledger.ts';

const byKey = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

export class MemoryLedgerStore implements LedgerStore {
  private seq = 0;
  private readonly cash = new Map<string, string>();
  private readonly positions = new Map<string, PositionRow>();
  private readonly totals = new Map<string, TotalsRow>();
  private readonly closed: ClosedTradeRow[] = [];
  private readonly fills = new Map<string, FillRow>();
  private readonly marks = new Map<string, Mark>();
  private readonly keys = new Map<string, IdempotencyRow>();
  private readonly log: AuditRow[] = [];
  private undo: Array<() => void> | null = null;

  private set<T>(m: Map<string, T>, k: string, v: T | undefined): void {
    const old = m.get(k);
    this.undo?.push(() => (old === undefined ? m.delete(k) : m.set(k, old)));
    if (v === undefined) m.delete(k);
    else m.set(k, v);
  }

  private readonly tx: LedgerTx = {
    sequence: () => this.seq,
    cash: (c) => this.cash.get(c),
    setCash: (c, a) => this.set(this.cash, c, a),
    position: (id) => this.positions.get(id),
    putPosition: (p) => this.set(this.positions, p.id, p),
    deletePosition: (id) => this.set(this.positions, id, undefined),
    positionIdsOfPair: (pair) => [...this.positions.values()].filter((p) => p.pair === pair).map((p) => p.id),
    totals: (c) => this.totals.get(c),
    putTotals: (t) => this.set(this.totals, t.currency, t),
    addClosedTrade: (t) => {
      this.closed.push(t);
      this.undo?.push(() => this.closed.pop());
    },
    addFill: (f) => {
      if (this.fills.has(f.id)) return false;
      this.set(this.fills, f.id, f);
      return true;
    },
    mark: (pair) => this.marks.get(pair),
    putMark: (m) => {
      const old = this.marks.get(m.pair);
      if (!old || old.ts <= m.ts) this.set(this.marks, m.pair, m);
    },
    idempotency: (k) => this.keys.get(k),
    putIdempotency: (r) => this.set(this.keys, r.key, r),
    appendAudit: (row) => {
      if (row.seq !== this.seq + 1) throw new Error(`audit row ${row.seq} does not follow sequence ${this.seq}`);
      const prev = this.seq;
      this.log.push(row);
      this.seq = row.seq;
      this.undo?.push(() => {
        this.log.pop();
        this.seq = prev;
      });
    },
  };

  write<T>(fn: (tx: LedgerTx) => T): T {
    if (this.undo) return fn(this.tx); // nested: part of the outer transaction
    this.undo = [];
    try {
      const r = fn(this.tx);
      this.undo = null;
      return r;
    } catch (e) {
      const undo = this.undo ?? [];
      this.undo = null;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw e;
    }
  }

  snapshot(): LedgerSnapshot {
    return {
      sequence: this.seq,
      updatedAt: this.log.at(-1)?.ts ?? null,
      cash: [...this.cash.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, amount]) => ({ currency, amount })),
      positions: byKey(this.positions),
      totals: byKey(this.totals),
      closedTrades: [...this.closed],
      marks: byKey(this.marks),
    };
  }

  audit(): Iterable<AuditRow> {
    return this.log;
  }

  setMark(m: Mark): void {
    this.write((tx) => tx.putMark(m));
  }
}
