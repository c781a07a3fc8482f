import { describe, expect, it } from 'vitest';
import { bps, ceilTo, dec, Dec, decOfNumber, fmt, floorTo, ONE, quotientNumber, roundTo, ZERO } from './money.ts';

describe('money: exact decimal arithmetic', () => {
  it('when 0.1 and 0.2 are added as Dec then the sum is exactly 0.3 (unlike floats)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    const sum = dec('0.1').plus(dec('0.2'));
    expect(sum.eq(dec('0.3'))).toBe(true);
    expect(sum.toFixed()).toBe('0.3');
  });

  it('when a Dec is built from the float 0.1 then it is the decimal 0.1, not its binary expansion', () => {
    expect(dec(0.1).plus(dec(0.2)).toFixed()).toBe('0.3');
  });

  it('when ten 0.1 are summed then the result is exactly 1', () => {
    let s = ZERO;
    for (let i = 0; i < 10; i++) s = s.plus('0.1');
    expect(s.eq(ONE)).toBe(true);
  });

  it('when quantity × price has 13 significant digits then the product is exact', () => {
    // 12345678 × 654321 = 8078036374638 (integer product), scaled by 10^-9
    expect((12_345_678n * 654_321n).toString()).toBe('8078036374638');
    expect(dec('0.12345678').mul('65432.1').toFixed()).toBe('8078.036374638');
  });

  it('when dec is given a Dec then it returns the same instance; numbers and strings are converted', () => {
    const d = new Dec('1.5');
    expect(dec(d)).toBe(d);
    expect(dec(2).toFixed()).toBe('2');
    expect(dec('3.25')).toBeInstanceOf(Dec);
  });

  it('when ZERO and ONE are read then they are 0 and 1', () => {
    expect(ZERO.isZero()).toBe(true);
    expect(ONE.toNumber()).toBe(1);
  });

  it('when tiny or huge values are printed then toString does not switch to exponent notation in the money range', () => {
    expect(dec('0.00000001').toString()).toBe('0.00000001');
    expect(dec('123456789012345678901234').toString()).toBe('123456789012345678901234');
  });
});

describe('money: rounding helpers', () => {
  it('when floorTo rounds then it goes toward zero (positive and negative)', () => {
    expect(floorTo(dec('1.239'), 2).toFixed()).toBe('1.23');
    expect(floorTo(dec('-1.239'), 2).toFixed()).toBe('-1.23');
    expect(floorTo(dec('0.123456789'), 8).toFixed()).toBe('0.12345678');
    expect(floorTo(dec('5'), 2).toFixed()).toBe('5');
  });

  it('when ceilTo rounds then it goes away from zero (positive and negative)', () => {
    expect(ceilTo(dec('1.231'), 2).toFixed()).toBe('1.24');
    expect(ceilTo(dec('-1.231'), 2).toFixed()).toBe('-1.24');
    expect(ceilTo(dec('1.23'), 2).toFixed()).toBe('1.23');
    expect(ceilTo(dec('0.000000001'), 5).toFixed()).toBe('0.00001');
  });

  it('when roundTo meets a tie then it rounds half to even', () => {
    expect(roundTo(dec('2.345'), 2).toFixed()).toBe('2.34');
    expect(roundTo(dec('2.355'), 2).toFixed()).toBe('2.36');
    expect(roundTo(dec('2.3451'), 2).toFixed()).toBe('2.35');
    expect(roundTo(dec('-2.345'), 2).toFixed()).toBe('-2.34');
    expect(roundTo(dec('0.5'), 0).toFixed()).toBe('0');
    expect(roundTo(dec('1.5'), 0).toFixed()).toBe('2');
  });

  it('when fmt prints then it has exactly the requested decimals, half-even', () => {
    expect(fmt(dec('1'), 3)).toBe('1.000');
    expect(fmt(dec('1.005'), 2)).toBe('1.00');
    expect(fmt(dec('1.015'), 2)).toBe('1.02');
    expect(fmt(dec('-0.5'), 0)).toBe('-0');
    expect(fmt(dec('1234567.891'), 5)).toBe('1234567.89100');
    expect(fmt(dec('0.00000001'), 8)).toBe('0.00000001');
  });

  it('when a rounding helper runs then the input is not mutated', () => {
    const v = dec('1.999');
    floorTo(v, 1);
    ceilTo(v, 1);
    roundTo(v, 1);
    expect(v.toFixed()).toBe('1.999');
  });
});

describe('money: bps', () => {
  it('when n basis points are asked then the fraction is n / 10 000', () => {
    expect(bps(1).toFixed()).toBe('0.0001');
    expect(bps(25).toFixed()).toBe('0.0025');
    expect(bps(10_000).toFixed()).toBe('1');
    expect(bps(0).isZero()).toBe(true);
    expect(bps(2.5).toFixed()).toBe('0.00025');
  });

  it('when bps is applied to a price then the result is exact', () => {
    expect(dec('50000').mul(bps(10).plus(1)).toFixed()).toBe('50050');
  });

  it('when a number is converted through the remembered conversion, twice, then it is new Dec(n) every time, −0 included', () => {
    for (const n of [43123.4, 0.1, -0, 0, -12.5, 1e-7, 123456789012345680000, 5e-324, Number.NaN, 0.30000000000000004]) {
      for (let ask = 0; ask < 2; ask++) {
        const got = decOfNumber(n);
        const want = new Dec(n);
        expect([got.toString(), got.isNegative(), got.toFixed(8)]).toEqual([want.toString(), want.isNegative(), want.toFixed(8)]);
      }
    }
  });

  it('when quotients are read as doubles in integers then each equals Dec\'s division read as a double: random amounts, ties, carries, extremes', () => {
    const pairs: Array<[string, string]> = [
      // 41 significant digits ÷ 2: a tie at the 40th digit, resolved to even both ways; and ÷ 3 (no tie)
      ['12345678901234567890123456789012345678901', '2'], ['12345678901234567890123456789012345678903', '2'], ['12345678901234567890123456789012345678901', '3'],
      // 9999… ÷ 1 rounds up into a carry (41 nines)
      ['99999999999999999999999999999999999999999', '1'], ['-99999999999999999999999999999999999999999', '7'],
      ['1', '3'], ['2', '3'], ['-1', '3'], ['1', '-8'], ['0.00000001', '123456789.12345678'], ['123456789012345678901234567890', '0.0000000001'],
      // just above the midpoint between the doubles 1 and 1 + 2^-52: the exact quotient reads as 1 + 2^-52, its
      // 40-digit rounding (what Dec gives) as 1 — the integer path must round to 40 digits first, as Dec does
      ['1.000000000000000111022302462515654042363166809082031251', '1'], ['3.000000000000000333066907387546962127089500427246093753', '3'],
      ['1e-35', '7'], ['7', '1e-35'], ['5e+300', '3e-300'], ['0', '5'], ['-0', '5'], ['5', '0'], ['0', '0'],
    ];
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const a = ((rnd() - 0.5) * 10 ** Math.floor(rnd() * 9)).toFixed(Math.floor(rnd() * 10));
      const b = (rnd() * 10 ** Math.floor(rnd() * 9) + 0.001).toFixed(Math.floor(rnd() * 10));
      pairs.push([a, b]);
    }
    for (const [a, b] of pairs) {
      const want = new Dec(a).div(new Dec(b)).toNumber();
      expect(Object.is(quotientNumber(new Dec(a), new Dec(b)), want), `${a} ÷ ${b}: ${quotientNumber(new Dec(a), new Dec(b))} vs ${want}`).toBe(true);
    }
  });
});
