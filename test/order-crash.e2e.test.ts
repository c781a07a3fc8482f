/**
 * Orders and crashes (issue 5): the bot process is killed between recording an order intent and sending
 * it, and between sending it and getting the answer. At the restart, recovery looks each unresolved
 * intent up on the venue by client order id: never a duplicate order, no lost fill, a ledger equal to
 * the venue.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { fault, type KrakenSim } from '../src/sim/index.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { DurableOrders } from '../src/execution/durable-orders.ts';
import { Dec } from '../src/domain/money.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'order-child.ts');
const markets = krakenMarkets();
async function setup() {
  const { sim, apiKey, secret } = await testSim();
  const file = join(tmp('tollgate-order-crash-'), 'state.db');
  const store = SqliteStateStore.open(file);
  new Ledger(store, new SystemClock(), (p) => markets.get(p)).setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
  store.close();
  return { sim, file, apiKey, secret };
}

function child(s: Awaited<ReturnType<typeof setup>>, clOrdId: string, env: Record<string, string> = {}) {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, s.sim.url, s.file, clOrdId], { env: { ...process.env, TG_KEY: s.apiKey, TG_SECRET: s.secret, ...env } });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
  return { p, exit, out: () => out };
}

/** the restart: recovery on the same state file, then the venue polled until quiet */
async function restart(s: Awaited<ReturnType<typeof setup>>) {
  const clock = new SystemClock();
  const store = SqliteStateStore.open(s.file);
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  const { exchange } = krakenClient({ apiKey: s.apiKey, secret: s.secret, baseUrl: s.sim.url, rateLimit: false, clock });
  await exchange.loadMarkets();
  const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [s.apiKey, s.secret] });
  const orders = new DurableOrders(store, ledger, venue, clock, () => 'test');
  const report = await orders.recover();
  await venue.poll();
  await venue.idle();
  return { store, ledger, report };
}

function expectLedgerEqualsVenue(ledger: Ledger, sim: KrakenSim): void {
  const state = ledger.load();
  expect(state.cash.get('USD')!.toFixed()).toBe(sim.exchange.balanceOf('USD').toFixed());
  const held = [...state.positions.values()].reduce((a, p) => a.plus(p.quantity), new Dec(0));
  expect(held.toFixed()).toBe(sim.exchange.balanceOf('XBT').toFixed());
}

describe('orders across a crash of the bot process', () => {
  it('when the process dies after recording the intent and before sending it then recovery finds nothing, marks it not sent, and sends nothing', async () => {
    const s = await setup();
    const c = child(s, 'tgcrashbefore00001', { TOLLGATE_FAULT_KILL: 'after-intent' });
    const e = await c.exit;
    expect(e.signal, c.out()).toBe('SIGKILL');
    expect(s.sim.orders()).toHaveLength(0);
    const { store, ledger, report } = await restart(s);
    expect(report).toEqual({ unresolved: 1, adopted: [], notSent: ['tgcrashbefore00001'] });
    expect(store.order('tgcrashbefore00001')!.status).toBe('not_sent');
    expect(s.sim.calls['AddOrder'] ?? 0).toBe(0);
    expectLedgerEqualsVenue(ledger, s.sim);
    store.close();
  }, 30_000);

  it('when the process dies after Kraken accepted the order but before the answer arrived then recovery adopts it, its fill lands once, and it is never sent again', async () => {
    const s = await setup();
    s.sim.inject('AddOrder', fault.drop('hold')); // the order is placed, the answer never comes
    const c = child(s, 'tgcrashafter000001');
    for (let i = 0; i < 300 && s.sim.orders().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.sim.orders()).toHaveLength(1);
    c.p.kill('SIGKILL');
    expect((await c.exit).signal).toBe('SIGKILL');
    s.sim.step(2); // it fills on the venue while the bot is down
    const { store, ledger, report } = await restart(s);
    expect(report).toEqual({ unresolved: 1, adopted: ['tgcrashafter000001'], notSent: [] });
    expect(s.sim.orders().filter((o) => o.clOrdId === 'tgcrashafter000001')).toHaveLength(1);
    expect(s.sim.calls['AddOrder']).toBe(1);
    expect(store.order('tgcrashafter000001')!.status).toBe('filled');
    const fills = store.fills('sig-tgcrashafter000001');
    expect(fills.map((f) => f.id).sort()).toEqual(s.sim.trades().map((t) => t.id).sort());
    expectLedgerEqualsVenue(ledger, s.sim);
    store.close();
    // a second restart changes nothing
    const again = await restart(s);
    expect(again.report.unresolved).toBe(0);
    expect(again.store.fills('sig-tgcrashafter000001')).toHaveLength(fills.length);
    expectLedgerEqualsVenue(again.ledger, s.sim);
    again.store.close();
  }, 30_000);
});
