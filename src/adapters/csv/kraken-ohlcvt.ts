/**
 * Kraken OHLCVT CSV exports (`unix,open,high,low,close,volume,trades`, no header, hours without trades
 * missing), plain or gzip. The whole file is validated before anything runs, so a bad file changes nothing.
 * A malformed row is an error naming file, line and column, or, with `skipBadRows`, skipped and counted.
 *
 * Precision kept per column (Kraken prints more significant digits than a float holds exactly, e.g. the
 * ETH/USD hourly volume `108678.6963763609`; every such file loads):
 * - `unix`: integer seconds, plain digits only (no sign, fraction or exponent); held as `ts` = unix × 1000 ms,
 *   which must be a safe integer.
 * - `open`, `high`, `low`, `close`: exact decimal. Plain or scientific notation (`5E+1`). Each is held as the
 *   nearest float in its `Float64Array` column, and, when that float is not the printed decimal exactly (more
 *   than 15 significant digits, or a subnormal), the exact decimal string is kept beside it
 *   ({@link CandleSeries.exact}, sparse by row, so ordinary files cost nothing extra). The price
 *   consistency check (low ≤ open, close ≤ high) compares those exact decimals.
 * - `volume`: exact decimal, held the same way as the prices. Kraken writes round volumes in scientific
 *   notation (`1E+1` = 10), so it is accepted here and in the prices.
 * - `trades`: integer, plain digits only, a safe integer.
 *
 * Downstream: strategies and indicators (EMA, RSI, ATR, Donchian), the shadow engine's high/low watermarks
 * and the durable-replay fingerprint read the floats. Money code (fill prices, the volume-share cap of
 * `domain/fill-model.ts`, exits, the simulator's volume and VWAP) builds a `Dec` from the candle. For a
 * value of at most 15 significant digits `new Dec(float)` is the printed decimal exactly; for a longer one
 * the exact string is on `Candle.exact` (`new Dec(candle.exact?.volume ?? candle.volume)`) and via
 * {@link CandleSeries.decimal}. A value no float can stand for (beyond ±1.8e308, or non-zero but rounding
 * to 0) is refused as out of range, since the indicators would see Infinity or 0.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Dec } from '../../domain/money.ts';
import type { Candle, CandleDecimalField } from '../../domain/types.ts';
import { CandleSeries, type BadRow, type ExactDecimals } from '../../domain/candle-series.ts';

export class CsvError extends Error {}

export interface LoadOptions {
  readonly pair: string;
  /** candle interval in ms; inferred from the file name (`XBTUSD_60.csv` → 60 min) or the data when absent */
  readonly intervalMs?: number | undefined;
  readonly skipBadRows?: boolean;
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
}

export { CandleSeries, type BadRow, type ExactDecimals } from '../../domain/candle-series.ts';

/** plain or scientific (Kraken's exports contain e.g. `1E+1` for a volume of 10) */
const FIELDS = ['unix', 'open', 'high', 'low', 'close', 'volume', 'trades'] as const;
const NUM = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;
/** unix and trades: plain digits */
const INT = /^\d+$/;
const DECIMAL_FIELDS: readonly CandleDecimalField[] = ['open', 'high', 'low', 'close', 'volume'];
/** below this a double is subnormal and holds fewer than 15 significant digits */
const MIN_NORMAL = 2.2250738585072014e-308;

/** Significant digits of a plain or scientific decimal string (a float holds 15 exactly). */
function significantDigits(s: string): number {
  let m = s.replace(/[eE].*$/, '');
  if (m.includes('.')) m = m.replace(/0+$/, '');
  const digits = m.replace('.', '').replace(/^0+/, '');
  return digits.length;
}

/** The text denotes a non-zero value (some non-zero digit before the exponent). */
function nonZero(s: string): boolean {
  return /[1-9]/.test(s.replace(/[eE].*$/, ''));
}

/** Interval from Kraken's file naming `PAIR_MINUTES.csv[.gz]`, or null. */
export function intervalFromFileName(file: string): number | null {
  const m = /_(\d+)\.csv(\.gz)?$/i.exec(basename(file));
  return m ? Number(m[1]) * 60_000 : null;
}

export function readCsvText(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new CsvError(`${file}: no such file`);
  }
  if (!st.isFile()) throw new CsvError(`${file}: not a regular file`);
  const raw = readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw).toString('utf8');
    } catch (e) {
      throw new CsvError(`${file}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return raw.toString('utf8');
}

export function loadKrakenOhlcvt(file: string, opts: LoadOptions): CandleSeries {
  const text = readCsvText(file);
  const cols: number[][] = [[], [], [], [], [], [], []];
  const exactRows = new Map<number, ExactDecimals>();
  const bad: BadRow[] = [];
  let prevTs = -Infinity;
  let firstTs: number | null = null;
  let validRows = 0;
  const knownInterval = opts.intervalMs ?? intervalFromFileName(file);
  let lineNo = 0;
  let start = 0;
  const fail = (reason: string) => {
    if (!opts.skipBadRows) throw new CsvError(`${file}:${lineNo}: ${reason}`);
    bad.push({ line: lineNo, reason });
  };
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const f = line.split(',');
    if (f.length !== 7) {
      fail(`expected 7 fields (unix,open,high,low,close,volume,trades), got ${f.length}: "${line.slice(0, 80)}"`);
      continue;
    }
    const cell = f.map((x) => x.trim());
    const badField = cell.findIndex((x) => !NUM.test(x));
    if (badField >= 0) {
      fail(`field ${FIELDS[badField]} is not a non-negative number: "${f[badField]}"`);
      continue;
    }
    if (!INT.test(cell[0]!)) {
      fail(`field unix: unix time is not an integer number of seconds: "${f[0]}"`);
      continue;
    }
    if (!INT.test(cell[6]!)) {
      fail(`field trades: the trade count is not an integer: "${f[6]}"`);
      continue;
    }
    const v = cell.map(Number) as [number, number, number, number, number, number, number];
    const [unix, o, h, l, c, vol, trades] = v;
    const inf = v.findIndex((x, i) => !Number.isFinite(x) || (x === 0 && nonZero(cell[i]!)));
    if (inf >= 0) {
      fail(`field ${FIELDS[inf]} is out of range: "${f[inf]}"`);
      continue;
    }
    if (!Number.isSafeInteger(unix * 1000)) {
      fail(`field unix is out of range: "${f[0]}"`);
      continue;
    }
    if (!Number.isSafeInteger(trades)) {
      fail(`field trades is out of range: "${f[6]}"`);
      continue;
    }
    // exact decimals of the values a float does not hold (rare: > 15 significant digits or subnormal)
    let exact: Partial<Record<CandleDecimalField, string>> | null = null;
    for (let i = 1; i <= 5; i++) {
      const x = v[i]!;
      if (significantDigits(cell[i]!) <= 15 && (x === 0 || x >= MIN_NORMAL)) continue;
      const d = new Dec(cell[i]!);
      if (d.eq(new Dec(x))) continue;
      (exact ??= {})[DECIMAL_FIELDS[i - 1]!] = d.toFixed();
    }
    if (exact !== null && (exact.open ?? exact.high ?? exact.low ?? exact.close) !== undefined) {
      const [dO, dH, dL, dC] = [1, 2, 3, 4].map((i) => new Dec(cell[i]!)) as [Dec, Dec, Dec, Dec];
      if (dH.lt(dL) || dH.lt(dO) || dH.lt(dC) || dL.gt(dO) || dL.gt(dC)) {
        fail(`inconsistent prices: high ${dH.toFixed()}, low ${dL.toFixed()}, open ${dO.toFixed()}, close ${dC.toFixed()}`);
        continue;
      }
    } else if (h < l || h < o || h < c || l > o || l > c) {
      fail(`inconsistent prices: high ${h}, low ${l}, open ${o}, close ${c}`);
      continue;
    }
    if (o <= 0 || c <= 0 || l <= 0) {
      fail(`non-positive price`);
      continue;
    }
    const ts = unix * 1000;
    if (ts <= prevTs) {
      fail(`timestamp ${unix} is not after the previous row's ${prevTs / 1000} (rows must be in time order without duplicates)`);
      continue;
    }
    if (knownInterval !== null && firstTs !== null && (ts - firstTs) % knownInterval !== 0) {
      fail(`timestamp ${unix} is not on the ${knownInterval / 60_000}-minute grid of the file`);
      continue;
    }
    if (firstTs === null) firstTs = ts;
    prevTs = ts;
    validRows++;
    if ((opts.fromMs !== undefined && ts < opts.fromMs) || (opts.toMs !== undefined && ts >= opts.toMs)) continue;
    if (exact !== null) exactRows.set(cols[0]!.length, exact);
    cols[0]!.push(ts); cols[1]!.push(o); cols[2]!.push(h); cols[3]!.push(l); cols[4]!.push(c); cols[5]!.push(vol); cols[6]!.push(trades);
  }
  if (validRows === 0 && bad.length === 0) {
    throw new CsvError(`${file}: no candles in file`);
  }
  let interval = knownInterval;
  if (interval === null) {
    // smallest gap between consecutive rows
    let min = Infinity;
    for (let i = 1; i < cols[0]!.length; i++) min = Math.min(min, cols[0]![i]! - cols[0]![i - 1]!);
    if (!Number.isFinite(min)) throw new CsvError(`${file}: cannot infer the candle interval; name the file PAIR_MINUTES.csv`);
    interval = min;
  }
  const [t, o, h, l, c, vol, tr] = cols.map((a) => Float64Array.from(a)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  if (knownInterval === null) {
    for (let i = 1; i < t.length; i++) {
      if ((t[i]! - t[0]!) % interval !== 0) throw new CsvError(`${file}: row at ${t[i]! / 1000} is not on the inferred ${interval / 60_000}-minute grid`);
    }
  }
  return new CandleSeries(opts.pair, interval, t, o, h, l, c, vol, tr, bad, file, exactRows);
}
