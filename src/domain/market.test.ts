import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../kraken/pairs.ts';
import { feeFor, minimumViolation, roundPriceAdverse, roundQuantity } from './market.ts';
import { dec, Dec } from './money.ts';
import type { MarketMeta } from './types.ts';

const BTC: MarketMeta = krakenMarkets().get('BTC/USD')!;
const META: MarketMeta = {
  pair: 'TST/USD', krakenPair: 'TSTUSD', altname: 'TSTUSD', base: 'TST', quote: 'USD',
  priceDecimals: 2, lotDecimals: 3, costDecimals: 4,
  orderMin: new Dec('0.01'), costMin: new Dec('5'), takerFee: new Dec('0.004'), makerFee: new Dec('0.0025'), status: 'online',
};

describe('roundQuantity', () => {
  it('when a quantity has more decimals than the lot then it is rounded down, never up', () => {
    expect(roundQuantity(META, dec('1.2349')).toFixed()).toBe('1.234');
    expect(roundQuantity(META, dec('0.0009999')).toFixed()).toBe('0');
    expect(roundQuantity(BTC, dec('0.123456789')).toFixed()).toBe('0.12345678');
    expect(roundQuantity(BTC, dec('0.999999999')).toFixed()).toBe('0.99999999');
  });

  it('when a quantity already fits the lot decimals then it is unchanged', () => {
    expect(roundQuantity(BTC, dec('0.5')).toFixed()).toBe('0.5');
  });
});

describe('roundPriceAdverse', () => {
  it('when buying then the price is rounded up to the pair decimals', () => {
    expect(roundPriceAdverse(BTC, dec('50000.01'), 'buy').toFixed()).toBe('50000.1');
    expect(roundPriceAdverse(META, dec('10.001'), 'buy').toFixed()).toBe('10.01');
  });

  it('when selling then the price is rounded down to the pair decimals', () => {
    expect(roundPriceAdverse(BTC, dec('50000.09'), 'sell').toFixed()).toBe('50000');
    expect(roundPriceAdverse(META, dec('10.009'), 'sell').toFixed()).toBe('10');
  });

  it('when the price is already on the tick then both sides keep it', () => {
    expect(roundPriceAdverse(BTC, dec('50000.1'), 'buy').toFixed()).toBe('50000.1');
    expect(roundPriceAdverse(BTC, dec('50000.1'), 'sell').toFixed()).toBe('50000.1');
  });
});

describe('feeFor', () => {
  it('when taker then the taker rate applies and the fee is rounded up to cost decimals', () => {
    // 123.45678 × 0.004 = 0.49382712 → 0.4939 at 4 cost decimals
    expect(feeFor(META, dec('123.45678'), 'taker').toFixed()).toBe('0.4939');
  });

  it('when maker then the maker rate applies, rounded up', () => {
    // 123.45678 × 0.0025 = 0.30864195 → 0.3087
    expect(feeFor(META, dec('123.45678'), 'maker').toFixed()).toBe('0.3087');
  });

  it('when the exact fee fits the cost decimals then it is not rounded', () => {
    expect(feeFor(BTC, dec('1000'), 'taker').toFixed()).toBe('4');
    expect(feeFor(BTC, dec('1000'), 'maker').toFixed()).toBe('2.5');
  });

  it('when the fee is a tiny fraction of a cost unit then at least one unit is charged', () => {
    expect(feeFor(BTC, dec('0.0001'), 'taker').toFixed()).toBe('0.00001');
  });

  it('when cost is zero then the fee is zero', () => {
    expect(feeFor(BTC, dec(0), 'taker').isZero()).toBe(true);
  });
});

describe('minimumViolation', () => {
  it('when the quantity is zero then it says it rounds to 0', () => {
    expect(minimumViolation(BTC, dec(0), dec(50000))).toMatch(/rounds to 0 at 8 lot decimals/);
  });

  it('when the quantity is negative then it is refused too', () => {
    expect(minimumViolation(BTC, dec('-1'), dec(50000))).not.toBeNull();
  });

  it('when the quantity is below ordermin then it names ordermin', () => {
    expect(minimumViolation(BTC, dec('0.00004999'), dec(50000))).toBe('quantity 0.00004999 < ordermin 0.00005 BTC');
  });

  it('when the quantity equals ordermin and the cost clears costmin then there is no violation', () => {
    expect(minimumViolation(BTC, dec('0.00005'), dec(50000))).toBeNull();
  });

  it('when the cost is below costmin then it names costmin with the cost at cost decimals', () => {
    // 0.00005 × 9000 = 0.45 < 0.5
    expect(minimumViolation(BTC, dec('0.00005'), dec(9000))).toBe('cost 0.45000 < costmin 0.5 USD');
  });

  it('when the cost equals costmin exactly then there is no violation', () => {
    expect(minimumViolation(BTC, dec('0.00005'), dec(10000))).toBeNull();
    expect(minimumViolation(META, dec('0.5'), dec(10))).toBeNull();
  });
});
