import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { exposureLimit } from './exposure-limit.ts';
import { BTC, ETH, T0, open, signal, snapshot } from '../../test/fixtures/guards.ts';

// equity 10 000, new order costs 1 000
const total = exposureLimit.create({ maxTotalPct: 0.6, maxPairPct: null }); // cap 6 000
const perPair = exposureLimit.create({ maxTotalPct: 0.6, maxPairPct: 0.2 }); // pair cap 2 000
const sig = signal({ pair: BTC });

describe('EXPOSURE_LIMIT', () => {
  it('has the EXPOSURE_LIMIT code', () => {
    expect(exposureLimit.code).toBe('EXPOSURE_LIMIT');
  });

  it('when nothing is open and the order fits then it allows', () => {
    expect(total(sig, snapshot({ openPositions: [] }), T0)).toEqual({ verdict: 'allow' });
  });

  describe('total exposure', () => {
    it('when open value plus the order reaches the cap exactly then it allows', () => {
      expect(total(sig, snapshot({ openPositions: [open(ETH, '3000'), open(BTC, '2000')] }), T0)).toEqual({ verdict: 'allow' });
    });

    it('when open value plus the order exceeds the cap by 1 cent then it blocks', () => {
      expect(total(sig, snapshot({ openPositions: [open(ETH, '3000'), open(BTC, '2000.01')] }), T0)).toEqual({
        verdict: 'block',
        code: 'EXPOSURE_LIMIT',
        detail: 'exposure 6000.01 would exceed 60.0% of equity (6000.00)',
      });
    });

    it('when the reserved cost of working entries is included then they push the exposure over the cap', () => {
      expect(total(sig, snapshot({ openPositions: [open(ETH, '5000', true, 'w1'), open(BTC, '1', true, 'w2')] }), T0)).toMatchObject({ verdict: 'block' });
    });

    it('when the order alone is larger than the cap then it blocks', () => {
      const s = snapshot({ proposal: { quantity: new Dec('0.2'), price: new Dec('50000'), cost: new Dec('10000') } });
      expect(total(sig, s, T0)).toMatchObject({ verdict: 'block', detail: 'exposure 10000.00 would exceed 60.0% of equity (6000.00)' });
    });

    it('when equity is zero then it blocks whatever the exposure', () => {
      expect(total(sig, snapshot({ equity: new Dec('0') }), T0)).toEqual({ verdict: 'block', code: 'EXPOSURE_LIMIT', detail: 'equity 0.00 ≤ 0' });
    });

    it('when equity is negative then it blocks', () => {
      expect(total(sig, snapshot({ equity: new Dec('-5') }), T0)).toMatchObject({ verdict: 'block', detail: 'equity -5.00 ≤ 0' });
    });
  });

  describe('per-pair exposure', () => {
    it('when the pair’s open value plus the order reaches the pair cap exactly then it allows', () => {
      expect(perPair(sig, snapshot({ openPositions: [open(BTC, '1000')] }), T0)).toEqual({ verdict: 'allow' });
    });

    it('when the pair’s open value plus the order exceeds the pair cap then it blocks', () => {
      expect(perPair(sig, snapshot({ openPositions: [open(BTC, '1000.01')] }), T0)).toEqual({
        verdict: 'block',
        code: 'EXPOSURE_LIMIT',
        detail: 'BTC/USD exposure 2000.01 would exceed 20.0% of equity (2000.00)',
      });
    });

    it('when the large positions are on another pair then they count towards the total but not the pair cap', () => {
      expect(perPair(sig, snapshot({ openPositions: [open(ETH, '3000')] }), T0)).toEqual({ verdict: 'allow' });
      expect(perPair(signal({ pair: ETH }), snapshot({ openPositions: [open(ETH, '3000')] }), T0)).toMatchObject({ verdict: 'block', detail: 'ETH/USD exposure 4000.00 would exceed 20.0% of equity (2000.00)' });
    });

    it('when both caps are exceeded then the total cap is reported', () => {
      expect(perPair(sig, snapshot({ openPositions: [open(BTC, '5500')] }), T0)).toMatchObject({ verdict: 'block', detail: 'exposure 6500.00 would exceed 60.0% of equity (6000.00)' });
    });

    it('when no pair cap is configured then a single pair may take the whole total cap', () => {
      expect(total(sig, snapshot({ openPositions: [open(BTC, '5000')] }), T0)).toEqual({ verdict: 'allow' });
    });
  });
});
