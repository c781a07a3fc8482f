/**
 * Start-up of a live run on its durable state (sim mode against the Kraken simulator): the ledger starts
 * from the venue's balance, unresolved orders are recovered, the ledger is reconciled, and what cannot
 * be trusted stops the start with health: degraded.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { DegradedError } from '../src/engine/durable-replay.ts';
import { openLiveState } from '../src/engine/live-state.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { BIN, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

const markets = krakenMarkets();
async function setup() {
  const { sim, apiKey, secret } = await testSim();
  const clock = new SystemClock();
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock });
  await exchange.loadMarkets();
  const file = join(tmp('tollgate-live-state-'), 'state.db');
  const open = () => {
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret] });
    return openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
  };
  return { sim, file, open, apiKey, secret };
}

describe('live run start-up on durable state', () => {
  it('a new state starts from the venue’s balance, reconciled, and a restart finds the same', async () => {
    const s = await setup();
    const a = await s.open();
    expect(a.startingCash).toEqual({ USD: '10000' });
    expect(a.reconciliation.differences).toEqual([]);
    expect(a.ledger.load().sequence).toBe(1);
    a.store.close();
    const b = await s.open();
    expect(b.startingCash).toEqual({ USD: '10000' });
    expect(b.ledger.load().sequence).toBe(1); // nothing written twice
    b.store.close();
  });

  it('an order recorded but never sent (the process died first) is marked not sent at the restart, and the run may start', async () => {
    const s = await setup();
    (await s.open()).store.close();
    const store = SqliteStateStore.open(s.file);
    store.saveOrderIntent({ id: 'x:entry', signalId: 'ema_cross-BTCUSD-1', clientOrderId: 'tglivestate0000001', pair: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01', limitPrice: null, purpose: 'entry', exitReason: null, deadlineTs: null, tsEvent: 0, tsInit: 0 });
    store.saveSignal({ id: 'ema_cross-BTCUSD-1', strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', state: 'submitted', terminal: false, signal: '{}', snapshot: '{}', deadlineTs: null, updatedTs: 0 });
    store.close();
    const r = await s.open();
    expect(r.recovered).toMatchObject({ adopted: [], notSent: ['tglivestate0000001'] });
    expect(s.sim.calls['AddOrder'] ?? 0).toBe(0);
    r.store.close();
  });

  it('an order the venue filled while the bot was down is adopted at the restart, its fill booked once', async () => {
    const s = await setup();
    (await s.open()).store.close();
    const store = SqliteStateStore.open(s.file);
    store.saveOrderIntent({ id: 'y:entry', signalId: 'ema_cross-BTCUSD-2', clientOrderId: 'tglivestate0000002', pair: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01', limitPrice: null, purpose: 'entry', exitReason: null, deadlineTs: null, tsEvent: 0, tsInit: 0 });
    store.saveSignal({ id: 'ema_cross-BTCUSD-2', strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', state: 'submitted', terminal: false, signal: '{}', snapshot: '{}', deadlineTs: null, updatedTs: 0 });
    store.close();
    s.sim.placeOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.01', cl_ord_id: 'tglivestate0000002' } as never);
    s.sim.step(1);
    const r = await s.open();
    expect(r.recovered).toMatchObject({ adopted: ['tglivestate0000002'], notSent: [] });
    expect(r.ledger.load().positions.get('ema_cross-BTCUSD-2')?.quantity.toFixed()).toBe('0.01');
    r.store.close();
    const check = SqliteStateStore.open(s.file);
    expect(check.fills('ema_cross-BTCUSD-2')).toHaveLength(1); // the fill is in the ledger, once
    check.close();
  });

  it('a position the venue does not hold (phantom) halts the start; a changed balance is only flagged', async () => {
    const s = await setup();
    (await s.open()).store.close();
    s.sim.setBalance('USD', '9000');
    const flagged = await s.open();
    expect(flagged.reconciliation.differences.map((x) => [x.kind, x.policy])).toEqual([['balance_mismatch', 'flag']]);
    // an operator position recorded in the ledger that the venue does not hold
    flagged.ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '3700' }, { actor: 'operator', key: 'op-1' });
    flagged.store.close();
    const err = await s.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DegradedError);
    expect((err as Error).message).toMatch(/reconciliation with the venue: the ledger holds 0.01 BTC but the venue has 0; refusing to trade/);
  });

  it('tollgate run --mode sim starts on its state, says what it loaded, keeps its nonces above the last one used, and stops cleanly', async () => {
    const s = await setup();
    // a nonce an earlier process used, far ahead of the clock: every nonce of this run must be above it
    const seed = Date.now() + 1e9;
    const pre = SqliteStateStore.open(s.file);
    pre.setGuardState('kraken.nonce', seed, 0);
    pre.close();
    const c = spawn(process.execPath, [BIN, 'run', '--mode', 'sim', '--url', s.sim.url, '--state', s.file, '--logs', tmp()], {
      env: { ...process.env, TOLLGATE_KRAKEN_API_KEY: s.apiKey, TOLLGATE_KRAKEN_API_SECRET: s.secret },
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 200 && !/state .*sequence/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/state .*state\.db: sequence 1, cash 10000 USD, reconciliation: 0 difference\(s\)/);
    c.kill('SIGTERM');
    expect(await new Promise((r) => c.on('exit', r))).toBe(0);
    expect(err).not.toContain(s.secret);
    const after = SqliteStateStore.open(s.file);
    expect(after.guardState<number>('kraken.nonce')!).toBeGreaterThan(seed);
    after.close();
  }, 30_000);
});
