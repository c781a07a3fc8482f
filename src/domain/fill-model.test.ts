import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../kraken/pairs.ts';
import { quoteFill, volumeCapacity, type FillModelParams, type WorkingOrder } from './fill-model.ts';
import { dec, Dec } from './money.ts';
import type { Candle } from './types.ts';

const BTC = krakenMarkets().get('BTC/USD')!; // price 1 dp, lot 8 dp, cost 5 dp, taker 0.4 %, maker 0.25 %
const P: FillModelParams = { slippageBps: 10, maxVolumeShare: 0.1 };
const T0 = Date.UTC(2024, 0, 1);
const c = (o: Partial<Candle> = {}): Candle => ({
  pair: 'BTC/USD', intervalMs: 3_600_000, ts: T0, open: 50000, high: 51000, low: 49000, close: 50500, volume: 10, trades: 100, ...o,
});
const mkt = (side: 'buy' | 'sell', qty: string): WorkingOrder => ({ side, type: 'market', remaining: dec(qty) });
const lim = (side: 'buy' | 'sell', qty: string, px: string): WorkingOrder => ({ side, type: 'limit', remaining: dec(qty), limitPrice: dec(px) });
const Z = new Dec(0);

describe('quoteFill: market orders', () => {
  it('when a market buy fills then the price is open × (1 + slippage) rounded up to price decimals, with the taker fee', () => {
    // 50000.05 × 1.001 = 50050.05005 → 50050.1 (rounded up at 1 dp)
    const q = quoteFill(P, BTC, mkt('buy', '0.1'), c({ open: 50000.05 }), Z)!;
    expect(q.price.toFixed()).toBe('50050.1');
    expect(q.quantity.toFixed()).toBe('0.1');
    expect(q.liquidity).toBe('taker');
    // 0.1 × 50050.1 × 0.004 = 20.02004 (already at 5 dp)
    expect(q.fee.toFixed()).toBe('20.02004');
  });

  it('when a market sell fills then the price is open × (1 − slippage) rounded down to price decimals', () => {
    // 50000.05 × 0.999 = 49950.04995 → 49950
    const q = quoteFill(P, BTC, mkt('sell', '0.1'), c({ open: 50000.05 }), Z)!;
    expect(q.price.toFixed()).toBe('49950');
    expect(q.liquidity).toBe('taker');
    expect(q.fee.toFixed()).toBe('19.98');
  });

  it('when the taker fee has more than cost decimals then it is rounded up', () => {
    // 0.12345678 × 50050 = 6179.011839; × 0.004 = 24.716047356 → 24.71605 (up at 5 dp)
    const q = quoteFill(P, BTC, mkt('buy', '0.12345678'), c({ open: 50000 }), Z)!;
    expect(q.price.toFixed()).toBe('50050');
    expect(q.fee.toFixed()).toBe('24.71605');
  });

  it('when slippage is zero then a market order fills exactly at the open', () => {
    const q = quoteFill({ slippageBps: 0, maxVolumeShare: 1 }, BTC, mkt('buy', '1'), c({ open: 43210.7 }), Z)!;
    expect(q.price.toFixed()).toBe('43210.7');
  });

  it('when the candle does not touch anything then a market order still fills (always at the open)', () => {
    const q = quoteFill(P, BTC, mkt('sell', '0.5'), c({ open: 100, high: 100, low: 100, close: 100 }), Z);
    expect(q).not.toBeNull();
    expect(q!.price.toFixed()).toBe('99.9');
  });
});

describe('quoteFill: limit orders', () => {
  it('when the low reaches a buy limit then it fills at the limit with the maker fee', () => {
    const q = quoteFill(P, BTC, lim('buy', '0.2', '49500'), c({ low: 49400 }), Z)!;
    expect(q.price.toFixed()).toBe('49500');
    expect(q.liquidity).toBe('maker');
    // 0.2 × 49500 × 0.0025 = 24.75
    expect(q.fee.toFixed()).toBe('24.75');
  });

  it('when the low equals the buy limit exactly then it fills', () => {
    expect(quoteFill(P, BTC, lim('buy', '0.2', '49000'), c({ low: 49000 }), Z)).not.toBeNull();
  });

  it('when the low stays above the buy limit then it does not fill', () => {
    expect(quoteFill(P, BTC, lim('buy', '0.2', '48999.9'), c({ low: 49000 }), Z)).toBeNull();
  });

  it('when the high reaches a sell limit then it fills at the limit with the maker fee; equal counts', () => {
    const q = quoteFill(P, BTC, lim('sell', '0.2', '51000'), c({ high: 51000 }), Z)!;
    expect(q.price.toFixed()).toBe('51000');
    expect(q.liquidity).toBe('maker');
    expect(q.fee.toFixed()).toBe('25.5');
  });

  it('when the high stays below the sell limit then it does not fill', () => {
    expect(quoteFill(P, BTC, lim('sell', '0.2', '51000.1'), c({ high: 51000 }), Z)).toBeNull();
  });

  it('when a buy limit is above the whole candle then it fills at the limit, not at the better open (conservative)', () => {
    const q = quoteFill(P, BTC, lim('buy', '0.1', '52000'), c(), Z)!;
    expect(q.price.toFixed()).toBe('52000');
  });

  it('when a limit order has no limit price then it does not fill', () => {
    expect(quoteFill(P, BTC, { side: 'buy', type: 'limit', remaining: dec('0.1') }, c(), Z)).toBeNull();
  });
});

describe('volume cap', () => {
  it('when nothing is used then the capacity is share × volume, rounded down to lot decimals', () => {
    expect(volumeCapacity(P, BTC, c({ volume: 10 }), Z).toFixed()).toBe('1');
    expect(volumeCapacity(P, BTC, c({ volume: 1.23456789 }), Z).toFixed()).toBe('0.12345678');
  });

  it('when other orders used part of the candle then the capacity is reduced by `used`', () => {
    expect(volumeCapacity(P, BTC, c({ volume: 10 }), dec('0.3')).toFixed()).toBe('0.7');
  });

  it('when used exceeds the cap then the capacity is zero, not negative', () => {
    expect(volumeCapacity(P, BTC, c({ volume: 10 }), dec('5')).isZero()).toBe(true);
  });

  it('when the order is larger than the capacity then the fill is partial, capped at the capacity, fee on the partial quantity', () => {
    const q = quoteFill(P, BTC, mkt('buy', '5'), c({ volume: 10, open: 50000 }), dec('0.25'))!;
    expect(q.quantity.toFixed()).toBe('0.75');
    expect(q.fee.eq(q.quantity.mul(q.price).mul('0.004'))).toBe(true);
  });

  it('when the order fits in the capacity then it fills whole', () => {
    const q = quoteFill(P, BTC, mkt('sell', '0.5'), c({ volume: 10 }), dec('0.5'))!;
    expect(q.quantity.toFixed()).toBe('0.5');
  });

  it('when no capacity is left then there is no fill (market or touched limit)', () => {
    expect(quoteFill(P, BTC, mkt('buy', '0.1'), c({ volume: 10 }), dec('1'))).toBeNull();
    expect(quoteFill(P, BTC, lim('buy', '0.1', '60000'), c({ volume: 10 }), dec('1'))).toBeNull();
  });

  it('when the candle has zero volume then nothing fills', () => {
    expect(quoteFill(P, BTC, mkt('buy', '0.1'), c({ volume: 0 }), Z)).toBeNull();
  });

  it('when the share × volume is below one lot unit then nothing fills', () => {
    expect(quoteFill(P, BTC, mkt('buy', '0.1'), c({ volume: 0.00000009 }), Z)).toBeNull();
  });

  it('when the remaining quantity is zero then there is no fill', () => {
    expect(quoteFill(P, BTC, mkt('buy', '0'), c(), Z)).toBeNull();
  });
});

describe('quoteFill: many orders on one candle', () => {
  it('when orders of both sides, fill models and markets take turns on one candle then each quote equals a quote on a fresh copy of it', () => {
    const ETH = krakenMarkets().get('ETH/USD')!;
    const candle = c({ open: 50000.05, volume: 3.7 });
    const models: FillModelParams[] = [P, { slippageBps: 25, maxVolumeShare: 0.5 }];
    const show = (q: ReturnType<typeof quoteFill>) => q && { quantity: q.quantity.toFixed(), price: q.price.toFixed(), fee: q.fee.toFixed() };
    const asks: Array<[FillModelParams, typeof BTC, WorkingOrder, Dec]> = [];
    for (let round = 0; round < 2; round++) {
      for (const params of models) {
        for (const meta of [BTC, ETH]) {
          for (const order of [mkt('buy', '0.1'), mkt('sell', '0.2'), mkt('buy', '5'), lim('buy', '0.1', '49500')]) {
            for (const used of [Z, dec('0.1')]) asks.push([params, meta, order, used]);
          }
        }
      }
    }
    // the same candle object asked in turn (what it remembers is reused), against a fresh copy per ask
    const got = asks.map(([params, meta, order, used]) => show(quoteFill(params, meta, order, candle, used)));
    const sameModel = asks.filter(([params, meta]) => params === P && meta === BTC).map(([params, meta, order, used]) => show(quoteFill(params, meta, order, candle, used)));
    const want = asks.map(([params, meta, order, used]) => show(quoteFill(params, meta, order, { ...candle }, used)));
    expect(got).toEqual(want);
    expect(sameModel).toEqual(want.filter((_, i) => asks[i]![0] === P && asks[i]![1] === BTC));
    const quoted = got.length;
    expect(quoted).toBe(2 * 2 * 2 * 4 * 2);
  });
});
