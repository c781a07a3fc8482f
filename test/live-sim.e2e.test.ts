/**
 * A live run in sim mode on its durable state, end to end: the loop (fed the simulator's candles as a
 * live feed would deliver them) trades through the durable order path; afterwards the state holds every
 * signal that sent an order, every intent, every fill, the ledger equals the venue, the audit verifies,
 * and a restart on the same state passes its invariants.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { PaperVenue } from '../src/adapters/paper/paper-venue.ts';
import { runLive } from '../src/engine/live.ts';
import { openLiveState, recordLiveState } from '../src/engine/live-state.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { parseConfig } from '../src/config/schema.ts';
import { Dec } from '../src/domain/money.ts';
import type { Candle } from '../src/domain/types.ts';
import { verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { bundledSlice, defaults, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

describe('live run in sim mode on durable state', () => {
  // the key without a nonce window (Kraken's default), and one with a window set on the key and in the config (venue.nonceWindow)
  it.each([0, 5000])('keeps every signal, intent and fill; the ledger equals the venue; a restart passes its invariants (nonce window %i)', async (nonceWindow) => {
    const { markets } = defaults();
    const series = bundledSlice('2019-01-01', '2019-03-01');
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-03-01', nonceWindow });
    const clock = new SystemClock();
    const windowed = parseConfig({ venue: { nonceWindow } });
    expect(windowed.venue.nonceWindow).toBe(nonceWindow);
    const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock, nonceWindow: windowed.venue.nonceWindow });
    await exchange.loadMarkets();
    const file = join(tmp('tollgate-live-sim-'), 'state.db');
    const lastClose = new Map<string, number>();
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], lastPrice: (p) => lastClose.get(p) ?? null });
    const live = await openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'BTC/USD', clock });
    const config = parseConfig({ startingCash: live.startingCash });
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const result = await runLive({
      config, markets, pair: 'BTC/USD', intervalMs: series.intervalMs, mode: 'sim', logsDir: null, until,
      venue: (deps, fillModel) => {
        const checker = new PaperVenue(fillModel, deps);
        return {
          venue: { name: 'kraken', submit: (i) => live.orders.submit(i), cancel: (id, r) => venue.cancel(id, r), onCandle: () => {}, connect: (sink) => live.orders.forward(sink) },
          check: (x) => checker.check(x),
        };
      },
      asyncVenue: () => venue,
      onPipeline: (parts) => recordLiveState(parts, live.store, live.ledger),
      feed: {
        start: (onCandle: (c: Candle) => Promise<void>) => {
          void (async () => {
            for (let i = 0; i < series.length; i++) {
              if (i > 0) sim.step(1); // the exchange moves on; the feed delivers the candle that just closed
              lastClose.set('BTC/USD', series.at(i).close);
              await onCandle(series.at(i));
            }
            stop();
          })();
        },
        stop: () => {},
      },
    });
    expect(result.summary.trades).toBeGreaterThan(3);
    const { store, ledger } = live;
    // every order intent has its signal, past its decision; every venue trade of ours is in the ledger once
    expect(store.invariantViolation()).toBeNull();
    const intents = store.db.prepare('SELECT client_order_id FROM order_intents').pluck().all() as string[];
    expect(intents.length).toBe(sim.calls['AddOrder']);
    const fills = store.db.prepare('SELECT id FROM fills').pluck().all() as string[];
    expect(fills.sort()).toEqual(sim.trades().map((t) => t.id).sort());
    // the ledger equals the venue, and the kernel's books equal the ledger
    const state = ledger.load();
    expect(state.cash.get('USD')!.toFixed()).toBe(sim.exchange.balanceOf('USD').toFixed());
    const held = [...state.positions.values()].reduce((a, p) => a.plus(p.quantity), new Dec(0));
    expect(held.toFixed()).toBe(sim.exchange.balanceOf('XBT').toFixed());
    expect(result.summary.cash['USD']).toBe(state.cash.get('USD')!.toFixed());
    expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
    store.close();
    // a restart on the same state passes its invariants and reconciles clean (live-restart.e2e resumes one)
    const again = await openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue: new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret] }), markets, pair: 'BTC/USD', clock });
    expect(again.reconciliation.differences).toEqual([]);
    again.store.close();
  }, 60_000);
});
