import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, guardSpecs, parseConfig } from '../config/schema.ts';
import { GuardChain, type GuardSpec } from './chain.ts';
import { localTimeIn, tradingHours, type TradingHoursParams } from './trading-hours.ts';
import { blockOf, signal, snapshot } from '../../test/fixtures/guards.ts';

/** epoch ms of a UTC wall-clock time, 'YYYY-MM-DDTHH:MM' */
const utc = (s: string) => Date.parse(`${s}:00Z`);
const sig = signal();
const snap = snapshot();
const guardOf = (p: Partial<TradingHoursParams>) => {
  const fn = tradingHours.create({ timeZone: 'UTC', windows: [], blackouts: [], ...p });
  return (t: string) => fn(sig, snap, utc(t));
};
const verdict = (g: (t: string) => { verdict: string }, t: string) => g(t).verdict;
const WEEKDAYS_ONLY = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;

describe('TRADING_HOURS', () => {
  afterEach(() => vi.restoreAllMocks());

  it('has the TRADING_HOURS code', () => {
    expect(tradingHours.code).toBe('TRADING_HOURS');
  });

  it('when neither windows nor blackouts are given then every time is allowed', () => {
    const g = guardOf({});
    for (const t of ['2024-01-13T03:00', '2024-01-15T12:00', '2024-12-25T23:59']) expect(g(t)).toEqual({ verdict: 'allow' });
  });

  describe('a weekday window 09:00-17:30 in Europe/Berlin (CET = UTC+1 in January)', () => {
    const g = guardOf({ timeZone: 'Europe/Berlin', windows: [{ days: [...WEEKDAYS_ONLY], from: '09:00', to: '17:30' }] });

    it('when it is 09:00 Berlin on a Monday (08:00 UTC) then the window has opened (from is inclusive)', () => {
      expect(verdict(g, '2024-01-15T08:00')).toBe('allow');
    });

    it('when it is 08:59 Berlin then it blocks', () => {
      expect(verdict(g, '2024-01-15T07:59')).toBe('block');
    });

    it('when it is 17:29 Berlin then it allows, and at 17:30 the window has closed (to is exclusive)', () => {
      expect(verdict(g, '2024-01-15T16:29')).toBe('allow');
      expect(verdict(g, '2024-01-15T16:30')).toBe('block');
    });

    it('when it is Saturday noon then it blocks, naming the local time, the zone and the allowed windows', () => {
      expect(blockOf(g('2024-01-13T11:00'))?.detail).toBe('outside trading hours: Sat 2024-01-13 12:00 Europe/Berlin (allowed Mon,Tue,Wed,Thu,Fri 09:00-17:30)');
    });

    it('when it is 23:30 UTC on a Friday then it is already Saturday 00:30 in Berlin and it blocks', () => {
      expect(blockOf(g('2024-01-19T23:30'))?.detail).toContain('Sat 2024-01-20 00:30');
    });
  });

  describe('an overnight window 22:00-02:00 starting on Fridays (UTC)', () => {
    const g = guardOf({ windows: [{ days: ['fri'], from: '22:00', to: '02:00' }] });

    it('when it is Friday 23:00 then it allows (the evening part)', () => {
      expect(verdict(g, '2024-01-19T23:00')).toBe('allow');
    });

    it('when it is Saturday 01:59 then it allows (the morning part belongs to the Friday window)', () => {
      expect(verdict(g, '2024-01-20T01:59')).toBe('allow');
    });

    it('when it is Saturday 02:00, Saturday 23:00 or Friday 01:00 then it blocks', () => {
      expect(verdict(g, '2024-01-20T02:00')).toBe('block');
      expect(verdict(g, '2024-01-20T23:00')).toBe('block');
      expect(verdict(g, '2024-01-19T01:00')).toBe('block');
    });
  });

  it('when a window runs to 24:00 then 23:59 is inside and midnight is not', () => {
    const g = guardOf({ windows: [{ days: ['mon'], from: '12:00', to: '24:00' }] });
    expect(verdict(g, '2024-01-15T23:59')).toBe('allow');
    expect(verdict(g, '2024-01-16T00:00')).toBe('block');
  });

  it('when several windows are given then a time inside any of them is allowed', () => {
    const g = guardOf({ windows: [{ days: ['mon'], from: '08:00', to: '10:00' }, { days: ['mon'], from: '14:00', to: '16:00' }] });
    expect(['2024-01-15T09:00', '2024-01-15T12:00', '2024-01-15T15:00'].map((t) => verdict(g, t))).toEqual(['allow', 'block', 'allow']);
  });

  describe('daylight saving transitions', () => {
    it('when Berlin springs forward (2024-03-31) then a 09:00 window opens at 08:00 UTC the day before and at 07:00 UTC that day', () => {
      const g = guardOf({ timeZone: 'Europe/Berlin', windows: [{ days: ['sat', 'sun'], from: '09:00', to: '17:00' }] });
      expect(verdict(g, '2024-03-30T07:30')).toBe('block'); // 08:30 CET
      expect(verdict(g, '2024-03-30T08:00')).toBe('allow'); // 09:00 CET
      expect(verdict(g, '2024-03-31T06:59')).toBe('block'); // 08:59 CEST
      expect(verdict(g, '2024-03-31T07:00')).toBe('allow'); // 09:00 CEST
      expect(verdict(g, '2024-03-31T07:30')).toBe('allow'); // the same UTC time that was blocked the day before
      expect(verdict(g, '2024-03-31T15:00')).toBe('block'); // 17:00 CEST
    });

    it('when Berlin springs forward then the skipped hour 02:00-03:00 never happens: a window of just that hour allows nothing that night', () => {
      const g = guardOf({ timeZone: 'Europe/Berlin', windows: [{ days: ['sat', 'sun'], from: '02:00', to: '03:00' }] });
      expect(verdict(g, '2024-03-30T01:30')).toBe('allow'); // 02:30 CET the night before
      const night = Array.from({ length: 24 * 4 }, (_, i) => utc('2024-03-30T22:00') + i * 15 * 60_000);
      const fn = tradingHours.create({ timeZone: 'Europe/Berlin', windows: [{ days: ['sat', 'sun'], from: '02:00', to: '03:00' }], blackouts: [] });
      expect(night.filter((ms) => fn(sig, snap, ms).verdict === 'allow')).toEqual([]);
    });

    it('when Berlin falls back (2024-10-27) then the repeated hour 02:00-03:00 is inside the window both times', () => {
      const g = guardOf({ timeZone: 'Europe/Berlin', windows: [{ days: ['sun'], from: '02:00', to: '03:00' }] });
      expect(verdict(g, '2024-10-26T23:59')).toBe('block'); // 01:59 CEST
      expect(verdict(g, '2024-10-27T00:30')).toBe('allow'); // 02:30 CEST
      expect(verdict(g, '2024-10-27T01:30')).toBe('allow'); // 02:30 CET, an hour later
      expect(verdict(g, '2024-10-27T02:00')).toBe('block'); // 03:00 CET
    });

    it('when New York springs forward (2024-03-10) then the NYSE window 09:30-16:00 moves from 14:30-21:00 UTC to 13:30-20:00 UTC', () => {
      const g = guardOf({ timeZone: 'America/New_York', windows: [{ days: [...WEEKDAYS_ONLY], from: '09:30', to: '16:00' }] });
      expect(['2024-03-08T14:00', '2024-03-08T14:30', '2024-03-08T20:30', '2024-03-08T21:00'].map((t) => verdict(g, t))).toEqual(['block', 'allow', 'allow', 'block']);
      expect(['2024-03-11T13:29', '2024-03-11T13:30', '2024-03-11T19:59', '2024-03-11T20:00', '2024-03-11T20:30'].map((t) => verdict(g, t))).toEqual(['block', 'allow', 'allow', 'block', 'block']);
    });

    it('when New York falls back (2024-11-03) then Monday opens at 14:30 UTC again', () => {
      const g = guardOf({ timeZone: 'America/New_York', windows: [{ days: [...WEEKDAYS_ONLY], from: '09:30', to: '16:00' }] });
      expect(verdict(g, '2024-11-01T13:30')).toBe('allow'); // Friday 09:30 EDT
      expect(verdict(g, '2024-11-04T13:30')).toBe('block'); // Monday 08:30 EST
      expect(verdict(g, '2024-11-04T14:30')).toBe('allow'); // Monday 09:30 EST
    });

    it('when the wall clock is read in the zone then the weekday, date and minute follow the offset of the day', () => {
      const local = localTimeIn('Europe/Berlin');
      expect(local(utc('2024-03-31T00:59'))).toEqual({ weekday: 'sun', date: '2024-03-31', minute: 119, stamp: '2024-03-31T01:59' });
      expect(local(utc('2024-03-31T01:00'))).toEqual({ weekday: 'sun', date: '2024-03-31', minute: 180, stamp: '2024-03-31T03:00' });
    });
  });

  describe('blackouts', () => {
    it('when a blackout is given as dates then both days are whole local days (inclusive), in the zone', () => {
      const g = guardOf({ timeZone: 'Europe/Berlin', blackouts: [{ from: '2024-12-24', to: '2024-12-26', reason: 'Christmas' }] });
      expect(verdict(g, '2024-12-23T22:59')).toBe('allow'); // 23:59 on the 23rd in Berlin
      expect(verdict(g, '2024-12-23T23:00')).toBe('block'); // 00:00 on the 24th
      expect(verdict(g, '2024-12-26T22:59')).toBe('block'); // 23:59 on the 26th
      expect(verdict(g, '2024-12-26T23:00')).toBe('allow'); // the 27th
    });

    it('when a blackout blocks then the detail names the period, its reason and the local time', () => {
      const g = guardOf({ timeZone: 'Europe/Berlin', blackouts: [{ from: '2024-12-24', to: '2024-12-26', reason: 'Christmas' }] });
      expect(blockOf(g('2024-12-25T09:00'))?.detail).toBe('blackout 2024-12-24..2024-12-26 (Christmas): Wed 2024-12-25 10:00 Europe/Berlin');
    });

    it('when a blackout has only a from date then it is that one day', () => {
      const g = guardOf({ blackouts: [{ from: '2024-07-04' }] });
      expect(['2024-07-03T23:59', '2024-07-04T00:00', '2024-07-04T23:59', '2024-07-05T00:00'].map((t) => verdict(g, t))).toEqual(['allow', 'block', 'block', 'allow']);
    });

    it('when a blackout has times then from is inclusive and to exclusive (an FOMC announcement, 14:00-15:30 New York)', () => {
      const g = guardOf({ timeZone: 'America/New_York', blackouts: [{ from: '2024-03-20T14:00', to: '2024-03-20T15:30', reason: 'FOMC' }] });
      expect(['2024-03-20T17:59', '2024-03-20T18:00', '2024-03-20T19:29', '2024-03-20T19:30'].map((t) => verdict(g, t))).toEqual(['allow', 'block', 'block', 'allow']);
    });

    it('when a blackout falls inside an allowed window then the blackout wins', () => {
      const g = guardOf({ windows: [{ days: [...WEEKDAYS_ONLY], from: '00:00', to: '24:00' }], blackouts: [{ from: '2024-01-15T12:00', to: '2024-01-15T13:00' }] });
      expect(['2024-01-15T11:00', '2024-01-15T12:30', '2024-01-15T13:00'].map((t) => verdict(g, t))).toEqual(['allow', 'block', 'allow']);
    });
  });

  it('when the system clock is something else entirely then the verdict follows only the time it is given (pure)', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('a guard read the system clock');
    });
    const g = guardOf({ timeZone: 'Asia/Tokyo', windows: [{ days: ['mon'], from: '09:00', to: '15:00' }] });
    expect(verdict(g, '2024-01-15T00:00')).toBe('allow'); // 09:00 JST
    expect(verdict(g, '2024-01-15T06:00')).toBe('block'); // 15:00 JST
    expect(g('2024-01-15T00:00')).toEqual(g('2024-01-15T00:00'));
  });

  describe('config', () => {
    it('when the config leaves TRADING_HOURS out then it is not in the chain (the default chain is unchanged)', () => {
      const specs = guardSpecs(parseConfig({}));
      expect(specs.map((s) => s.code)).not.toContain('TRADING_HOURS');
      expect(Object.keys(parseConfig({}).guards)).not.toContain('TRADING_HOURS');
    });

    it('when TRADING_HOURS is given without a mode then it observes, in UTC, listed last in the chain', () => {
      const c = parseConfig({ guards: { TRADING_HOURS: { windows: [{ from: '09:00', to: '17:00' }] } } });
      const specs = guardSpecs(c);
      expect(specs[specs.length - 1]).toEqual({ code: 'TRADING_HOURS', mode: 'observe', params: { timeZone: 'UTC', windows: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '09:00', to: '17:00' }], blackouts: [] } });
    });

    it('when it enforces in a chain then an entry outside the hours is blocked by TRADING_HOURS', () => {
      const c = parseConfig({ guards: { TRADING_HOURS: { mode: 'enforce', windows: [{ days: ['mon'], from: '09:00', to: '17:00' }] } } });
      const chain = new GuardChain(guardSpecs(c).filter((s) => s.code === 'TRADING_HOURS') as unknown as GuardSpec[]);
      const d = chain.evaluate(sig, snap, utc('2024-01-15T18:00'));
      expect(d).toMatchObject({ decision: 'blocked', blockedBy: ['TRADING_HOURS'] });
      expect(chain.evaluate(sig, snap, utc('2024-01-15T10:00')).decision).toBe('approved');
    });

    it.each([
      [{ timeZone: 'Mars/Olympus' }, 'guards.TRADING_HOURS.timeZone'],
      [{ windows: [{ from: '9:00', to: '17:00' }] }, 'guards.TRADING_HOURS.windows.0.from'],
      [{ windows: [{ from: '09:00', to: '24:30' }] }, 'guards.TRADING_HOURS.windows.0.to'],
      [{ windows: [{ from: '09:00', to: '09:00' }] }, 'guards.TRADING_HOURS.windows.0'],
      [{ windows: [{ days: ['monday'], from: '09:00', to: '10:00' }] }, 'guards.TRADING_HOURS.windows.0.days.0'],
      [{ blackouts: [{ from: '2024-12-26', to: '2024-12-24' }] }, 'guards.TRADING_HOURS.blackouts.0'],
      [{ blackouts: [{ from: '2024-13-01' }] }, 'guards.TRADING_HOURS.blackouts.0.from'],
      [{ hours: [] }, 'guards.TRADING_HOURS'],
    ])('when the section is %j then the config is refused naming %s', (section, field) => {
      expect(() => parseConfig({ guards: { TRADING_HOURS: section } })).toThrow(ConfigError);
      expect(() => parseConfig({ guards: { TRADING_HOURS: section } })).toThrow(`config: ${field}:`);
    });
  });
});
