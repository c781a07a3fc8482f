import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { ExactSum, sumDecimals } from './exact-sum.ts';

describe('exact decimal sums', () => {
  it('adds amounts of different scales and signs exactly', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(sumDecimals(['-12.34', '2.340000001', '10'])).toBe('0.000000001');
    expect(sumDecimals(['-0.5', '0.25'])).toBe('-0.25');
    expect(sumDecimals([])).toBe('0');
    expect(new ExactSum().add('-3').add('3').toString()).toBe('0');
  });

  it('equals decimal.js on random amounts', () => {
    const amount = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 12 })).map(([neg, v, scale]) => {
      const s = v.toString().padStart(scale + 1, '0');
      const str = scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s;
      return neg && v !== 0n ? `-${str}` : str;
    });
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 40 }), (xs) => {
        const expected = xs.reduce((a, x) => a.plus(x), new Dec(0));
        expect(new Dec(sumDecimals(xs)).eq(expected)).toBe(true);
      }),
    );
  });

  it('refuses something that is not a decimal amount', () => {
    expect(() => sumDecimals(['1e5'])).toThrow(/not a decimal amount/);
  });
});
