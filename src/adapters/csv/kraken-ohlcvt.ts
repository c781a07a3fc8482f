/**
 * Kraken OHLCVT CSV exports (`unix,open,high,low,close,volume,trades`, no header, hours without trades
 * missing), plain or gzip. The whole file is validated before anything runs, so a bad file changes nothing.
 * A malformed row is an error naming file and line, or, with `skipBadRows`, skipped and counted.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Candle } from '../../domain/types.ts';
import type { MarketDataFeed } from '../../ports/feed.ts';

export class CsvError extends Error {}

export interface LoadOptions {
  readonly pair: string;
  /** candle interval in ms; inferred from the file name (`XBTUSD_60.csv` → 60 min) or the data when absent */
  readonly intervalMs?: number | undefined;
  readonly skipBadRows?: boolean;
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
}

export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

/** Candles in columnar typed arrays: ~56 bytes a candle, so multi-million-row files fit. */
export class CandleSeries implements MarketDataFeed {
  constructor(
    readonly pair: string,
    readonly intervalMs: number,
    readonly ts: Float64Array,
    readonly open: Float64Array,
    readonly high: Float64Array,
    readonly low: Float64Array,
    readonly close: Float64Array,
    readonly volume: Float64Array,
    readonly trades: Float64Array,
    readonly badRows: readonly BadRow[],
    readonly source: string,
  ) {}

  get length(): number {
    return this.ts.length;
  }

  at(i: number): Candle {
    return {
      pair: this.pair, intervalMs: this.intervalMs, ts: this.ts[i]!, open: this.open[i]!, high: this.high[i]!,
      low: this.low[i]!, close: this.close[i]!, volume: this.volume[i]!, trades: this.trades[i]!,
    };
  }

  *candles(): Iterable<Candle> {
    for (let i = 0; i < this.ts.length; i++) yield this.at(i);
  }
}

/** plain or scientific (Kraken's exports contain e.g. `1E+1` for a volume of 10) */
const FIELDS = ['unix', 'open', 'high', 'low', 'close', 'volume', 'trades'];
const NUM = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Significant digits of a plain decimal string (a float holds 15 exactly). */
function significantDigits(s: string): number {
  let m = s.replace(/[eE].*$/, '');
  if (m.includes('.')) m = m.replace(/0+$/, '');
  const digits = m.replace('.', '').replace(/^0+/, '');
  return digits.length;
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
    const badField = f.findIndex((v) => !NUM.test(v.trim()));
    if (badField >= 0) {
      fail(`field ${FIELDS[badField]} is not a non-negative number: "${f[badField]}"`);
      continue;
    }
    const tooPrecise = f.findIndex((v) => significantDigits(v.trim()) > 15);
    if (tooPrecise >= 0) {
      fail(`field ${FIELDS[tooPrecise]} has more than 15 significant digits and cannot be held exactly: "${f[tooPrecise]}"`);
      continue;
    }
    const v = f.map(Number) as [number, number, number, number, number, number, number];
    const [unix, o, h, l, c, vol, trades] = v;
    const inf = v.findIndex((x) => !Number.isFinite(x));
    if (inf >= 0) {
      fail(`field ${FIELDS[inf]} is out of range: "${f[inf]}"`);
      continue;
    }
    if (!Number.isInteger(unix)) {
      fail(`unix time is not an integer: "${f[0]}"`);
      continue;
    }
    if (h < l || h < o || h < c || l > o || l > c) {
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
  return new CandleSeries(opts.pair, interval, t, o, h, l, c, vol, tr, bad, file);
}
