/**
 * The PostgreSQL state store: the same ports and records as the SQLite state (../sqlite/state-store.ts), the
 * same method for method, on a PostgreSQL database named by a `postgres://` URL. The ports are synchronous, so
 * every call goes through SyncPg (a worker thread owns the `pg` client; this thread blocks until it answers).
 *
 * Transactions, as in SQLite: `write(fn)` is BEGIN … COMMIT on the one connection, ROLLBACK when fn throws;
 * a write inside a write is a SAVEPOINT (a failing inner write rolls back to it and throws, as better-sqlite3's
 * nested transactions do). BEGIN IMMEDIATE's one-writer-at-a-time is a transaction-level advisory lock taken
 * first thing, so the read-modify-writes of the ledger (sequence number, cash) never interleave between
 * processes; `lock_timeout` bounds the wait like SQLite's busy timeout. Reads outside a write are one
 * statement each (autocommit); `snapshot()` is one REPEATABLE READ transaction.
 */
import { FINAL_ORDER_STATUSES, moveStoredOrder, WORKING_ORDER_STATUSES, type OrderStatus } from '../../domain/order-status.ts';
import type { IntakeRow as IntakeRecord } from '../../ports/intake.ts';
import type { AuditRow, ClosedTradeRow, FillRow, IdempotencyRow, LedgerSnapshot, LedgerStore, LedgerTx, Mark, PositionRow, TotalsRow } from '../../ports/ledger.ts';
import type { OrderIntentRecord, OrderRecord, OrderStore } from '../../ports/orders.ts';
import type { SignalRecord } from '../../ports/store.ts';
import { APP_ID } from '../sqlite/migrations.ts';
import { StateDbError } from '../sqlite/errors.ts';
import type { ReplayCheckpoint, SqliteStateStore } from '../sqlite/state-store.ts';
import { classifyPgError, redactUrl } from './errors.ts';
import { PG_LATEST_VERSION, PG_MIGRATIONS } from './migrations.ts';
import { SyncPg, type PgStep, type SyncPgOptions } from './sync-bridge.ts';

/** What the SQLite state offers that a PostgreSQL state offers too (not: its file handle, backup API, pragmas). */
export type StateStoreSurface = Omit<Pick<SqliteStateStore, keyof SqliteStateStore>, 'db' | 'backup' | 'health'>;

/** advisory lock keys: 'Toll' in the high half; the one-bigint form is the writers' lock, (int, int) the leases */
export const WRITE_LOCK_KEY = '6084788347584757761'; // 0x546f6c6c00000001
const MIGRATE_LOCK_KEY = '6084788347584757762'; // 0x546f6c6c00000002

const POSITION_COLS = `id, signal_id AS "signalId", strategy, pair, quote, quantity, entry_cost AS "entryCost", entry_quantity AS "entryQuantity",
  entry_fees AS "entryFees", exit_proceeds AS "exitProceeds", exit_quantity AS "exitQuantity", exit_fees AS "exitFees", opened_ts AS "openedTs", exit_reason AS "exitReason"`;
const CLOSED_COLS = `seq, position_id AS "positionId", signal_id AS "signalId", strategy, pair, quantity, entry_ts AS "entryTs", entry_price AS "entryPrice",
  exit_ts AS "exitTs", exit_price AS "exitPrice", exit_reason AS "exitReason", fees, pnl`;
const AUDIT_COLS = 'seq, ts, operation, actor, reason, idempotency_key AS "idempotencyKey", input, before, after';
const INTENT_COLS = `i.id, i.signal_id AS "signalId", i.client_order_id AS "clientOrderId", i.pair, i.side, i.type, i.quantity, i.limit_price AS "limitPrice",
  i.purpose, i.exit_reason AS "exitReason", i.deadline_ts AS "deadlineTs", i.ts_event AS "tsEvent", i.ts_init AS "tsInit"`;
const SIGNAL_COLS = 'id, strategy, pair, side, state, terminal, signal, snapshot, deadline_ts AS "deadlineTs", updated_ts AS "updatedTs"';
const ORDER_COLS = 'client_order_id AS "clientOrderId", venue_order_id AS "venueOrderId", status, filled_quantity AS "filledQuantity", detail, updated_ts AS "updatedTs"';
const INTAKE_COLS = `signal_id AS "signalId", dedup_key AS "dedupKey", body_hash AS "bodyHash", source, received_ts AS "receivedTs", signal, reply, status,
  state, decision, blocked_by AS "blockedBy", detail, updated_ts AS "updatedTs"`;
/** text ordering as SQLite's (bytewise), whatever the database's collation */
const C = 'COLLATE "C"';

/** `@name` parameters (as the SQLite statements are written) to PostgreSQL's `$n`, compiled once per statement */
const compiled = new Map<string, { text: string; names: string[] }>();
function named(sql: string, values: Record<string, unknown>): PgStep {
  let c = compiled.get(sql);
  if (!c) {
    const names: string[] = [];
    const text = sql.replace(/@(\w+)/g, (_m, n: string) => {
      let i = names.indexOf(n);
      if (i < 0) i = names.push(n) - 1;
      return `$${i + 1}`;
    });
    compiled.set(sql, (c = { text, names }));
  }
  return { sql: c.text, params: c.names.map((n) => (values[n] === undefined ? null : values[n])) };
}
/** `$k, $k+1, …` for binding a status list to `status IN (…)` */
const list = (from: number, xs: readonly unknown[]) => xs.map((_x, i) => `$${from + i}`).join(', ');

export interface PgOpenOptions extends SyncPgOptions {
  /** refuse a database without the Tollgate schema (read commands: a mistyped URL is an error, not a new empty ledger) */
  readonly mustExist?: boolean;
}

export class PgStateStore implements LedgerStore, OrderStore, StateStoreSurface {
  private readonly pg: SyncPg;
  private depth = 0;
  private readonly tx: LedgerTx;
  /** the URL without its password: for messages */
  readonly file: string;

  /** Opens (creating the schema and migrating if needed) the state at `url`; throws StateDbError naming the problem. */
  static open(url: string, o: PgOpenOptions = {}): PgStateStore {
    const pg = new SyncPg(url, o);
    const where = redactUrl(url);
    try {
      const migrated = migratePg(pg, where, o.mustExist ?? false);
      return new PgStateStore(pg, where, migrated);
    } catch (e) {
      pg.close();
      throw classifyPgError(e, where);
    }
  }

  private constructor(pg: SyncPg, where: string, readonly migrated: readonly number[]) {
    this.pg = pg;
    this.file = where;
    const one = <R>(sql: string, params: unknown[]) => this.q<R>(sql, params)[0];
    this.tx = {
      sequence: () => one<{ seq: number }>('SELECT seq FROM ledger_head WHERE id = 1', [])!.seq,
      cash: (c) => one<{ amount: string }>('SELECT amount FROM cash WHERE currency = $1', [c])?.amount,
      setCash: (c, a) => void this.q('INSERT INTO cash (currency, amount) VALUES ($1, $2) ON CONFLICT (currency) DO UPDATE SET amount = excluded.amount', [c, a]),
      position: (id) => one<PositionRow>(`SELECT ${POSITION_COLS} FROM positions WHERE id = $1`, [id]),
      putPosition: (row) => void this.n(`INSERT INTO positions (id, signal_id, strategy, pair, quote, quantity, entry_cost, entry_quantity, entry_fees,
        exit_proceeds, exit_quantity, exit_fees, opened_ts, exit_reason) VALUES (@id, @signalId, @strategy, @pair, @quote, @quantity, @entryCost,
        @entryQuantity, @entryFees, @exitProceeds, @exitQuantity, @exitFees, @openedTs, @exitReason)
        ON CONFLICT (id) DO UPDATE SET signal_id = excluded.signal_id, strategy = excluded.strategy, pair = excluded.pair, quote = excluded.quote,
        quantity = excluded.quantity, entry_cost = excluded.entry_cost, entry_quantity = excluded.entry_quantity, entry_fees = excluded.entry_fees,
        exit_proceeds = excluded.exit_proceeds, exit_quantity = excluded.exit_quantity, exit_fees = excluded.exit_fees, opened_ts = excluded.opened_ts,
        exit_reason = excluded.exit_reason`, row),
      deletePosition: (id) => void this.q('DELETE FROM positions WHERE id = $1', [id]),
      positionIdsOfPair: (pair) => this.q<{ id: string }>('SELECT id FROM positions WHERE pair = $1', [pair]).map((r) => r.id),
      totals: (c) => one<TotalsRow>('SELECT currency, realized, fees FROM totals WHERE currency = $1', [c]),
      putTotals: (t) => void this.n(`INSERT INTO totals (currency, realized, fees) VALUES (@currency, @realized, @fees)
        ON CONFLICT (currency) DO UPDATE SET realized = excluded.realized, fees = excluded.fees`, t),
      addClosedTrade: (t) => void this.n(`INSERT INTO closed_trades (seq, position_id, signal_id, strategy, pair, quantity, entry_ts, entry_price, exit_ts, exit_price, exit_reason, fees, pnl)
        VALUES (@seq, @positionId, @signalId, @strategy, @pair, @quantity, @entryTs, @entryPrice, @exitTs, @exitPrice, @exitReason, @fees, @pnl)`, t),
      addFill: (f, seq) => this.nRun(`INSERT INTO fills (id, order_id, signal_id, pair, side, quantity, price, fee, liquidity, purpose, ts_event, ts_init, seq)
        VALUES (@id, @orderId, @signalId, @pair, @side, @quantity, @price, @fee, @liquidity, @purpose, @tsEvent, @tsInit, @seq) ON CONFLICT (id) DO NOTHING`, { ...f, seq }) === 1,
      mark: (pair) => one<Mark>('SELECT pair, price, ts FROM marks WHERE pair = $1', [pair]),
      putMark: (m) => void this.n(`INSERT INTO marks (pair, price, ts) VALUES (@pair, @price, @ts)
        ON CONFLICT (pair) DO UPDATE SET price = excluded.price, ts = excluded.ts WHERE excluded.ts >= marks.ts`, m),
      idempotency: (k) => one<IdempotencyRow>('SELECT key, seq, operation, request, result FROM idempotency WHERE key = $1', [k]),
      putIdempotency: (r) => void this.n('INSERT INTO idempotency (key, seq, operation, request, result) VALUES (@key, @seq, @operation, @request, @result)', r),
      appendAudit: (row) => {
        const [head] = this.pg.run([
          named('UPDATE ledger_head SET seq = @seq, updated_at = @ts WHERE id = 1 AND seq = @seq - 1', { seq: row.seq, ts: row.ts }),
        ]);
        if (head!.rowCount !== 1) throw new Error(`audit row ${row.seq} does not follow the stored sequence`);
        this.n(`INSERT INTO audit (seq, ts, operation, actor, reason, idempotency_key, input, before, after)
          VALUES (@seq, @ts, @operation, @actor, @reason, @idempotencyKey, @input, @before, @after)`, row);
      },
    };
  }

  // ---- plumbing ----------------------------------------------------------------------------------------

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw classifyPgError(e, this.file);
    }
  }

  private q<R>(sql: string, params: readonly unknown[] = []): R[] {
    return this.pg.query<R>(sql, params).rows;
  }

  private n(sql: string, values: object): void {
    this.pg.run([named(sql, values as Record<string, unknown>)]);
  }

  private nRun(sql: string, values: object): number {
    return this.pg.run([named(sql, values as Record<string, unknown>)])[0]!.rowCount;
  }

  /** one read (autocommit, or inside the surrounding write), errors classified */
  private read<R>(sql: string, params: readonly unknown[] = []): R[] {
    return this.guard(() => this.q<R>(sql, params));
  }

  // ---- LedgerStore ------------------------------------------------------------------------------------

  write<T>(fn: (tx: LedgerTx) => T): T {
    const level = this.depth;
    if (level === 0) {
      this.pg.defer('BEGIN');
      this.pg.defer(`SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
    } else {
      this.pg.defer(`SAVEPOINT tg_${level}`);
    }
    this.depth++;
    let result: T;
    try {
      result = fn(this.tx);
    } catch (e) {
      this.depth = level;
      if (level === 0) this.rollback();
      else {
        this.pg.defer(`ROLLBACK TO SAVEPOINT tg_${level}`);
        this.pg.defer(`RELEASE SAVEPOINT tg_${level}`);
      }
      throw classifyPgError(e, this.file);
    }
    this.depth = level;
    if (level > 0) {
      this.pg.defer(`RELEASE SAVEPOINT tg_${level}`);
      return result;
    }
    try {
      this.pg.query('COMMIT');
    } catch (e) {
      this.rollback();
      throw classifyPgError(e, this.file);
    }
    return result;
  }

  private rollback(): void {
    try {
      this.pg.query('ROLLBACK');
    } catch {
      /* the connection is gone: PostgreSQL rolls the transaction back itself */
    }
  }

  snapshot(): LedgerSnapshot {
    return this.guard(() => {
      const inWrite = this.depth > 0;
      const steps: PgStep[] = [
        { sql: 'SELECT seq, updated_at AS "updatedAt" FROM ledger_head WHERE id = 1' },
        { sql: `SELECT currency, amount FROM cash ORDER BY currency ${C}` },
        { sql: `SELECT ${POSITION_COLS} FROM positions ORDER BY id ${C}` },
        { sql: `SELECT currency, realized, fees FROM totals ORDER BY currency ${C}` },
        { sql: `SELECT ${CLOSED_COLS} FROM closed_trades ORDER BY id` },
        { sql: `SELECT pair, price, ts FROM marks ORDER BY pair ${C}` },
      ];
      const r = this.pg.run(inWrite ? steps : [{ sql: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' }, ...steps, { sql: 'COMMIT' }]).slice(inWrite ? 0 : 1);
      const head = r[0]!.rows[0] as { seq: number; updatedAt: number | null };
      return {
        sequence: head.seq,
        updatedAt: head.updatedAt,
        cash: r[1]!.rows as { currency: string; amount: string }[],
        positions: r[2]!.rows as unknown as PositionRow[],
        totals: r[3]!.rows as unknown as TotalsRow[],
        closedTrades: r[4]!.rows as unknown as ClosedTradeRow[],
        marks: r[5]!.rows as unknown as Mark[],
      };
    });
  }

  audit(): Iterable<AuditRow> {
    return this.read<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit ORDER BY seq`);
  }

  setMark(m: Mark): void {
    this.write((tx) => tx.putMark(m));
  }

  fills(signalId: string): FillRow[] {
    return this.read<FillRow>(`SELECT id, order_id AS "orderId", signal_id AS "signalId", pair, side, quantity, price, fee, liquidity, purpose,
      ts_event AS "tsEvent", ts_init AS "tsInit" FROM fills WHERE signal_id = $1 ORDER BY seq`, [signalId]);
  }

  // ---- bot state (signals, orders, shadow positions, guard state) ---------------------------------------

  saveSignal(s: SignalRecord): void {
    this.write(() => this.n(`INSERT INTO signals (id, strategy, pair, side, state, terminal, signal, snapshot, deadline_ts, updated_ts)
      VALUES (@id, @strategy, @pair, @side, @state, @terminal, @signal, @snapshot, @deadlineTs, @updatedTs)
      ON CONFLICT (id) DO UPDATE SET strategy = excluded.strategy, pair = excluded.pair, side = excluded.side, state = excluded.state,
      terminal = excluded.terminal, signal = excluded.signal, snapshot = excluded.snapshot, deadline_ts = excluded.deadline_ts, updated_ts = excluded.updated_ts`, s));
  }

  openSignals(): SignalRecord[] {
    return this.read<SignalRecord>(`SELECT ${SIGNAL_COLS} FROM signals WHERE NOT terminal ORDER BY updated_ts, id ${C}`);
  }

  signal(id: string): SignalRecord | undefined {
    return this.read<SignalRecord>(`SELECT ${SIGNAL_COLS} FROM signals WHERE id = $1`, [id])[0];
  }

  saveOrderIntent(o: OrderIntentRecord): void {
    this.write(() => this.n(`INSERT INTO order_intents (id, signal_id, client_order_id, pair, side, type, quantity, limit_price, purpose, exit_reason, deadline_ts, ts_event, ts_init)
      VALUES (@id, @signalId, @clientOrderId, @pair, @side, @type, @quantity, @limitPrice, @purpose, @exitReason, @deadlineTs, @tsEvent, @tsInit)`, o));
  }

  orderIntentByClientId(clientOrderId: string): OrderIntentRecord | undefined {
    return this.read<OrderIntentRecord>(`SELECT ${INTENT_COLS} FROM order_intents i WHERE i.client_order_id = $1`, [clientOrderId])[0];
  }

  saveOrder(o: Omit<OrderRecord, 'status'> & { readonly status: string }): void {
    this.write(() => this.n(`INSERT INTO orders (client_order_id, venue_order_id, status, filled_quantity, detail, updated_ts)
      VALUES (@clientOrderId, @venueOrderId, @status, @filledQuantity, @detail, @updatedTs)
      ON CONFLICT (client_order_id) DO UPDATE SET venue_order_id = excluded.venue_order_id, status = excluded.status,
      filled_quantity = excluded.filled_quantity, detail = excluded.detail, updated_ts = excluded.updated_ts`, o));
  }

  moveOrder(o: OrderRecord): OrderStatus {
    return moveStoredOrder<OrderRecord>(this, o);
  }

  order(clientOrderId: string): OrderRecord | undefined {
    return this.read<OrderRecord>(`SELECT ${ORDER_COLS} FROM orders WHERE client_order_id = $1`, [clientOrderId])[0];
  }

  unresolvedOrderIntents(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }> {
    return this.read(`SELECT ${INTENT_COLS}, o.status FROM order_intents i LEFT JOIN orders o ON o.client_order_id = i.client_order_id
      WHERE o.status IS NULL OR o.status NOT IN (${list(1, FINAL_ORDER_STATUSES)}) ORDER BY i.ts_init, i.id ${C}`, FINAL_ORDER_STATUSES);
  }

  orderIntentsWithStatus(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }> {
    return this.read(`SELECT ${INTENT_COLS}, o.status FROM order_intents i LEFT JOIN orders o ON o.client_order_id = i.client_order_id
      ORDER BY i.ts_init, i.id ${C}`);
  }

  fillIds(): Set<string> {
    return new Set(this.read<{ id: string }>('SELECT id FROM fills').map((r) => r.id));
  }

  workingOrderIds(purpose: 'entry' | 'exit'): string[] {
    return this.read<{ id: string }>(`SELECT i.client_order_id AS id FROM order_intents i JOIN orders o ON o.client_order_id = i.client_order_id
      WHERE i.purpose = $1 AND o.status IN (${list(2, WORKING_ORDER_STATUSES)}) ORDER BY i.ts_init, i.id ${C}`, [purpose, ...WORKING_ORDER_STATUSES]).map((r) => r.id);
  }

  saveShadowPosition(signalId: string, status: string, data: unknown, ts: number): void {
    this.write(() => this.q(`INSERT INTO shadow_positions (signal_id, status, data, updated_ts) VALUES ($1, $2, $3, $4)
      ON CONFLICT (signal_id) DO UPDATE SET status = excluded.status, data = excluded.data, updated_ts = excluded.updated_ts`, [signalId, status, JSON.stringify(data), ts]));
  }

  shadowPositions(status?: string): Array<{ signalId: string; status: string; data: unknown }> {
    return this.read<{ signalId: string; status: string; data: string }>(
      `SELECT signal_id AS "signalId", status, data FROM shadow_positions ${status ? 'WHERE status = $1' : ''} ORDER BY signal_id ${C}`, status ? [status] : [],
    ).map((r) => ({ ...r, data: JSON.parse(r.data) as unknown }));
  }

  setGuardState(key: string, value: unknown, ts: number): void {
    this.write(() => this.q(`INSERT INTO guard_state (key, value, updated_ts) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ts = excluded.updated_ts`, [key, JSON.stringify(value), ts]));
  }

  /** one stored position, read without a write transaction (the durable order path's sell check) */
  positionRow(id: string): PositionRow | undefined {
    return this.read<PositionRow>(`SELECT ${POSITION_COLS} FROM positions WHERE id = $1`, [id])[0];
  }

  // ---- external holdings (the SQLite state's HoldingsStore; row types inline so this file follows that port) ---

  externalHoldings(): Array<{ asset: string; quantity: string; origin: 'external'; managed: false; updatedTs: number; detail: string }> {
    return this.read<{ asset: string; quantity: string; updatedTs: number; detail: string }>(
      `SELECT asset, quantity, updated_ts AS "updatedTs", detail FROM external_holdings ORDER BY asset ${C}`,
    ).map((r) => ({ ...r, origin: 'external' as const, managed: false as const }));
  }

  putExternalHolding(h: { readonly asset: string; readonly quantity: string; readonly updatedTs: number; readonly detail: string }): void {
    this.write(() => this.q(`INSERT INTO external_holdings (asset, quantity, origin, managed, updated_ts, detail) VALUES ($1, $2, 'external', false, $3, $4)
      ON CONFLICT (asset) DO UPDATE SET quantity = excluded.quantity, updated_ts = excluded.updated_ts, detail = excluded.detail`, [h.asset, h.quantity, h.updatedTs, h.detail]));
  }

  guardState<T = unknown>(key: string): T | undefined {
    const v = this.read<{ value: string }>('SELECT value FROM guard_state WHERE key = $1', [key])[0]?.value;
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  replayCheckpoint(): ReplayCheckpoint | undefined {
    const r = this.read<{ runId: string; fingerprint: string; candlesDone: number; finished: boolean; logOffsets: string; updatedTs: number }>(
      `SELECT run_id AS "runId", fingerprint, candles_done AS "candlesDone", finished, log_offsets AS "logOffsets", updated_ts AS "updatedTs" FROM replay_checkpoint WHERE id = 1`,
    )[0];
    return r ? { ...r, logOffsets: JSON.parse(r.logOffsets) as Record<string, number> } : undefined;
  }

  saveReplayCheckpoint(c: ReplayCheckpoint): void {
    this.write(() => this.n(`INSERT INTO replay_checkpoint (id, run_id, fingerprint, candles_done, finished, log_offsets, updated_ts)
      VALUES (1, @runId, @fingerprint, @candlesDone, @finished, @logOffsets, @updatedTs)
      ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, fingerprint = excluded.fingerprint, candles_done = excluded.candles_done,
      finished = excluded.finished, log_offsets = excluded.log_offsets, updated_ts = excluded.updated_ts`, { ...c, logOffsets: JSON.stringify(c.logOffsets) }));
  }

  signalCounts(): { open: number; total: number } {
    return this.read<{ open: number; total: number }>('SELECT count(*) FILTER (WHERE NOT terminal) AS open, count(*) AS total FROM signals')[0]!;
  }

  invariantViolation(): string | null {
    return this.guard(() => {
      const orphan = this.q<{ id: string }>(`SELECT p.id FROM positions p LEFT JOIN signals s ON s.id = p.signal_id
        WHERE p.signal_id IS NOT NULL AND (s.id IS NULL OR s.terminal) LIMIT 1`)[0]?.id;
      if (orphan) return `open position ${orphan} has no live signal`;
      const undecided = this.q<{ id: string }>(`SELECT o.client_order_id AS id FROM order_intents o LEFT JOIN signals s ON s.id = o.signal_id
        WHERE s.id IS NULL OR s.state IN ('received', 'validated', 'guarded', 'blocked', 'failed') LIMIT 1`)[0]?.id;
      if (undecided) return `order intent ${undecided} has no approved decision`;
      return null;
    });
  }

  // ---- webhook intake ----------------------------------------------------------------------------------

  intakeOnce(r: IntakeRecord, sinceTs: number): { readonly inserted: boolean; readonly record: IntakeRecord } {
    return this.write(() => {
      const found = this.q<IntakeRecord>(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE dedup_key = $1 AND received_ts >= $2 ORDER BY received_ts DESC LIMIT 1`, [r.dedupKey, sinceTs])[0];
      if (found) return { inserted: false, record: found };
      this.n(`INSERT INTO webhook_intake (signal_id, dedup_key, body_hash, source, received_ts, signal, reply, status, state, decision, blocked_by, detail, updated_ts)
        VALUES (@signalId, @dedupKey, @bodyHash, @source, @receivedTs, @signal, @reply, @status, @state, @decision, @blockedBy, @detail, @updatedTs)`, r);
      return { inserted: true, record: r };
    });
  }

  intake(signalId: string): IntakeRecord | undefined {
    return this.read<IntakeRecord>(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE signal_id = $1`, [signalId])[0];
  }

  pendingIntake(): IntakeRecord[] {
    return this.read<IntakeRecord>(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE status = 'accepted' ORDER BY received_ts, signal_id ${C}`);
  }

  recentIntake(limit: number): IntakeRecord[] {
    return this.read<IntakeRecord>(`SELECT ${INTAKE_COLS} FROM webhook_intake ORDER BY received_ts DESC, signal_id ${C} DESC LIMIT $1`, [limit]);
  }

  updateIntake(signalId: string, u: { status?: 'submitted'; state?: string; decision?: string; blockedBy?: readonly string[]; detail?: string | null }, ts: number): void {
    this.write(() => this.n(`UPDATE webhook_intake SET status = coalesce(@status, status), state = coalesce(@state, state), decision = coalesce(@decision, decision),
      blocked_by = coalesce(@blockedBy, blocked_by), detail = coalesce(@detail, detail), updated_ts = @ts WHERE signal_id = @signalId`, {
      signalId, ts, status: u.status ?? null, state: u.state ?? null, decision: u.decision ?? null,
      blockedBy: u.blockedBy ? JSON.stringify(u.blockedBy) : null, detail: u.detail ?? null,
    }));
  }

  // ---- operations --------------------------------------------------------------------------------------

  /** The schema version and the figures `tollgate db status` prints (PostgreSQL keeps its own integrity). */
  status(): { url: string; schemaVersion: number; latestVersion: number; sequence: number; auditRows: number; positions: number; openSignals: number } {
    const r = this.read<{ v: string; seq: number; audit: number; positions: number; open: number }>(`SELECT (SELECT value FROM meta WHERE key = 'schema_version') AS v,
      (SELECT seq FROM ledger_head WHERE id = 1) AS seq, (SELECT count(*) FROM audit) AS audit, (SELECT count(*) FROM positions) AS positions,
      (SELECT count(*) FROM signals WHERE NOT terminal) AS open`)[0]!;
    return { url: this.file, schemaVersion: Number(r.v), latestVersion: PG_LATEST_VERSION, sequence: r.seq, auditRows: r.audit, positions: r.positions, openSignals: r.open };
  }

  get isOpen(): boolean {
    return this.pg.isOpen;
  }

  close(): void {
    this.pg.close();
  }
}

/**
 * Checks the database before writing anything (another program's tables, a newer Tollgate's schema) and applies
 * the missing migrations, all in one transaction under an advisory lock (two processes starting at once: one
 * migrates, the other then finds the schema up to date).
 */
function migratePg(pg: SyncPg, where: string, mustExist: boolean): number[] {
  const [tables] = pg.run([{ sql: "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1" }]);
  const names = tables!.rows.map((r) => String(r.name));
  const readMeta = () => new Map(pg.query<{ key: string; value: string }>('SELECT key, value FROM meta').rows.map((r) => [r.key, r.value]));
  if (!names.includes('meta')) {
    if (names.length > 0) {
      throw new StateDbError('foreign', where, `is a PostgreSQL database of another program (tables: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}), not a Tollgate state; nothing was changed`);
    }
    if (mustExist) throw new StateDbError('missing', where, 'no Tollgate state in this database (a write command or `tollgate run --state URL` creates one)');
  } else {
    const meta = readMeta();
    if (meta.get('app_id') !== APP_ID) throw new StateDbError('foreign', where, `has a meta table but belongs to "${meta.get('app_id') ?? '?'}", not Tollgate; nothing was changed`);
    const v = Number(meta.get('schema_version'));
    if (v > PG_LATEST_VERSION) {
      throw new StateDbError('newer', where, `was migrated by a newer Tollgate (schema version ${v}; this version knows up to ${PG_LATEST_VERSION}); upgrade Tollgate, nothing was changed`);
    }
    if (v === PG_LATEST_VERSION) return []; // up to date: opening writes nothing
  }
  const applied: number[] = [];
  pg.run([{ sql: 'BEGIN' }, { sql: `SELECT pg_advisory_xact_lock(${MIGRATE_LOCK_KEY})` }]);
  try {
    pg.run([
      { sql: 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)' },
      { sql: "INSERT INTO meta (key, value) VALUES ('app_id', $1), ('schema_version', '0') ON CONFLICT (key) DO NOTHING", params: [APP_ID] },
    ]);
    const v = Number(readMeta().get('schema_version'));
    for (const m of PG_MIGRATIONS.filter((x) => x.version > v)) {
      pg.run([
        { sql: m.sql },
        { sql: "UPDATE meta SET value = $1 WHERE key = 'schema_version'", params: [String(m.version)] },
        { sql: 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', params: [`migration_${m.version}`, m.name] },
      ]);
      applied.push(m.version);
    }
    pg.query('COMMIT');
  } catch (e) {
    try {
      pg.query('ROLLBACK');
    } catch {
      /* gone */
    }
    throw e;
  }
  return applied;
}
