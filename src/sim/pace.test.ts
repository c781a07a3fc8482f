/**
 * A paced simulator's clock is the data's: it starts at the start candle's open time, runs pace × interval
 * times as fast as real time, and each candle becomes current when that clock reaches its open time — for
 * every pair by its own times, gaps included.
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { CandleSeries } from '../adapters/csv/kraken-ohlcvt.ts';
import { startKrakenSim, type KrakenSim } from './index.ts';

const KEY = 'sim-key';
const SECRET = Buffer.from('kraken-sim pace test secret, 32b').toString('base64');
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/** hourly candles at the given hour offsets (a missing hour is a gap, as in Kraken's files) */
function series(pair: string, hours: number[], price: number): CandleSeries {
  const n = hours.length;
  const px = Float64Array.from(hours.map((h) => price + h));
  return new CandleSeries(pair, HOUR, Float64Array.from(hours.map((h) => T0 + h * HOUR)), px, px, px, px, new Float64Array(n).fill(1), new Float64Array(n).fill(1), [], 'synthetic');
}

const sims: KrakenSim[] = [];
afterEach(async () => {
  while (sims.length) await sims.pop()!.stop();
});

async function until(what: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('paced kraken-sim', () => {
  it("starts at the start candle's open time and takes each candle when its clock reaches the candle's open", async () => {
    // 20 candles/s of hourly data: 72,000× real time, a candle every 50 ms
    const sim = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series('BTC/USD', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 100)], pace: 20, startIndex: 2 });
    sims.push(sim);
    expect(sim.speed).toBe(72_000);
    const ex = new ccxt.kraken({ enableRateLimit: false });
    ex.urls['api'] = { ...(ex.urls['api'] as Record<string, string>), public: sim.url, private: sim.url };
    const t = await ex.fetchTime();
    expect(t).toBeGreaterThanOrEqual(T0 + 2 * HOUR);
    expect(t).toBeLessThan(T0 + 5 * HOUR);
    await until(() => sim.exchange.cursor('BTC/USD') >= 6);
    // the current candle is the one whose open time the clock has reached, never one ahead of it
    const now = (await ex.fetchTime())!;
    const cur = sim.exchange.current('BTC/USD');
    expect(cur.ts).toBeLessThanOrEqual(now + 1_000);
    await until(() => sim.exchange.cursor('BTC/USD') === 9);
    // at the end of the data the clock runs to the last candle's close and stops there
    await until(() => sim.speed === 0);
    const end = await ex.fetchTime();
    expect(end).toBeGreaterThanOrEqual(T0 + 10 * HOUR);
    expect(end).toBeLessThan(T0 + 10 * HOUR + 600_000); // the timer fires a few ms late: minutes at 72,000×
    await new Promise((r) => setTimeout(r, 100));
    expect(await ex.fetchTime()).toBe(end);
  });

  it('keeps pairs with gaps aligned by time, and setPace(0) stops the clock and the candles', async () => {
    const sim = await startKrakenSim({
      apiKey: KEY, apiSecret: SECRET, pace: 20,
      series: [series('BTC/USD', [0, 1, 2, 3, 4, 5, 6, 7], 100), series('ETH/USD', [0, 3, 6, 7], 10)],
    });
    sims.push(sim);
    await until(() => sim.exchange.cursor('BTC/USD') >= 4);
    sim.setPace(0);
    const btc = sim.exchange.current('BTC/USD').ts;
    const eth = sim.exchange.current('ETH/USD').ts;
    // ETH's current candle is its latest that opened at or before BTC's
    expect(eth).toBeLessThanOrEqual(btc);
    expect(btc - eth).toBeLessThan(3 * HOUR);
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.exchange.current('BTC/USD').ts).toBe(btc);
    sim.setPace(20);
    await until(() => sim.exchange.cursor('BTC/USD') === 7 && sim.exchange.cursor('ETH/USD') === 3);
  });
});
