import { describe, expect, it } from 'vitest';
import { maxOpenPositions } from './max-open-positions.ts';
import { BTC, ETH, SOL, T0, open, signal, snapshot } from '../../test/fixtures/guards.ts';

const guard = maxOpenPositions.create({ maxGlobal: 3, maxPerPair: 2 });
const sig = signal({ pair: BTC });

describe('MAX_OPEN_POSITIONS', () => {
  it('has the MAX_OPEN_POSITIONS code', () => {
    expect(maxOpenPositions.code).toBe('MAX_OPEN_POSITIONS');
  });

  it('when nothing is open then it allows', () => {
    expect(guard(sig, snapshot({ openPositions: [] }), T0)).toEqual({ verdict: 'allow' });
  });

  describe('global limit', () => {
    it('when one fewer than the global maximum is open then it allows', () => {
      const s = snapshot({ openPositions: [open(ETH, '100'), open(SOL, '100')] });
      expect(guard(sig, s, T0)).toEqual({ verdict: 'allow' });
    });

    it('when exactly the global maximum is open then it blocks', () => {
      const s = snapshot({ openPositions: [open(ETH, '100'), open(SOL, '100'), open('ADA/USD', '100')] });
      expect(guard(sig, s, T0)).toEqual({ verdict: 'block', code: 'MAX_OPEN_POSITIONS', detail: 'global: 3 open ≥ max 3' });
    });

    it('when more than the global maximum is open then it blocks', () => {
      const s = snapshot({ openPositions: [open(ETH, '1'), open(SOL, '1'), open('ADA/USD', '1'), open('DOT/USD', '1')] });
      expect(guard(sig, s, T0)).toMatchObject({ verdict: 'block', detail: 'global: 4 open ≥ max 3' });
    });

    it('when the open slots are entries still working (pending) then they count like positions', () => {
      const s = snapshot({ openPositions: [open(ETH, '100', true), open(SOL, '100', true), open('ADA/USD', '100', true)] });
      expect(guard(sig, s, T0)).toMatchObject({ verdict: 'block', code: 'MAX_OPEN_POSITIONS' });
    });

    it('when both limits are exceeded then the global limit is reported', () => {
      const s = snapshot({ openPositions: [open(BTC, '1', false, 'a'), open(BTC, '1', false, 'b'), open(ETH, '1')] });
      expect(guard(sig, s, T0)).toMatchObject({ verdict: 'block', detail: 'global: 3 open ≥ max 3' });
    });
  });

  describe('per-pair limit', () => {
    it('when one fewer than the per-pair maximum is open on the pair then it allows', () => {
      const s = snapshot({ openPositions: [open(BTC, '100'), open(ETH, '100')] });
      expect(guard(sig, s, T0)).toEqual({ verdict: 'allow' });
    });

    it('when exactly the per-pair maximum is open on the pair then it blocks', () => {
      const s = snapshot({ openPositions: [open(BTC, '100', false, 'a'), open(BTC, '100', true, 'b')] });
      expect(guard(sig, s, T0)).toEqual({ verdict: 'block', code: 'MAX_OPEN_POSITIONS', detail: 'BTC/USD: 2 open ≥ max 2 per pair' });
    });

    it('when the per-pair maximum is reached on another pair then this pair is allowed', () => {
      const s = snapshot({ openPositions: [open(ETH, '100', false, 'a'), open(ETH, '100', false, 'b')] });
      expect(guard(sig, s, T0)).toEqual({ verdict: 'allow' });
      expect(guard(signal({ pair: ETH }), s, T0)).toMatchObject({ verdict: 'block', detail: 'ETH/USD: 2 open ≥ max 2 per pair' });
    });

    it('when the per-pair maximum is 1 and the pair holds one position then it blocks', () => {
      const one = maxOpenPositions.create({ maxGlobal: 10, maxPerPair: 1 });
      expect(one(sig, snapshot({ openPositions: [open(BTC, '100')] }), T0)).toMatchObject({ verdict: 'block', detail: 'BTC/USD: 1 open ≥ max 1 per pair' });
    });
  });
});
