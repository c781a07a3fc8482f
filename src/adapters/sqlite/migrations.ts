/**
 * Versioned schema migrations, run in order at start-up inside one write transaction each. A migration is
 * never edited once released: a change is a new entry at the end. `meta.schema_version` records the last one
 * applied; a file whose version is higher than the last one here was written by a newer Tollgate.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /**
   * The release before this migration (which knows up to `version - 1`) still runs correctly on the migrated
   * file: the change is additive (a new table or index the older code never reads or needs). Such a file records
   * `meta.readable_from`, so a rollback to that release opens it without restoring a backup.
   */
  readonly compatible?: true;
}

export const APP_ID = 'tollgate';
/** SQLite header application_id ("Toll"), so `file` and other tools recognise a state file */
export const SQLITE_APPLICATION_ID = 0x546f6c6c;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger: cash, positions, totals, closed trades, fills, marks, audit log, idempotency keys',
    sql: `
      CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, updated_at INTEGER);
      INSERT INTO ledger_head (id, seq, updated_at) VALUES (1, 0, NULL);
      CREATE TABLE cash (currency TEXT PRIMARY KEY, amount TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE positions (
        id TEXT PRIMARY KEY, signal_id TEXT, strategy TEXT NOT NULL, pair TEXT NOT NULL, quote TEXT NOT NULL,
        quantity TEXT NOT NULL, entry_cost TEXT NOT NULL, entry_quantity TEXT NOT NULL, entry_fees TEXT NOT NULL,
        exit_proceeds TEXT NOT NULL, exit_quantity TEXT NOT NULL, exit_fees TEXT NOT NULL,
        opened_ts INTEGER NOT NULL, exit_reason TEXT
      ) WITHOUT ROWID;
      CREATE INDEX positions_pair ON positions (pair);
      CREATE TABLE totals (currency TEXT PRIMARY KEY, realized TEXT NOT NULL, fees TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE closed_trades (
        id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, position_id TEXT NOT NULL, signal_id TEXT,
        strategy TEXT NOT NULL, pair TEXT NOT NULL, quantity TEXT NOT NULL, entry_ts INTEGER NOT NULL,
        entry_price TEXT NOT NULL, exit_ts INTEGER NOT NULL, exit_price TEXT NOT NULL, exit_reason TEXT NOT NULL,
        fees TEXT NOT NULL, pnl TEXT NOT NULL
      );
      CREATE TABLE fills (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL, signal_id TEXT NOT NULL, pair TEXT NOT NULL, side TEXT NOT NULL,
        quantity TEXT NOT NULL, price TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL, purpose TEXT NOT NULL,
        ts_event INTEGER NOT NULL, ts_init INTEGER NOT NULL, seq INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX fills_signal ON fills (signal_id);
      CREATE TABLE marks (pair TEXT PRIMARY KEY, price TEXT NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, operation TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT,
        idempotency_key TEXT, input TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL
      );
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, seq INTEGER NOT NULL, operation TEXT NOT NULL, request TEXT NOT NULL, result TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'bot state: signals with lifecycle snapshots, order intents and orders, shadow positions, guard state',
    sql: `
      CREATE TABLE signals (
        id TEXT PRIMARY KEY, strategy TEXT NOT NULL, pair TEXT NOT NULL, side TEXT NOT NULL, state TEXT NOT NULL,
        terminal INTEGER NOT NULL DEFAULT 0, signal TEXT NOT NULL, snapshot TEXT NOT NULL, deadline_ts INTEGER,
        updated_ts INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX signals_open ON signals (terminal) WHERE terminal = 0;
      CREATE TABLE order_intents (
        id TEXT PRIMARY KEY, signal_id TEXT NOT NULL, client_order_id TEXT NOT NULL UNIQUE, pair TEXT NOT NULL,
        side TEXT NOT NULL, type TEXT NOT NULL, quantity TEXT NOT NULL, limit_price TEXT, purpose TEXT NOT NULL,
        exit_reason TEXT, deadline_ts INTEGER, ts_event INTEGER NOT NULL, ts_init INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX order_intents_signal ON order_intents (signal_id);
      CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY REFERENCES order_intents (client_order_id), venue_order_id TEXT,
        status TEXT NOT NULL, filled_quantity TEXT NOT NULL DEFAULT '0', detail TEXT, updated_ts INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE shadow_positions (
        signal_id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL, updated_ts INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE guard_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ts INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'replay checkpoint: how far a resumable replay got, and the log sizes that match it',
    sql: `
      CREATE TABLE replay_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1), run_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
        candles_done INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0, log_offsets TEXT NOT NULL, updated_ts INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'webhook intake: accepted alerts, written before the reply, with their first answer and their verdict',
    sql: `
      CREATE TABLE webhook_intake (
        signal_id TEXT PRIMARY KEY, dedup_key TEXT NOT NULL, body_hash TEXT NOT NULL, source TEXT NOT NULL,
        received_ts INTEGER NOT NULL, signal TEXT NOT NULL, reply TEXT NOT NULL, status TEXT NOT NULL,
        state TEXT, decision TEXT, blocked_by TEXT, detail TEXT, updated_ts INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX webhook_intake_dedup ON webhook_intake (dedup_key, received_ts);
      CREATE INDEX webhook_intake_pending ON webhook_intake (status) WHERE status = 'accepted';
    `,
  },
  {
    version: 5,
    name: 'external holdings: venue balances the bot did not buy (origin external, not managed), per asset',
    compatible: true, // a new table only: release 4 never reads it (reconciliation records it afresh after a rollback and return)
    sql: `
      CREATE TABLE IF NOT EXISTS external_holdings (
        asset TEXT PRIMARY KEY, quantity TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'external' CHECK (origin = 'external'),
        managed INTEGER NOT NULL DEFAULT 0 CHECK (managed = 0), updated_ts INTEGER NOT NULL, detail TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version;

/** The oldest schema version whose release can run on a file migrated to `version`: compatible migrations chain down. */
export function readableFrom(version: number, migrations: readonly Migration[] = MIGRATIONS): number {
  let v = version;
  while (v > 0 && migrations.find((m) => m.version === v)?.compatible) v -= 1;
  return v;
}
