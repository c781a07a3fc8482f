/**
 * Health behind the leader lease, without a database: the lease's own small health server (standby, then leader
 * while the bot starts) and the bot's whole HTTP face carrying the lease as a component (`health` of
 * buildHttpServer): healthy as leader, and a lost lease makes the instance unready and unhealthy at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { parseConfig } from '../src/config/schema.ts';
import { composeBot } from '../src/engine/compose-bot.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import { leaseHealth, serveLeaseHealth, type LeaseView } from '../src/http/lease-health.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { OperatorService } from '../src/operator/service.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { memoryLogger } from '../src/ports/logger.ts';
import { bundledSlice } from './helpers.ts';
import { settingsOf, WALL_START } from './http-harness.ts';

const get = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { code: r.status, body: (await r.json()) as Record<string, any> };
};
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe("the lease's health server", () => {
  it('when standing by then health says standby (ready 503), once leader it is not ready until the bot serves, other routes are not there', async () => {
    let view: LeaseView = { role: 'standby', account: 'main', holder: 'tollgate lease: pid 1 on a', reason: 'another instance holds the lease of account main; standing by' };
    const s = await serveLeaseHealth({ host: '127.0.0.1', port: 0, lease: () => view });
    closers.push(() => s.close());
    expect(s.listen.port).toBeGreaterThan(0); // the port really taken: the bot's face listens there after the handover
    expect(s.address).toBe(`http://127.0.0.1:${s.listen.port}`);
    expect(await get(`${s.address}/health`)).toMatchObject({ code: 200, body: { status: 'standby', role: 'standby', account: 'main', holder: 'tollgate lease: pid 1 on a', ready: false, components: { lease: { status: 'degraded' } } } });
    expect(await get(`${s.address}/health/ready`)).toMatchObject({ code: 503, body: { status: 'standby' } });
    expect((await get(`${s.address}/health/live`)).code).toBe(200);
    view = { role: 'leader', account: 'main', holder: null, reason: null };
    expect(await get(`${s.address}/health`)).toMatchObject({ code: 200, body: { status: 'healthy', role: 'leader', ready: false, components: { lease: { status: 'healthy', reason: null } } } });
    expect(await get(`${s.address}/health/ready`)).toMatchObject({ code: 503, body: { status: 'not_ready', reasons: ['engine starting: recovery and reconciliation'] } });
    expect((await get(`${s.address}/api/v1/status`)).code).toBe(404);
    expect((await get(`${s.address}/webhook`, { method: 'POST', body: '{}' })).code).toBe(405);
  });
});

describe("the bot's HTTP face with the lease as a component", () => {
  it('when the lease is held then /health has role leader and lease healthy and ready is 200; when it is lost then ready is 503 and health unhealthy, naming it', async () => {
    const config = parseConfig({});
    const markets = buildMarkets(config);
    const bot = await composeBot({ mode: 'replay', config, markets, series: bundledSlice('2017-01-01', '2017-03-01'), logsDir: null, pace: 20, logger: memoryLogger() });
    const store = SqliteStateStore.memory();
    const clock = new ManualClock(WALL_START);
    const operator = new OperatorService({ ledger: new Ledger(store, clock, (p) => markets.get(p)), clock, controls: store, bot, ledgerStatus: () => ({}) });
    let view: LeaseView = { role: 'leader', account: 'main', holder: null, reason: null };
    const http = await buildHttpServer({ bot, operator, intake: store, settings: settingsOf(), clock, logger: memoryLogger(), health: () => leaseHealth(view) });
    closers.push(async () => {
      await bot.stop('test');
      await http.close();
      store.close();
    });
    await bot.start();
    const base = await http.listen();
    for (let i = 0; i < 200 && (await get(`${base}/health/ready`)).code !== 200; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await get(`${base}/health/ready`)).toMatchObject({ code: 200, body: { status: 'ready' } });
    expect(await get(`${base}/health`)).toMatchObject({ body: { role: 'leader', account: 'main', mode: 'replay', components: { lease: { status: 'healthy' }, http: { status: 'healthy' } } } });
    view = { role: 'lost', account: 'main', holder: null, reason: 'the lease connection to PostgreSQL broke (connection closed)' };
    const ready = await get(`${base}/health/ready`);
    expect(ready.code).toBe(503);
    expect(ready.body.reasons).toContain('lease: the lease connection to PostgreSQL broke (connection closed)');
    expect(await get(`${base}/health`)).toMatchObject({ code: 503, body: { status: 'unhealthy', role: 'lost', components: { lease: { status: 'unhealthy' } } } });
  }, 30_000);
});
