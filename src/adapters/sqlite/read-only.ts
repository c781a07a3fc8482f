/**
 * A read-only view of a state database for readers beside the bot (the dashboard): opened with SQLite's
 * read-only flag, never migrated, every query in one read transaction so the numbers agree with each other.
 * A bot writing the same file at the same time is fine (WAL readers do not block the writer).
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { StateDbError } from './errors.ts';
import { schemaVersion } from './open.ts';

export interface StateView {
  readonly file: string;
  readonly schemaVersion: number;
  readonly sequence: number;
  readonly updatedAt: number | null;
  readonly cash: Array<{ currency: string; amount: string }>;
  readonly totals: Array<{ currency: string; realized: string; fees: string }>;
  readonly openPositions: Array<{ id: string; strategy: string; pair: string; quote: string; quantity: string; entryCost: string; openedTs: number }>;
  readonly closedTrades: number;
  readonly marks: Array<{ pair: string; price: string; ts: number }>;
  readonly openSignals: number;
  /** the latest orders, newest first */
  readonly orders: Array<{ clientOrderId: string; pair: string; side: string; type: string; quantity: string; limitPrice: string | null; purpose: string; status: string; filledQuantity: string; updatedTs: number }>;
  readonly auditTail: Array<{ seq: number; ts: number; operation: string; actor: string; reason: string | null }>;
}

export class ReadOnlyState {
  private constructor(private readonly db: Database.Database, readonly file: string) {}

  static open(file: string): ReadOnlyState {
    if (!existsSync(file)) throw new StateDbError('missing', file, 'no such state file');
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('query_only = ON');
      return new ReadOnlyState(db, file);
    } catch (e) {
      throw new StateDbError('io', file, `cannot open it read-only (${(e as Error).message})`);
    }
  }

  view(auditRows = 20, orderRows = 50): StateView {
    const db = this.db;
    return db.transaction(() => {
      const head = db.prepare('SELECT seq, updated_at AS updatedAt FROM ledger_head WHERE id = 1').get() as { seq: number; updatedAt: number | null } | undefined;
      const has = (t: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
      return {
        file: this.file,
        schemaVersion: schemaVersion(db),
        sequence: head?.seq ?? 0,
        updatedAt: head?.updatedAt ?? null,
        cash: db.prepare('SELECT currency, amount FROM cash ORDER BY currency').all() as StateView['cash'],
        totals: db.prepare('SELECT currency, realized, fees FROM totals ORDER BY currency').all() as StateView['totals'],
        openPositions: db.prepare("SELECT id, strategy, pair, quote, quantity, entry_cost AS entryCost, opened_ts AS openedTs FROM positions WHERE CAST(quantity AS REAL) != 0 ORDER BY opened_ts").all() as StateView['openPositions'],
        closedTrades: (db.prepare('SELECT count(*) FROM closed_trades').pluck().get() as number) ?? 0,
        marks: db.prepare('SELECT pair, price, ts FROM marks ORDER BY pair').all() as StateView['marks'],
        openSignals: has('signals') ? ((db.prepare('SELECT count(*) FROM signals WHERE terminal = 0').pluck().get() as number) ?? 0) : 0,
        orders: has('orders') && has('order_intents')
          ? (db.prepare(`SELECT o.client_order_id AS clientOrderId, i.pair, i.side, i.type, i.quantity, i.limit_price AS limitPrice, i.purpose, o.status,
              o.filled_quantity AS filledQuantity, o.updated_ts AS updatedTs FROM orders o JOIN order_intents i ON i.client_order_id = o.client_order_id
              ORDER BY o.updated_ts DESC LIMIT ?`).all(orderRows) as StateView['orders'])
          : [],
        auditTail: (db.prepare('SELECT seq, ts, operation, actor, reason FROM audit ORDER BY seq DESC LIMIT ?').all(auditRows) as StateView['auditTail']).reverse(),
      };
    }).deferred();
  }

  close(): void {
    this.db.close();
  }
}
