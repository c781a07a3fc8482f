/**
 * `tollgate run --mode sim` end to end on candles arriving in real time: a paced Kraken simulator (its clock
 * runs 72,000× real time from its start candle) and the bot as a separate process at the same pace. History
 * before the start only warms the indicators up; the live candles trade through signed ccxt requests. After
 * the run (market data over REST polling, and over the simulator's websocket): no duplicate order, every venue trade in the ledger once, the ledger equals the venue, the audit
 * verifies, and the logs hold the run's decisions. A bot at another pace is refused before anything is sent.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { Dec } from '../src/domain/money.ts';
import { Ledger, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { openLiveState } from '../src/engine/live-state.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { BIN, defaults, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

/** fast indicators: signals every few candles, so a short live window trades */
const DENSE = {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
};

function runBot(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, 'run', ...args], { env });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('tollgate run --mode sim on a paced simulator', () => {
  it.each(['rest', 'ws'])('with market data over %s it trades the live candles; nothing is sent twice or lost; the ledger equals the venue', async (transport) => {
    const { markets } = defaults();
    // 2019-01-01 .. 2019-03-01: 800 candles of history before the start candle, then live at 20 candles/s
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-03-01', pace: 20, startIndex: 800 });
    expect(sim.speed).toBe(72_000);
    const dir = tmp('tollgate-run-paced-');
    const state = join(dir, 'state.db');
    const logs = join(dir, 'logs');
    const config = join(dir, 'dense.json');
    writeFileSync(config, JSON.stringify(DENSE));
    const env = { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret };
    const startCursor = sim.exchange.cursor('BTC/USD');
    let sockets = 0;
    const watch = setInterval(() => (sockets = Math.max(sockets, sim.socketCount)), 5);
    const r = await runBot(['--mode', 'sim', '--url', sim.url, '--pace', '20', '--max-candles', '60', '--config', config, '--state', state, '--logs', logs, '--json', '--dead-mans-switch', '0', ...(transport === 'ws' ? ['--ws'] : [])], env);
    // the simulator stands still from here: an order still working when the bot stopped does not fill later
    sim.setPace(0);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/sim clock: 2019-\d\d-\d\dT[\d:.]+Z, 72,000× real time \(--pace 20\)/);
    expect(r.err).toContain(transport === 'ws' ? 'websockets for market data and executions (REST fallback)' : 'REST polling');
    expect(r.err).not.toMatch(/websocket .*(lost|refused)/);
    clearInterval(watch);
    // over ws: the public socket (candles) and the private one (executions, after a GetWebSocketsToken)
    expect(sockets).toBe(transport === 'ws' ? 2 : 0);
    expect(sim.calls['GetWebSocketsToken'] ?? 0).toBe(transport === 'ws' ? 1 : 0);
    expect(r.out + r.err).not.toContain(secret);
    const summary = JSON.parse(r.out.trim().split('\n').at(-1)!) as { trades: number; signals: number; candles: number; cash: Record<string, string>; from: string; to: string };

    // the bot saw the simulator's candles as they came: the last one it processed closed after the run began,
    // and the simulator moved on by at least the 60 live candles it waited for
    expect(sim.exchange.cursor('BTC/USD') - startCursor).toBeGreaterThanOrEqual(60);
    expect(Date.parse(summary.to)).toBeGreaterThan(sim.exchange.candles('BTC/USD', startCursor, startCursor)[0]!.ts);
    expect(summary.signals).toBeGreaterThan(0);
    // history (Kraken's OHLC window: 719 closed candles) warmed the indicators up, then the live candles
    expect(summary.candles).toBeGreaterThan(719 + 50);

    const store = SqliteStateStore.open(state);
    try {
      expect(store.invariantViolation()).toBeNull();
      // one intent per order the simulator took, each client order id once on the venue
      const intents = store.db.prepare('SELECT client_order_id FROM order_intents').pluck().all() as string[];
      expect(intents.length).toBeGreaterThan(0);
      expect(sim.calls['AddOrder']).toBe(intents.length);
      const venueIds = sim.orders().map((o) => o.clOrdId);
      expect(new Set(venueIds).size).toBe(venueIds.length);
      expect([...venueIds].sort()).toEqual([...intents].sort());
      // every fill in the ledger is a trade of ours on the venue, once, and the run's summary is the ledger's
      const fills = store.db.prepare('SELECT id FROM fills').pluck().all() as string[];
      expect(fills.length).toBeGreaterThan(0);
      expect(new Set(fills).size).toBe(fills.length);
      const venueTrades = sim.trades().map((t) => t.id);
      expect(fills.every((f) => venueTrades.includes(f))).toBe(true);
      // and the run lost none: a venue trade the ledger lacks came from a candle after the last one the bot saw
      const lastSeen = Date.parse(summary.to);
      for (const t of sim.trades().filter((x) => !fills.includes(x.id))) expect(t.candleTs).toBeGreaterThan(lastSeen);
      expect(summary.cash['USD']).toBe(new Ledger(store, new SystemClock(), (p) => markets.get(p)).load().cash.get('USD')!.toFixed());
      expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    } finally {
      store.close();
    }
    // an order may still have been working when the bot stopped (and filled on the simulator since): a
    // restart on the same state settles it, after which every venue trade is in the ledger once and the
    // ledger equals the venue
    const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock: new SystemClock() });
    await exchange.loadMarkets();
    const clock = new SystemClock();
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], tradeTimeSlackMs: 2 * 3_600_000 });
    const again = await openLiveState({ file: state, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
    try {
      expect(again.reconciliation.differences).toEqual([]);
      const fills = again.store.db.prepare('SELECT id FROM fills').pluck().all() as string[];
      expect([...fills].sort()).toEqual(sim.trades().map((t) => t.id).sort());
      const ledger = again.ledger.load();
      expect(ledger.cash.get('USD')!.toFixed()).toBe(sim.exchange.balanceOf('USD').toFixed());
      const held = [...ledger.positions.values()].reduce((a, p) => a.plus(p.quantity), new Dec(0));
      expect(held.toFixed()).toBe(sim.exchange.balanceOf('XBT').toFixed());
      expect(verifyAudit(again.store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    } finally {
      again.store.close();
    }
  }, 60_000);

  it('when the simulator reaches the end of its data its clock stops, and the bot says so and finishes cleanly', async () => {
    const { markets } = defaults();
    // 2019-01-01 .. 2019-02-14: ~270 live candles after the start (~13 s at pace 20: room for a slow start of the bot
    // on a loaded machine, which at ~7 s of data found the clock already stopped), then the data ends
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-02-14', pace: 20, startIndex: 800 });
    const dir = tmp('tollgate-run-paced-');
    const state = join(dir, 'state.db');
    const config = join(dir, 'dense.json');
    writeFileSync(config, JSON.stringify(DENSE));
    const env = { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret };
    const r = await runBot(['--mode', 'sim', '--url', sim.url, '--pace', '20', '--config', config, '--state', state, '--logs', join(dir, 'logs'), '--json', '--dead-mans-switch', '0'], env);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/sim clock: the simulator's clock has stopped at 2019-02-1\dT[\d:.]+Z \(the end of its data, or pace 0\); stopping the run/);
    expect(sim.speed).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').at(-1)!) as { cash: Record<string, string> };
    const store = SqliteStateStore.open(state);
    try {
      const ledger = new Ledger(store, new SystemClock(), (p) => markets.get(p)).load();
      expect(ledger.cash.get('USD')!.toFixed()).toBe(sim.exchange.balanceOf('USD').toFixed());
      expect(summary.cash['USD']).toBe(ledger.cash.get('USD')!.toFixed());
    } finally {
      store.close();
    }
  }, 60_000);

  it('a bot at another pace is refused before it sends anything, with both speeds named', async () => {
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-03-01', pace: 20, startIndex: 800 });
    const dir = tmp('tollgate-run-paced-');
    const env = { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret };
    const slow = await runBot(['--mode', 'sim', '--url', sim.url, '--pace', '2', '--state', join(dir, 's.db'), '--logs', join(dir, 'logs')], env);
    expect(slow.code).toBe(2);
    expect(slow.err).toMatch(/the simulator's clock runs at about [\d,]+× real time .* but this run expects 7,200× real time: give tollgate run the simulator's --pace/);
    const none = await runBot(['--mode', 'sim', '--url', sim.url, '--state', join(dir, 's2.db'), '--logs', join(dir, 'logs2')], env);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/but this run expects real time/);
    expect(sim.calls['AddOrder'] ?? 0).toBe(0);
  }, 60_000);
});
