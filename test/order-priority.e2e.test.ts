/**
 * Order entry first under a read-heavy load, through REAL ccxt with signed requests against the Kraken
 * simulator on loopback (issue 13): many balance / open-orders / trades reads queued on the key, then an
 * order. What the simulator saw, in arrival order (its onPrivateCall), is the evidence: the AddOrder (or
 * CancelOrder) arrives before every read that was still waiting, nonces strictly increase and every one
 * is accepted, every read resolves, and an AddOrder error surfaces and is resolved by the usual lookup
 * by client order id, never by a blind resend.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { krakenClient, type KrakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { fault, startKrakenSim, type KrakenSim, type PrivateCall } from '../src/sim/index.ts';
import { clientOrderId } from '../src/domain/ids.ts';
import { Dec } from '../src/domain/money.ts';
import type { OrderEvent, OrderIntent } from '../src/domain/types.ts';
import { bundledSlice, defaults } from './helpers.ts';

const { markets } = defaults();
const PAIR = 'BTC/USD';
/** how long the first read is held on the simulator while the others queue behind it */
const HOLD_MS = 150;

interface Rig {
  sim: KrakenSim;
  client: KrakenClient;
  venue: KrakenVenue;
  account: KrakenAccount;
  events: OrderEvent[];
  /** private calls as the simulator checked them, in arrival order */
  wire: PrivateCall[];
}

const sims: KrakenSim[] = [];
afterEach(async () => {
  while (sims.length) await sims.pop()!.stop();
});

async function rig(o: { rateLimitMs?: number; nonceWindow?: number } = {}): Promise<Rig> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const wire: PrivateCall[] = [];
  const sim = await startKrakenSim({
    apiKey, apiSecret: secret, series: [bundledSlice('2019-01-01', '2019-02-01')], balances: { USD: '10000', XBT: '0' },
    onPrivateCall: (c) => wire.push(c),
    ...(o.nonceWindow === undefined ? {} : { nonceWindow: o.nonceWindow }),
  });
  sims.push(sim);
  const client = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: o.rateLimitMs !== undefined, clock: new SystemClock(), timeoutMs: 2_000, ...(o.nonceWindow === undefined ? {} : { nonceWindow: o.nonceWindow }) });
  // ccxt's limiter refills 1 / rateLimit units a ms (Kraken's 1000 ms would make the test wait seconds for nothing)
  if (o.rateLimitMs !== undefined) (client.exchange as unknown as { throttler: { config: Record<string, number> } }).throttler.config['refillRate'] = 1 / o.rateLimitMs;
  await client.exchange.loadMarkets();
  const clock = { now: () => 1_546_300_800_000 };
  const venue = new KrakenVenue({ api: client.exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) });
  const events: OrderEvent[] = [];
  venue.connect({ onOrderEvent: (e) => events.push(e), onFill: () => undefined });
  return { sim, client, venue, account: new KrakenAccount(client.exchange as unknown as AccountApi), events, wire };
}

let seq = 0;
function order(over: Partial<OrderIntent> = {}): OrderIntent {
  const signalId = `prio-BTCUSD-${++seq}`;
  return { id: `${signalId}:entry`, signalId, clientOrderId: clientOrderId(signalId, 'entry'), pair: PAIR, side: 'buy', type: 'market', quantity: new Dec('0.001'), purpose: 'entry', tsEvent: 0, tsInit: 0, ...over };
}

const READ_METHODS = new Set(['BalanceEx', 'OpenOrders', 'TradesHistory', 'ClosedOrders']);

/**
 * The read-heavy load: one balance read held on the simulator for HOLD_MS, and `n` more reads (balances,
 * open orders, trades history, closed orders, in turn) queued behind it on the key; resolves once they wait.
 */
async function readLoad(r: Rig, n: number): Promise<Promise<unknown>[]> {
  r.sim.inject('BalanceEx', fault.latency(HOLD_MS));
  const ex = r.client.exchange;
  const kinds = [() => r.account.balances(), () => ex.fetchOpenOrders(PAIR), () => ex.fetchMyTrades(PAIR), () => ex.fetchClosedOrders(PAIR)];
  const reads: Promise<unknown>[] = [r.account.balances()];
  for (let i = 0; i < n; i++) reads.push(kinds[i % kinds.length]!());
  // the held read is on the simulator and the others wait for their turn (ccxt needs a few ticks to reach the queue)
  for (let k = 0; k < 200 && !(r.sim.calls['BalanceEx'] === 1 && r.client.privateCalls.waiting.read === n); k++) await new Promise((res) => setTimeout(res, 1));
  expect(r.sim.calls['BalanceEx']).toBe(1);
  expect(r.client.privateCalls.waiting.read).toBe(n);
  return reads;
}

/** every nonce the simulator saw was accepted and above the one before */
function expectNoncesIncrease(wire: readonly PrivateCall[]): void {
  expect(wire.filter((c) => c.error !== null)).toEqual([]);
  const nonces = wire.map((c) => BigInt(c.nonce!));
  for (let i = 1; i < nonces.length; i++) expect(nonces[i]! > nonces[i - 1]!, `nonce ${i}: ${nonces[i]} after ${nonces[i - 1]}`).toBe(true);
}

describe('order entry first under a read-heavy load (simulator on loopback)', () => {
  it('when 40 reads wait behind a read in flight and an order comes then its AddOrder is the next call on the wire, nonces increase, and every read resolves', async () => {
    const r = await rig();
    const reads = await readLoad(r, 40);
    const o = order();
    r.venue.submit(o);
    const results = await Promise.all(reads);
    await r.venue.idle();
    expect(r.wire.map((c) => c.method)).toEqual(['BalanceEx', 'AddOrder', ...Array.from({ length: 40 }, (_, i) => ['BalanceEx', 'OpenOrders', 'TradesHistory', 'ClosedOrders'][i % 4])]);
    expect(r.wire[1]!.params['cl_ord_id']).toBe(o.clientOrderId);
    expectNoncesIncrease(r.wire);
    expect(results).toHaveLength(41);
    expect(results[0]).toBeInstanceOf(Map); // balances by asset
    expect((results[0] as Map<string, Dec>).get('USD')!.toFixed()).toBe('10000');
    expect(r.events.map((e) => e.kind)).toEqual(['accepted']);
    expect(r.sim.orders().filter((x) => x.clOrdId === o.clientOrderId)).toHaveLength(1);
    expect(r.client.privateCalls.stats).toMatchObject({ sent: { order: 1, read: 41 }, jumped: 1 });
  });

  it('when a cancel comes while reads wait then its CancelOrder goes next, before every waiting read', async () => {
    const r = await rig();
    const o = order({ type: 'limit', limitPrice: new Dec('1000') }); // far below the market: rests on the book
    r.venue.submit(o);
    await r.venue.idle();
    const venueId = r.sim.orders().find((x) => x.clOrdId === o.clientOrderId)!.txid;
    const before = r.wire.length;
    const reads = await readLoad(r, 20);
    r.venue.cancel(o.clientOrderId, 'deadline');
    await Promise.all(reads);
    await r.venue.idle();
    const after = r.wire.slice(before);
    expect(after.slice(0, 2).map((c) => c.method)).toEqual(['BalanceEx', 'CancelOrder']);
    expect(after[1]!.params['txid']).toBe(venueId);
    expect(after.slice(2, 22).every((c) => READ_METHODS.has(c.method))).toBe(true);
    expectNoncesIncrease(r.wire);
    expect(r.events.map((e) => e.kind)).toEqual(['accepted', 'cancelled']);
  });

  it('when 10 orders come at once behind a read while 10 reads wait then after every 4 AddOrders one read goes: orders first, reads not starved', async () => {
    const r = await rig();
    const reads = await readLoad(r, 10);
    const orders = Array.from({ length: 10 }, () => order({ quantity: new Dec('0.0002') }));
    for (const o of orders) r.venue.submit(o);
    await Promise.all(reads);
    await r.venue.idle();
    const kinds = r.wire.map((c) => (c.method === 'AddOrder' ? 'A' : 'r')).join('');
    expect(kinds).toBe('r' + 'AAAAr' + 'AAAAr' + 'AA' + 'r'.repeat(8));
    // the AddOrders went in the order they were placed
    expect(r.wire.filter((c) => c.method === 'AddOrder').map((c) => c.params['cl_ord_id'])).toEqual(orders.map((o) => o.clientOrderId));
    expectNoncesIncrease(r.wire);
    expect(r.events.filter((e) => e.kind === 'accepted')).toHaveLength(10);
  });

  it('when the AddOrder sent ahead of the reads has an unknown outcome then it surfaces, is looked up by its cl_ord_id and adopted, never sent twice', async () => {
    const r = await rig();
    r.sim.inject('AddOrder', fault.unavailable(true)); // Kraken placed it, then answered EService:Unavailable
    const reads = await readLoad(r, 12);
    const o = order();
    r.venue.submit(o);
    await Promise.all(reads);
    await r.venue.idle();
    expect(r.wire.slice(0, 2).map((c) => c.method)).toEqual(['BalanceEx', 'AddOrder']);
    expect(r.events.map((e) => e.kind).slice(0, 3)).toEqual(['unknown', 'resolved', 'accepted']);
    expect(r.events[0]).toMatchObject({ kind: 'unknown', reason: 'EService:Unavailable' });
    expect(r.events[1]).toMatchObject({ kind: 'resolved', how: 'found' });
    // the lookup asked for this client order id, after the AddOrder; nothing was sent again
    expect(r.wire.some((c, i) => i > 1 && c.method === 'OpenOrders' && c.params['cl_ord_id'] === o.clientOrderId)).toBe(true);
    expect(r.sim.calls['AddOrder']).toBe(1);
    expect(r.sim.orders().filter((x) => x.clOrdId === o.clientOrderId)).toHaveLength(1);
    expect(r.venue.stats).toMatchObject({ creates: 1, lookups: 1, resends: 0 });
    expectNoncesIncrease(r.wire);
  });

  it('when the AddOrder sent ahead of the reads is refused then the refusal surfaces as such and nothing is retried', async () => {
    const r = await rig();
    const reads = await readLoad(r, 12);
    const o = order({ quantity: new Dec('5') }); // ≈ $19,000 with $10,000
    r.venue.submit(o);
    await Promise.all(reads);
    await r.venue.idle();
    expect(r.wire.slice(0, 2).map((c) => c.method)).toEqual(['BalanceEx', 'AddOrder']);
    expect(r.events).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Insufficient funds' }]);
    expect(r.sim.calls['AddOrder']).toBe(1);
    expect(r.wire).toHaveLength(14);
    expectNoncesIncrease(r.wire);
  });

  it("with ccxt's rate limiter on (as against Kraken) an order does not wait behind reads that are only sleeping for the limiter", async () => {
    // a private read costs 3 units of ccxt's limiter, an AddOrder 0: with 100 ms a unit, reads go 300 ms apart
    const r = await rig({ rateLimitMs: 100 });
    const ex = r.client.exchange;
    const reads = [ex.fetchOpenOrders(PAIR), ex.fetchOpenOrders(PAIR), ex.fetchOpenOrders(PAIR)];
    // the first read is answered (loadMarkets charged the limiter too: it may have slept first), the others sleep
    for (let k = 0; k < 3000 && r.wire.length < 1; k++) await new Promise((res) => setTimeout(res, 1));
    expect(r.wire.map((c) => c.method)).toEqual(['OpenOrders']);
    r.venue.submit(order());
    await r.venue.idle();
    // the AddOrder is answered while the second and third reads still sleep in the limiter, not yet sent
    expect(r.wire.map((c) => c.method)).toEqual(['OpenOrders', 'AddOrder']);
    expect(r.events.map((e) => e.kind)).toEqual(['accepted']);
    await Promise.all(reads);
    expect(r.wire.map((c) => c.method)).toEqual(['OpenOrders', 'AddOrder', 'OpenOrders', 'OpenOrders']);
    expectNoncesIncrease(r.wire);
  });
});

describe('order entry beside the read in flight, on a key with a nonce window (simulator on loopback)', () => {
  it('when a read is in flight and an order comes then its AddOrder reaches Kraken first, the overtaken read is still accepted, and the waiting reads follow', async () => {
    const r = await rig({ nonceWindow: 10_000 });
    const reads = await readLoad(r, 8);
    const o = order();
    let kindsWhenHeldReadAnswered: string[] = [];
    void reads[0]!.then(() => (kindsWhenHeldReadAnswered = r.events.map((e) => e.kind)));
    r.venue.submit(o);
    await Promise.all(reads);
    await r.venue.idle();
    // the simulator checks a call's nonce after its latency: the held read (lower nonce) is checked after the order
    expect(r.wire.slice(0, 2).map((c) => c.method)).toEqual(['AddOrder', 'BalanceEx']);
    expect(BigInt(r.wire[1]!.nonce!) < BigInt(r.wire[0]!.nonce!)).toBe(true);
    expect(kindsWhenHeldReadAnswered).toEqual(['accepted']); // the order did not wait for the read in flight
    // every call accepted; in the order the client sent them (nonce order), nonces strictly increase
    expect(r.wire.filter((c) => c.error !== null)).toEqual([]);
    const sent = [...r.wire].sort((a, b) => (BigInt(a.nonce!) < BigInt(b.nonce!) ? -1 : 1));
    expect(sent.map((c) => c.method)).toEqual(['BalanceEx', 'AddOrder', ...Array.from({ length: 8 }, (_, i) => ['BalanceEx', 'OpenOrders', 'TradesHistory', 'ClosedOrders'][i % 4])]);
    expect(new Set(r.wire.map((c) => c.nonce)).size).toBe(r.wire.length);
    expect(r.sim.orders().filter((x) => x.clOrdId === o.clientOrderId)).toHaveLength(1);
    expect(r.client.privateCalls.stats).toMatchObject({ overlapped: 1, maxInFlight: 2 });
  });

  it('when 30 orders come at once beside a read in flight then every one is placed once, nonces never repeat, and none is refused', async () => {
    const r = await rig({ nonceWindow: 10_000 });
    const reads = await readLoad(r, 4);
    const orders = Array.from({ length: 30 }, () => order({ quantity: new Dec('0.0002') }));
    for (const o of orders) r.venue.submit(o);
    await Promise.all(reads);
    await r.venue.idle();
    expect(r.wire.filter((c) => c.error !== null)).toEqual([]);
    expect(r.venue.stats.invalidNonce).toBe(0);
    expect(new Set(r.wire.map((c) => c.nonce)).size).toBe(r.wire.length);
    expect(r.events.filter((e) => e.kind === 'accepted')).toHaveLength(30);
    for (const o of orders) expect(r.sim.orders().filter((x) => x.clOrdId === o.clientOrderId)).toHaveLength(1);
    expect(r.client.privateCalls.stats.maxInFlight).toBeLessThanOrEqual(3);
  });
});
