import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
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
    // what a newer release with an incompatible migration records (a compatible one: schema-compat.test.ts)
    db.prepare("UPDATE meta SET value = ? WHERE key = 'readable_from'").run(String(LATEST_VERSION + 5));
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

// what every state adapter must do (ledger, rollback, savepoints, orders, intake…) is the shared contract: test/store-contract.ts
describe('SqliteStateStore: the audit log on SQLite', () => {
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

describe('SqliteStateStore: backup', () => {
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
