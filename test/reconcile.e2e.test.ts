/**
 * Reconciliation against the Kraken simulator (issue 5): an order placed behind the bot's back, a
 * position removed behind its back, a balance changed, a fill the ledger missed — each detected,
 * written to the audit log, shown in status, and handled per policy (adopt, flag, halt).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { statusJson } from '../src/cli/cli-state.ts';
import { DurableOrders } from '../src/execution/durable-orders.ts';
import { runReconciliation } from '../src/execution/reconciliation.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { Dec } from '../src/domain/money.ts';
import { DEFAULT_POLICIES, type ReconcilePolicies } from '../src/execution/reconcile.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

const markets = krakenMarkets();
/** a bot with one filled buy of 0.05 BTC, ledger and venue in agreement */
async function bot() {
  const { sim, apiKey, secret } = await testSim();
  const clock = new SystemClock();
  const store = SqliteStateStore.open(join(tmp('tollgate-reconcile-'), 'state.db'));
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock });
  await exchange.loadMarkets();
  const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret] });
  const orders = new DurableOrders(store, ledger, venue, clock, () => 'test');
  const now = clock.now();
  orders.submit({ id: 'b1:entry', signalId: 'b1', clientOrderId: 'tgreconcile0000001', pair: 'BTC/USD', side: 'buy', type: 'market', quantity: new Dec('0.05'), purpose: 'entry', tsEvent: now, tsInit: now });
  await venue.idle();
  sim.step(1);
  await venue.poll();
  const reconcileNow = (policies: Partial<ReconcilePolicies> = {}) =>
    runReconciliation({ account: new KrakenAccount(exchange as unknown as AccountApi), store, ledger, venue, pairs: ['BTC/USD'], policies: { ...DEFAULT_POLICIES, ...policies }, clock });
  const auditOf = () => [...store.audit()].filter((r) => r.operation === 'reconcile').map((r) => JSON.parse(r.input) as { kind: string; policy: string });
  return { sim, store, ledger, venue, reconcileNow, auditOf };
}

describe('reconciliation with the venue', () => {
  it('when ledger and venue agree then there is nothing to report, and status says so', async () => {
    const b = await bot();
    const r = await b.reconcileNow();
    expect(r.differences).toEqual([]);
    expect(b.auditOf()).toEqual([]);
    expect(statusJson(b.store).reconciliation).toMatchObject({ differences: [], halted: false });
  });

  it('an order placed on the venue behind the bot’s back: flagged (audited, in status), or adopted and followed to its fill', async () => {
    const b = await bot();
    const txid = b.sim.placeOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.01' } as never);
    const flagged = await b.reconcileNow({ unknownOrder: 'flag' });
    expect(flagged.differences.map((x) => [x.kind, x.policy, x.subject])).toEqual([['unknown_order', 'flag', txid]]);
    expect(b.auditOf()).toEqual([expect.objectContaining({ kind: 'unknown_order', policy: 'flag' })]);
    await b.reconcileNow({ unknownOrder: 'flag' }); // still there: recorded once, not twice
    expect(b.auditOf()).toHaveLength(1);
    const adopted = await b.reconcileNow({ unknownOrder: 'adopt' });
    expect(adopted.adopted).toBe(1);
    b.sim.step(1);
    await b.venue.poll();
    const pos = b.ledger.load().positions.get(`operator-${txid}`);
    expect(pos?.quantity.toFixed()).toBe('0.01');
    expect((await b.reconcileNow()).differences).toEqual([]); // now the ledger and venue agree again
  });

  it('a position removed behind the bot’s back is a phantom: halt by default, audited, and shown in status', async () => {
    const b = await bot();
    b.sim.setBalance('XBT', '0.01');
    const r = await b.reconcileNow();
    expect(r.halted).toBe(true);
    expect(r.differences).toEqual([expect.objectContaining({ kind: 'phantom_position', policy: 'halt', detail: 'the ledger holds 0.05 BTC but the venue has 0.01' })]);
    expect(b.auditOf()).toEqual([expect.objectContaining({ kind: 'phantom_position', policy: 'halt' })]);
    expect(statusJson(b.store).reconciliation).toMatchObject({ halted: true });
  });

  it('a balance changed behind the bot’s back: flagged by default, adopted into the ledger when the policy says so', async () => {
    const b = await bot();
    const before = b.ledger.load().cash.get('USD')!;
    b.sim.setBalance('USD', before.plus(250).toFixed());
    const flagged = await b.reconcileNow();
    expect(flagged.differences.map((x) => [x.kind, x.policy])).toEqual([['balance_mismatch', 'flag']]);
    expect(b.ledger.load().cash.get('USD')!.eq(before)).toBe(true);
    const adopted = await b.reconcileNow({ balanceMismatch: 'adopt' });
    expect(adopted.adopted).toBe(1);
    expect(b.ledger.load().cash.get('USD')!.toFixed()).toBe(before.plus(250).toFixed());
    expect((await b.reconcileNow()).differences).toEqual([]);
  });

  it('a fill of our order that the ledger missed is adopted once', async () => {
    const b = await bot();
    // the venue fills a second order of ours while the bot is not looking (recorded intent, fill never polled)
    const now = Date.parse('2019-01-02T00:00:00Z');
    b.store.saveOrderIntent({ id: 'b2:entry', signalId: 'b2', clientOrderId: 'tgreconcile0000002', pair: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.02', limitPrice: null, purpose: 'entry', exitReason: null, deadlineTs: null, tsEvent: now, tsInit: now });
    b.sim.placeOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.02', cl_ord_id: 'tgreconcile0000002' } as never);
    b.sim.step(1);
    const r = await b.reconcileNow();
    expect(r.differences.map((x) => [x.kind, x.policy])).toEqual([['missing_fill', 'adopt']]);
    expect(b.ledger.load().positions.get('b2')?.quantity.toFixed()).toBe('0.02');
    expect((await b.reconcileNow()).differences).toEqual([]);
    expect(b.ledger.load().cash.get('USD')!.toFixed()).toBe(b.sim.exchange.balanceOf('USD').toFixed());
  });
});
