import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { LATEST_VERSION } from '../src/adapters/sqlite/migrations.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { cliInProcess } from './cli-capture.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { BIN, tmp } from './helpers.ts';

const markets = krakenMarkets();

interface Run { code: number | null; out: string; err: string }

/** `tollgate ARGS` as a real process; as root, `asNobody` drops to uid 65534 so that file permissions apply. */
function tollgate(args: string[], o: { asNobody?: boolean } = {}): Promise<Run> {
  const drop = o.asNobody && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, ...drop });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

const cli = (args: string[]): Promise<Run> => cliInProcess(args);

const json = (r: Run) => JSON.parse(r.out) as Record<string, any>;

async function seeded(): Promise<{ dir: string; db: string; st: string[] }> {
  const dir = tmp('tollgate-state-cli-');
  const db = join(dir, 'state.db');
  const st = ['--state', db];
  // seeded in-process through the same Ledger the CLI uses (one process start less per test)
  const store = SqliteStateStore.open(db);
  new Ledger(store, { now: () => Date.UTC(2024, 0, 1) }, (p) => markets.get(p)).setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', key: 'seed', reason: 'initial deposit' });
  store.close();
  return { dir, db, st };
}

describe('tollgate operator commands', () => {
  it('when the operator buys, repeats the key, sells, closes and asks for status then every step is in the ledger once and status has the LOGS.md shape', async () => {
    const { db, st } = await seeded();
    const buy = await cli(['buy', 'BTC/USD', '0.1', '50000.1', '--fee', '20', ...st, '--idempotency-key', 'k1', '--json']);
    expect(buy.code).toBe(0);
    expect(json(buy)).toMatchObject({ seq: 2, operation: 'buy', repeated: false, cash: { USD: '4979.99' } });
    const [again, eth] = await Promise.all([
      tollgate(['buy', 'BTC/USD', '0.1', '50000.1', '--fee', '20', ...st, '--idempotency-key', 'k1', '--json']),
      cli(['buy', 'ETH/USD', '1', '2000', ...st]),
    ]);
    expect(json(again)).toEqual({ ...json(buy), repeated: true });
    expect(eth.out).toMatch(/buy ETH\/USD @ 2000 → position manual-ETHUSD holds 1/);
    const [sell, close] = await Promise.all([
      cli(['sell', 'XBTUSD', '0.05', '51000.5', ...st]),
      cli(['close', 'manual-ETHUSD', '--price', '2100', ...st]),
    ]);
    expect(sell.code).toBe(0);
    expect(close.out).toMatch(/closed, pnl 100/);
    const [status, text, verify] = await Promise.all([cli(['status', ...st, '--json']), cli(['status', ...st]), cli(['audit', 'verify', ...st])]);
    const s = json(status);
    expect(s).toMatchObject({ sequence: 5, cash: { USD: '7630.015' }, realizedPnl: '100' });
    expect(typeof s.updatedAt).toBe('string');
    expect(s.positions).toHaveLength(1);
    expect(s.positions[0]).toMatchObject({ pair: 'BTC/USD', side: 'buy', quantity: '0.05', entryPrice: '50000.1', unrealizedPnl: '80.04', signalId: null, markSource: 'stored', mark: '51000.5' });
    expect(text.out).toMatch(/mark 51000\.5 \(last stored/);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/audit verify: ok — 5 rows/);
    // the database says the same
    const raw = new Database(db, { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM audit').pluck().get()).toBe(5);
    raw.close();
  });

  it('when a position has no stored mark then status values it at its entry price and says so', async () => {
    const { db, st } = await seeded();
    await cli(['import', 'portfolio', writeCsv(db + '.csv', 'type,asset,quantity,price\nposition,SOL/USD,3,100.25\n'), ...st]);
    const s = await cli(['status', ...st]);
    expect(s.out).toMatch(/mark 100\.25 \(entry price: no mark stored for SOL\/USD\)/);
  });

  it('when an input is bad then one message names it, the exit code is 2 and the ledger is unchanged', async () => {
    const { st } = await seeded();
    const runs = await Promise.all([
      tollgate(['buy', 'BTC/USD', '0.123456789', '50000', ...st]),
      cli(['buy', 'FOO/BAR', '1', '1', ...st]),
      cli(['buy', 'BTC/USD', '1', '50000', ...st]),
      cli(['sell', 'ETH/USD', '1', '2000', ...st]),
      cli(['setcash', '-5', '--reason', 'x', ...st]),
      cli(['setcash', '5', ...st]),
      cli(['setcash', '11', '--reason', 'other', ...st, '--idempotency-key', 'seed']),
      cli(['close', 'nope', ...st]),
    ]);
    const expected = [
      /AMOUNT 0.123456789 has 9 decimals; BTC\/USD \(lot decimals\) allows 8/,
      /unknown Kraken pair "FOO\/BAR"/,
      /insufficient USD cash/,
      /no open position manual-ETHUSD/,
      /AMOUNT "-5" is not a decimal amount|unknown option '-5'/,
      /required option '--reason <text>' not specified/,
      /idempotency key "seed" was already used for another request/,
      /no open position nope/,
    ];
    runs.forEach((r, i) => {
      expect(r.code, String(expected[i])).toBe(2);
      expect(r.err).toMatch(expected[i]!);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/internal error|at .*\.ts:/);
    });
    expect(json(await cli(['status', ...st, '--json'])).sequence).toBe(1);
  });

  it('when the audit log was tampered with then audit verify fails naming the row', async () => {
    const { db, st } = await seeded();
    await cli(['buy', 'BTC/USD', '0.01', '50000', ...st]);
    const raw = new Database(db);
    raw.exec('DROP TRIGGER audit_no_update');
    raw.prepare("UPDATE audit SET input = replace(input, '0.01', '0.02') WHERE seq = 2").run();
    raw.close();
    const r = await cli(['audit', 'verify', ...st]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/MISMATCH after 2 rows: audit row 2 \(buy\): state after differs/);
  });
});

describe('tollgate db', () => {
  it('when asked then db migrate, db status and db backup work, and backup never overwrites', async () => {
    const { dir, st } = await seeded();
    const [migrate, status] = await Promise.all([cli(['db', 'migrate', ...st]), cli(['db', 'status', ...st, '--json'])]);
    expect(migrate.out).toMatch(new RegExp(`schema version ${LATEST_VERSION} \\(latest ${LATEST_VERSION}\\), already up to date`));
    expect(json(status)).toMatchObject({ schemaVersion: LATEST_VERSION, journalMode: 'wal', synchronous: 'FULL', sequence: 1, integrity: 'ok' });
    const copy = join(dir, 'backups', 'backup.db');
    expect((await cli(['db', 'backup', copy, ...st])).code).toBe(0);
    expect(json(await cli(['status', '--state', copy, '--json'])).cash).toEqual({ USD: '10000' });
    const before = readFileSync(copy);
    const again = await cli(['db', 'backup', copy, ...st]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists; backup never overwrites/);
    expect(readFileSync(copy).equals(before)).toBe(true);
  });

  it('when the state file is corrupt, foreign, from a newer version, missing or read-only then the exit is non-zero, the message names the problem and the file is unchanged', async () => {
    const dir = tmp('tollgate-state-bad-');
    const corrupt = join(dir, 'corrupt.db');
    writeFileSync(corrupt, 'not a database\n'.repeat(50));
    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    f.close();
    const newer = join(dir, 'newer.db');
    SqliteStateStore.open(newer).close();
    const n = new Database(newer);
    n.prepare("UPDATE meta SET value = '99' WHERE key IN ('schema_version', 'readable_from')").run(); // a newer release's incompatible schema
    n.close();
    const ro = join(dir, 'readonly.db');
    SqliteStateStore.open(ro).close();
    chmodSync(ro, 0o444);
    chmodSync(dir, 0o755); // readable by the unprivileged user, writable by nobody but the owner
    const files = [corrupt, foreign, newer, ro];
    const bytes = files.map((p) => readFileSync(p));
    const [c, fo, ne, r, missing] = await Promise.all([
      tollgate(['buy', 'BTC/USD', '0.1', '1', '--state', corrupt]),
      tollgate(['status', '--state', foreign]),
      tollgate(['setcash', '5', '--reason', 'x', '--state', newer]),
      tollgate(['setcash', '5', '--reason', 'x', '--state', ro], { asNobody: true }),
      tollgate(['status', '--state', join(dir, 'missing.db')]),
    ]);
    expect(c.err).toMatch(/corrupt\.db: is not a SQLite database/);
    expect(fo.err).toMatch(/foreign\.db: is a SQLite database of another program \(tables: invoices\)/);
    expect(ne.err).toMatch(new RegExp(`newer\\.db: was migrated by a newer Tollgate \\(schema version 99; this version knows up to ${LATEST_VERSION}\\)`));
    expect(r.err).toMatch(/readonly\.db: the state file is read-only/);
    expect(missing.err).toMatch(/missing\.db: no state database here/);
    for (const x of [c, fo, ne, r, missing]) {
      expect(x.code).toBe(2);
      expect(x.err.trim().split('\n')).toHaveLength(1);
    }
    files.forEach((p, i) => expect(readFileSync(p).equals(bytes[i]!), p).toBe(true));
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
  });
});

function writeCsv(file: string, text: string): string {
  writeFileSync(file, text);
  return file;
}

describe('tollgate import', () => {
  it('when a portfolio CSV is imported then the summary shows before, file, after and difference 0, and a second file with one bad row is refused whole', async () => {
    const { dir, st } = await seeded();
    const good = writeCsv(join(dir, 'pf.csv'), [
      'type,asset,quantity,price,fees,id,opened,cost',
      'cash,USD,25000.50,,,,,',
      'cash,EUR,1000,,,,,',
      'position,BTC/USD,0.5,30000.1,12.5,btc-1,2024-01-01T00:00:00Z,15000.05',
      'position,XETHZUSD,2.25,1800,,,,',
    ].join('\n'));
    const r = await cli(['import', 'portfolio', good, ...st]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/imported 2 cash balances and 2 positions/);
    expect(r.out).toMatch(/cash USD\s+10000\s+25000\.5\s+25000\.5\s+25000\.5\s+0/);
    expect(r.out).toMatch(/quantity BTC\/USD\s+0\s+0\.5\s+0\.5\s+0\.5\s+0/);
    expect(r.out).toMatch(/quantity ETH\/USD\s+0\s+2\.25\s+2\.25\s+2\.25\s+0/);
    const after = json(await cli(['status', ...st, '--json']));
    expect(after).toMatchObject({ sequence: 2, cash: { USD: '25000.5', EUR: '1000' } });

    const bad = writeCsv(join(dir, 'bad.csv'), [
      'type,asset,quantity,price,fees,id,opened,cost',
      'cash,USD,1,,,,,',
      'position,ETH/USD,1,2000,,,,2000',
      'position,BTC/USD,0.1,30000,,,,3500',
    ].join('\n'));
    const dup = writeCsv(join(dir, 'dup.csv'), 'type,asset,quantity,price\ncash,USD,1,\ncash,USD,2,\n');
    const [b, d] = await Promise.all([cli(['import', 'portfolio', bad, ...st]), cli(['import', 'portfolio', dup, ...st])]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/bad\.csv:4: discrepancy: cost 3500 ≠ quantity × price = 3000 USD/);
    expect(d.err).toMatch(/dup\.csv:3: cash USD appears twice \(also line 2\)/);
    expect(json(await cli(['status', ...st, '--json']))).toEqual(after);
  });

  it("when Kraken's trades export is imported then its trades move cash and the operator positions, oldest first; importing it again changes nothing; a bad row refuses the whole file", async () => {
    const { dir, st } = await seeded();
    const header = '"txid","ordertxid","pair","time","type","ordertype","price","cost","fee","vol","margin","misc","ledgers"';
    const rows = [
      '"TQ2B3C-AAAAA-000003","OXYZ12-BBBBB-000003","XXBTZUSD","2024-01-03 09:15:00.1234","sell","limit",52000.0,1040.00000,2.70400,0.02000000,0.00000,"","LA1,LA2"',
      '"TQ2B3C-AAAAA-000001","OXYZ12-BBBBB-000001","XXBTZUSD","2024-01-01 12:00:00.0000","buy","market",50000.1,2500.00500,10.00002,0.05000000,0.00000,"","LB1,LB2"',
      '"TQ2B3C-AAAAA-000002","OXYZ12-BBBBB-000002","XETHZUSD","2024-01-02 08:30:00.5000","buy","limit",2000.50,4001.00000,6.40160,2.00000000,0.00000,"","LC1,LC2"',
    ];
    const file = writeCsv(join(dir, 'trades.csv'), [header, ...rows].join('\n') + '\n');
    const r = await cli(['import', 'kraken-trades', file, ...st, '--json']);
    expect(r.err).toBe('');
    expect(json(r)).toMatchObject({ trades: 3, applied: 3, alreadyImported: 0, sequenceBefore: 1, sequenceAfter: 4 });
    const s = json(await cli(['status', ...st, '--json']));
    // 10000 − 2500.005 − 10.00002 − 4001 − 6.4016 + 1040 − 2.704
    expect(s.cash.USD).toBe('4519.88938');
    expect(s.positions.map((p: any) => [p.id, p.quantity])).toEqual([['manual-BTCUSD', '0.03'], ['manual-ETHUSD', '2']]);

    const again = await cli(['import', 'kraken-trades', file, ...st, '--json']);
    expect(json(again)).toMatchObject({ applied: 0, alreadyImported: 3, sequenceAfter: 4 });

    const bad = writeCsv(join(dir, 'bad.csv'), [header,
      '"TNEW01-AAAAA-000001","ONEW01","XXBTZUSD","2024-02-01 00:00:00.0000","buy","limit",50000.0,500.00000,1.3,0.01000000,0.00000,"",""',
      '"TNEW01-AAAAA-000002","ONEW02","XXBTZUSD","2024-02-02 00:00:00.0000","sell","limit",50000.0,50000.00000,1.3,1.00000000,0.00000,"",""',
    ].join('\n'));
    const margin = writeCsv(join(dir, 'margin.csv'), [header, '"TM1","OM1","XXBTZUSD","2024-02-01 00:00:00.0000","buy","limit",50000.0,500.0,1.3,0.01,100.0,"",""'].join('\n'));
    const [b, m] = await Promise.all([cli(['import', 'kraken-trades', bad, ...st]), cli(['import', 'kraken-trades', margin, ...st])]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/bad\.csv:3: trade TNEW01-AAAAA-000002: sell of position manual-BTCUSD sells 1 > held 0\.04; nothing was imported/);
    expect(m.err).toMatch(/margin\.csv:2: trade TM1 used margin/);
    expect(json(await cli(['status', ...st, '--json']))).toEqual(s);
  });
});
