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

describe('ISO times as the tracker writes them', () => {
  it('parses like Date.parse, and refuses impossible dates', async () => {
    const { parseIso } = await import('./dataset.ts');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) }), (t) => {
        const iso = new Date(t).toISOString();
        expect(parseIso(iso)).toBe(t);
      }),
      { numRuns: 500 },
    );
    expect(Number.isNaN(parseIso('2021-02-30T00:00:00.000Z'))).toBe(true);
    expect(Number.isNaN(parseIso('2021-13-01T00:00:00.000Z'))).toBe(true);
    expect(Number.isNaN(parseIso('2021-01-01T24:00:00.000Z'))).toBe(true);
    expect(parseIso('2020-02-29T12:00:00.000Z')).toBe(Date.UTC(2020, 1, 29, 12));
    expect(parseIso('2020-02-29T12:00:00Z')).toBe(Date.UTC(2020, 1, 29, 12)); // other ISO forms: Date.parse
  });
});
