/**
 * A live run (sim mode, durable state) stopped while a position is open and started again on the same
 * state: the position is adopted with its signal and exit rules (trailing peak rebuilt from the warm-up
 * history) and leaves exactly when and where it leaves in an uninterrupted run; no order is sent twice,
 * the ledger equals the venue, the audit verifies.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import type { CandleSeries } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import type { KrakenSim } from '../src/sim/index.ts';
import { PaperVenue } from '../src/adapters/paper/paper-venue.ts';
import { runLive } from '../src/engine/live.ts';
import { openLiveState, recordLiveState, SqliteShadowStore } from '../src/engine/live-state.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { parseConfig } from '../src/config/schema.ts';
import { Dec } from '../src/domain/money.ts';
import type { Candle } from '../src/domain/types.ts';
import { verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { bundledSlice, defaults, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

const { markets } = defaults();

/** candles [from, to) of `series` through a live sim run on `file`; candles before `from` are warm-up */
async function segment(sim: KrakenSim, apiKey: string, secret: string, file: string, series: CandleSeries, from: number, to: number, stopEarly?: (ledgerHasPosition: boolean) => boolean) {
  const clock = new SystemClock();
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock });
  await exchange.loadMarkets();
  const lastClose = new Map<string, number>();
  const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], lastPrice: (p) => lastClose.get(p) ?? null });
  const live = await openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  let stoppedAt = to;
  let resumed = { restoredSignals: 0, adoptedPositions: 0 };
  const shadows: string[] = [];
  const shadowStore = new SqliteShadowStore(live.store, clock);
  const shadowsAtStart = shadowStore.size;
  const result = await runLive({
    shadowStore,
    config: parseConfig({ startingCash: live.startingCash }), markets, pair: 'BTC/USD', intervalMs: series.intervalMs, mode: 'sim', logsDir: null, until,
    warmUpBefore: series.ts[from]! + series.intervalMs, // candles that closed before `from` is processed: history
    venue: (deps, fillModel) => {
      const checker = new PaperVenue(fillModel, deps);
      return { venue: { name: 'kraken', submit: (i) => live.orders.submit(i), cancel: (id, r) => venue.cancel(id, r), onCandle: () => {}, connect: (sink) => live.orders.forward(sink) }, check: (x) => checker.check(x) };
    },
    asyncVenue: () => venue,
    onPipeline: (parts) => {
      recordLiveState(parts, live.store, live.ledger);
      resumed = live.resume(parts);
      parts.bus.subscribe('shadow', 'test', (o) => shadows.push(`${o.signalId} ${o.status} ${o.exitReason} ${o.pnl.toFixed()}`));
    },
    feed: {
      start: (onCandle: (c: Candle) => Promise<void>) => {
        void (async () => {
          for (let i = 0; i < to; i++) {
            if (i >= from && i > 0) sim.step(1);
            lastClose.set('BTC/USD', series.at(i).close);
            await onCandle(series.at(i));
            if (i >= from && stopEarly?.([...live.ledger.load().positions.values()].some((p) => p.signalId !== null))) {
              stoppedAt = i + 1;
              break;
            }
          }
          stop();
        })();
      },
      stop: () => {},
    },
  });
  // (exit times are the simulator's wall clock here, so they are left out of the comparison)
  const trades = live.ledger.load().closedTrades.map((t) => `${t.signalId} ${t.quantity.toFixed()} ${t.entryPrice.toFixed()} ${t.exitPrice.toFixed()} ${t.exitReason} ${t.fees.toFixed()} ${t.pnl.toFixed()}`);
  live.store.close();
  return { result, stoppedAt, resumed, trades, shadows, shadowsAtStart };
}

describe('a live run restarted with an open position', () => {
  it('adopts the position and exits it exactly as an uninterrupted run does; nothing is sent twice; the ledger equals the venue', async () => {
    const series = bundledSlice('2019-01-01', '2019-03-01');
    // the uninterrupted run
    const a = await testSim({ from: '2019-01-01', to: '2019-03-01' });
    const straight = await segment(a.sim, a.apiKey, a.secret, join(tmp('tollgate-restart-a-'), 'state.db'), series, 0, series.length);
    // the same, stopped as soon as a position is open, then started again on the same state
    const b = await testSim({ from: '2019-01-01', to: '2019-03-01' });
    const file = join(tmp('tollgate-restart-b-'), 'state.db');
    const first = await segment(b.sim, b.apiKey, b.secret, file, series, 0, series.length, (open) => open);
    expect(first.stoppedAt).toBeLessThan(series.length);
    const second = await segment(b.sim, b.apiKey, b.secret, file, series, first.stoppedAt, series.length);
    expect(second.resumed.adoptedPositions).toBeGreaterThanOrEqual(1);
    // the adopted position's trade is the uninterrupted run's — and so is every trade after the restart:
    // the guards' look-backs (closed trades, recent signals) came back with the state
    const adoptedTrade = second.trades.find((t) => !first.trades.includes(t))!;
    expect(straight.trades).toContain(adoptedTrade);
    expect(second.trades).toEqual(straight.trades);
    // the shadow trades of blocked signals carry on across the restart too: the same outcomes, none lost
    expect([...first.shadows, ...second.shadows].sort()).toEqual([...straight.shadows].sort());
    // no order twice: every AddOrder the simulator received carries its own client order id
    const ids = b.sim.orders().map((o) => o.clOrdId);
    expect(new Set(ids).size).toBe(ids.length);
    // the ledger equals the venue and verifies from its audit log
    const { SqliteStateStore } = await import('../src/adapters/sqlite/state-store.ts');
    const store = SqliteStateStore.open(file);
    const state = new (await import('../src/portfolio/ledger.ts')).Ledger(store, new SystemClock(), (p) => markets.get(p)).load();
    expect(state.cash.get('USD')!.toFixed()).toBe(b.sim.exchange.balanceOf('USD').toFixed());
    expect([...state.positions.values()].reduce((x, p) => x.plus(p.quantity), new Dec(0)).toFixed()).toBe(b.sim.exchange.balanceOf('XBT').toFixed());
    expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    expect(store.invariantViolation()).toBeNull();
    store.close();
  }, 90_000);
});
