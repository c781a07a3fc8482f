import { describe, expect, it } from 'vitest';
import { minConfidence } from './min-confidence.ts';
import { T0, signal, snapshot } from '../../test/fixtures/guards.ts';

const guard = minConfidence.create({ min: 0.5 });
const s = snapshot();

describe('MIN_CONFIDENCE', () => {
  it('has the MIN_CONFIDENCE code', () => {
    expect(minConfidence.code).toBe('MIN_CONFIDENCE');
  });

  it('when the confidence is above the minimum then it allows', () => {
    expect(guard(signal({ confidence: 0.9 }), s, T0)).toEqual({ verdict: 'allow' });
  });

  it('when the confidence equals the minimum exactly then it allows', () => {
    expect(guard(signal({ confidence: 0.5 }), s, T0)).toEqual({ verdict: 'allow' });
  });

  it('when the confidence is just below the minimum then it blocks and reports both values', () => {
    expect(guard(signal({ confidence: 0.49 }), s, T0)).toEqual({ verdict: 'block', code: 'MIN_CONFIDENCE', detail: 'confidence 0.490 < 0.5' });
  });

  it('when the confidence is 0 then it blocks', () => {
    expect(guard(signal({ confidence: 0 }), s, T0)).toMatchObject({ verdict: 'block', code: 'MIN_CONFIDENCE' });
  });

  it('when the minimum is 0 then even a zero-confidence signal is allowed', () => {
    expect(minConfidence.create({ min: 0 })(signal({ confidence: 0 }), s, T0)).toEqual({ verdict: 'allow' });
  });

  it('when the minimum is 1 then only full confidence passes', () => {
    const strict = minConfidence.create({ min: 1 });
    expect(strict(signal({ confidence: 0.999 }), s, T0)).toMatchObject({ verdict: 'block', detail: 'confidence 0.999 < 1' });
    expect(strict(signal({ confidence: 1 }), s, T0)).toEqual({ verdict: 'allow' });
  });
});
