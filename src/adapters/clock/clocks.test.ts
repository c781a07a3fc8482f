import { describe, expect, it } from 'vitest';
import { ScaledClock } from './clocks.ts';

function fakeElapsed(): { at: () => number; move: (ms: number) => void } {
  let t = 1_000;
  return { at: () => t, move: (ms) => (t += ms) };
}

describe('ScaledClock', () => {
  it('runs speed times as fast as real time from its origin, and reads whole milliseconds', () => {
    const e = fakeElapsed();
    const c = new ScaledClock(Date.UTC(2019, 0, 1), 3_600, e.at);
    expect(c.now()).toBe(Date.UTC(2019, 0, 1));
    e.move(1_000);
    expect(c.now()).toBe(Date.UTC(2019, 0, 1, 1));
    e.move(0.25);
    expect(c.now()).toBe(Date.UTC(2019, 0, 1, 1) + 900);
  });

  it('keeps its reading continuous when the speed changes, stands still at 0, and says how long until a time', () => {
    const e = fakeElapsed();
    const c = new ScaledClock(0, 10, e.at);
    e.move(100);
    c.setSpeed(0);
    expect(c.now()).toBe(1_000);
    e.move(5_000);
    expect(c.now()).toBe(1_000);
    expect(c.realMsUntil(2_000)).toBe(Infinity);
    expect(c.realMsUntil(500)).toBe(0);
    c.setSpeed(100);
    expect(c.realMsUntil(2_000)).toBe(10);
    e.move(10);
    expect(c.now()).toBe(2_000);
  });

  it('refuses a negative or non-finite speed and a non-finite origin', () => {
    expect(() => new ScaledClock(0, -1)).toThrow(/speed must be a number >= 0, got -1/);
    expect(() => new ScaledClock(0, Number.NaN)).toThrow(/speed/);
    expect(() => new ScaledClock(Number.POSITIVE_INFINITY, 1)).toThrow(/origin must be a time/);
    expect(() => new ScaledClock(0, 1).setSpeed(-2)).toThrow(/got -2/);
  });
});
