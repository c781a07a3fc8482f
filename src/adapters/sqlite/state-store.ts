/**
 * The SQLite state store: the LedgerStore port (cash, positions, sequence, audit log, idempotency keys) plus
 * the bot's durable records (signals with lifecycle snapshots, order intents and orders, shadow positions,
 * guard state), the online backup and a health report. One instance per process; several processes may
 * share the file: every write is a BEGIN IMMEDIATE transaction and waits up to the busy timeout for another.
 */
import Database from 'better-sqlite3';
import { FINAL_ORDER_STATUSES, moveStoredOrder, WORKING_ORDER_STATUSES, type OrderStatus } from '../../domain/order-status.ts';
import type { AuditRow, ClosedTradeRow, ExternalHoldingRow, FillRow, HoldingsStore, IdempotencyRow, LedgerSnapshot, LedgerStore, LedgerTx, Mark, PositionRow, TotalsRow } from '../../ports/ledger.ts';
import { classifySqliteError } from './errors.ts';
import { LATEST_VERSION } from './migrations.ts';
import { migrate, openStateDb, schemaVersion, type OpenOptions } from './open.ts';
import type { OrderIntentRecord, OrderRecord, OrderStore } from '../../ports/orders.ts';
import type { SignalRecord } from '../../ports/store.ts';
import type { IntakeRow as IntakeRecord } from '../../ports/intake.ts';

const POSITION_COLS = `id, signal_id AS signalId, strategy, pair, quote, quantity, entry_cost AS entryCost, entry_quantity AS entryQuantity,
  entry_fees AS entryFees, exit_proceeds AS exitProceeds, exit_quantity AS exitQuantity, exit_fees AS exitFees, opened_ts AS openedTs, exit_reason AS exitReason`;
const CLOSED_COLS = `seq, position_id AS positionId, signal_id AS signalId, strategy, pair, quantity, entry_ts AS entryTs, entry_price AS entryPrice,
  exit_ts AS exitTs, exit_price AS exitPrice, exit_reason AS exitReason, fees, pnl`;
const AUDIT_COLS = 'seq, ts, operation, actor, reason, idempotency_key AS idempotencyKey, input, before, after';
const INTENT_COLS = `i.id, i.signal_id AS signalId, i.client_order_id AS clientOrderId, i.pair, i.side, i.type, i.quantity, i.limit_price AS limitPrice,
  i.purpose, i.exit_reason AS exitReason, i.deadline_ts AS deadlineTs, i.ts_event AS tsEvent, i.ts_init AS tsInit`;
/** `?, ?, …` for binding a status list to `status IN (…)` */
const placeholders = (list: readonly unknown[]) => list.map(() => '?').join(', ');

export type { SignalRecord } from '../../ports/store.ts';
export type { OrderIntentRecord, OrderRecord } from '../../ports/orders.ts';

/** How far a resumable replay got: every effect of the first `candlesDone` candles is committed. */
export interface ReplayCheckpoint {
  readonly runId: string;
  /** data + config identity: a resume with other inputs is refused */
  readonly fingerprint: string;
  readonly candlesDone: number;
  /** the end-of-run lines are written too */
  readonly finished: boolean;
  /** log file → size in bytes that matches this checkpoint */
  readonly logOffsets: Readonly<Record<string, number>>;
  readonly updatedTs: number;
}

export type { IntakeRow as IntakeRecord } from '../../ports/intake.ts';

const INTAKE_COLS = `signal_id AS signalId, dedup_key AS dedupKey, body_hash AS bodyHash, source, received_ts AS receivedTs, signal, reply, status,
  state, decision, blocked_by AS blockedBy, detail, updated_ts AS updatedTs`;

export interface StoreHealth {
  readonly file: string;
  readonly schemaVersion: number;
  readonly latestVersion: number;
  readonly journalMode: string;
  readonly synchronous: string;
  readonly sequence: number;
  readonly auditRows: number;
  readonly positions: number;
  readonly openSignals: number;
  readonly sizeBytes: number;
  readonly integrity: string;
}

export class SqliteStateStore implements LedgerStore, OrderStore, HoldingsStore {
  readonly db: Database.Database;
  private readonly st;
  private readonly tx: LedgerTx;
  private readonly writeTx;

  /** Opens (creating and migrating if needed) the state database; throws StateDbError naming the problem. */
  static open(file: string, o: OpenOptions = {}): SqliteStateStore {
    const { db, migrated } = openStateDb(file, o);
    return new SqliteStateStore(db, file, migrated);
  }

  /**
   * An in-memory state (no file): the same schema and code paths, gone when closed. For runs without --state
   * that still need the store (the webhook intake of an in-memory replay, tests).
   */
  static memory(): SqliteStateStore {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    return new SqliteStateStore(db, ':memory:', migrate(db, ':memory:'));
  }

  /** @param migrated the migrations this open applied */
  private constructor(db: Database.Database, readonly file: string, readonly migrated: readonly number[]) {
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      seq: p('SELECT seq FROM ledger_head WHERE id = 1').pluck(),
      cash: p('SELECT amount FROM cash WHERE currency = ?').pluck(),
      setCash: p('INSERT INTO cash (currency, amount) VALUES (?, ?) ON CONFLICT (currency) DO UPDATE SET amount = excluded.amount'),
      position: p(`SELECT ${POSITION_COLS} FROM positions WHERE id = ?`),
      putPosition: p(`INSERT OR REPLACE INTO positions (id, signal_id, strategy, pair, quote, quantity, entry_cost, entry_quantity, entry_fees,
        exit_proceeds, exit_quantity, exit_fees, opened_ts, exit_reason) VALUES (@id, @signalId, @strategy, @pair, @quote, @quantity, @entryCost,
        @entryQuantity, @entryFees, @exitProceeds, @exitQuantity, @exitFees, @openedTs, @exitReason)`),
      deletePosition: p('DELETE FROM positions WHERE id = ?'),
      positionIdsOfPair: p('SELECT id FROM positions WHERE pair = ?').pluck(),
      totals: p('SELECT currency, realized, fees FROM totals WHERE currency = ?'),
      putTotals: p('INSERT OR REPLACE INTO totals (currency, realized, fees) VALUES (@currency, @realized, @fees)'),
      addClosed: p(`INSERT INTO closed_trades (seq, position_id, signal_id, strategy, pair, quantity, entry_ts, entry_price, exit_ts, exit_price, exit_reason, fees, pnl)
        VALUES (@seq, @positionId, @signalId, @strategy, @pair, @quantity, @entryTs, @entryPrice, @exitTs, @exitPrice, @exitReason, @fees, @pnl)`),
      addFill: p(`INSERT OR IGNORE INTO fills (id, order_id, signal_id, pair, side, quantity, price, fee, liquidity, purpose, ts_event, ts_init, seq)
        VALUES (@id, @orderId, @signalId, @pair, @side, @quantity, @price, @fee, @liquidity, @purpose, @tsEvent, @tsInit, @seq)`),
      mark: p('SELECT pair, price, ts FROM marks WHERE pair = ?'),
      putMark: p('INSERT INTO marks (pair, price, ts) VALUES (@pair, @price, @ts) ON CONFLICT (pair) DO UPDATE SET price = excluded.price, ts = excluded.ts WHERE excluded.ts >= marks.ts'),
      idem: p('SELECT key, seq, operation, request, result FROM idempotency WHERE key = ?'),
      putIdem: p('INSERT INTO idempotency (key, seq, operation, request, result) VALUES (@key, @seq, @operation, @request, @result)'),
      audit: p(`INSERT INTO audit (seq, ts, operation, actor, reason, idempotency_key, input, before, after)
        VALUES (@seq, @ts, @operation, @actor, @reason, @idempotencyKey, @input, @before, @after)`),
      head: p('UPDATE ledger_head SET seq = @seq, updated_at = @ts WHERE id = 1 AND seq = @seq - 1'),
    };
    const st = this.st;
    this.tx = {
      sequence: () => st.seq.get() as number,
      cash: (c) => st.cash.get(c) as string | undefined,
      setCash: (c, a) => void st.setCash.run(c, a),
      position: (id) => st.position.get(id) as PositionRow | undefined,
      putPosition: (row) => void st.putPosition.run(row),
      deletePosition: (id) => void st.deletePosition.run(id),
      positionIdsOfPair: (pair) => st.positionIdsOfPair.all(pair) as string[],
      totals: (c) => st.totals.get(c) as TotalsRow | undefined,
      putTotals: (t) => void st.putTotals.run(t),
      addClosedTrade: (t) => void st.addClosed.run(t),
      addFill: (f, seq) => st.addFill.run({ ...f, seq }).changes === 1,
      mark: (pair) => st.mark.get(pair) as Mark | undefined,
      putMark: (m) => void st.putMark.run(m),
      idempotency: (k) => st.idem.get(k) as IdempotencyRow | undefined,
      putIdempotency: (r) => void st.putIdem.run(r),
      appendAudit: (row) => {
        if (st.head.run({ seq: row.seq, ts: row.ts }).changes !== 1) throw new Error(`audit row ${row.seq} does not follow the stored sequence`);
        st.audit.run(row);
      },
    };
    this.writeTx = db.transaction(<T>(fn: (tx: LedgerTx) => T): T => fn(this.tx));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw classifySqliteError(e, this.file);
    }
  }

  // ---- LedgerStore ------------------------------------------------------------------------------------

  write<T>(fn: (tx: LedgerTx) => T): T {
    return this.guard(() => (this.db.inTransaction ? this.writeTx(fn) : this.writeTx.immediate(fn)) as T);
  }

  snapshot(): LedgerSnapshot {
    return this.guard(() =>
      this.db.transaction(() => {
        const head = this.db.prepare('SELECT seq, updated_at AS updatedAt FROM ledger_head WHERE id = 1').get() as { seq: number; updatedAt: number | null };
        return {
          sequence: head.seq,
          updatedAt: head.updatedAt,
          cash: this.db.prepare('SELECT currency, amount FROM cash ORDER BY currency').all() as { currency: string; amount: string }[],
          positions: this.db.prepare(`SELECT ${POSITION_COLS} FROM positions ORDER BY id`).all() as PositionRow[],
          totals: this.db.prepare('SELECT currency, realized, fees FROM totals ORDER BY currency').all() as TotalsRow[],
          closedTrades: this.db.prepare(`SELECT ${CLOSED_COLS} FROM closed_trades ORDER BY id`).all() as ClosedTradeRow[],
          marks: this.db.prepare('SELECT pair, price, ts FROM marks ORDER BY pair').all() as Mark[],
        };
      }).deferred(),
    );
  }

  audit(): Iterable<AuditRow> {
    return this.guard(() => this.db.prepare(`SELECT ${AUDIT_COLS} FROM audit ORDER BY seq`).iterate() as Iterable<AuditRow>);
  }

  setMark(m: Mark): void {
    this.write((tx) => tx.putMark(m));
  }

  fills(signalId: string): FillRow[] {
    return this.guard(() => this.db.prepare(`SELECT id, order_id AS orderId, signal_id AS signalId, pair, side, quantity, price, fee, liquidity, purpose,
      ts_event AS tsEvent, ts_init AS tsInit FROM fills WHERE signal_id = ? ORDER BY seq`).all(signalId) as FillRow[]);
  }

  // ---- bot state (signals, orders, shadow positions, guard state) ---------------------------------------
  // Each may be called inside `write(...)` so that it commits with the ledger change it belongs to.

  saveSignal(s: SignalRecord): void {
    this.write(() => this.stmt(`INSERT OR REPLACE INTO signals (id, strategy, pair, side, state, terminal, signal, snapshot, deadline_ts, updated_ts)
      VALUES (@id, @strategy, @pair, @side, @state, @terminal, @signal, @snapshot, @deadlineTs, @updatedTs)`).run({ ...s, terminal: s.terminal ? 1 : 0 }));
  }

  /** Signals not in a final state, oldest first: what recovery restores into live actors. */
  openSignals(): SignalRecord[] {
    return this.guard(() =>
      (this.db.prepare(`SELECT id, strategy, pair, side, state, terminal, signal, snapshot, deadline_ts AS deadlineTs, updated_ts AS updatedTs
        FROM signals WHERE terminal = 0 ORDER BY updated_ts, id`).all() as Array<Omit<SignalRecord, 'terminal'> & { terminal: number }>).map((r) => ({ ...r, terminal: r.terminal === 1 })),
    );
  }

  signal(id: string): SignalRecord | undefined {
    return this.guard(() => {
      const r = this.db.prepare(`SELECT id, strategy, pair, side, state, terminal, signal, snapshot, deadline_ts AS deadlineTs, updated_ts AS updatedTs
        FROM signals WHERE id = ?`).get(id) as (Omit<SignalRecord, 'terminal'> & { terminal: number }) | undefined;
      return r ? { ...r, terminal: r.terminal === 1 } : undefined;
    });
  }

  /** Records an order intent before it is sent; a second intent with the same client order id is refused by the database. */
  saveOrderIntent(o: OrderIntentRecord): void {
    this.write(() => this.stmt(`INSERT INTO order_intents (id, signal_id, client_order_id, pair, side, type, quantity, limit_price, purpose, exit_reason, deadline_ts, ts_event, ts_init)
      VALUES (@id, @signalId, @clientOrderId, @pair, @side, @type, @quantity, @limitPrice, @purpose, @exitReason, @deadlineTs, @tsEvent, @tsInit)`).run(o));
  }

  orderIntentByClientId(clientOrderId: string): OrderIntentRecord | undefined {
    return this.guard(() => this.db.prepare(`SELECT id, signal_id AS signalId, client_order_id AS clientOrderId, pair, side, type, quantity, limit_price AS limitPrice,
      purpose, exit_reason AS exitReason, deadline_ts AS deadlineTs, ts_event AS tsEvent, ts_init AS tsInit FROM order_intents WHERE client_order_id = ?`).get(clientOrderId) as OrderIntentRecord | undefined);
  }

  /**
   * Writes an order row as given, WITHOUT the order state table: for writers that coalesce several moves
   * into one row (the replay recorder's checkpoints) and for imports and tests. The live durable path
   * moves an order with `moveOrder`.
   */
  saveOrder(o: Omit<OrderRecord, 'status'> & { readonly status: string }): void {
    this.write(() => this.stmt(`INSERT OR REPLACE INTO orders (client_order_id, venue_order_id, status, filled_quantity, detail, updated_ts)
      VALUES (@clientOrderId, @venueOrderId, @status, @filledQuantity, @detail, @updatedTs)`).run(o));
  }

  /**
   * Moves an order to `o.status` along the order state table, in one transaction with the write: its stored
   * status (`initialized` while it has no order row) must allow the move, else transitionOrder throws an
   * OrderTransitionError naming both and nothing is written.
   * @returns the status it moved from
   */
  moveOrder(o: OrderRecord): OrderStatus {
    return moveStoredOrder<OrderRecord>(this, o);
  }

  order(clientOrderId: string): OrderRecord | undefined {
    return this.guard(() => this.db.prepare(`SELECT client_order_id AS clientOrderId, venue_order_id AS venueOrderId, status, filled_quantity AS filledQuantity,
      detail, updated_ts AS updatedTs FROM orders WHERE client_order_id = ?`).get(clientOrderId) as OrderRecord | undefined);
  }

  /**
   * Order intents whose order is not in a final status (no order row counts as not final), oldest first:
   * what recovery looks up on the venue. `status` is null where there is no order row.
   */
  unresolvedOrderIntents(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }> {
    return this.guard(() => this.stmt(`SELECT ${INTENT_COLS}, o.status FROM order_intents i LEFT JOIN orders o ON o.client_order_id = i.client_order_id
      WHERE o.status IS NULL OR o.status NOT IN (${placeholders(FINAL_ORDER_STATUSES)}) ORDER BY i.ts_init, i.id`).all(...FINAL_ORDER_STATUSES) as Array<OrderIntentRecord & { status: OrderStatus | null }>);
  }

  /** Every order intent with its order's status (null where there is no order row), oldest first. */
  orderIntentsWithStatus(): Array<OrderIntentRecord & { readonly status: OrderStatus | null }> {
    return this.guard(() => this.stmt(`SELECT ${INTENT_COLS}, o.status FROM order_intents i LEFT JOIN orders o ON o.client_order_id = i.client_order_id
      ORDER BY i.ts_init, i.id`).all() as Array<OrderIntentRecord & { status: OrderStatus | null }>);
  }

  /** Ids of every fill the ledger booked. */
  fillIds(): Set<string> {
    return this.guard(() => new Set(this.stmt('SELECT id FROM fills').pluck().all() as string[]));
  }

  /** Client order ids of the orders of `purpose` that may still be working on the venue (a stored, non-final status), oldest first. */
  workingOrderIds(purpose: 'entry' | 'exit'): string[] {
    return this.guard(() => this.stmt(`SELECT i.client_order_id FROM order_intents i JOIN orders o ON o.client_order_id = i.client_order_id
      WHERE i.purpose = ? AND o.status IN (${placeholders(WORKING_ORDER_STATUSES)}) ORDER BY i.ts_init, i.id`).pluck().all(purpose, ...WORKING_ORDER_STATUSES) as string[]);
  }

  saveShadowPosition(signalId: string, status: string, data: unknown, ts: number): void {
    this.write(() => this.stmt('INSERT OR REPLACE INTO shadow_positions (signal_id, status, data, updated_ts) VALUES (?, ?, ?, ?)').run(signalId, status, JSON.stringify(data), ts));
  }

  shadowPositions(status?: string): Array<{ signalId: string; status: string; data: unknown }> {
    return this.guard(() =>
      (this.db.prepare(`SELECT signal_id AS signalId, status, data FROM shadow_positions ${status ? 'WHERE status = ?' : ''} ORDER BY signal_id`).all(...(status ? [status] : [])) as Array<{ signalId: string; status: string; data: string }>)
        .map((r) => ({ ...r, data: JSON.parse(r.data) as unknown })),
    );
  }

  setGuardState(key: string, value: unknown, ts: number): void {
    this.write(() => this.db.prepare('INSERT OR REPLACE INTO guard_state (key, value, updated_ts) VALUES (?, ?, ?)').run(key, JSON.stringify(value), ts));
  }

  /** one stored position, read without a write transaction (the durable order path's sell check) */
  positionRow(id: string): PositionRow | undefined {
    return this.guard(() => this.st.position.get(id) as PositionRow | undefined);
  }

  // ---- external holdings (HoldingsStore) ---------------------------------------------------------------

  externalHoldings(): ExternalHoldingRow[] {
    return this.guard(() =>
      (this.stmt('SELECT asset, quantity, updated_ts AS updatedTs, detail FROM external_holdings ORDER BY asset').all() as Array<{ asset: string; quantity: string; updatedTs: number; detail: string }>)
        .map((r) => ({ ...r, origin: 'external' as const, managed: false as const })),
    );
  }

  putExternalHolding(h: ExternalHoldingRow): void {
    this.write(() => this.stmt(`INSERT INTO external_holdings (asset, quantity, origin, managed, updated_ts, detail) VALUES (?, ?, 'external', 0, ?, ?)
      ON CONFLICT (asset) DO UPDATE SET quantity = excluded.quantity, updated_ts = excluded.updated_ts, detail = excluded.detail`).run(h.asset, h.quantity, h.updatedTs, h.detail));
  }

  guardState<T = unknown>(key: string): T | undefined {
    return this.guard(() => {
      const v = this.db.prepare('SELECT value FROM guard_state WHERE key = ?').pluck().get(key) as string | undefined;
      return v === undefined ? undefined : (JSON.parse(v) as T);
    });
  }

  private cached = new Map<string, Database.Statement>();
  private stmt(sql: string): Database.Statement {
    let s = this.cached.get(sql);
    if (!s) this.cached.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  replayCheckpoint(): ReplayCheckpoint | undefined {
    return this.guard(() => {
      const r = this.stmt(`SELECT run_id AS runId, fingerprint, candles_done AS candlesDone, finished, log_offsets AS logOffsets, updated_ts AS updatedTs
        FROM replay_checkpoint WHERE id = 1`).get() as { runId: string; fingerprint: string; candlesDone: number; finished: number; logOffsets: string; updatedTs: number } | undefined;
      return r ? { ...r, finished: r.finished === 1, logOffsets: JSON.parse(r.logOffsets) as Record<string, number> } : undefined;
    });
  }

  saveReplayCheckpoint(c: ReplayCheckpoint): void {
    this.write(() => this.stmt(`INSERT OR REPLACE INTO replay_checkpoint (id, run_id, fingerprint, candles_done, finished, log_offsets, updated_ts)
      VALUES (1, @runId, @fingerprint, @candlesDone, @finished, @logOffsets, @updatedTs)`).run({ ...c, finished: c.finished ? 1 : 0, logOffsets: JSON.stringify(c.logOffsets) }));
  }

  /** Signals by state (recovery line and invariants). */
  signalCounts(): { open: number; total: number } {
    return this.guard(() => ({
      open: this.stmt('SELECT count(*) FROM signals WHERE terminal = 0').pluck().get() as number,
      total: this.stmt('SELECT count(*) FROM signals').pluck().get() as number,
    }));
  }

  /**
   * Recovery invariants: every open bot position has its signal, not in a final state; every order
   * intent has a signal that got past its decision. Returns the first violation, in words, or null.
   */
  invariantViolation(): string | null {
    return this.guard(() => {
      const orphan = this.stmt(`SELECT p.id FROM positions p LEFT JOIN signals s ON s.id = p.signal_id
        WHERE p.signal_id IS NOT NULL AND (s.id IS NULL OR s.terminal = 1) LIMIT 1`).pluck().get() as string | undefined;
      if (orphan) return `open position ${orphan} has no live signal`;
      const undecided = this.stmt(`SELECT o.client_order_id FROM order_intents o LEFT JOIN signals s ON s.id = o.signal_id
        WHERE s.id IS NULL OR s.state IN ('received', 'validated', 'guarded', 'blocked', 'failed') LIMIT 1`).pluck().get() as string | undefined;
      if (undecided) return `order intent ${undecided} has no approved decision`;
      return null;
    });
  }

  // ---- webhook intake ----------------------------------------------------------------------------------

  /**
   * The newest intake row of `dedupKey` received at or after `sinceTs`, or else inserts `r`; in one transaction,
   * so a repeated delivery finds the first and never writes a second.
   */
  intakeOnce(r: IntakeRecord, sinceTs: number): { readonly inserted: boolean; readonly record: IntakeRecord } {
    return this.write(() => {
      const found = this.stmt(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE dedup_key = ? AND received_ts >= ? ORDER BY received_ts DESC LIMIT 1`).get(r.dedupKey, sinceTs) as IntakeRecord | undefined;
      if (found) return { inserted: false, record: found };
      this.stmt(`INSERT INTO webhook_intake (signal_id, dedup_key, body_hash, source, received_ts, signal, reply, status, state, decision, blocked_by, detail, updated_ts)
        VALUES (@signalId, @dedupKey, @bodyHash, @source, @receivedTs, @signal, @reply, @status, @state, @decision, @blockedBy, @detail, @updatedTs)`).run(r);
      return { inserted: true, record: r };
    });
  }

  intake(signalId: string): IntakeRecord | undefined {
    return this.guard(() => this.stmt(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE signal_id = ?`).get(signalId) as IntakeRecord | undefined);
  }

  /** Accepted alerts not yet handed to the bus, oldest first: what a restart submits. */
  pendingIntake(): IntakeRecord[] {
    return this.guard(() => this.stmt(`SELECT ${INTAKE_COLS} FROM webhook_intake WHERE status = 'accepted' ORDER BY received_ts, signal_id`).all() as IntakeRecord[]);
  }

  /** The newest intake rows, newest first. */
  recentIntake(limit: number): IntakeRecord[] {
    return this.guard(() => this.stmt(`SELECT ${INTAKE_COLS} FROM webhook_intake ORDER BY received_ts DESC, signal_id DESC LIMIT ?`).all(limit) as IntakeRecord[]);
  }

  /** Moves an intake row on: submitted to the bus, then its lifecycle state and verdict as they come. */
  updateIntake(signalId: string, u: { status?: 'submitted'; state?: string; decision?: string; blockedBy?: readonly string[]; detail?: string | null }, ts: number): void {
    this.write(() => this.stmt(`UPDATE webhook_intake SET status = coalesce(@status, status), state = coalesce(@state, state), decision = coalesce(@decision, decision),
      blocked_by = coalesce(@blockedBy, blocked_by), detail = coalesce(@detail, detail), updated_ts = @ts WHERE signal_id = @signalId`).run({
      signalId, ts, status: u.status ?? null, state: u.state ?? null, decision: u.decision ?? null,
      blockedBy: u.blockedBy ? JSON.stringify(u.blockedBy) : null, detail: u.detail ?? null,
    }));
  }

  // ---- operations --------------------------------------------------------------------------------------

  /** Online backup (SQLite backup API): a consistent copy while other processes keep writing. */
  async backup(destination: string): Promise<{ totalPages: number }> {
    try {
      const r = await this.db.backup(destination);
      return { totalPages: r.totalPages };
    } catch (e) {
      throw classifySqliteError(e, destination);
    }
  }

  /** `quick_check` plus the figures `tollgate db status` prints. */
  health(): StoreHealth {
    return this.guard(() => {
      const integrity = (this.db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>).map((r) => r.quick_check).join('; ');
      const count = (sql: string) => this.db.prepare(sql).pluck().get() as number;
      return {
        file: this.file,
        schemaVersion: schemaVersion(this.db),
        latestVersion: LATEST_VERSION,
        journalMode: String(this.db.pragma('journal_mode', { simple: true })),
        synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][Number(this.db.pragma('synchronous', { simple: true }))] ?? '?',
        sequence: count('SELECT seq FROM ledger_head WHERE id = 1'),
        auditRows: count('SELECT count(*) FROM audit'),
        positions: count('SELECT count(*) FROM positions'),
        openSignals: count('SELECT count(*) FROM signals WHERE terminal = 0'),
        sizeBytes: count('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()'),
        integrity,
      };
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
