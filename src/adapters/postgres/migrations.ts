/**
 * The PostgreSQL schema: the SQLite migrations (../sqlite/migrations.ts) one for one, same versions, names,
 * tables and columns. Money, prices and quantities are TEXT holding the exact decimal strings, as in SQLite
 * (never float, and not NUMERIC either: the string that was written is the string that is read back); epoch
 * milliseconds and sequence numbers are BIGINT. A migration is never edited once released.
 */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'ledger: cash, positions, totals, closed trades, fills, marks, audit log, idempotency keys',
    sql: `
      CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, updated_at BIGINT);
      INSERT INTO ledger_head (id, seq, updated_at) VALUES (1, 0, NULL);
      CREATE TABLE cash (currency TEXT PRIMARY KEY, amount TEXT NOT NULL);
      CREATE TABLE positions (
        id TEXT PRIMARY KEY, signal_id TEXT, strategy TEXT NOT NULL, pair TEXT NOT NULL, quote TEXT NOT NULL,
        quantity TEXT NOT NULL, entry_cost TEXT NOT NULL, entry_quantity TEXT NOT NULL, entry_fees TEXT NOT NULL,
        exit_proceeds TEXT NOT NULL, exit_quantity TEXT NOT NULL, exit_fees TEXT NOT NULL,
        opened_ts BIGINT NOT NULL, exit_reason TEXT
      );
      CREATE INDEX positions_pair ON positions (pair);
      CREATE TABLE totals (currency TEXT PRIMARY KEY, realized TEXT NOT NULL, fees TEXT NOT NULL);
      CREATE TABLE closed_trades (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, seq BIGINT NOT NULL, position_id TEXT NOT NULL, signal_id TEXT,
        strategy TEXT NOT NULL, pair TEXT NOT NULL, quantity TEXT NOT NULL, entry_ts BIGINT NOT NULL,
        entry_price TEXT NOT NULL, exit_ts BIGINT NOT NULL, exit_price TEXT NOT NULL, exit_reason TEXT NOT NULL,
        fees TEXT NOT NULL, pnl TEXT NOT NULL
      );
      CREATE TABLE fills (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL, signal_id TEXT NOT NULL, pair TEXT NOT NULL, side TEXT NOT NULL,
        quantity TEXT NOT NULL, price TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL, purpose TEXT NOT NULL,
        ts_event BIGINT NOT NULL, ts_init BIGINT NOT NULL, seq BIGINT NOT NULL
      );
      CREATE INDEX fills_signal ON fills (signal_id);
      CREATE TABLE marks (pair TEXT PRIMARY KEY, price TEXT NOT NULL, ts BIGINT NOT NULL);
      CREATE TABLE audit (
        seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, operation TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT,
        idempotency_key TEXT, input TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL
      );
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, seq BIGINT NOT NULL, operation TEXT NOT NULL, request TEXT NOT NULL, result TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'bot state: signals with lifecycle snapshots, order intents and orders, shadow positions, guard state',
    sql: `
      CREATE TABLE signals (
        id TEXT PRIMARY KEY, strategy TEXT NOT NULL, pair TEXT NOT NULL, side TEXT NOT NULL, state TEXT NOT NULL,
        terminal BOOLEAN NOT NULL DEFAULT false, signal TEXT NOT NULL, snapshot TEXT NOT NULL, deadline_ts BIGINT,
        updated_ts BIGINT NOT NULL
      );
      CREATE INDEX signals_open ON signals (terminal) WHERE NOT terminal;
      CREATE TABLE order_intents (
        id TEXT PRIMARY KEY, signal_id TEXT NOT NULL, client_order_id TEXT NOT NULL UNIQUE, pair TEXT NOT NULL,
        side TEXT NOT NULL, type TEXT NOT NULL, quantity TEXT NOT NULL, limit_price TEXT, purpose TEXT NOT NULL,
        exit_reason TEXT, deadline_ts BIGINT, ts_event BIGINT NOT NULL, ts_init BIGINT NOT NULL
      );
      CREATE INDEX order_intents_signal ON order_intents (signal_id);
      CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY REFERENCES order_intents (client_order_id), venue_order_id TEXT,
        status TEXT NOT NULL, filled_quantity TEXT NOT NULL DEFAULT '0', detail TEXT, updated_ts BIGINT NOT NULL
      );
      CREATE TABLE shadow_positions (
        signal_id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL, updated_ts BIGINT NOT NULL
      );
      CREATE TABLE guard_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ts BIGINT NOT NULL);
    `,
  },
  {
    version: 3,
    name: 'replay checkpoint: how far a resumable replay got, and the log sizes that match it',
    sql: `
      CREATE TABLE replay_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1), run_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
        candles_done BIGINT NOT NULL, finished BOOLEAN NOT NULL DEFAULT false, log_offsets TEXT NOT NULL, updated_ts BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'webhook intake: accepted alerts, written before the reply, with their first answer and their verdict',
    sql: `
      CREATE TABLE webhook_intake (
        signal_id TEXT PRIMARY KEY, dedup_key TEXT NOT NULL, body_hash TEXT NOT NULL, source TEXT NOT NULL,
        received_ts BIGINT NOT NULL, signal TEXT NOT NULL, reply TEXT NOT NULL, status TEXT NOT NULL,
        state TEXT, decision TEXT, blocked_by TEXT, detail TEXT, updated_ts BIGINT NOT NULL
      );
      CREATE INDEX webhook_intake_dedup ON webhook_intake (dedup_key, received_ts);
      CREATE INDEX webhook_intake_pending ON webhook_intake (status) WHERE status = 'accepted';
    `,
  },
  {
    version: 5,
    name: 'external holdings: venue balances the bot did not buy (origin external, not managed), per asset',
    sql: `
      CREATE TABLE IF NOT EXISTS external_holdings (
        asset TEXT PRIMARY KEY, quantity TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'external' CHECK (origin = 'external'),
        managed BOOLEAN NOT NULL DEFAULT false CHECK (NOT managed), updated_ts BIGINT NOT NULL, detail TEXT NOT NULL
      );
    `,
  },
];

export const PG_LATEST_VERSION = PG_MIGRATIONS.at(-1)!.version;
