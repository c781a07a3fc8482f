/**
 * `tollgate run --mode sim --state postgres://…` end to end against the Kraken simulator and a throwaway
 * PostgreSQL cluster: the run trades on the PostgreSQL state and the ledger equals the venue; and two instances
 * of one account share the state behind the leader lease: one trades, the other stands by (health says so, it
 * sends nothing), and when the leader is killed with SIGKILL the standby takes over within seconds, with no
 * order sent twice and the ledger equal to the venue at the end; the new leader then serves the whole HTTP face
 * on the address its standby health was on (operator API, webhook), the lease a component of its health.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStateStore } from '../src/adapters/postgres/state-store.ts';
import { Ledger, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { Dec } from '../src/domain/money.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { openLiveState } from '../src/engine/live-state.ts';
import type { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { BIN, defaults, tmp } from './helpers.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';
import { testSim } from './sim-helpers.ts';
import type { KrakenSim } from '../src/sim/index.ts';

const DENSE = {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
};

interface Running {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}
function startBot(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { env });
  const r: Running = { child, out: '', err: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (d) => (r.out += d));
  child.stderr!.on('data', (d) => (r.err += d));
  return r;
}

async function until<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const getJson = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { code: r.status, body: (await r.json()) as Record<string, unknown> };
};
/** null while nothing listens (the moment the lease's health server hands its address to the bot's HTTP face) */
const tryJson = (url: string, init?: RequestInit) => getJson(url, init).catch(() => null);
const HTTP_ENV = { TOLLGATE_HTTP_TOKEN: 'lease-e2e-token-abcdefghijkl', TOLLGATE_WEBHOOK_PASSPHRASE: 'lease-e2e-passphrase-123456' };
/** every order the simulator took was recorded once as an intent before it was sent, and no client order id went twice */
function expectEachOrderOnce(store: PgStateStore, sim: KrakenSim): void {
  const intents = store.orderIntentsWithStatus().map((i) => i.clientOrderId);
  expect(intents.length).toBeGreaterThan(0);
  expect(sim.calls['AddOrder']).toBe(intents.length);
  const venueIds = sim.orders().map((o) => o.clOrdId);
  expect(new Set(venueIds).size).toBe(venueIds.length);
  expect([...venueIds].sort()).toEqual([...intents].sort());
}
const healthOf = (b: Running) => /health on (http:\/\/127\.0\.0\.1:\d+)/.exec(b.err)?.[1];

const d = postgresMissing() ? describe.skip : describe;
let cluster: PgCluster;
let n = 0;

/** a paced simulator, a new database, the dense config and the environment with the simulator's keys; `args`: what every bot of the test is given */
async function scene(db: string, to = '2019-04-01') {
  const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to, pace: 20, startIndex: 800 });
  const url = await cluster.createDatabase(`${db}_${process.pid}_${++n}`);
  const dir = tmp(`tollgate-pg-${db}-`);
  const config = join(dir, 'dense.json');
  writeFileSync(config, JSON.stringify(DENSE));
  const env = { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret };
  const args = (stateUrl = url) => ['--mode', 'sim', '--url', sim.url, '--pace', '20', '--config', config, '--state', stateUrl, '--json', '--dead-mans-switch', '0'];
  return { sim, apiKey, secret, url, dir, env, args };
}

d('tollgate run on a PostgreSQL state', () => {
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(() => cluster?.stop());

  it('with --state postgres://… a sim run trades, nothing is sent twice, the password is never shown, and the ledger equals the venue', async () => {
    const { markets } = defaults();
    const sc = await scene('run', '2019-03-01');
    const { sim, dir, env } = sc;
    const url = sc.url.replace('tollgate@', 'tollgate:db-pw-xyz@');
    const bot = startBot([...sc.args(url), '--max-candles', '40', '--logs', join(dir, 'logs')], env);
    const code = await bot.exited;
    sim.setPace(0);
    expect(bot.err).not.toMatch(/internal error|\n\s+at /);
    expect(code).toBe(0);
    expect(bot.out + bot.err).not.toContain('db-pw-xyz');
    expect(bot.err).toContain('state postgres://tollgate:***@127.0.0.1');
    const store = PgStateStore.open(url);
    try {
      expect(store.invariantViolation()).toBeNull();
      expectEachOrderOnce(store, sim);
      const ledger = new Ledger(store, new SystemClock(), (p) => markets.get(p)).load();
      const summary = JSON.parse(bot.out.trim().split('\n').at(-1)!) as { cash: Record<string, string> };
      expect(summary.cash['USD']).toBe(ledger.cash.get('USD')!.toFixed());
      expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    } finally {
      store.close();
    }
  }, 90_000);

  it('two instances of one account: one trades, the other stands by; SIGKILL the leader and the standby takes over within seconds and serves the whole HTTP face; no order twice, ledger = venue', async () => {
    const { markets } = defaults();
    const { sim, apiKey, secret, url, dir, args, env: simEnv } = await scene('lease');
    const env = { ...simEnv, ...HTTP_ENV };
    const common = [...args(), '--http', '127.0.0.1:0', '--account', 'main'];
    const a = startBot([...common, '--logs', join(dir, 'logs-a')], env);
    let b: Running | null = null;
    try {
      await until('the first instance to take the lease', () => /leader lease of account main taken/.test(a.err));
      b = startBot([...common, '--logs', join(dir, 'logs-b')], env);
      const bHealth = await until('the second instance to stand by', () => /another instance holds the lease of account main/.test(b!.err) && healthOf(b!));
      const standby = await getJson(`${bHealth}/health`);
      expect(standby.code).toBe(200);
      expect(standby.body).toMatchObject({ status: 'standby', role: 'standby', account: 'main', ready: false, components: { lease: { status: 'degraded' } } });
      expect(String((standby.body.components as Record<string, { reason: string } | undefined>)['lease']?.reason)).toMatch(/^standby: another instance holds the lease of account main \(tollgate lease: pid \d+/);
      expect((await getJson(`${bHealth}/health/ready`))).toMatchObject({ code: 503, body: { status: 'standby' } });
      // a standby has no webhook or operator API
      expect((await getJson(`${bHealth}/api/v1/status`, { headers: { authorization: `Bearer ${HTTP_ENV.TOLLGATE_HTTP_TOKEN}` } })).code).toBe(404);
      // the leader trades; the standby has not touched the venue or the state
      await until('the leader to send an order', () => (sim.calls['AddOrder'] ?? 0) >= 1, 45_000);
      expect(b.err).not.toMatch(/recovery|reconciliation/);
      const aHealth = healthOf(a)!;
      // the leader serves the whole face where its health was announced
      await until('the leader to serve its HTTP face', () => a.err.includes(`http: listening on ${aHealth}`));
      expect((await getJson(`${aHealth}/health`)).body).toMatchObject({ role: 'leader', mode: 'sim', components: { lease: { status: 'healthy' } } });
      a.child.kill('SIGKILL');
      const killedAt = performance.now();
      const ordersAtKill = sim.calls['AddOrder'] ?? 0;
      await a.exited;
      await until('the standby to take over', () => /leader lease of account main taken/.test(b!.err), 15_000);
      const takeoverMs = performance.now() - killedAt;
      process.stderr.write(`lease takeover after SIGKILL of the leader: ${Math.round(takeoverMs)} ms\n`);
      await until('the new leader to report healthy as leader', async () => (await tryJson(`${bHealth}/health`))?.body.role === 'leader');
      // the new leader answers on the address its standby health was on: the operator API and a webhook alert
      await until('the new leader to serve its HTTP face', () => b!.err.includes(`http: listening on ${bHealth}`));
      process.stderr.write(`handover of the address to the HTTP face: ${/taken over from the lease's health server: ([\d.]+) ms/.exec(b.err)?.[1] ?? '?'} ms without a listener\n`);
      const health = await getJson(`${bHealth}/health`);
      expect(health.body).toMatchObject({ role: 'leader', account: 'main', mode: 'sim', components: { lease: { status: 'healthy', reason: null } } });
      const auth = { authorization: `Bearer ${HTTP_ENV.TOLLGATE_HTTP_TOKEN}` };
      expect((await getJson(`${bHealth}/api/v1/status`)).code).toBe(401);
      const status = await getJson(`${bHealth}/api/v1/status`, { headers: auth });
      expect(status.code).toBe(200);
      expect(status.body).toMatchObject({ bot: { mode: 'sim', pair: 'BTC/USD' }, ledger: { cash: { USD: expect.any(String) } } });
      expect(Number((status.body.ledger as { sequence: number }).sequence)).toBeGreaterThan(0);
      const alert = JSON.stringify({ passphrase: HTTP_ENV.TOLLGATE_WEBHOOK_PASSPHRASE, ticker: 'KRAKEN:XBTUSD', action: 'buy', price: '4000', id: 'lease-e2e-1' });
      const hook = await getJson(`${bHealth}/webhook`, { method: 'POST', body: alert, headers: { 'content-type': 'text/plain' } });
      expect(hook.code).toBe(202);
      const signalId = String(hook.body.signalId);
      // the alert went from the PostgreSQL intake to the bot's pipeline, and its lifecycle is followed there
      const followed = await until('the webhook signal to reach the bot', async () => {
        const s = await getJson(`${bHealth}/api/v1/signals/${signalId}`, { headers: auth });
        const w = s.body.webhook as { status: string; state: string | null } | undefined;
        return s.code === 200 && w?.status === 'submitted' && w.state !== null && w;
      });
      expect(followed).toMatchObject({ signalId, source: 'tradingview', status: 'submitted' });
      await until('the new leader to trade', () => (sim.calls['AddOrder'] ?? 0) > ordersAtKill, 45_000);
      b.child.kill('SIGTERM');
      const code = await b.exited;
      sim.setPace(0);
      expect(b.err).not.toMatch(/internal error|\n\s+at /);
      expect(code).toBe(0);
      expect(b.err).toMatch(/recovery|reconciliation/);
      expect(sim.calls['AddOrder'] ?? 0).toBeGreaterThan(ordersAtKill); // the one that took over traded
      process.stderr.write(`orders: ${ordersAtKill} sent by the first leader, ${(sim.calls['AddOrder'] ?? 0) - ordersAtKill} by the one that took over\n`);
    } finally {
      a.child.kill('SIGKILL');
      b?.child.kill('SIGKILL');
    }
    const store = PgStateStore.open(url);
    try {
      // every order on the venue was recorded once as an intent, by whichever instance sent it, and none twice
      expectEachOrderOnce(store, sim);
      expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    } finally {
      store.close();
    }
    // the ledger equals the venue (a last recovery settles an order still working when the run ended)
    const clock = new SystemClock();
    const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock });
    await exchange.loadMarkets();
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], tradeTimeSlackMs: 2 * 3_600_000 });
    const again = await openLiveState({ file: 'pg', store: PgStateStore.open(url) as unknown as SqliteStateStore, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
    try {
      expect(again.reconciliation.differences).toEqual([]);
      expect([...again.store.fillIds()].sort()).toEqual(sim.trades().map((t) => t.id).sort());
      const ledger = again.ledger.load();
      expect(ledger.cash.get('USD')!.toFixed()).toBe(sim.exchange.balanceOf('USD').toFixed());
      const held = [...ledger.positions.values()].reduce((x, p) => x.plus(p.quantity), new Dec(0));
      expect(held.toFixed()).toBe(sim.exchange.balanceOf('XBT').toFixed());
    } finally {
      again.store.close();
    }
  }, 120_000);

  it("when the leader's lease session is cut then it exits (3) rather than trade on without the lease, saying why", async () => {
    const { dir, env, args } = await scene('lost');
    const a = startBot([...args(), '--logs', join(dir, 'logs')], env);
    try {
      await until('the instance to take the lease and run', () => /recovery\.done|state postgres:/.test(a.err) && /leader lease of account key #\d+ taken/.test(a.err));
      const admin = new pg.Client({ connectionString: cluster.url() });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'tollgate lease:%'");
      await admin.end();
      const code = await a.exited;
      expect(code).toBe(3);
      expect(a.err).toMatch(/the lease connection to PostgreSQL broke .*another instance may take over; this one stops trading; exiting now/);
    } finally {
      a.child.kill('SIGKILL');
    }
  }, 90_000);
});
