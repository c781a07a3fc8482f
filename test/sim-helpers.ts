/** A Kraken simulator for a test, with fresh random credentials, stopped after each test. */
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { CandleSeries } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { startKrakenSim, type KrakenSim } from '../src/sim/index.ts';
import { bundledSlice } from './helpers.ts';

const running: KrakenSim[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

export async function testSim(o: { from?: string; to?: string; pace?: number; startIndex?: number; nonceWindow?: number } = {}): Promise<{ sim: KrakenSim; apiKey: string; secret: string }> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const sim = await startKrakenSim({
    apiKey, apiSecret: secret, series: [bundledSlice(o.from ?? '2019-01-01', o.to ?? '2019-02-01')], balances: { USD: '10000', XBT: '0' },
    ...(o.pace ? { pace: o.pace } : {}), ...(o.startIndex ? { startIndex: o.startIndex } : {}), ...(o.nonceWindow ? { nonceWindow: o.nonceWindow } : {}),
  });
  running.push(sim);
  return { sim, apiKey, secret };
}

/**
 * A Kraken simulator with many pairs: `series` (one per pair, ccxt symbols) and starting `balances` in any
 * spelling (USD, XBT, ZEUR), with fresh random credentials; stopped after each test.
 */
export async function multiPairSim(series: readonly CandleSeries[], balances: Record<string, string>): Promise<{ sim: KrakenSim; apiKey: string; secret: string }> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const sim = await startKrakenSim({ apiKey, apiSecret: secret, series, balances });
  running.push(sim);
  return { sim, apiKey, secret };
}

/** `n` flat hourly candles of `pair` at `price` (a decimal string at the pair's precision), with ample volume */
export function flatSeries(pair: string, price: string, n = 3, startMs = Date.UTC(2026, 0, 12)): CandleSeries {
  const px = new Float64Array(n).fill(Number(price));
  const ts = Float64Array.from({ length: n }, (_, i) => startMs + i * 3_600_000);
  return new CandleSeries(pair, 3_600_000, ts, px, px, px, px, new Float64Array(n).fill(1e15), new Float64Array(n).fill(1), [], 'synthetic');
}
