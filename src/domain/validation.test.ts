import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../kraken/pairs.ts';
import type { Signal } from './types.ts';
import { invalidReason } from './validation.ts';

const BTC = krakenMarkets().get('BTC/USD')!;
const NOW = Date.UTC(2024, 0, 1, 12);

const good: Signal = {
  id: 'ema_cross-BTCUSD-1704110400', strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', confidence: 0.7, price: 42000.5,
  reason: 'fast crossed slow', source: 'strategy', tsEvent: NOW, tsInit: NOW,
};
const sig = (o: Partial<Signal>): Signal => ({ ...good, ...o });

describe('invalidReason', () => {
  it('when the signal is valid then there is no reason', () => {
    expect(invalidReason(good, BTC, NOW)).toBeNull();
  });

  it('when confidence is exactly 0 or 1 and the event time equals now then it is still valid (inclusive bounds)', () => {
    expect(invalidReason(sig({ confidence: 0 }), BTC, NOW)).toBeNull();
    expect(invalidReason(sig({ confidence: 1 }), BTC, NOW)).toBeNull();
    expect(invalidReason(sig({ tsEvent: NOW }), BTC, NOW)).toBeNull();
  });

  it('when the id is 128 characters then it is valid; 129 is too long', () => {
    expect(invalidReason(sig({ id: 'x'.repeat(128) }), BTC, NOW)).toBeNull();
    expect(invalidReason(sig({ id: 'x'.repeat(129) }), BTC, NOW)).toBe('signal id missing or longer than 128 characters');
  });

  it('when the id is empty then it is invalid', () => {
    expect(invalidReason(sig({ id: '' }), BTC, NOW)).toBe('signal id missing or longer than 128 characters');
  });

  it('when the strategy is empty then it is invalid', () => {
    expect(invalidReason(sig({ strategy: '' }), BTC, NOW)).toBe('strategy missing');
  });

  it('when the pair has no market metadata then it names the unknown pair', () => {
    expect(invalidReason(sig({ pair: 'FOO/BAR' }), undefined, NOW)).toBe('unknown pair FOO/BAR');
  });

  it('when the market is not online then it says so', () => {
    expect(invalidReason(good, { ...BTC, status: 'cancel_only' }, NOW)).toBe('BTC/USD is cancel_only, not online');
  });

  it('when the side is sell then it is invalid (long-only spot entries)', () => {
    expect(invalidReason(sig({ side: 'sell' }), BTC, NOW)).toMatch(/^side sell: spot entries are long only/);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('when the price is %s then it is not a positive number', (price) => {
    expect(invalidReason(sig({ price }), BTC, NOW)).toBe(`price ${price} is not a positive number`);
  });

  it.each([-0.01, 1.01, Number.NaN, Number.POSITIVE_INFINITY])('when the confidence is %s then it is outside [0, 1]', (confidence) => {
    expect(invalidReason(sig({ confidence }), BTC, NOW)).toBe(`confidence ${confidence} is outside [0, 1]`);
  });

  it('when the event time is after now then it is in the future', () => {
    expect(invalidReason(sig({ tsEvent: NOW + 1 }), BTC, NOW)).toBe(`signal time ${NOW + 1} is in the future (now ${NOW})`);
  });

  it('when several things are wrong then the first check in order is reported (id before pair before side)', () => {
    expect(invalidReason(sig({ id: '', side: 'sell', price: -1 }), undefined, NOW)).toMatch(/^signal id/);
    expect(invalidReason(sig({ side: 'sell', price: -1 }), undefined, NOW)).toMatch(/^unknown pair/);
    expect(invalidReason(sig({ side: 'sell', price: -1 }), BTC, NOW)).toMatch(/^side sell/);
  });
});
