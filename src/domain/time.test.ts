import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, isoTime, MINUTE_MS, utcDayStart } from './time.ts';

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_799_999;

describe('time constants', () => {
  it('when the constants are read then they are a minute, an hour and a day in ms', () => {
    expect(MINUTE_MS).toBe(60_000);
    expect(HOUR_MS).toBe(60 * MINUTE_MS);
    expect(DAY_MS).toBe(24 * HOUR_MS);
  });
});

describe('isoTime', () => {
  it('when the epoch bounds of years 0..9999 are formatted then they match toISOString', () => {
    expect(new Date(MIN_MS).toISOString()).toBe('0000-01-01T00:00:00.000Z');
    expect(new Date(MAX_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(isoTime(MIN_MS)).toBe('0000-01-01T00:00:00.000Z');
    expect(isoTime(MAX_MS)).toBe('9999-12-31T23:59:59.999Z');
  });

  const edges: Array<[string, number]> = [
    ['1970 epoch', 0],
    ['1 ms after the epoch', 1],
    ['1 ms before the epoch', -1],
    ['1969-12-31 start', -DAY_MS],
    ['1970-12-31 last ms', Date.UTC(1971, 0, 1) - 1],
    ['2000-01-01', Date.UTC(2000, 0, 1)],
    ['1999-12-31 last ms', Date.UTC(2000, 0, 1) - 1],
    ['2000-02-29 (leap, divisible by 400)', Date.UTC(2000, 1, 29, 12, 34, 56, 789)],
    ['2000-03-01', Date.UTC(2000, 2, 1)],
    ['2000-12-31 (day 366)', Date.UTC(2000, 11, 31, 23, 59, 59, 999)],
    ['2024-02-29 (leap)', Date.UTC(2024, 1, 29)],
    ['2023-02-28 last ms', Date.UTC(2023, 2, 1) - 1],
    ['2100-01-01', Date.UTC(2100, 0, 1)],
    ['2100-02-28 last ms (2100 is not leap)', Date.UTC(2100, 2, 1) - 1],
    ['2100-03-01', Date.UTC(2100, 2, 1)],
    ['1900-03-01 (1900 not leap)', Date.UTC(1900, 2, 1)],
    ['1600-02-29 (leap)', Date.UTC(1600, 1, 29)],
    ['Kraken first XBTUSD hour 2013-10-06', 1_381_093_200_000],
    ['2038-01-19 (32-bit overflow)', 2_147_483_648_000],
  ];
  it.each(edges)('when the instant is %s then isoTime equals toISOString', (_name, ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('when the epoch is formatted then it is 1970-01-01T00:00:00.000Z', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(-1)).toBe('1969-12-31T23:59:59.999Z');
  });

  it('when any integer ms in years 0..9999 is formatted then isoTime equals Date.prototype.toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => isoTime(ms) === new Date(ms).toISOString()),
      { numRuns: 20_000 },
    );
  });

  it('when ms are in the recent trading range 1970..2100 then isoTime equals toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2100, 11, 31, 23, 59, 59, 999) }), (ms) => isoTime(ms) === new Date(ms).toISOString()),
      { numRuns: 20_000 },
    );
  });

  it('when any date in a leap year around February/March is formatted then isoTime equals toISOString', () => {
    const leapYears = fc.constantFrom(1972, 1996, 2000, 2004, 2020, 2024, 2028, 2096, 2104, 2400);
    fc.assert(
      fc.property(leapYears, fc.integer({ min: 0, max: 3 * DAY_MS - 1 }), (y, off) => {
        const ms = Date.UTC(y, 1, 28) + off;
        return isoTime(ms) === new Date(ms).toISOString();
      }),
      { numRuns: 5_000 },
    );
  });

  it('when any day boundary (±1 ms) is formatted then isoTime equals toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: Math.ceil(MIN_MS / DAY_MS) + 1, max: Math.floor(MAX_MS / DAY_MS) - 1 }), fc.constantFrom(-1, 0, 1), (day, d) => {
        const ms = day * DAY_MS + d;
        return isoTime(ms) === new Date(ms).toISOString();
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('utcDayStart', () => {
  it('when ms is inside a UTC day then the result is that day’s midnight', () => {
    const t = Date.UTC(2024, 1, 29, 13, 45, 12, 345);
    expect(utcDayStart(t)).toBe(Date.UTC(2024, 1, 29));
  });

  it('when ms is exactly midnight then it is its own day start; the ms before belongs to the previous day', () => {
    const mid = Date.UTC(2000, 0, 1);
    expect(utcDayStart(mid)).toBe(mid);
    expect(utcDayStart(mid - 1)).toBe(mid - DAY_MS);
  });

  it('when ms is before 1970 then the day start still rounds down (floor, not truncation)', () => {
    expect(utcDayStart(-1)).toBe(-DAY_MS);
    expect(utcDayStart(-DAY_MS)).toBe(-DAY_MS);
  });

  it('when any ms is given then the day start is ≤ ms, < ms + 1 day, a multiple of a day, and formats as T00:00:00.000Z', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS + DAY_MS, max: MAX_MS }), (ms) => {
        const s = utcDayStart(ms);
        return s <= ms && ms - s < DAY_MS && s % DAY_MS === 0 && isoTime(s).endsWith('T00:00:00.000Z') && isoTime(s).slice(0, 10) === isoTime(ms).slice(0, 10);
      }),
      { numRuns: 5_000 },
    );
  });
});
