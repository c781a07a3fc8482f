/**
 * The state commands on a PostgreSQL state (`--state postgres://…`, one opener: src/adapters/state-open.ts):
 * setcash, manage/unmanage, status, audit verify, db migrate/status, digest and telegram book into and read the
 * same PostgreSQL database as `tollgate run` does; `db backup` refuses, pointing at pg_dump; the URL's password
 * is never shown. Against a throwaway cluster (test/postgres-cluster.ts), skipped without server binaries.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_LATEST_VERSION } from '../src/adapters/postgres/migrations.ts';
import { PgStateStore } from '../src/adapters/postgres/state-store.ts';
import { runDigest } from '../src/cli/cli-digest.ts';
import { BIN, tmp } from './helpers.ts';
import { cliInProcess, type CliRun } from './cli-capture.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';
import { FakeBotApi } from './telegram-fake-api.ts';

const cli = cliInProcess;
type Run = CliRun;
const json = (r: Run) => JSON.parse(r.out) as Record<string, any>;
const T = (iso: string) => Date.parse(iso);
const PW = 'cli-db-pw-never-shown';

const d = postgresMissing() ? describe.skip : describe;
let cluster: PgCluster;
let n = 0;
/** a new empty database, its URL with a password (trust auth ignores it: what matters is that it is never shown) */
const fresh = async () => (await cluster.createDatabase(`pgcli_${process.pid}_${++n}`)).replace('tollgate@', `tollgate:${PW}@`);

d('the state commands on a PostgreSQL state', () => {
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(() => cluster?.stop());

  it('when setcash, manage and unmanage book into postgres:// then status, audit verify and db status read them back, and the password is never shown', async () => {
    const url = await fresh();
    const missing = await cli(['status', '--state', url]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no Tollgate state in this database/);
    const migrate = await cli(['db', 'migrate', '--state', url]);
    expect(migrate.code).toBe(0);
    expect(migrate.out).toMatch(new RegExp(`^postgres://tollgate:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/pgcli_\\S+: schema version ${PG_LATEST_VERSION} \\(latest ${PG_LATEST_VERSION}\\), applied 1`));
    expect((await cli(['db', 'migrate', '--state', url])).out).toContain('already up to date');
    expect((await cli(['setcash', '10000', '--reason', 'deposit', '--state', url])).code).toBe(0);
    const store = PgStateStore.open(url);
    store.putExternalHolding({ asset: 'BTC', quantity: '1.5', updatedTs: T('2024-01-10T00:00:00Z'), detail: 'reconciliation' });
    store.close();
    const manage = await cli(['manage', 'BTC/USD', '0.5', '--price', '31000', '--reason', 'adopt', '--idempotency-key', 'm1', '--state', url, '--json']);
    expect(manage.code).toBe(0);
    expect(json(manage)).toMatchObject({ command: 'manage', quantity: '0.5', external: '1' });
    expect(json(await cli(['manage', 'BTC/USD', '0.5', '--price', '31000', '--idempotency-key', 'm1', '--state', url, '--json']))).toMatchObject({ repeated: true });
    const unmanage = await cli(['unmanage', 'BTC/USD', '0.2', '--reason', 'release', '--state', url, '--json']);
    expect(unmanage.code).toBe(0);
    expect(json(unmanage)).toMatchObject({ command: 'unmanage', external: '1.2' });
    const status = json(await cli(['status', '--state', url, '--json']));
    expect(status.cash).toEqual({ USD: '10000' });
    expect(status.positions).toHaveLength(1);
    expect(status.positions[0]).toMatchObject({ pair: 'BTC/USD', quantity: '0.3', managed: true });
    expect(status.externalHoldings).toEqual([expect.objectContaining({ asset: 'BTC', quantity: '1.2', origin: 'external' })]);
    const text = await cli(['status', '--state', url]);
    expect(text.out).toMatch(/^state postgres:\/\/tollgate:\*\*\*@127\.0\.0\.1:\d+\/pgcli_\S+ · sequence 3/);
    const audit = await cli(['audit', 'verify', '--state', url, '--json']);
    expect(audit.code).toBe(0);
    expect(json(audit)).toMatchObject({ ok: true, rows: 3, sequence: 3, integrity: 'ok' });
    const dbStatus = json(await cli(['db', 'status', '--state', url, '--json']));
    expect(dbStatus).toMatchObject({ schemaVersion: PG_LATEST_VERSION, latestVersion: PG_LATEST_VERSION, sequence: 3, auditRows: 3, positions: 1, integrity: 'ok' });
    expect(String(dbStatus.url)).toMatch(/^postgres:\/\/tollgate:\*\*\*@/);
    const all = [missing, migrate, manage, unmanage, text, audit].map((r) => r.out + r.err).join('') + JSON.stringify(dbStatus);
    expect(all).not.toContain(PW);
  }, 60_000);

  it('when db backup is given a postgres:// state then it refuses, pointing at pg_dump, without connecting (and without the password)', async () => {
    const dir = tmp('tollgate-pg-backup-');
    // a port nothing listens on: the refusal comes before any connection
    const r = await cli(['db', 'backup', join(dir, 'copy.db'), '--state', `postgres://tollgate:${PW}@127.0.0.1:1/nowhere`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/db backup: postgres:\/\/tollgate:\*\*\*@127\.0\.0\.1:1\/nowhere is a PostgreSQL state: back it up with PostgreSQL's own pg_dump/);
    expect(r.err).not.toContain(PW);
  });

  it('when the digest reads a postgres:// state then it shows its external holdings and names the state without the password', async () => {
    const url = await fresh();
    expect((await cli(['setcash', '500', '--reason', 'deposit', '--state', url])).code).toBe(0);
    const store = PgStateStore.open(url);
    store.putExternalHolding({ asset: 'ETH', quantity: '3', updatedTs: T('2024-01-10T00:00:00Z'), detail: 'reconciliation' });
    store.close();
    const dir = tmp('tollgate-pg-digest-');
    const r = runDigest({ period: 'week', at: T('2024-01-10T00:00:00Z'), logs: join(dir, 'logs'), state: url, out: join(dir, 'out'), force: false, json: false, now: T('2024-01-16T06:00:00Z') });
    expect(r.status).toBe('written');
    const text = readFileSync(r.files.json, 'utf8');
    const digest = JSON.parse(text) as { sources: { state: string }; ledger: { now: { external: Record<string, string> | null } } };
    expect(digest.ledger.now.external).toEqual({ ETH: '3' });
    expect(digest.sources.state).toMatch(/^postgres:\/\/tollgate:\*\*\*@127\.0\.0\.1/);
    expect(text + readFileSync(r.files.md, 'utf8')).not.toContain(PW);
  }, 30_000);

  it('when tollgate telegram runs on a postgres:// state then /status is answered from it', async () => {
    const TOKEN = '8888:pg-TEST-token-never-printed-DDDDDDDD';
    const api = new FakeBotApi(TOKEN);
    await api.start();
    const url = await fresh();
    expect((await cli(['setcash', '4321', '--reason', 'deposit', '--state', url])).code).toBe(0);
    const dir = tmp('tollgate-pg-tg-');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 });
    const env = { ...process.env, TOLLGATE_TELEGRAM_TOKEN_FILE: tokenFile } as NodeJS.ProcessEnv;
    delete env.TOLLGATE_TELEGRAM_TOKEN;
    const child = spawn(process.execPath, [BIN, 'telegram', '--state', url, '--chats', '42', '--api-root', api.root, '--logs', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      const end = performance.now() + 20_000;
      while (!out.includes('telegram: polling') && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(out).toMatch(/state postgres:\/\/tollgate:\*\*\*@127\.0\.0\.1/);
      api.text(42, '/status');
      const r = await api.waitSent(42, 1, 10_000);
      expect(r.body.text).toContain('4321');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).not.toContain(PW);
    } finally {
      child.kill('SIGKILL');
      await api.close();
    }
  }, 40_000);
});
