import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { minOrderSize } from './min-order-size.ts';
import { ETH, T0, meta, signal, snapshot } from '../../test/fixtures/guards.ts';

// Kraken BTC/USD facts in the fixture: ordermin 0.0001 BTC, costmin 0.5 USD, 8 lot decimals, 5 cost decimals
const guard = minOrderSize.create({});
const sig = signal();
const order = (quantity: string, price: string) =>
  snapshot({ proposal: { quantity: new Dec(quantity), price: new Dec(price), cost: new Dec(quantity).mul(price) } });

describe('MIN_ORDER_SIZE', () => {
  it('has the MIN_ORDER_SIZE code', () => {
    expect(minOrderSize.code).toBe('MIN_ORDER_SIZE');
  });

  it('when the order is well above both minimums then it allows', () => {
    expect(guard(sig, order('0.02', '50000'), T0)).toEqual({ verdict: 'allow' });
  });

  it('when the quantity rounded to 0 then it blocks', () => {
    expect(guard(sig, order('0', '50000'), T0)).toEqual({ verdict: 'block', code: 'MIN_ORDER_SIZE', detail: 'BTC/USD: quantity rounds to 0 at 8 lot decimals' });
  });

  describe('ordermin', () => {
    it('when the quantity equals ordermin exactly then it allows', () => {
      expect(guard(sig, order('0.0001', '50000'), T0)).toEqual({ verdict: 'allow' });
    });

    it('when the quantity is one lot below ordermin then it blocks', () => {
      expect(guard(sig, order('0.00009999', '50000'), T0)).toEqual({
        verdict: 'block',
        code: 'MIN_ORDER_SIZE',
        detail: 'BTC/USD: quantity 0.00009999 < ordermin 0.0001 BTC',
      });
    });
  });

  describe('costmin', () => {
    it('when quantity × price equals costmin exactly then it allows', () => {
      expect(guard(sig, order('0.0001', '5000'), T0)).toEqual({ verdict: 'allow' });
    });

    it('when quantity × price is below costmin then it blocks', () => {
      expect(guard(sig, order('0.0001', '4999.9'), T0)).toEqual({
        verdict: 'block',
        code: 'MIN_ORDER_SIZE',
        detail: 'BTC/USD: cost 0.49999 < costmin 0.5 USD',
      });
    });
  });

  it('when the minimums come from the snapshot’s market facts then another pair’s facts apply', () => {
    const ethMeta = meta({ pair: ETH, base: 'ETH', orderMin: new Dec('0.002'), costMin: new Dec('0.5') });
    const s = snapshot({ meta: ethMeta, proposal: { quantity: new Dec('0.001'), price: new Dec('3000'), cost: new Dec('3') } });
    expect(guard(signal({ pair: ETH }), s, T0)).toMatchObject({ verdict: 'block', detail: 'ETH/USD: quantity 0.001 < ordermin 0.002 ETH' });
  });
});
