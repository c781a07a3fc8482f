import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../kraken/pairs.ts';
import { dec } from './money.ts';
import { sizeOrder } from './sizing.ts';

const BTC = krakenMarkets().get('BTC/USD')!;

describe('sizeOrder', () => {
  it('when fixed_quote then quantity = amount / price rounded down to lot decimals, cost = quantity × price', () => {
    const s = sizeOrder({ mode: 'fixed_quote', amount: '100' }, BTC, dec('30000'), dec('1000000'));
    // 100 / 30000 = 0.003333… → 0.00333333
    expect(s.quantity.toFixed()).toBe('0.00333333');
    expect(s.cost.toFixed()).toBe('99.9999');
    expect(s.cost.lte(100)).toBe(true);
  });

  it('when fixed_quote then equity does not matter', () => {
    const a = sizeOrder({ mode: 'fixed_quote', amount: '250' }, BTC, dec('50000'), dec('10'));
    const b = sizeOrder({ mode: 'fixed_quote', amount: '250' }, BTC, dec('50000'), dec('1e9'));
    expect(a.quantity.toFixed()).toBe('0.005');
    expect(b.quantity.eq(a.quantity)).toBe(true);
  });

  it('when equity_fraction then quantity = equity × fraction / price, rounded down', () => {
    const s = sizeOrder({ mode: 'equity_fraction', fraction: 0.1 }, BTC, dec('70000'), dec('10000'));
    // 1000 / 70000 = 0.0142857142… → 0.01428571
    expect(s.quantity.toFixed()).toBe('0.01428571');
    expect(s.cost.toFixed()).toBe('999.9997');
  });

  it('when equity_fraction is 1 then the cost never exceeds equity', () => {
    const s = sizeOrder({ mode: 'equity_fraction', fraction: 1 }, BTC, dec('33333.3'), dec('1234.56'));
    expect(s.cost.lte('1234.56')).toBe(true);
    expect(s.quantity.decimalPlaces()).toBeLessThanOrEqual(8);
  });

  it('when the price is zero then the quantity and cost are zero (no division by zero)', () => {
    const s = sizeOrder({ mode: 'fixed_quote', amount: '100' }, BTC, dec(0), dec(1000));
    expect(s.quantity.isZero()).toBe(true);
    expect(s.cost.isZero()).toBe(true);
  });

  it('when the price is negative then nothing is sized', () => {
    expect(sizeOrder({ mode: 'fixed_quote', amount: '100' }, BTC, dec(-1), dec(1000)).quantity.isZero()).toBe(true);
  });

  it('when the quote to spend is zero or negative then nothing is sized', () => {
    expect(sizeOrder({ mode: 'equity_fraction', fraction: 0.5 }, BTC, dec(50000), dec(0)).quantity.isZero()).toBe(true);
    expect(sizeOrder({ mode: 'equity_fraction', fraction: 0.5 }, BTC, dec(50000), dec(-100)).quantity.isZero()).toBe(true);
    expect(sizeOrder({ mode: 'fixed_quote', amount: '0' }, BTC, dec(50000), dec(100)).quantity.isZero()).toBe(true);
  });

  it('when the amount is below one lot unit at this price then the quantity rounds down to zero', () => {
    expect(sizeOrder({ mode: 'fixed_quote', amount: '0.0001' }, BTC, dec(50000), dec(100)).quantity.isZero()).toBe(true);
  });
});
