/**
 * What is particular to the PostgreSQL state (the rest is the shared contract, test/store-contract.ts): its
 * schema mirrors SQLite's, opening checks the database before writing, a bad URL or a server that is not there
 * is a StateDbError that never shows the password, the audit log is append-only in the database too, and the
 * synchronous bridge survives a call that overran its deadline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../src/adapters/postgres/migrations.ts';
import { PgStateStore } from '../src/adapters/postgres/state-store.ts';
import { SyncPg } from '../src/adapters/postgres/sync-bridge.ts';
import { StateDbError } from '../src/adapters/sqlite/errors.ts';
import { MIGRATIONS } from '../src/adapters/sqlite/migrations.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { Ledger, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';
import { metaOf, op, T0 } from './store-contract.ts';

describe('PostgreSQL tests without a server', () => {
  it('when no server binaries exist then the tests skip with a message, and fail instead under TOLLGATE_REQUIRE_POSTGRES=1', () => {
    const saved = { bin: process.env.TOLLGATE_PG_BIN, req: process.env.TOLLGATE_REQUIRE_POSTGRES };
    try {
      process.env.TOLLGATE_PG_BIN = mkdtempSync(join(tmpdir(), 'tollgate-no-pg-'));
      delete process.env.TOLLGATE_REQUIRE_POSTGRES;
      expect(postgresMissing()).toMatch(/no PostgreSQL server binaries .* the PostgreSQL tests are skipped/);
      process.env.TOLLGATE_REQUIRE_POSTGRES = '1';
      expect(() => postgresMissing()).toThrow(/TOLLGATE_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries/);
    } finally {
      for (const [k, v] of [['TOLLGATE_PG_BIN', saved.bin], ['TOLLGATE_REQUIRE_POSTGRES', saved.req]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

/** a process that books `n` buys into the state at `url` as fast as it can */
function buyer(url: string, n: number, tag: string): Promise<{ code: number | null; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-buyer-'));
  const script = join(dir, 'buy.mts');
  const src = (f: string) => JSON.stringify(resolve(import.meta.dirname, '..', 'src', f));
  writeFileSync(script, `import { PgStateStore } from ${src('adapters/postgres/state-store.ts')};
import { Ledger } from ${src('portfolio/ledger.ts')};
import { krakenMarkets } from ${src('kraken/pairs.ts')};
const m = krakenMarkets();
const s = PgStateStore.open(${JSON.stringify(url)});
const l = new Ledger(s, { now: () => ${T0} }, (p) => m.get(p));
for (let i = 0; i < ${n}; i++) l.buy({ pair: 'BTC/USD', quantity: '0.0001', price: '50000' }, { actor: 'bot', key: '${tag}' + i, reason: 'concurrency' });
s.close();
`);
  return new Promise((done) => {
    const c = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (x) => (err += x));
    c.on('exit', (code) => done({ code, err }));
  });
}

const d = postgresMissing() ? describe.skip : describe;
let cluster: PgCluster;
let n = 0;
const fresh = () => cluster.createDatabase(`pgstore_${process.pid}_${++n}`);
async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}
function refused(fn: () => unknown): StateDbError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StateDbError);
    return e as StateDbError;
  }
  throw new Error('expected a StateDbError');
}

d('PostgreSQL state', () => {
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(() => cluster?.stop());

  it('when migrated then it has the SQLite schema: the same versions and names, the same tables with the same columns', async () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    const url = await fresh();
    const s = PgStateStore.open(url);
    expect(s.migrated).toEqual(MIGRATIONS.map((m) => m.version));
    s.close();
    const lite = SqliteStateStore.memory();
    const tables = (lite.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);
    const liteCols = Object.fromEntries(tables.map((t) => [t, (lite.db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY name`).pluck().all(t) as string[])]));
    lite.close();
    const r = await sql(url, "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2");
    const pgCols: Record<string, string[]> = {};
    for (const row of r.rows as Array<{ t: string; c: string }>) (pgCols[row.t] ??= []).push(row.c);
    expect(pgCols).toEqual(liteCols);
    // money is text: no float or numeric column anywhere
    const kinds = await sql(url, "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1");
    expect(kinds.rows.map((x) => x.data_type)).toEqual(['bigint', 'boolean', 'integer', 'text']);
  });

  it('when opened again then nothing is migrated and the data stays', async () => {
    const url = await fresh();
    const a = PgStateStore.open(url);
    new Ledger(a, { now: () => T0 }, metaOf).setCash({ currency: 'USD', amount: '42.5' }, op('a'));
    a.close();
    const b = PgStateStore.open(url);
    expect(b.migrated).toEqual([]);
    expect(b.snapshot().cash).toEqual([{ currency: 'USD', amount: '42.5' }]);
    expect(b.status()).toMatchObject({ schemaVersion: MIGRATIONS.at(-1)!.version, sequence: 1, auditRows: 1 });
    b.close();
  });

  it("when the database holds another program's tables then it is refused as foreign and nothing is created", async () => {
    const url = await fresh();
    await sql(url, 'CREATE TABLE customers (id int)');
    expect(refused(() => PgStateStore.open(url))).toMatchObject({ problem: 'foreign', message: expect.stringMatching(/another program \(tables: customers\)/) });
    const t = await sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(t.rows.map((x) => x.table_name)).toEqual(['customers']);
  });

  it('when the schema is newer than this Tollgate knows then it is refused, naming both versions', async () => {
    const url = await fresh();
    PgStateStore.open(url).close();
    await sql(url, `UPDATE meta SET value = '${PG_MIGRATIONS.length + 3}' WHERE key = 'schema_version'`);
    expect(refused(() => PgStateStore.open(url))).toMatchObject({ problem: 'newer', message: expect.stringMatching(new RegExp(`schema version ${PG_MIGRATIONS.length + 3}; this version knows up to ${PG_MIGRATIONS.length}`)) });
  });

  it('when a read command names an empty database then it is refused and nothing is created', async () => {
    const url = await fresh();
    expect(refused(() => PgStateStore.open(url, { mustExist: true })).problem).toBe('missing');
    expect((await sql(url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'")).rows[0].n).toBe(0);
  });

  it('when the server is not there or the database does not exist then the error names the problem and never the password', async () => {
    const down = refused(() => PgStateStore.open('postgres://bot:s3cret-pw@127.0.0.1:1/tollgate'));
    expect(down.problem).toBe('io');
    expect(down.message).toMatch(/cannot reach PostgreSQL/);
    expect(down.message).not.toContain('s3cret-pw');
    expect(down.message).toContain('postgres://bot:***@127.0.0.1:1/tollgate');
    const missing = refused(() => PgStateStore.open(cluster.url('no_such_db').replace('tollgate@', 'tollgate:pw@')));
    expect(missing.problem).toBe('missing');
    expect(missing.message).not.toContain(':pw@');
  });

  it('when someone edits or deletes the audit log in the database then PostgreSQL refuses (append-only)', async () => {
    const url = await fresh();
    const s = PgStateStore.open(url);
    new Ledger(s, { now: () => T0 }, metaOf).setCash({ currency: 'USD', amount: '1' }, op('a'));
    s.close();
    await expect(sql(url, "UPDATE audit SET actor = 'x'")).rejects.toThrow(/append-only/);
    await expect(sql(url, 'DELETE FROM audit')).rejects.toThrow(/append-only/);
    await expect(sql(url, 'TRUNCATE audit')).rejects.toThrow(/append-only/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM audit')).rows[0].n).toBe(1);
  });

  it('when a call overruns its deadline then it fails, its late answer is dropped, and the next call gets its own answer', async () => {
    const b = new SyncPg(cluster.url(), { callTimeoutMs: 300 });
    try {
      expect(b.query<{ one: number }>('SELECT 1 AS one').rows).toEqual([{ one: 1 }]);
      expect(() => b.query('SELECT pg_sleep(0.8)')).toThrow(/did not answer within 300 ms/);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1200); // the sleep ends and its answer arrives, unread
      expect(b.query<{ v: number }>('SELECT 42 AS v').rows).toEqual([{ v: 42 }]);
    } finally {
      b.close();
    }
    expect(() => b.query('SELECT 1')).toThrow(/closed/);
  });

  it('when a statement fails inside a write then the whole write rolls back and the connection stays usable', async () => {
    const url = await fresh();
    const s = PgStateStore.open(url);
    try {
      expect(() => s.write((tx) => {
        tx.setCash('USD', '5');
        s.saveOrder({ clientOrderId: 'no-intent', venueOrderId: null, status: 'accepted', filledQuantity: '0', detail: null, updatedTs: T0 });
      })).toThrow(/foreign key/);
      expect(s.snapshot().cash).toEqual([]);
      s.setGuardState('k', 1, T0);
      expect(s.guardState('k')).toBe(1);
    } finally {
      s.close();
    }
  });

  it('when two processes write the same state at once then the writers take turns: every operation is booked, the sequence is gapless, nothing is lost', async () => {
    const url = await fresh();
    const s = PgStateStore.open(url);
    new Ledger(s, { now: () => T0 }, metaOf).setCash({ currency: 'USD', amount: '1000' }, op('cash'));
    const [a, b] = await Promise.all([buyer(url, 25, 'a'), buyer(url, 25, 'b')]);
    expect([a.code, a.err, b.code, b.err]).toEqual([0, '', 0, '']);
    try {
      const snap = s.snapshot();
      expect(snap.sequence).toBe(51);
      expect([...s.audit()].map((r) => r.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      // 50 buys of 0.0001 BTC at 50000: 250 USD, exactly
      expect(snap.cash).toEqual([{ currency: 'USD', amount: '750' }]);
      expect(verifyAudit(s, metaOf, () => new MemoryLedgerStore()).ok).toBe(true);
    } finally {
      s.close();
    }
  });
});
