/**
 * The leader lease on its own (src/adapters/postgres/lease.ts), against a throwaway cluster: one holder per
 * account, standbys wait and name the holder, a released or ended session hands the lease on, and a holder
 * whose session is killed hears at once that it lost the lease.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseError, leaseKey, PgLease } from '../src/adapters/postgres/lease.ts';
import { BIN, tmp } from './helpers.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';

const d = postgresMissing() ? describe.skip : describe;
let cluster: PgCluster;
const now = () => performance.timeOrigin + performance.now();
const lease = (account: string, label?: string) => new PgLease({ url: cluster.url(), account, ...(label ? { label } : {}), now, retryMs: 100, checkMs: 100 });
/** tries for `ms`, then gives up */
const tryFor = (l: PgLease, ms: number) => {
  const end = now() + ms;
  return l.acquire(() => now() > end);
};

d('leader lease on PostgreSQL', () => {
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(() => cluster?.stop());

  it('the key is a hash of the account: the same for the same account, different for another, and never the name itself', () => {
    expect(leaseKey('api-key:ABC')).toBe(leaseKey('api-key:ABC'));
    expect(leaseKey('api-key:ABC')).not.toBe(leaseKey('api-key:ABD'));
    expect(leaseKey('x')).toBeGreaterThanOrEqual(0);
    expect(lease('api-key:SECRETISH').status().account).toBe(`key #${leaseKey('api-key:SECRETISH')}`);
  });

  it('when one instance holds the lease of an account then another stands by, naming the holder, while another account is free', async () => {
    const a = lease('name:main', 'main');
    const b = lease('name:main', 'main');
    const other = lease('name:second', 'second');
    try {
      expect(await tryFor(a, 2000)).toBe(true);
      expect(a.status().role).toBe('leader');
      expect(await tryFor(b, 400)).toBe(false);
      expect(b.status()).toMatchObject({ role: 'standby', account: 'main', holder: expect.stringMatching(new RegExp(`^tollgate lease: pid ${process.pid} on `)) });
      expect(b.status().reason).toMatch(/another instance holds the lease of account main/);
      expect(await tryFor(other, 2000)).toBe(true);
      // released: the standby's next try takes it
      await a.release();
      expect(await tryFor(b, 2000)).toBe(true);
    } finally {
      await Promise.all([a.release(), b.release(), other.release()]);
    }
  });

  it("when the holder's session ends then it hears that it lost the lease, and a standby takes it over", async () => {
    const a = lease('name:killed');
    const b = lease('name:killed');
    try {
      expect(await tryFor(a, 2000)).toBe(true);
      const lost = new Promise<string>((resolve) => a.onLost(resolve));
      const admin = new pg.Client({ connectionString: cluster.url() });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'tollgate lease:%'");
      await admin.end();
      expect(await lost).toMatch(/the lease connection to PostgreSQL broke .*another instance may take over; this one stops trading/);
      expect(a.status().role).toBe('lost');
      expect(await tryFor(b, 3000)).toBe(true);
    } finally {
      await Promise.all([a.release(), b.release()]);
    }
  });

  it('when `tollgate run` stands by and is asked to stop (SIGTERM) then it exits 0, saying it never traded', async () => {
    const holder = lease('name:held');
    expect(await tryFor(holder, 2000)).toBe(true);
    try {
      const dir = tmp('tollgate-pg-standby-');
      const c = spawn(process.execPath, [BIN, 'run', '--mode', 'sim', '--url', 'http://127.0.0.1:1', '--state', cluster.url(), '--account', 'held', '--logs', join(dir, 'logs')], {
        env: { ...process.env, TOLLGATE_KRAKEN_API_KEY: 'k'.repeat(20), TOLLGATE_KRAKEN_API_SECRET: Buffer.from('s'.repeat(64)).toString('base64') },
      });
      let out = '';
      let err = '';
      c.stdout.on('data', (x) => (out += x));
      c.stderr.on('data', (x) => (err += x));
      const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
      const end = now() + 30_000;
      while (!/another instance holds the lease of account held/.test(err) && now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(err).toMatch(/another instance holds the lease of account held \(tollgate lease: pid \d+/);
      c.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('run stopped while standing by: this instance never held the lease, nothing was traded');
      expect(err).not.toMatch(/recovery|reconciliation/);
    } finally {
      await holder.release();
    }
  });

  it('when PostgreSQL cannot be reached then the standby says so without the password, and keeps trying', async () => {
    const l = new PgLease({ url: 'postgres://u:hunter2@127.0.0.1:1/x', account: 'a', now, retryMs: 50 });
    let tries = 0;
    expect(await l.acquire(() => tries >= 2, () => void tries++)).toBe(false);
    expect(l.status().reason).toMatch(/cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x for the lease/);
    expect(l.status().reason).not.toContain('hunter2');
    await l.release();
  });

  it('when PostgreSQL cannot be reached at the first try then a fail-fast acquire throws, naming the place without the password', async () => {
    const l = new PgLease({ url: 'postgres://u:hunter2@127.0.0.1:1/x', account: 'a', now, retryMs: 50 });
    const err = await l.acquire(() => false, undefined, { failFast: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseError);
    expect((err as Error).message).toMatch(/^cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x for the lease \(.+\)$/);
    await l.release();
  });
});

describe('tollgate run with a PostgreSQL state that is not there', () => {
  it('exits 2 before standing by, with a clear message that never shows the password', () => {
    const dir = tmp('tollgate-pg-down-');
    const r = spawnSync(process.execPath, [BIN, 'run', '--mode', 'sim', '--url', 'http://127.0.0.1:1', '--state', 'postgres://bot:pw-42x@127.0.0.1:1/tollgate', '--logs', join(dir, 'logs')], {
      env: { ...process.env, TOLLGATE_KRAKEN_API_KEY: 'k'.repeat(20), TOLLGATE_KRAKEN_API_SECRET: Buffer.from('s'.repeat(64)).toString('base64') }, encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--state: cannot reach PostgreSQL at postgres:\/\/bot:\*\*\*@127\.0\.0\.1:1\/tollgate for the lease/);
    expect(r.stderr + r.stdout).not.toContain('pw-42x');
  });
});
