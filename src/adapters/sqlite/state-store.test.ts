import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { dec } from '../../domain/money.ts';
import { FINAL_ORDER_STATUSES, ORDER_STATUSES, OrderTransitionError, type OrderStatus } from '../../domain/order-status.ts';
import { Ledger, verifyAudit } from '../../portfolio/ledger.ts';
import { MemoryLedgerStore } from '../../portfolio/memory-ledger-store.ts';
import { krakenMarkets } from '../../kraken/pairs.ts';
import { StateDbError } from './errors.ts';
import { LATEST_VERSION, MIGRATIONS, SQLITE_APPLICATION_ID } from './migrations.ts';
import { SqliteStateStore } from './state-store.ts';

const markets = krakenMarkets();
const metaOf = (p: string) => markets.get(p);
const T0 = Date.UTC(2024, 0, 1);
const op = (key: string, reason = 'test') => ({ actor: 'operator:test', key, reason });
const dir = () => mkdtempSync(join(tmpdir(), 'tollgate-sqlite-'));

/** A state file with a few operations in it, closed (WAL checkpointed into the file). */
function populated(file: string): void {
  const s = SqliteStateStore.open(file);
  const l = new Ledger(s, { now: () => T0 }, metaOf);
  l.setCash({ currency: 'USD', amount: '10000' }, op('a'));
  l.buy({ pair: 'BTC/USD', quantity: '0.1', price: '50000' }, op('b'));
  s.close();
}

function expectRefused(file: string, problem: string, message: RegExp): void {
  const bytes = readFileSync(file);
  let err: unknown;
  try {
    SqliteStateStore.open(file).close();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StateDbError);
  expect((err as StateDbError).problem).toBe(problem);
  expect((err as Error).message).toMatch(message);
  expect(readFileSync(file).equals(bytes)).toBe(true);
  expect(existsSync(`${file}-wal`)).toBe(false);
}

describe('SqliteStateStore: opening', () => {
  it('when the file does not exist then it is created in WAL mode with synchronous=FULL, at the latest schema, marked as a Tollgate file', () => {
    const file = join(dir(), 'sub', 'state.db');
    const s = SqliteStateStore.open(file);
    expect(s.migrated).toEqual(MIGRATIONS.map((m) => m.version));
    const h = s.health();
    expect(h).toMatchObject({ schemaVersion: LATEST_VERSION, journalMode: 'wal', synchronous: 'FULL', sequence: 0, integrity: 'ok' });
    expect(s.db.pragma('application_id', { simple: true })).toBe(SQLITE_APPLICATION_ID);
    s.close();
    const again = SqliteStateStore.open(file);
    expect(again.migrated).toEqual([]);
    again.close();
  });

  it('when a file of an older schema is opened then only the missing migrations run, and the data stays', () => {
    const file = join(dir(), 'old.db');
    const db = new Database(file);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID; INSERT INTO meta VALUES ('app_id', 'tollgate'), ('schema_version', '1')");
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    db.exec(MIGRATIONS[0]!.sql);
    db.exec("INSERT INTO cash VALUES ('USD', '42.5')");
    db.close();
    const s = SqliteStateStore.open(file);
    expect(s.migrated).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
    expect(s.snapshot().cash).toEqual([{ currency: 'USD', amount: '42.5' }]);
    expect(s.openSignals()).toEqual([]);
    s.close();
  });

  it('when the file is not a SQLite database then it is refused as corrupt and its bytes are unchanged', () => {
    const file = join(dir(), 'text.db');
    writeFileSync(file, 'this is a text file, not a database\n'.repeat(20));
    expectRefused(file, 'corrupt', /is not a SQLite database/);
  });

  it('when a state file is damaged inside then it is refused as corrupt and its bytes are unchanged', () => {
    const file = join(dir(), 'damaged.db');
    populated(file);
    const b = readFileSync(file);
    b.fill(0x5a, 100, 4096); // page 1 after the header: the schema's b-tree page
    writeFileSync(file, b);
    expectRefused(file, 'corrupt', /corrupt|malformed/);
  });

  it("when the file is another program's SQLite database then it is refused as foreign and its bytes are unchanged", () => {
    const file = join(dir(), 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES (\'x\')');
    db.close();
    expectRefused(file, 'foreign', /another program \(tables: customers\)/);
    const withId = join(dir(), 'other-id.db');
    const db2 = new Database(withId);
    db2.pragma('application_id = 1234');
    db2.exec('CREATE TABLE t (x)');
    db2.close();
    expectRefused(withId, 'foreign', /application id 0x4d2/);
  });

  it('when the file was migrated by a newer Tollgate then it is refused, naming both versions, and its bytes are unchanged', () => {
    const file = join(dir(), 'newer.db');
    populated(file);
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(LATEST_VERSION + 5));
    db.pragma('journal_mode = DELETE');
    db.close();
    expectRefused(file, 'newer', new RegExp(`newer Tollgate \\(schema version ${LATEST_VERSION + 5}; this version knows up to ${LATEST_VERSION}\\)`));
  });

  it('when a read command names a file that does not exist then it is refused and nothing is created', () => {
    const file = join(dir(), 'typo.db');
    expect(() => SqliteStateStore.open(file, { mustExist: true })).toThrow(/no state database here/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('SqliteStateStore: the ledger on SQLite', () => {
  it('when operations run on SQLite then the state equals the same operations on the in-memory store, and the audit log verifies', () => {
    const file = join(dir(), 's.db');
    const sq = SqliteStateStore.open(file);
    const mem = new MemoryLedgerStore();
    for (const store of [sq, mem]) {
      let t = T0;
      const l = new Ledger(store, { now: () => (t += 1000) }, metaOf);
      l.setCash({ currency: 'USD', amount: '100000' }, op('a'));
      l.buy({ pair: 'BTC/USD', quantity: '0.5', price: '40000.5', fee: '80.001' }, op('b'));
      l.buy({ pair: 'ETH/USD', quantity: '3', price: '2500' }, op('c'));
      l.sell({ pair: 'BTC/USD', quantity: '0.2', price: '41000' }, op('d'));
      l.close({ positionId: 'manual-ETHUSD', price: '2400.01' }, op('e'));
      l.importPortfolio({ cash: { EUR: '10' }, positions: [{ pair: 'SOL/USD', quantity: '4', entryPrice: '100.25' }] }, op('f'));
      l.applyFill({ id: 'f1', orderId: 'o1', signalId: 's1', pair: 'BTC/USD', side: 'buy', quantity: dec('0.001'), price: dec('30000'), fee: dec('0.075'), liquidity: 'maker', purpose: 'entry', tsEvent: T0, tsInit: T0 }, 'ema');
    }
    const { marks: _a, ...a } = sq.snapshot();
    const { marks: _b, ...b } = mem.snapshot();
    expect(a).toEqual(b);
    expect([...sq.audit()]).toEqual([...mem.audit()]);
    expect(sq.fills('s1')).toHaveLength(1);
    expect(verifyAudit(sq, metaOf, () => new MemoryLedgerStore())).toMatchObject({ ok: true, rows: 7 });
    sq.close();
  });

  it('when an operation fails half way then the SQLite transaction rolls back: no state, no sequence number, no audit row, no key', () => {
    const file = join(dir(), 'rb.db');
    const s = SqliteStateStore.open(file);
    const l = new Ledger(s, { now: () => T0 }, metaOf);
    l.setCash({ currency: 'USD', amount: '100' }, op('a'));
    const before = s.snapshot();
    // the second position is refused after the cash and the first position were written inside the transaction
    expect(() => l.importPortfolio({ cash: { USD: '5000' }, positions: [{ pair: 'BTC/USD', quantity: '1', entryPrice: '1' }, { pair: 'NOPE/USD', quantity: '1', entryPrice: '1' }] }, op('imp'))).toThrow(/unknown pair NOPE/);
    expect(s.snapshot()).toEqual(before);
    expect(s.db.prepare("SELECT count(*) FROM idempotency WHERE key = 'imp'").pluck().get()).toBe(0);
    // a batch is one transaction too
    expect(() => l.batch(() => {
      l.buy({ pair: 'BTC/USD', quantity: '0.001', price: '50000' }, op('x1'));
      l.buy({ pair: 'BTC/USD', quantity: '1', price: '50000' }, op('x2'));
    })).toThrow(/insufficient USD cash/);
    expect(s.snapshot()).toEqual(before);
    s.close();
  });

  it('when someone edits the audit log then SQLite refuses (append-only); when the trigger is dropped and a row tampered, verify names that row', () => {
    const file = join(dir(), 't.db');
    populated(file);
    const s = SqliteStateStore.open(file);
    expect(() => s.db.prepare("UPDATE audit SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    s.db.exec('DROP TRIGGER audit_no_update');
    s.db.prepare("UPDATE audit SET input = replace(input, '10000', '90000') WHERE seq = 1").run();
    const r = verifyAudit(s, metaOf, () => new MemoryLedgerStore());
    expect(r).toMatchObject({ ok: false, mismatchSeq: 1 });
    expect(r.mismatch).toMatch(/audit row 1 \(setcash\): state after differs/);
    s.close();
  });

  it('when the stored state is edited behind the ledger\'s back then verify reports the difference', () => {
    const file = join(dir(), 'e.db');
    populated(file);
    const s = SqliteStateStore.open(file);
    s.db.prepare("UPDATE cash SET amount = '1000000' WHERE currency = 'USD'").run();
    const r = verifyAudit(s, metaOf, () => new MemoryLedgerStore());
    expect(r.ok).toBe(false);
    expect(r.mismatch).toMatch(/cash balances differ from the audit replay[\s\S]*1000000/);
    s.close();
  });
});

describe('SqliteStateStore: bot records and backup', () => {
  it('when signals, order intents, orders, shadow positions and guard state are saved then they read back; only non-terminal signals are open', () => {
    const s = SqliteStateStore.open(join(dir(), 'b.db'));
    const sig = { strategy: 'ema', pair: 'BTC/USD', side: 'buy', signal: '{}', snapshot: '{"value":"open"}', updatedTs: T0 };
    s.saveSignal({ ...sig, id: 's1', state: 'open', terminal: false, deadlineTs: T0 + 5 });
    s.saveSignal({ ...sig, id: 's2', state: 'closed', terminal: true, deadlineTs: null });
    expect(s.openSignals().map((x) => [x.id, x.terminal, x.deadlineTs])).toEqual([['s1', false, T0 + 5]]);
    expect(s.signal('s2')?.terminal).toBe(true);
    const intent = { id: 'i1', signalId: 's1', clientOrderId: 'tgabc', pair: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.1', limitPrice: '50000', purpose: 'entry', exitReason: null, deadlineTs: null, tsEvent: T0, tsInit: T0 };
    s.saveOrderIntent(intent);
    expect(() => s.saveOrderIntent({ ...intent, id: 'i2' })).toThrow(/UNIQUE/);
    expect(s.orderIntentByClientId('tgabc')).toEqual(intent);
    s.saveOrder({ clientOrderId: 'tgabc', venueOrderId: 'OABC', status: 'accepted', filledQuantity: '0', detail: null, updatedTs: T0 });
    expect(s.order('tgabc')?.venueOrderId).toBe('OABC');
    s.saveShadowPosition('s3', 'open', { entry: '1.5' }, T0);
    expect(s.shadowPositions('open')).toEqual([{ signalId: 's3', status: 'open', data: { entry: '1.5' } }]);
    s.setGuardState('COOLDOWN:BTC/USD', { until: T0 }, T0);
    expect(s.guardState('COOLDOWN:BTC/USD')).toEqual({ until: T0 });
    s.close();
  });

  it('when an order is moved then only along the order state table: an illegal move names both statuses and writes nothing', () => {
    const s = SqliteStateStore.open(join(dir(), 'm.db'));
    const row = (clientOrderId: string, status: OrderStatus) => ({ clientOrderId, venueOrderId: null, status, filledQuantity: '0', detail: null, updatedTs: T0 });
    for (const id of ['tga', 'tgb', 'tgc']) {
      s.saveOrderIntent({ id, signalId: 's1', clientOrderId: id, pair: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.1', limitPrice: null, purpose: 'entry', exitReason: null, deadlineTs: null, tsEvent: T0, tsInit: T0 });
    }
    expect(s.moveOrder(row('tga', 'sending'))).toBe('initialized');
    expect(s.moveOrder(row('tga', 'unknown'))).toBe('sending');
    expect(s.moveOrder(row('tga', 'resolved'))).toBe('unknown');
    expect(s.moveOrder(row('tga', 'accepted'))).toBe('resolved');
    expect(s.moveOrder(row('tga', 'filled'))).toBe('accepted');
    expect(() => s.moveOrder({ ...row('tga', 'cancelled'), detail: 'late' })).toThrow(/order tga: illegal order status move 'filled' → 'cancelled' \('filled' is final\)/);
    expect(s.order('tga')).toMatchObject({ status: 'filled', detail: null });
    // an order with no row is `initialized`: it may be adopted (recovery, reconciliation) but not filled out of nowhere
    expect(() => s.moveOrder(row('tgb', 'filled'))).toThrow(OrderTransitionError);
    expect(s.order('tgb')).toBeUndefined();
    // inside a surrounding write, the refusal rolls the whole write back
    expect(() => s.write(() => {
      s.moveOrder(row('tgc', 'sending'));
      s.moveOrder(row('tgc', 'filled'));
    })).toThrow(/'sending' → 'filled'/);
    expect(s.order('tgc')).toBeUndefined();
    s.close();
  });

  it('when orders are in every status then recovery sees those not final (or with no row) and the working ones are those still on the venue', () => {
    const s = SqliteStateStore.open(join(dir(), 'u.db'));
    const intent = { signalId: 's1', pair: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.1', limitPrice: '50000', exitReason: null, deadlineTs: null, tsEvent: T0 };
    ORDER_STATUSES.forEach((status, i) => {
      for (const purpose of ['entry', 'exit'] as const) {
        const clientOrderId = `tg-${purpose}-${status}`;
        s.saveOrderIntent({ ...intent, id: clientOrderId, clientOrderId, purpose, tsInit: T0 + i });
        if (status !== 'initialized') s.saveOrder({ clientOrderId, venueOrderId: null, status, filledQuantity: '0', detail: null, updatedTs: T0 });
      }
    });
    const notFinal = ORDER_STATUSES.filter((x) => !(FINAL_ORDER_STATUSES as readonly string[]).includes(x));
    expect(s.unresolvedOrderIntents().map((r) => [r.clientOrderId, r.status])).toEqual(
      notFinal.flatMap((x) => [[`tg-entry-${x}`, x === 'initialized' ? null : x], [`tg-exit-${x}`, x === 'initialized' ? null : x]]),
    );
    expect(s.unresolvedOrderIntents()[0]).toMatchObject({ ...intent, id: 'tg-entry-initialized', purpose: 'entry', tsInit: T0 });
    expect(s.workingOrderIds('entry')).toEqual(['tg-entry-sending', 'tg-entry-accepted', 'tg-entry-unknown', 'tg-entry-resolved']);
    expect(s.workingOrderIds('exit')).toEqual(['tg-exit-sending', 'tg-exit-accepted', 'tg-exit-unknown', 'tg-exit-resolved']);
    s.close();
  });

  it('when backed up while open then the copy is a complete state file that opens and verifies', async () => {
    const d = dir();
    populated(join(d, 'live.db'));
    const s = SqliteStateStore.open(join(d, 'live.db'));
    await s.backup(join(d, 'copy.db'));
    s.close();
    const c = SqliteStateStore.open(join(d, 'copy.db'));
    expect(c.snapshot().sequence).toBe(2);
    expect(verifyAudit(c, metaOf, () => new MemoryLedgerStore()).ok).toBe(true);
    c.close();
  });
});
