/**
 * The price chart's data from a logs directory: a price line (the candle closes when the dashboard was given
 * the candle file, else every price the bot logged: signals received and fills) and three kinds of marker:
 * entries and exits of closed trades (`trade.closed` in signal_bus.jsonl) and blocked signals (the decision
 * says blocked; the price is the signal's). One pass over the two files, reading only the lines that matter.
 * Prices are floats here: they are drawn, never added up.
 */
import { Decimal } from 'decimal.js';
import { LOG_FILES } from '../ports/decision-log.ts';
import { logSource } from '../engine/reporting.ts';

export interface Marker {
  readonly ts: number;
  readonly price: number;
}

export interface ChartData {
  readonly pair: string | null;
  /** [ms, price], ascending, one point per time */
  readonly prices: Array<[number, number]>;
  readonly entries: Marker[];
  readonly exits: Marker[];
  readonly blocked: Marker[];
  /** realized PnL per UTC exit day: exact sums of the closed trades' net `pnl` */
  readonly daily: Array<{ day: string; trades: number; pnl: string }>;
  /** markers left out past the cap (newest kept) */
  readonly omitted: number;
}

export interface ChartFilter {
  /** runs to include; null: every run */
  readonly runs: ReadonlySet<string> | null;
  readonly since?: number | null;
  readonly until?: number | null;
  readonly strategy?: string;
  readonly pair?: string;
  /** the runs' span: candles outside it are not drawn */
  readonly span?: { readonly from: number | null; readonly to: number | null };
}

/** the lines of a log (its rotated segments, then the live file), split across chunks, decoded only when `wanted` says so */
function* linesOf(dir: string, file: string, wanted: (line: Buffer) => boolean): Generator<string> {
  const src = logSource(dir, file);
  if (!src.exists) return;
  let rest: Buffer | null = null;
  for (const chunk of src.chunks()) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : Buffer.from(chunk);
    let start = 0;
    for (let i = buf.indexOf(10, start); i >= 0; i = buf.indexOf(10, start)) {
      const line = buf.subarray(start, i);
      if (wanted(line)) yield line.toString('utf8');
      start = i + 1;
    }
    rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }
  if (rest && wanted(rest)) yield rest.toString('utf8');
}

function parse(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The first string value of `"name":"…"` in a JSON line, for a top-level field that no nested object of the
 * line has (true of the decision lines' ts, runId, strategy, pair, price: a guard verdict has code, mode,
 * verdict, detail; a quote inside a string value is escaped, so it never starts a match); undefined when absent.
 */
function flat(line: string, name: string): string | undefined {
  const key = `"${name}":"`;
  const i = line.indexOf(key);
  if (i < 0) return undefined;
  const j = line.indexOf('"', i + key.length);
  return j < 0 ? undefined : line.slice(i + key.length, j);
}

/**
 * At most about `max` points of a time series for drawing: per bucket its lowest and highest point, in time order
 * (so peaks and troughs, and a drawdown's depth, survive), and the last point.
 */
export function thin(xs: ReadonlyArray<readonly [number, number]>, max: number): Array<[number, number]> {
  if (xs.length <= max) return xs.map(([t, v]) => [t, v]);
  const k = Math.ceil((2 * xs.length) / max);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < xs.length; i += k) {
    let lo = i;
    let hi = i;
    for (let j = i; j < Math.min(xs.length, i + k); j++) {
      if (xs[j]![1] < xs[lo]![1]) lo = j;
      if (xs[j]![1] > xs[hi]![1]) hi = j;
    }
    for (const j of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) out.push([xs[j]![0], xs[j]![1]]);
  }
  const last = xs[xs.length - 1]!;
  if (out[out.length - 1]![0] !== last[0]) out.push([last[0], last[1]]);
  return out;
}

/** The newest `max` markers by time, trimmed as they come (memory stays O(max)). */
class Newest {
  private xs: Marker[] = [];
  dropped = 0;
  constructor(private readonly max: number) {}
  add(m: Marker): void {
    this.xs.push(m);
    if (this.xs.length >= 2 * this.max) this.trim();
  }
  private trim(): void {
    this.xs.sort((a, b) => a.ts - b.ts);
    const over = Math.max(0, this.xs.length - this.max);
    this.dropped += over;
    this.xs = this.xs.slice(over);
  }
  list(): Marker[] {
    this.trim();
    return this.xs;
  }
}

export function chartDataOf(dir: string, f: ChartFilter, candles: ReadonlyArray<readonly [number, number]> | null = null, maxMarkers = 1000, maxPoints = 2000): ChartData {
  const inRun = (o: Record<string, unknown>) => f.runs === null || (typeof o.runId === 'string' && f.runs.has(o.runId));
  const inTime = (t: number) => (f.since == null || t >= f.since) && (f.until == null || t < f.until);
  const who = (o: Record<string, unknown>) => (!f.strategy || o.strategy === f.strategy) && (!f.pair || o.pair === f.pair);
  // bounded memory over any log size: markers kept as the newest `maxMarkers` of each kind, prices as two columns
  const entries = new Newest(maxMarkers);
  const exits = new Newest(maxMarkers);
  const blocked = new Newest(maxMarkers);
  const ts: number[] = [];
  const px: number[] = [];
  const point = (t: number, price: number) => {
    if (candles || !Number.isFinite(price) || !inTime(t)) return;
    if (ts.length && ts[ts.length - 1] === t) px[px.length - 1] = price;
    else {
      ts.push(t);
      px.push(price);
    }
  };
  const daily = new Map<string, { trades: number; pnl: Decimal }>();
  let pair: string | null = f.pair ?? null;
  const wantBus = (l: Buffer) => l.includes('"signal.received"') || l.includes('"trade.closed"') || l.includes('"event":"fill"') || l.includes('"run.started"');
  for (const line of linesOf(dir, LOG_FILES.bus, wantBus)) {
    const o = parse(line);
    if (!o || !inRun(o)) continue;
    if (o.event === 'run.started') {
      if (!pair && typeof o.pair === 'string') pair = o.pair;
      continue;
    }
    if (f.pair && o.pair !== f.pair) continue;
    if (o.event === 'signal.received' || o.event === 'fill') point(Date.parse(String(o.ts)), Number(o.price));
    else if (o.event === 'trade.closed' && who(o)) {
      const entryTs = Date.parse(String(o.entryTs));
      const exitTs = Date.parse(String(o.exitTs));
      if (inTime(entryTs)) entries.add({ ts: entryTs, price: Number(o.entryPrice) });
      if (inTime(exitTs)) {
        exits.add({ ts: exitTs, price: Number(o.exitPrice) });
        const day = new Date(exitTs).toISOString().slice(0, 10);
        const d = daily.get(day) ?? { trades: 0, pnl: new Decimal(0) };
        const pnl = typeof o.pnl === 'string' && /^-?\d+(\.\d+)?$/.test(o.pnl) ? o.pnl : '0';
        daily.set(day, { trades: d.trades + 1, pnl: d.pnl.plus(pnl) });
      }
    }
  }
  // a decision carries the signal's price; its top-level fields are read without parsing the guards array
  // (a line of 12 verdicts is ~1.5 KB: JSON.parse of a million of them is most of the scan)
  for (const line of linesOf(dir, LOG_FILES.decisions, (l) => l.includes('"decision":"blocked"'))) {
    const o = { runId: flat(line, 'runId'), strategy: flat(line, 'strategy'), pair: flat(line, 'pair') };
    if (!inRun(o) || !who(o)) continue;
    const t = Date.parse(String(flat(line, 'ts')));
    const price = Number(flat(line, 'price'));
    if (inTime(t) && Number.isFinite(price)) blocked.add({ ts: t, price });
  }
  const prices: Array<[number, number]> = candles
    ? candles.filter(([t]) => inTime(t) && (f.span?.from == null || t >= f.span.from) && (f.span?.to == null || t <= f.span.to)).map(([t, p]) => [t, p])
    : ts.map((t, i) => [t, px[i]!] as [number, number]).sort((a, b) => a[0] - b[0]);
  const omitted = entries.dropped + exits.dropped + blocked.dropped;
  const kept = { entries: entries.list(), exits: exits.list(), blocked: blocked.list() };
  // every marker sits on a point of the line (the chart places a marker on a time of its series)
  const line = new Map(thin(prices, maxPoints));
  for (const m of [...kept.entries, ...kept.exits, ...kept.blocked]) if (!line.has(m.ts)) line.set(m.ts, m.price);
  const days = [...daily].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([day, d]) => ({ day, trades: d.trades, pnl: d.pnl.toFixed() }));
  return { pair, prices: [...line].sort((a, b) => a[0] - b[0]), ...kept, daily: days, omitted };
}
