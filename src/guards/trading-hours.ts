/**
 * TRADING_HOURS — the seed's market-hours restriction: new entries only inside the allowed weekly windows
 * and never inside a blackout period, both in wall-clock time of one IANA time zone.
 *
 *   windows    `{ days: ['mon'…'fri'], from: '09:00', to: '17:30' }`; `from` inclusive, `to` exclusive.
 *              `to` before `from` is an overnight window (`22:00`–`02:00`): its `days` are the days it
 *              starts on. `to: '24:00'` runs to midnight. No windows: every hour is allowed.
 *   blackouts  `{ from: '2024-12-24', to: '2024-12-26', reason: 'Christmas' }`: date-only bounds are whole
 *              days (both inclusive); `YYYY-MM-DDTHH:MM` bounds are instants of wall-clock time (`from`
 *              inclusive, `to` exclusive). `to` omitted: the `from` day (or minute) alone.
 *
 * The time is the chain's `now` (the injected clock: candle time in a replay), read in the zone with
 * Intl.DateTimeFormat, so daylight saving is the zone's own rules: the hour skipped in spring never happens,
 * the hour repeated in autumn is inside a window both times. Pure: no clock, no I/O.
 */
import { allow, block, type GuardDefinition } from './types.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TradingWindow {
  readonly days: readonly Weekday[];
  /** HH:MM, inclusive */
  readonly from: string;
  /** HH:MM (or 24:00), exclusive; before `from`: the window runs past midnight into the next day */
  readonly to: string;
}

export interface Blackout {
  /** YYYY-MM-DD (the whole day) or YYYY-MM-DDTHH:MM, wall-clock time of the zone */
  readonly from: string;
  readonly to?: string | undefined;
  readonly reason?: string | undefined;
}

export interface TradingHoursParams {
  /** IANA time zone, e.g. Europe/Berlin, America/New_York, UTC */
  readonly timeZone: string;
  readonly windows: readonly TradingWindow[];
  readonly blackouts: readonly Blackout[];
}

/** Wall-clock time of an instant in a zone. */
export interface LocalTime {
  readonly weekday: Weekday;
  /** YYYY-MM-DD */
  readonly date: string;
  /** minutes since local midnight */
  readonly minute: number;
  /** YYYY-MM-DDTHH:MM */
  readonly stamp: string;
}

const SHORT: Record<string, Weekday> = { Sun: 'sun', Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat' };

/** A reader of wall-clock time in `timeZone` (one formatter, made once). */
export function localTimeIn(timeZone: string): (ms: number) => LocalTime {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
  return (ms) => {
    const p: Record<string, string> = {};
    for (const part of fmt.formatToParts(ms)) p[part.type] = part.value;
    const hour = Number(p.hour) % 24;
    const date = `${p.year}-${p.month}-${p.day}`;
    const hh = String(hour).padStart(2, '0');
    return { weekday: SHORT[p.weekday!]!, date, minute: hour * 60 + Number(p.minute), stamp: `${date}T${hh}:${p.minute}` };
  };
}

export function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function previousDay(d: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7]!;
}

/** Whether the local time is inside the window (overnight windows included). */
export function inWindow(t: LocalTime, w: TradingWindow): boolean {
  const from = minuteOfDay(w.from);
  const to = minuteOfDay(w.to);
  if (from < to) return w.days.includes(t.weekday) && t.minute >= from && t.minute < to;
  // overnight: the evening part on a listed day, the morning part on the day after one
  return (w.days.includes(t.weekday) && t.minute >= from) || (w.days.includes(previousDay(t.weekday)) && t.minute < to);
}

/** Whether the local time is inside the blackout. */
export function inBlackout(t: LocalTime, b: Blackout): boolean {
  const fromStamp = b.from.length === 10 ? `${b.from}T00:00` : b.from;
  if (t.stamp < fromStamp) return false;
  const to = b.to ?? b.from;
  if (to.length === 10) return t.date <= to;
  return b.to === undefined ? t.stamp === to : t.stamp < to;
}

function describeDays(days: readonly Weekday[]): string {
  if (days.length === 7) return 'daily';
  const cap = (d: Weekday) => d[0]!.toUpperCase() + d.slice(1);
  return WEEKDAYS.filter((d) => days.includes(d)).map(cap).join(',');
}

export function describeWindow(w: TradingWindow): string {
  return `${describeDays(w.days)} ${w.from}-${w.to}`;
}

export const tradingHours: GuardDefinition<TradingHoursParams> = {
  code: 'TRADING_HOURS',
  describe: 'no new entry outside the allowed weekly windows or inside a blackout period (wall-clock time of a time zone)',
  create: (p) => {
    const local = localTimeIn(p.timeZone);
    const allowed = p.windows.map(describeWindow).join('; ');
    return (_signal, _s, now) => {
      const t = local(now);
      const at = `${t.weekday[0]!.toUpperCase()}${t.weekday.slice(1)} ${t.stamp.replace('T', ' ')} ${p.timeZone}`;
      const b = p.blackouts.find((x) => inBlackout(t, x));
      if (b) return block('TRADING_HOURS', `blackout ${b.from}${b.to ? `..${b.to}` : ''}${b.reason ? ` (${b.reason})` : ''}: ${at}`);
      if (p.windows.length && !p.windows.some((w) => inWindow(t, w))) return block('TRADING_HOURS', `outside trading hours: ${at} (allowed ${allowed})`);
      return allow;
    };
  },
};
