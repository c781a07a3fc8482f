/**
 * Exact money and quantity math. Every amount that reaches the ledger is a Decimal;
 * floats are for indicators and statistics only (ARCHITECTURE rule 6).
 */
import { Decimal } from 'decimal.js';

/** significant digits of every Dec result */
const PRECISION = 40;
export const Dec = Decimal.clone({ precision: PRECISION, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;

export const ZERO: Dec = new Dec(0);
export const ONE: Dec = new Dec(1);

export function dec(v: Dec | number | string): Dec {
  return v instanceof Dec ? v : new Dec(v);
}

let lastNumber = Number.NaN;
let lastNumberDec: Dec = new Dec(Number.NaN);
/**
 * `new Dec(n)`, the last one remembered (a Dec is immutable): the same close is converted again and again in
 * a row (every position marked at it, every order checked against it). Zero is built fresh (−0 === 0).
 */
export function decOfNumber(n: number): Dec {
  if (n !== lastNumber || n === 0) {
    lastNumberDec = new Dec(n);
    lastNumber = n;
  }
  return lastNumberDec;
}

/** Round toward zero to `places` decimals (quantities: never buy more than sized). */
export function floorTo(v: Dec, places: number): Dec {
  return v.toDecimalPlaces(places, Dec.ROUND_DOWN);
}
/** Round away from zero to `places` decimals (fees: never under-charge). */
export function ceilTo(v: Dec, places: number): Dec {
  return v.toDecimalPlaces(places, Dec.ROUND_UP);
}
/** Round half-even to `places` decimals. */
export function roundTo(v: Dec, places: number): Dec {
  return v.toDecimalPlaces(places, Dec.ROUND_HALF_EVEN);
}
/** Fixed-point string with exactly `places` decimals, the format of every money field in the logs. */
export function fmt(v: Dec, places: number): string {
  return v.toFixed(places, Dec.ROUND_HALF_EVEN);
}
/** |v| as an integer mantissa m and exponent k (|v| = m × 10^k), and m's digit count */
function mantissa(v: Dec): { m: bigint; k: number; digits: number } {
  const s = v.abs().toFixed();
  const dot = s.indexOf('.');
  const int = dot < 0 ? s : s.slice(0, dot) + s.slice(dot + 1);
  const m = BigInt(int);
  return { m, k: dot < 0 ? 0 : dot + 1 - s.length, digits: m.toString().length };
}
const TEN = 10n;

/**
 * `a.div(b).toNumber()`, the same double, about twice as fast: the quotient rounded to the Dec precision
 * (40 significant digits, half-even, with the remainder deciding ties exactly, as Dec's division rounds) in
 * integers, then read as a double. Zero, infinite or NaN operands go through Dec itself.
 */
export function quotientNumber(a: Dec, b: Dec): number {
  if (a.isZero() || b.isZero() || !a.isFinite() || !b.isFinite()) return a.div(b).toNumber();
  const x = mantissa(a);
  const y = mantissa(b);
  // scaled so that the integer quotient has at least precision + 1 digits
  const shift = Math.max(0, PRECISION + 1 - (x.digits - y.digits));
  const num = x.m * TEN ** BigInt(shift);
  const q = num / y.m;
  const cut = q.toString().length - PRECISION;
  const unit = TEN ** BigInt(cut);
  let head = q / unit;
  const tail = q % unit;
  const half = unit / 2n;
  if (tail > half || (tail === half && (num % y.m !== 0n || head % 2n === 1n))) head += 1n;
  const sign = a.isNegative() !== b.isNegative() ? '-' : '';
  return Number(`${sign}${head}e${cut - shift + x.k - y.k}`);
}

const bpsOf = new Map<number, Dec>();
/** 1 basis point = 0.0001. (The few rates a config names are built once: a Dec is immutable.) */
export function bps(n: number): Dec {
  let d = bpsOf.get(n);
  if (d === undefined) {
    if (bpsOf.size >= 256) bpsOf.clear();
    bpsOf.set(n, (d = new Dec(n).div(10_000)));
  }
  return d;
}
