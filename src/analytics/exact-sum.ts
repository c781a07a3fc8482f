/**
 * Exact sums of decimal strings with BigInt fixed point: the reports add hundreds of thousands of
 * amounts, and this is ~10× cheaper than a decimal library while losing nothing. The scale grows to
 * the longest fraction seen.
 */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

const SMALL_LIMIT = 2 ** 52;

/** A decimal string read once: its digits as a number (exact up to 15 digits), fraction length and sign. */
export interface Amount {
  readonly text: string;
  readonly v: number;
  /** digits in all; 0 when the text is not of the simple form (the sum then reads the text itself) */
  readonly digits: number;
  readonly fl: number;
  readonly neg: boolean;
}

/** The amount in one pass, without a regex; `digits` 0 sends anything unusual to the regex path (which rejects what is not a decimal). */
export function amountOf(text: string): Amount {
  const n = text.length;
  const neg = n > 0 && text.charCodeAt(0) === 45;
  let v = 0;
  let digits = 0;
  let frac = -1;
  for (let i = neg ? 1 : 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0 && digits > 0) frac = 0;
    else return { text, v: 0, digits: 0, fl: 0, neg };
  }
  if (frac === 0 || digits > 15) return { text, v: 0, digits: 0, fl: 0, neg };
  return { text, v, digits, fl: frac < 0 ? 0 : frac, neg };
}

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
    return this.addAmount(amountOf(amount));
  }

  /** an amount parsed once (amountOf) and added to several sums */
  addAmount(a: Amount): this {
    if (a.digits === 0 || a.digits + Math.max(0, this.scale - a.fl) > 15) return this.addSlow(a.text);
    if (a.fl > this.scale) {
      this.flush();
      this.units *= 10n ** BigInt(a.fl - this.scale);
      this.scale = a.fl;
    }
    const x = a.v * 10 ** (this.scale - a.fl);
    this.small += a.neg ? -x : x;
    if (this.small > SMALL_LIMIT || this.small < -SMALL_LIMIT) this.flush();
    return this;
  }

  /** another sum added to this one, exactly */
  addSum(o: ExactSum): this {
    o.flush();
    this.flush();
    if (o.scale > this.scale) {
      this.units *= 10n ** BigInt(o.scale - this.scale);
      this.scale = o.scale;
    }
    this.units += o.scale < this.scale ? o.units * 10n ** BigInt(this.scale - o.scale) : o.units;
    return this;
  }

  private addSlow(amount: string): this {
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
