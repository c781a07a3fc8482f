/**
 * The Kraken gateway through REAL ccxt, with signed requests, against the Kraken simulator on loopback:
 * sim mode equals paper on recorded data; every injected fault ends with no duplicate order on the
 * venue, no lost fill, and a ledger that matches the venue; 200 concurrent orders, 0 nonce errors.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { fault, startKrakenSim, type Fault, type KrakenSim } from '../src/sim/index.ts';
import { runReplay } from '../src/engine/compose.ts';
import { runSimReplay } from '../src/cli/sim-replay.ts';
import { clientOrderId } from '../src/domain/ids.ts';
import { Dec } from '../src/domain/money.ts';
import type { Fill, OrderEvent, OrderIntent } from '../src/domain/types.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { bundledSlice, defaults } from './helpers.ts';

const { config, markets } = defaults();

describe('sim mode on recorded data', () => {
  it('when the pipeline trades through ccxt against the simulator then the result equals the paper venue’s, and the venue holds what the ledger says', async () => {
    const series = bundledSlice('2017-06-01', '2018-03-01');
    const paper = runReplay({ config, markets, series, logsDir: null, runId: 'paper' });
    const sim = await runSimReplay({ config, markets, series, logsDir: null, runId: 'sim' });
    const pick = ({ elapsedMs: _e, runId: _r, ...rest }: typeof paper.summary) => rest;
    expect(pick(sim.summary)).toEqual(pick(paper.summary));
    expect(paper.summary.trades).toBeGreaterThan(50);
    const trades = (r: typeof paper) => r.portfolio.closedTrades.map((t) => [t.signalId, t.entryPrice.toFixed(), t.exitPrice.toFixed(), t.exitTs, t.exitReason, t.fees.toFixed(), t.pnl.toFixed()]);
    expect(trades(sim)).toEqual(trades(paper));
    // the simulator's USD balance is the ledger's cash to the last unit
    expect(sim.simBalances['ZUSD']).toBe(sim.summary.cash['USD']);
    expect(sim.venueStats.invalidNonce).toBe(0);
    expect(sim.simAddOrderCalls).toBe(sim.venueStats.creates);
  }, 120_000);
});

// ── one venue against a running simulator ─────────────────────────────────────────────────────────────

interface Rig {
  sim: KrakenSim;
  venue: KrakenVenue;
  events: OrderEvent[];
  fills: Fill[];
  ledger: Ledger;
  secret: string;
  apiKey: string;
  exchange: ReturnType<typeof krakenClient>['exchange'];
}

let rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs) await r.sim.stop();
  rigs = [];
});

async function rig(o: { timeoutMs?: number; clockMs?: number } = {}): Promise<Rig> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const series = bundledSlice('2019-01-01', '2019-02-01');
  const sim = await startKrakenSim({ apiKey, apiSecret: secret, series: [series], balances: { USD: '10000', XBT: '0' }, fill: { slippageBps: 5, maxVolumeShare: 0.25 } });
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock: new SystemClock(), timeoutMs: o.timeoutMs ?? 1_500 });
  await exchange.loadMarkets();
  const clock = { now: () => o.clockMs ?? 1_546_300_800_000 };
  const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) });
  const ledger = new Ledger(new MemoryLedgerStore(), clock, (p) => markets.get(p));
  ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
  const events: OrderEvent[] = [];
  const fills: Fill[] = [];
  // fills go to the ledger keyed by trade id: a fill reported twice would be a no-op there, so count reports too
  venue.connect({ onOrderEvent: (e) => events.push(e), onFill: (f) => (fills.push(f), ledger.applyFill(f, 'test')) });
  const r = { sim, venue, events, fills, ledger, secret, apiKey, exchange };
  rigs.push(r);
  return r;
}

let seq = 0;
function buy(quantity = '0.05', over: Partial<OrderIntent> = {}): OrderIntent {
  const signalId = `gw-BTCUSD-${++seq}`;
  return { id: `${signalId}:entry`, signalId, clientOrderId: clientOrderId(signalId, 'entry'), pair: 'BTC/USD', side: 'buy', type: 'market', quantity: new Dec(quantity), purpose: 'entry', tsEvent: 0, tsInit: 0, ...over };
}

/** let the order fill on the simulator and the venue see it */
async function settle(r: Rig, candles = 2): Promise<void> {
  await r.venue.idle();
  for (let k = 0; k < candles; k++) {
    r.sim.step(1);
    await r.venue.poll();
  }
  await r.venue.idle();
}

/** the end state every fault must leave: one order per client id on the venue, every venue trade in the ledger once, cash equal */
function expectConsistent(r: Rig, clientIds: string[]): void {
  for (const id of clientIds) expect(r.sim.orders().filter((o) => o.clOrdId === id), `orders with cl_ord_id ${id}`).toHaveLength(1);
  const ours = new Set(r.sim.orders().filter((o) => o.clOrdId !== null && clientIds.includes(o.clOrdId)).map((o) => o.txid));
  const venueTrades = r.sim.trades().filter((t) => ours.has(t.ordertxid));
  expect(r.fills.map((f) => f.id).sort()).toEqual(venueTrades.map((t) => t.id).sort()); // each exactly once
  const state = r.ledger.load();
  expect(state.cash.get('USD')!.toFixed()).toBe(r.sim.exchange.balanceOf('USD').toFixed());
  const held = [...state.positions.values()].reduce((a, p) => a.plus(p.quantity), new Dec(0));
  expect(held.toFixed()).toBe(r.sim.exchange.balanceOf('XBT').toFixed());
}

describe('Kraken venue through ccxt: faults', () => {
  it('a clean order: accepted, filled, in the ledger once', async () => {
    const r = await rig();
    const o = buy();
    r.venue.submit(o);
    await settle(r);
    expect(r.events.map((e) => e.kind)).toEqual(['accepted', 'filled']);
    expectConsistent(r, [o.clientOrderId]);
  });

  it("when the bot's clock is a day ahead of the venue's then the fill is still found, from the order's own open time", async () => {
    // trades asked for since (our submission − 60 s) would miss every trade: the venue's opentm decides
    const r = await rig({ clockMs: Date.now() + 86_400_000 });
    const o = buy();
    r.venue.submit(o);
    await settle(r, 3);
    expect(r.events.map((e) => e.kind)).toEqual(['accepted', 'filled']);
    expectConsistent(r, [o.clientOrderId]);
  });

  it.each<[string, Fault, string[]]>([
    ['the response is dropped after Kraken accepted (timeout)', fault.drop('hold'), ['unknown', 'resolved', 'accepted']],
    ['the connection is reset after Kraken accepted', fault.drop('hangup'), ['unknown', 'resolved', 'accepted']],
    ['a 5xx after Kraken accepted', fault.http(502, true), ['unknown', 'resolved', 'accepted']],
    ['EService:Unavailable after Kraken accepted', fault.unavailable(true), ['unknown', 'resolved', 'accepted']],
    ['a 5xx before Kraken saw the order', fault.http(503, false), ['unknown', 'resolved', 'accepted']],
  ])('when %s then the order is looked up, never duplicated, and its fill lands once', async (_name, f, kinds) => {
    const r = await rig({ timeoutMs: 400 });
    r.sim.inject('AddOrder', f);
    const o = buy();
    r.venue.submit(o);
    await settle(r);
    expect(r.events.map((e) => e.kind).slice(0, 3)).toEqual(kinds);
    expect(r.events.at(-1)!.kind).toBe('filled');
    expect(r.venue.stats.lookups).toBe(1);
    expectConsistent(r, [o.clientOrderId]);
  }, 20_000);

  it.each<[string, Fault]>([
    ['EAPI:Rate limit exceeded', fault.rateLimit()],
    ['EAPI:Invalid nonce', fault.invalidNonce()],
  ])('when Kraken answers %s then nothing was placed: it backs off and places it once', async (_name, f) => {
    const r = await rig();
    r.sim.inject('AddOrder', f, 2);
    const o = buy();
    r.venue.submit(o);
    await settle(r);
    expect(r.events.map((e) => e.kind)).toEqual(['accepted', 'filled']);
    expect(r.venue.stats.retries).toBe(2);
    expectConsistent(r, [o.clientOrderId]);
  });

  it('when the order fills partially and its remainder is cancelled then every partial fill lands once and it ends cancelled with what filled', async () => {
    const r = await rig();
    r.sim.inject('AddOrder', fault.partialFill(0.4));
    const o = buy('0.05');
    r.venue.submit(o);
    await settle(r);
    r.venue.cancel(o.clientOrderId, 'entry timeout');
    await settle(r, 1);
    const end = r.events.at(-1)!;
    expect(end).toMatchObject({ kind: 'cancelled', reason: 'entry timeout' });
    expect((end as { filledQty: Dec }).filledQty.toFixed()).toBe('0.02');
    expectConsistent(r, [o.clientOrderId]);
  });

  it('when the order fills while the cancel is in flight then the fill lands and it ends filled', async () => {
    const r = await rig();
    const o = buy('0.05', { type: 'limit', limitPrice: new Dec('1000') }); // far below the market: rests
    r.venue.submit(o);
    await settle(r, 1);
    r.sim.inject('CancelOrder', fault.cancelRace());
    r.venue.cancel(o.clientOrderId, 'entry timeout');
    await r.venue.idle();
    expect(r.events.map((e) => e.kind)).toEqual(['accepted', 'filled']);
    expectConsistent(r, [o.clientOrderId]);
  });

  it('the AddOrder it sends carries the parameters ccxt’s createOrder sends for the same order (the nonce aside)', async () => {
    const r = await rig();
    const bodies: string[] = [];
    const ex = r.exchange as unknown as { sign(path: string, ...rest: unknown[]): { body: string } };
    const sign = ex.sign.bind(ex);
    ex.sign = (path, ...rest) => {
      const signed = sign(path, ...rest);
      if (path === 'AddOrder') bodies.push(signed.body.replace(/^nonce=\d+&/, ''));
      return signed;
    };
    const orders = [
      buy('0.05'),
      buy('0.012345', { type: 'limit', limitPrice: new Dec('1000.5') }),
      buy('0.0002', { side: 'sell', type: 'limit', limitPrice: new Dec('99999') }),
      buy('1.23456789', { side: 'sell' }),
    ];
    for (const o of orders) {
      r.venue.submit(o);
      await r.venue.idle();
      // the same order through ccxt's unified createOrder (the simulator may refuse it: its request is what counts)
      await r.exchange.createOrder(o.pair, o.type, o.side, o.quantity.toNumber(), o.limitPrice?.toNumber(), { clientOrderId: o.clientOrderId }).catch(() => null);
    }
    expect(bodies).toHaveLength(2 * orders.length);
    for (let i = 0; i < orders.length; i++) expect(bodies[2 * i], orders[i]!.clientOrderId).toBe(bodies[2 * i + 1]);
    expect(bodies[2]).toBe(`pair=XXBTZUSD&type=buy&ordertype=limit&volume=0.012345&cl_ord_id=${orders[1]!.clientOrderId}&price=1000.5`);
  });

  it('when funds are short then Kraken’s rejection arrives as such and nothing is retried', async () => {
    const r = await rig();
    const o = buy('5'); // ≈ $19,000 with $10,000
    r.venue.submit(o);
    await r.venue.idle();
    expect(r.events).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Insufficient funds' }]);
    expect(r.sim.calls['AddOrder']).toBe(1);
  });

  it('when 200 orders are placed at once then all reach the venue exactly once with 0 nonce errors', async () => {
    const r = await rig();
    const orders = Array.from({ length: 200 }, () => buy('0.0002'));
    for (const o of orders) r.venue.submit(o);
    await r.venue.idle();
    expect(r.venue.stats.invalidNonce).toBe(0);
    expect(r.events.filter((e) => e.kind === 'accepted')).toHaveLength(200);
    expect(r.sim.calls['AddOrder']).toBe(200);
    await settle(r);
    expectConsistent(r, orders.map((o) => o.clientOrderId));
  }, 30_000);

  it('the API secret never appears in an event, a reason or a stat, whatever fails', async () => {
    const r = await rig({ timeoutMs: 300 });
    r.sim.inject('AddOrder', fault.error('EAPI:Invalid signature'));
    r.venue.submit(buy());
    await r.venue.idle();
    const all = JSON.stringify([r.events, r.venue.stats, r.venue.haltReason]);
    expect(all).not.toContain(r.secret);
    expect(all).not.toContain(r.apiKey);
    expect(r.venue.haltReason).toMatch(/EAPI:Invalid signature/);
  });
});

describe('Kraken venue through ccxt: dead man’s switch', () => {
  it('arms CancelAllOrdersAfter on the venue, refreshes it, and disarms it with 0; a halted venue does not refresh it', async () => {
    const r = await rig();
    expect(await r.venue.deadMansSwitch(60_000)).toBe(true);
    const first = r.sim.deadManTrigger();
    expect(first).not.toBeNull();
    await new Promise((res) => setTimeout(res, 20));
    expect(await r.venue.deadMansSwitch(60_000)).toBe(true);
    expect(r.sim.deadManTrigger()!).toBeGreaterThan(first!);
    expect(await r.venue.deadMansSwitch(0)).toBe(true);
    expect(r.sim.deadManTrigger()).toBeNull();
    r.sim.inject('AddOrder', fault.error('EAPI:Invalid key'));
    r.venue.submit(buy());
    await r.venue.idle();
    expect(r.venue.haltReason).toMatch(/EAPI:Invalid key/);
    expect(await r.venue.deadMansSwitch(60_000)).toBe(false);
  });
});

describe('tollgate replay --venue sim', () => {
  it('runs the pipeline through ccxt against a simulator it starts itself, with the paper run’s result', async () => {
    const { spawnSync } = await import('node:child_process');
    const { BIN, BUNDLED, tmp } = await import('./helpers.ts');
    const logs = tmp('tollgate-cli-sim-');
    const args = (venue: string) => ['replay', '--data', BUNDLED, '--pair', 'BTC/USD', '--from', '2019-02-01', '--to', '2019-04-01', '--no-progress', '--json', '--logs', logs, '--venue', venue];
    const run = (venue: string) => spawnSync(process.execPath, [BIN, ...args(venue)], { encoding: 'utf8' });
    const paper = run('paper');
    const sim = run('sim');
    expect(sim.status, sim.stderr).toBe(0);
    const strip = (s: string) => {
      const { elapsedMs: _e, runId: _r, ...rest } = JSON.parse(s) as Record<string, unknown>;
      return rest;
    };
    expect(strip(sim.stdout)).toEqual(strip(paper.stdout));
    expect(run('nope').stderr).toMatch(/--venue nope: expected paper or sim/);
  }, 60_000);
});
