/**
 * The websocket transport against the loopback simulator with real ccxt.pro: the socket says when a candle
 * closes and the feed reads it from OHLC at once (the REST timer here never fires), so candles arrive as
 * the simulator moves, each once, in order, identical to what the REST transport emits; the ticker comes
 * from the socket; a dropped socket is reconnected with nothing lost; stop() closes the sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../clock/clocks.ts';
import { CandleSeries } from '../csv/kraken-ohlcvt.ts';
import { startKrakenSim, type KrakenSim } from '../../sim/index.ts';
import type { Candle } from '../../domain/types.ts';
import { krakenClient } from './client.ts';
import { LiveCandleFeed, type FeedTimer, type KrakenMarketDataApi } from './live-feed.ts';

const KEY = 'sim-key';
const SECRET = Buffer.from('kraken-sim feed ws test secret!!').toString('base64');
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

function series(n: number): CandleSeries {
  const px = Float64Array.from({ length: n }, (_, i) => 40_000 + 10 * i);
  const hi = px.map((p) => p + 50);
  const lo = px.map((p) => p - 50);
  return new CandleSeries('BTC/USD', HOUR, Float64Array.from({ length: n }, (_, i) => T0 + i * HOUR), px, hi, lo, px.map((p) => p + 5), new Float64Array(n).fill(2), Float64Array.from({ length: n }, (_, i) => i + 1), [], 'synthetic');
}

/** the REST timer's waits (an hour here) never fire; the sockets' reconnect waits (milliseconds) do */
const socketOnlyTimer: FeedTimer = {
  set: (fn, ms) => (ms >= 60_000 ? null : setTimeout(fn, ms)),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const open: Array<{ sim: KrakenSim; close: () => Promise<unknown> }> = [];
afterEach(async () => {
  while (open.length) {
    const o = open.pop()!;
    await o.close();
    await o.sim.stop();
  }
});

async function until(what: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(o: { ticker?: boolean } = {}) {
  const sim = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series(40)], startIndex: 5 });
  const { exchange } = krakenClient({ baseUrl: sim.url, wsUrl: sim.wsUrl, rateLimit: false, timeoutMs: 2_000, clock: new SystemClock() });
  open.push({ sim, close: () => exchange.close() });
  const got: Candle[] = [];
  const logs: string[] = [];
  // a clock on an hour boundary well after the data: every candle Kraken calls closed is closed
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const feed = new LiveCandleFeed({
    exchange: exchange as unknown as KrakenMarketDataApi, clock, pairs: [{ pair: 'BTC/USD', intervalMs: HOUR }], transport: 'ws',
    onCandle: (c) => void got.push(c), onLog: (_l, m) => void logs.push(m), timer: socketOnlyTimer, pollMs: HOUR,
    backoff: { baseMs: 20, maxMs: 100, jitter: 0 }, ...(o.ticker ? { ticker: true } : {}),
  });
  open.push({ sim, close: () => feed.stop() });
  return { sim, exchange, feed, got, logs };
}

describe('live feed over the websocket', () => {
  it('emits each candle the moment the socket says it closed, once and in order, identical to the REST transport', async () => {
    const { sim, feed, got } = await setup();
    await feed.start();
    // the first poll (REST) emits the closed history: candles 0..4; candle 5 is forming
    expect(got.map((c) => c.ts)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * HOUR));
    await until(() => sim.socketCount > 0);
    await new Promise((r) => setTimeout(r, 100)); // the subscription's snapshot
    sim.step(1);
    await until(() => got.length === 6);
    sim.step(3);
    await until(() => got.length === 9);
    expect(got.map((c) => c.ts)).toEqual(Array.from({ length: 9 }, (_, i) => T0 + i * HOUR));
    // the REST transport, asked from scratch, emits the very same candles (Kraken's trade count included)
    const rest: Candle[] = [];
    const { exchange: plain } = krakenClient({ baseUrl: sim.url, rateLimit: false, clock: new SystemClock() });
    const restFeed = new LiveCandleFeed({ exchange: plain as unknown as KrakenMarketDataApi, clock: new ManualClock(Date.UTC(2030, 0, 1)), pairs: [{ pair: 'BTC/USD', intervalMs: HOUR }], onCandle: (c) => void rest.push(c) });
    await restFeed.pollOnce();
    expect(got).toEqual(rest);
    expect(got[8]).toMatchObject({ open: 40_080, high: 40_130, low: 40_030, close: 40_085, volume: 2, trades: 9 });
  });

  it('keeps the last price from the socket: REST is asked for the ticker only before the socket has one', async () => {
    const { sim, feed, got } = await setup({ ticker: true });
    await feed.start();
    expect(sim.calls['Ticker']).toBe(1);
    await until(() => feed.lastPrice('BTC/USD')?.price === sim.exchange.current('BTC/USD').close);
    sim.step(2);
    await until(() => got.length === 7 && feed.lastPrice('BTC/USD')?.price === sim.exchange.current('BTC/USD').close);
    expect(feed.lastPrice('BTC/USD')!.price).toBe(40_075);
    expect(sim.calls['Ticker']).toBe(1);
  });

  it('when the socket drops it says so, reconnects, and the candles that closed meanwhile arrive once', async () => {
    const { sim, feed, got, logs } = await setup();
    await feed.start();
    await until(() => sim.socketCount > 0);
    await new Promise((r) => setTimeout(r, 100));
    sim.dropSockets();
    sim.step(2); // closes candles 5 and 6 while the socket is down
    await until(() => logs.some((l) => /BTC\/USD candles websocket lost \(.+\); REST polling carries on; reconnecting in 20 ms/.test(l)));
    // the reconnect's snapshot shows a newer forming candle: the missed ones are read at once
    await until(() => got.length === 7);
    sim.step(1);
    await until(() => got.length === 8);
    expect(got.map((c) => c.ts)).toEqual(Array.from({ length: 8 }, (_, i) => T0 + i * HOUR));
    expect(logs.some((l) => /BTC\/USD candles websocket is back after 1 failed attempt/.test(l))).toBe(true);
  });

  it('stop() closes the sockets and ends the watch loops', async () => {
    const { sim, feed } = await setup({ ticker: true });
    await feed.start();
    await until(() => sim.socketCount > 0);
    await feed.stop();
    await until(() => sim.socketCount === 0);
    expect(feed.isRunning).toBe(false);
  });

  it('refuses the websocket transport on a client without ccxt.pro, saying what to use', () => {
    const { exchange } = krakenClient({ baseUrl: 'http://127.0.0.1:9', clock: new SystemClock() });
    expect(() => new LiveCandleFeed({ exchange: exchange as unknown as KrakenMarketDataApi, clock: new SystemClock(), pairs: [{ pair: 'BTC/USD', intervalMs: HOUR }], transport: 'ws', onCandle: () => {} })).toThrow(
      /transport 'ws' needs ccxt.pro's kraken \(krakenClient with ws: true\)/,
    );
  });
});
