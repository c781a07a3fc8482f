import { describe, expect, it } from 'vitest';
import { volatility } from './volatility.ts';
import { ETH, T0, signal, snapshot } from '../../test/fixtures/guards.ts';

const both = volatility.create({ maxAtrPct: 0.03, minAtrPct: 0.005 });
const sig = signal();
const withVol = (v: number | null) => snapshot({ volatility: v });

describe('VOLATILITY', () => {
  it('has the VOLATILITY code', () => {
    expect(volatility.code).toBe('VOLATILITY');
  });

  it('when ATR/price is inside the band then it allows', () => {
    expect(both(sig, withVol(0.02), T0)).toEqual({ verdict: 'allow' });
  });

  it('when the indicator is still warming up (null) then there is nothing to judge by and it allows', () => {
    expect(both(sig, withVol(null), T0)).toEqual({ verdict: 'allow' });
  });

  describe('upper bound', () => {
    it('when ATR/price equals the maximum exactly then it allows', () => {
      expect(both(sig, withVol(0.03), T0)).toEqual({ verdict: 'allow' });
    });

    it('when ATR/price is above the maximum then it blocks and names the pair', () => {
      expect(both(signal({ pair: ETH }), withVol(0.0301), T0)).toEqual({ verdict: 'block', code: 'VOLATILITY', detail: 'ETH/USD ATR 3.01% of price > max 3.00%' });
    });
  });

  describe('lower bound', () => {
    it('when ATR/price equals the minimum exactly then it allows', () => {
      expect(both(sig, withVol(0.005), T0)).toEqual({ verdict: 'allow' });
    });

    it('when ATR/price is below the minimum then it blocks (market too dead)', () => {
      expect(both(sig, withVol(0.0049), T0)).toEqual({ verdict: 'block', code: 'VOLATILITY', detail: 'BTC/USD ATR 0.49% of price < min 0.50%' });
    });

    it('when ATR/price is 0 then it is below the minimum and blocks', () => {
      expect(both(sig, withVol(0), T0)).toMatchObject({ verdict: 'block', code: 'VOLATILITY' });
    });
  });

  it('when only a maximum is configured then a dead market is allowed', () => {
    const maxOnly = volatility.create({ maxAtrPct: 0.03, minAtrPct: null });
    expect(maxOnly(sig, withVol(0), T0)).toEqual({ verdict: 'allow' });
    expect(maxOnly(sig, withVol(0.05), T0)).toMatchObject({ verdict: 'block' });
  });

  it('when only a minimum is configured then a wild market is allowed', () => {
    const minOnly = volatility.create({ maxAtrPct: null, minAtrPct: 0.005 });
    expect(minOnly(sig, withVol(0.5), T0)).toEqual({ verdict: 'allow' });
    expect(minOnly(sig, withVol(0.001), T0)).toMatchObject({ verdict: 'block' });
  });

  it('when neither bound is configured then it always allows', () => {
    const none = volatility.create({ maxAtrPct: null, minAtrPct: null });
    expect(none(sig, withVol(0), T0)).toEqual({ verdict: 'allow' });
    expect(none(sig, withVol(10), T0)).toEqual({ verdict: 'allow' });
  });
});
