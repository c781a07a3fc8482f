/**
 * Pure time helpers. Reading the current time is the clock adapter's job; here we only format
 * and do calendar arithmetic on epoch milliseconds (UTC), without touching `Date`.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

function pad(n: number, w: number): string {
  const s = String(n);
  return s.length >= w ? s : '0'.repeat(w - s.length) + s;
}

/** Days since 1970-01-01 → civil date (H. Hinnant's algorithm). */
function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? y + 1 : y, m, d];
}

/** ISO 8601 UTC with milliseconds, identical to `Date.prototype.toISOString` for years 0..9999. */
export function isoTime(ms0: number): string {
  if (!Number.isFinite(ms0)) throw new RangeError(`isoTime: ${ms0} is not a time`);
  const ms = Math.floor(ms0);
  const days = Math.floor(ms / DAY_MS);
  let rem = ms - days * DAY_MS;
  const [y, m, d] = civilFromDays(days);
  const h = Math.floor(rem / HOUR_MS);
  rem -= h * HOUR_MS;
  const mi = Math.floor(rem / MINUTE_MS);
  rem -= mi * MINUTE_MS;
  const s = Math.floor(rem / 1000);
  const milli = rem - s * 1000;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(milli, 3)}Z`;
}

/** Start of the UTC day containing `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
