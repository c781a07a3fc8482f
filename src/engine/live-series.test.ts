import { describe, expect, it } from 'vitest';
import { LiveSeries } from './compose.ts';
import type { Candle } from '../domain/types.ts';

const candle = (ts: number) => ({ ts, pair: 'BTC/USD' }) as unknown as Candle;

describe('LiveSeries', () => {
  it('when a live feed runs for long then only a bounded window of candles is held, at() answers for recent indexes, and times of all are kept', () => {
    const s = new LiveSeries('BTC/USD', 60_000, 'live:test', 10);
    for (let i = 0; i < 1_000; i++) expect(s.push(candle(i * 60_000))).toBe(i);
    expect(s.length).toBe(1_000);
    expect(s.held).toBeLessThanOrEqual(20);
    expect(s.at(999).ts).toBe(999 * 60_000);
    expect(s.at(990).ts).toBe(990 * 60_000);
    expect(s.ts[0]).toBe(0);
    expect(s.ts[999]).toBe(999 * 60_000);
    expect(() => s.at(5)).toThrow(/live candle 5 is not held/);
  });

  it('refuses a candle that does not follow the last one', () => {
    const s = new LiveSeries('BTC/USD', 60_000, 'live:test');
    s.push(candle(60_000));
    expect(() => s.push(candle(60_000))).toThrow(/does not follow/);
  });
});
