import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CandleSeries, loadKrakenOhlcvt } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import { parseConfig, type Config } from '../src/config/schema.ts';
import { expect } from 'vitest';
import { Dec } from '../src/domain/money.ts';
import { symbolFromKraken, UnknownPairError } from '../src/kraken/pairs.ts';
import type { MarketMeta } from '../src/domain/types.ts';

export const BUNDLED = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
export const BIN = join(import.meta.dirname, '..', 'bin', 'tollgate.js');

export function tmp(prefix = 'tollgate-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function readJsonl(file: string): Array<Record<string, any>> {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

export function bundledSlice(from: string, to: string): CandleSeries {
  return loadKrakenOhlcvt(BUNDLED, { pair: 'BTC/USD', fromMs: Date.parse(from), toMs: Date.parse(to) });
}

export function defaults(overrides: unknown = {}): { config: Config; markets: ReturnType<typeof buildMarkets> } {
  const config = parseConfig(overrides);
  return { config, markets: buildMarkets(config) };
}

/** A synthetic hourly series from arrays (property tests). */
export function seriesOf(pair: string, rows: Array<{ open: number; high: number; low: number; close: number; volume: number }>, startMs = Date.UTC(2020, 0, 1)): CandleSeries {
  const n = rows.length;
  const f = (k: 'open' | 'high' | 'low' | 'close' | 'volume') => Float64Array.from(rows.map((r) => r[k]));
  const ts = Float64Array.from({ length: n }, (_, i) => startMs + i * 3_600_000);
  return new CandleSeries(pair, 3_600_000, ts, f('open'), f('high'), f('low'), f('close'), f('volume'), new Float64Array(n).fill(1), [], 'synthetic');
}

/** decimal places of a decimal string */
export const places = (x: string) => (x.split('.')[1] ?? '').length;

/**
 * A replay's bus log traded `pair` within its market: nothing rejected, orders and fills exist, every order
 * quantity within the lot decimals and at least ordermin, every fill price and quantity within the decimals.
 */
export function expectTradedWithin(bus: ReadonlyArray<Record<string, unknown>>, pair: string, m: MarketMeta): void {
  expect(bus.filter((e) => e.event === 'order.rejected')).toEqual([]);
  const orders = bus.filter((e) => e.event === 'order.submitted') as Array<Record<string, string>>;
  const fills = bus.filter((e) => e.event === 'fill') as Array<Record<string, string>>;
  expect(orders.length).toBeGreaterThan(0);
  expect(fills.length).toBeGreaterThan(0);
  for (const o of orders) {
    expect(o.pair).toBe(pair);
    expect(places(o.quantity!), o.quantity).toBeLessThanOrEqual(m.lotDecimals);
    expect(new Dec(o.quantity!).gte(m.orderMin), `${o.quantity} >= ordermin ${m.orderMin}`).toBe(true);
  }
  for (const f of fills) {
    expect(places(f.price!), f.price).toBeLessThanOrEqual(m.priceDecimals);
    expect(places(f.quantity!), f.quantity).toBeLessThanOrEqual(m.lotDecimals);
    expect(new Dec(f.price!).gt(0)).toBe(true);
  }
}

/** the UnknownPairError `symbolFromKraken(name)` throws (fails the test when the name is found) */
export function unknownPair(name: string): UnknownPairError {
  try {
    symbolFromKraken(name);
  } catch (e) {
    if (e instanceof UnknownPairError) return e;
    throw e;
  }
  throw new Error(`${name} was found`);
}
