/**
 * Bot-managed vs external holdings (issue 16) against the Kraken simulator: the account holds 1 BTC the bot
 * did not buy. Reconciliation records it as external (never a phantom), an exit sells only the bot's own
 * 0.1, a sell asking for more than the bot holds is never sent, `manage` adopts external quantity into a
 * bot position (audited, replayable, shown apart in status), through the Bot and the operator API too,
 * and a real discrepancy (less on the venue than the bot's own positions) is still a phantom.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { statusJson } from '../src/cli/cli-state.ts';
import { Dec } from '../src/domain/money.ts';
import { exitIntent } from '../src/domain/orders.ts';
import { Bot } from '../src/engine/bot.ts';
import { openLiveState } from '../src/engine/live-state.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { OperatorService } from '../src/operator/service.ts';
import { verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { memoryLogger } from '../src/ports/logger.ts';
import { tmp } from './helpers.ts';
import { settingsOf, TOKEN } from './http-harness.ts';
import { testSim } from './sim-helpers.ts';

const markets = krakenMarkets();

/** a live state on a simulator account pre-funded with 1 BTC the bot did not buy, and one bot buy of 0.1 BTC */
async function fundedBot() {
  const { sim, apiKey, secret } = await testSim();
  sim.setBalance('XBT', '1');
  const clock = new SystemClock();
  const file = join(tmp('tollgate-holdings-'), 'state.db');
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock });
  await exchange.loadMarkets();
  const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret] });
  const live = await openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
  const started = live.reconciliation;
  const now = clock.now();
  live.orders.submit({ id: 'b1:entry', signalId: 'b1', clientOrderId: 'tgholdings00000001', pair: 'BTC/USD', side: 'buy', type: 'market', quantity: new Dec('0.1'), purpose: 'entry', tsEvent: now, tsInit: now });
  await venue.idle();
  sim.step(1);
  await venue.poll();
  const xbt = () => sim.exchange.balanceOf('XBT').toFixed();
  const audit = () => [...live.store.audit()];
  return { sim, clock, file, venue, live, started, xbt, audit };
}

describe('external holdings against the simulator', () => {
  it('when the venue holds 1 BTC external beside the bot’s 0.1 then reconciliation records it as external, never a phantom, and the exit sells exactly 0.1', async () => {
    const b = await fundedBot();
    // at start-up: captured once, as external, not managed — recorded, not a difference
    expect(b.started.differences).toEqual([]);
    expect(b.started.external).toEqual([{ asset: 'BTC', before: null, after: '1', detail: 'external BTC holdings captured: 1 (venue 1, bot positions 0): origin external, not managed' }]);
    expect(b.audit().filter((r) => r.operation === 'reconcile').map((r) => JSON.parse(r.input))).toEqual([{ kind: 'external_holding', policy: 'record', detail: b.started.external[0]!.detail }]);
    expect(b.started.halted).toBe(false);
    expect(b.xbt()).toBe('1.1');
    expect(b.live.ledger.load().positions.get('b1')?.quantity.toFixed()).toBe('0.1');
    // venue 1.1 = bot 0.1 + external 1: nothing to report, no phantom
    const again = await b.live.reconcile();
    expect([again.differences, again.external]).toEqual([[], []]);
    expect(b.live.store.externalHoldings()).toEqual([expect.objectContaining({ asset: 'BTC', quantity: '1', origin: 'external', managed: false })]);

    // a sell asking for more than the bot's position is refused before it reaches the venue
    const now = b.clock.now();
    b.live.orders.submit({ id: 'b1:exit:x', signalId: 'b1', clientOrderId: 'tgholdings00000002', pair: 'BTC/USD', side: 'sell', type: 'market', quantity: new Dec('1.1'), purpose: 'exit', tsEvent: now, tsInit: now });
    await b.venue.idle();
    expect(b.live.store.order('tgholdings00000002')).toMatchObject({ status: 'rejected', detail: expect.stringContaining("the bot's position b1 holds 0.1") });
    expect(b.sim.orders().some((o) => o.clOrdId === 'tgholdings00000002')).toBe(false);
    expect(b.xbt()).toBe('1.1');

    // the exit sizes from the bot's own position: 0.1, whatever the venue balance
    const exit = exitIntent({ ...b.live.ledger.load().positions.get('b1')!, signalId: 'b1' } as never, 0, 'take_profit', now);
    expect(exit.quantity.toFixed()).toBe('0.1');
    b.live.orders.submit(exit);
    await b.venue.idle();
    b.sim.step(1);
    await b.venue.poll();
    const sold = b.sim.trades().filter((t) => t.side === 'sell');
    expect(sold.map((t) => t.vol.toFixed())).toEqual(['0.1']);
    expect(b.xbt()).toBe('1');
    expect(b.live.ledger.load().positions.has('b1')).toBe(false);
    expect((await b.live.reconcile()).differences).toEqual([]);
  });

  it('manage adopts external quantity into a bot position (audited, replayable, apart in status); it is refused when the quantity is not there; a real discrepancy is still a phantom', async () => {
    const b = await fundedBot();
    const who = { actor: 'operator:alice', idempotencyKey: 'manage-1' };
    const r = b.live.holdings.manage(who, { pair: 'BTC/USD', quantity: '0.4', price: '3500', reason: 'long-term coins, let the bot manage them' });
    expect(r).toMatchObject({ command: 'manage', repeated: false, quantity: '0.4', price: '3500', priceSource: 'given', external: '0.6' });
    const row = b.audit().at(-1)!;
    expect(row).toMatchObject({ operation: 'import', actor: 'operator:alice', idempotencyKey: 'manage-1', seq: r.seq });
    expect(row.reason).toContain(`manage: 0.4 BTC of external holdings adopted into bot position ${r.positions[0]} at 3500 (given)`);
    expect(JSON.parse(row.input)).toEqual({ cash: {}, positions: [{ id: r.positions[0], pair: 'BTC/USD', quantity: '0.4', entryPrice: '3500', strategy: 'managed', signalId: null }] });
    // the same key again changes nothing
    const rows = b.audit().length;
    expect(b.live.holdings.manage(who, { pair: 'BTC/USD', quantity: '0.4', price: '3500' })).toMatchObject({ repeated: true, seq: r.seq, external: '0.6' });
    expect(b.audit()).toHaveLength(rows);
    // not there: refused, nothing written
    expect(() => b.live.holdings.manage({ actor: 'operator:alice' }, { pair: 'BTC/USD', quantity: '5', price: '3500' })).toThrow('manage 5 BTC/USD: the external BTC holdings are 0.6 (as last reconciled with the venue); nothing changed');
    expect(() => b.live.holdings.unmanage({ actor: 'operator:alice' }, { pair: 'BTC/USD', quantity: '1' })).toThrow("unmanage 1 BTC/USD: the bot's operator-managed BTC/USD positions hold 0.4");
    expect(b.audit()).toHaveLength(rows);
    expect(b.live.store.externalHoldings()[0]!.quantity).toBe('0.6');
    // without a price: the current mark (the bot's fill), stated
    const m = b.live.holdings.manage({ actor: 'operator:alice' }, { pair: 'BTC/USD', quantity: '0.1' });
    expect(m.priceSource).toMatch(/^the current mark \(\d{4}-\d\d-\d\dT/);
    expect(m.price).toBe(b.live.ledger.load().marks.get('BTC/USD')!.price.toFixed());

    // venue 1.1 = bot 0.1 + managed 0.5 + external 0.5: no difference, and the audit replays
    expect((await b.live.reconcile()).differences).toEqual([]);
    expect(verifyAudit(b.live.store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true, mismatch: null });
    const st = statusJson(b.live.store) as { positions: Array<Record<string, unknown>>; externalHoldings: Array<Record<string, unknown>> };
    expect(st.positions.map((p) => [p.origin, p.managed, p.quantity]).sort()).toEqual([['adopted', true, '0.1'], ['adopted', true, '0.4'], ['bot', true, '0.1']]);
    expect(st.externalHoldings).toEqual([expect.objectContaining({ asset: 'BTC', quantity: '0.5', origin: 'external', managed: false })]);

    // a real discrepancy: less on the venue than the bot's own positions
    b.sim.setBalance('XBT', '0.2');
    const bad = await b.live.reconcile();
    expect(bad.halted).toBe(true);
    expect(bad.external.map((x) => x.detail)).toEqual(['external BTC holdings 0.5 → 0 (venue 0.2, bot positions 0.6)']);
    expect(bad.differences.find((x) => x.kind === 'phantom_position')?.detail).toBe('the ledger holds 0.6 BTC but the venue has 0.2');
  });

  it('through the Bot and the operator API: manage needs the token and an idempotency key, is audited with the caller, refused when not there; holdings are listed apart', async () => {
    const b = await fundedBot();
    const logger = memoryLogger();
    const bot = new Bot({
      mode: 'sim', pair: 'BTC/USD', intervalMs: 3_600_000, clock: b.clock, logger, holdings: b.live.holdings,
      run: () => new Promise(() => {}), venue: () => ({ name: 'kraken-sim', halted: null }),
    });
    const operator = new OperatorService({ ledger: b.live.ledger, clock: b.clock, controls: b.live.store, bot, ledgerStatus: () => statusJson(b.live.store) });
    const http = await buildHttpServer({ bot, operator, intake: b.live.store, settings: settingsOf(), clock: b.clock, logger });
    try {
      const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
        http.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers } });
      expect((await http.app.inject({ method: 'POST', url: '/api/v1/manage', payload: '{}', headers: { 'content-type': 'application/json' } })).statusCode).toBe(401);
      const noKey = await post('/api/v1/manage', { pair: 'BTC/USD', quantity: '0.3', price: '3600' });
      expect([noKey.statusCode, noKey.json().error]).toEqual([400, 'IDEMPOTENCY_KEY_MISSING']);
      const ok = await post('/api/v1/manage', { pair: 'BTC/USD', quantity: '0.3', price: '3600' }, { 'idempotency-key': 'api-manage-1', 'x-tollgate-actor': 'dash' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ command: 'manage', quantity: '0.3', price: '3600', priceSource: 'given', external: '0.7' });
      expect([...b.live.store.audit()].at(-1)).toMatchObject({ operation: 'import', actor: expect.stringMatching(/^http:dash@[0-9a-f]{8}$/), idempotencyKey: 'http:api-manage-1' });
      const tooMuch = await post('/api/v1/manage', { pair: 'BTC/USD', quantity: '3' }, { 'idempotency-key': 'api-manage-2' });
      expect([tooMuch.statusCode, tooMuch.json().error]).toEqual([422, 'REFUSED']);
      expect(tooMuch.json().message).toContain('the external BTC holdings are 0.7');
      const h = await http.app.inject({ method: 'GET', url: '/api/v1/holdings', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(h.json().external).toEqual([expect.objectContaining({ asset: 'BTC', quantity: '0.7', origin: 'external', managed: false })]);
      expect(h.json().managed.map((p: { origin: string; quantity: string }) => [p.origin, p.quantity]).sort()).toEqual([['adopted', '0.3'], ['bot', '0.1']]);
      const status = await http.app.inject({ method: 'GET', url: '/api/v1/status', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(status.json().ledger.externalHoldings).toEqual([expect.objectContaining({ asset: 'BTC', quantity: '0.7' })]);
      expect(logger.records.filter((l) => l.event === 'holdings.managed')).toHaveLength(1);
    } finally {
      await http.close();
      b.live.store.close();
    }
  });
});
