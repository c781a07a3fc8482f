/**
 * The price chart's data from a logs directory: a price line (the candle closes when the dashboard was given
 * the candle file, else every price the bot logged: signals received and fills) and three kinds of marker:
 * entries and exits of closed trades (`trade.closed` in signal_bus.jsonl) and blocked signals (the decision
 * says blocked; the price is the signal's), plus the realized PnL per exit day.
 *
 * `ChartIndex` reads the two logs once into typed columns of what the chart needs (times, prices, run,
 * strategy and pair as interned ids, the trade's PnL as an interned amount) and then reads only what the logs
 * gained since (by their logical size: rotation keeps it; a log cut or replaced is read again). A filter is
 * answered by one scan of the columns, never of the logs: at 1,000,000 decisions the logs are ~1.4 GB, the
 * columns ~40 MB.
 *
 * What goes to the browser is bounded: the line at most `maxPoints` points (each bucket's low and high), the
 * markers the newest `maxMarkers` of the filter (all three kinds together, by time; the rest counted in
 * `omitted`). When some are left out the chart opens on the stretch the kept markers cover (`markersFrom` on),
 * where the line keeps most of its points.
 *
 * Prices are floats here: they are drawn, never added up. The daily PnL is an exact sum.
 */
import { basename } from 'node:path';
import { logFiles, logSource } from '../engine/reporting.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { parseIso } from '../analytics/dataset.ts';
import { amountOf, ExactSum, type Amount } from '../analytics/exact-sum.ts';

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
  /** realized PnL per UTC exit day, the newest `maxDays` days with exits: exact sums of the closed trades' net `pnl` */
  readonly daily: Array<{ day: string; trades: number; pnl: string }>;
  /** days with exits in all (`daily` holds the newest of them) */
  readonly days: number;
  /** markers of the filter left out past the cap (the newest kept) */
  readonly omitted: number;
  /** when some were left out: the time of the oldest marker kept (the chart opens from there); else null */
  readonly markersFrom: number | null;
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

/**
 * The indices of at most about `max` points of a time series for drawing: per bucket its lowest and highest
 * point, in time order (so peaks and troughs, and a drawdown's depth, survive), and the last point.
 */
function thinIndices(n: number, time: (i: number) => number, value: (i: number) => number, max: number): number[] {
  const out: number[] = [];
  if (n <= max) {
    for (let i = 0; i < n; i++) out.push(i);
    return out;
  }
  const k = Math.ceil((2 * n) / max);
  for (let i = 0; i < n; i += k) {
    let lo = i;
    let hi = i;
    for (let j = i; j < Math.min(n, i + k); j++) {
      if (value(j) < value(lo)) lo = j;
      if (value(j) > value(hi)) hi = j;
    }
    if (lo === hi) out.push(lo);
    else if (lo < hi) out.push(lo, hi);
    else out.push(hi, lo);
  }
  if (time(out[out.length - 1]!) !== time(n - 1)) out.push(n - 1);
  return out;
}

/** At most about `max` points of a time series for drawing (see thinIndices). */
export function thin(xs: ReadonlyArray<readonly [number, number]>, max: number): Array<[number, number]> {
  return thinIndices(xs.length, (i) => xs[i]![0], (i) => xs[i]![1], max).map((i) => [xs[i]![0], xs[i]![1]]);
}

// ── columns ─────────────────────────────────────────────────────────────────────────────────────────

/** Rows of numbers in growable typed columns: times and prices as doubles, ids (`ints`) as Int32 (cheap to index by). */
class Table<K extends string> {
  n = 0;
  /** rows read from an unfinished last line, dropped before the log is read on */
  tentative = 0;
  c: Record<K, Float64Array | Int32Array>;
  constructor(private readonly names: readonly K[], private readonly ints: ReadonlySet<string>) {
    this.c = this.alloc(1024);
  }
  private alloc(cap: number): Record<K, Float64Array | Int32Array> {
    const c = {} as Record<K, Float64Array | Int32Array>;
    for (const k of this.names) {
      c[k] = this.ints.has(k) ? new Int32Array(cap) : new Float64Array(cap);
      if (this.c) c[k].set(this.c[k].subarray(0, this.n));
    }
    return c;
  }
  /** a new row's index */
  add(): number {
    if (this.n === this.c[this.names[0]!].length) this.c = this.alloc(this.n * 2);
    return this.n++;
  }
  clear(): void {
    this.n = 0;
    this.tentative = 0;
    this.c = this.alloc(1024);
  }
}

const DAY_MS = 86_400_000;
/** the columns holding ids (interned names, amounts) */
const IDS: ReadonlySet<string> = new Set(['run', 'pair', 'strategy', 'pnl']);
const NL = 10;
const CLOSE = 125; // '}': a whole JSON line ends with it; a torn one (crash mid-write) almost never does
const CHUNK = 8 * 1024 * 1024;

/** the `"name":"` keys the chart reads from a decision line (and a bus line's event) */
const KEY = Object.fromEntries(['ts', 'event', 'runId', 'strategy', 'pair', 'price', 'entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'pnl'].map((k) => [k, `"${k}":"`])) as Record<string, string>;
const BLOCKED = Buffer.from('"decision":"blocked"');
const EVENTS = { 'run.started': 1, 'signal.received': 2, fill: 2, 'trade.closed': 3 } as const;
const DEC = /^-?\d+(\.\d+)?$/;

/**
 * The string value of a top-level `"name":"…"` of one JSON line, found in the line's bytes read as latin1 (one
 * byte a character, so offsets are byte offsets) without parsing it: a decision line of 12 guard verdicts is
 * ~1.5 KB. True of the fields read here: each is in the line once, no nested object of these lines has it, and
 * a quote inside a string value is escaped, so it never starts a match. `back` searches from the line's end:
 * for the fields after a decision's guard verdicts (price, runId). What is kept is decoded from the bytes
 * (UTF-8, and a string of its own rather than a slice holding the whole line).
 */
class Fields {
  readonly s: string;
  constructor(private readonly buf: Buffer, private readonly ls: number, le: number) {
    this.s = buf.toString('latin1', ls, le);
  }
  /** [start, end) of the value, or null */
  value(key: string, back = false): [number, number] | null {
    const at = back ? this.s.lastIndexOf(key) : this.s.indexOf(key);
    if (at < 0) return null;
    const e = this.s.indexOf('"', at + key.length);
    return e < 0 ? null : [at + key.length, e];
  }
  /** the value's text, decoded from its bytes */
  decoded(v: [number, number]): string {
    return this.buf.toString('utf8', this.ls + v[0], this.ls + v[1]);
  }
  /** the value's latin1 text as a string of its own (a slice would keep the whole line alive) */
  own(v: [number, number]): string {
    return this.buf.toString('latin1', this.ls + v[0], this.ls + v[1]);
  }
  text(key: string): string | undefined {
    const v = this.value(key);
    return v ? this.decoded(v) : undefined;
  }
  num(key: string, back = false): number {
    const v = this.value(key, back);
    return v ? Number(this.s.slice(v[0], v[1])) : NaN;
  }
  /** an ISO time, NaN when absent */
  time(key: string): number {
    const v = this.value(key);
    return v ? parseIso(this.s.slice(v[0], v[1])) : NaN;
  }
}

/** the end of the line starting at or containing `at`: its newline, or `end` */
function lineEnd(b: Buffer, at: number, end: number): number {
  const nl = b.indexOf(NL, at);
  return nl < 0 || nl > end ? end : nl;
}

/** whether b[ls, le) looks like a whole JSON object (it ends with '}', trailing blanks aside) */
function wholeLine(b: Buffer, ls: number, le: number): boolean {
  let e = le;
  while (e > ls && (b[e - 1] === 13 || b[e - 1] === 32)) e--;
  return e > ls && b[e - 1] === CLOSE;
}

/** Strings as small integers: run ids, strategies, pairs. */
class Names {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  /** by the value's latin1 text (what a line holds), and the last one seen per key: most lines repeat the run, pair and strategy */
  private readonly raw = new Map<string, number>();
  private readonly last = new Map<string, { raw: string; id: number }>();
  /** the id of a field's value in a line; -1 when absent */
  of(f: Fields, key: string, back = false): number {
    const v = f.value(key, back);
    if (!v) return -1;
    const raw = f.s.slice(v[0], v[1]);
    const seen = this.last.get(key);
    if (seen && seen.raw === raw) return seen.id;
    let id = this.raw.get(raw);
    if (id === undefined) {
      id = this.idOf(f.decoded(v));
      this.raw.set(f.own(v), id);
    }
    this.last.set(key, { raw, id });
    return id;
  }
  /** the id of a name (a new one for a name not seen before); -1 for none */
  idOf(name: string | undefined): number {
    if (name === undefined) return -1;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(name);
      this.ids.set(name, id);
    }
    return id;
  }
  /** the id of a name already seen; -2 (matches no row) when never seen */
  find(s: string): number {
    return this.ids.get(s) ?? -2;
  }
}

/**
 * How far a log has been read: its logical offset (always a line start), and its first bytes and the bytes
 * before the offset, to tell a log that grew (or was rotated: the same bytes) from one cut or replaced (or
 * whose oldest segment was deleted: the offsets moved).
 */
interface Cursor {
  offset: number;
  head: Buffer;
  probe: Buffer;
  /** the oldest file when it is a gzipped segment (never rewritten, so its head need not be unpacked again) */
  oldestGz: string | null;
}
const PROBE = 64;

/**
 * The chart's columns of one logs directory, kept up to date with the logs (see the top of the file).
 * Not thread-safe, not shared between directories.
 */
export class ChartIndex {
  private readonly names = new Names();
  /** run.started: run id, pair id */
  private readonly runs = new Table(['run', 'pair'] as const, IDS);
  /** signal.received and fill: the logged prices */
  private readonly points = new Table(['ts', 'price', 'run', 'pair'] as const, IDS);
  private readonly trades = new Table(['entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'pnl', 'run', 'strategy', 'pair'] as const, IDS);
  private readonly blocked = new Table(['ts', 'price', 'run', 'strategy', 'pair'] as const, IDS);
  /** the trades' PnL amounts, interned (an id in trades.pnl) */
  private readonly amounts: Amount[] = [];
  private readonly amountIds = new Map<string, number>();
  private readonly cursors: Record<'bus' | 'decisions', Cursor> = { bus: this.cursor(), decisions: this.cursor() };

  constructor(readonly dir: string) {}

  private cursor(): Cursor {
    return { offset: 0, head: Buffer.alloc(0), probe: Buffer.alloc(0), oldestGz: null };
  }

  /** Reads what the logs gained since the last call (everything the first time). */
  update(): void {
    this.follow('bus', [this.runs, this.points, this.trades], (f) => this.busLine(f));
    this.follow('decisions', [this.blocked], (f) => this.decisionLine(f));
  }

  private follow(which: 'bus' | 'decisions', tables: ReadonlyArray<Table<string>>, line: (f: Fields) => void): void {
    const src = logSource(this.dir, LOG_FILES[which]);
    const cur = this.cursors[which];
    for (const t of tables) {
      t.n -= t.tentative;
      t.tentative = 0;
    }
    const size = src.exists && src.size ? src.size() : 0;
    const oldest = logFiles(this.dir, LOG_FILES[which])[0];
    const oldestGz = oldest?.endsWith('.gz') ? basename(oldest) : null;
    const head = oldestGz !== null && oldestGz === cur.oldestGz ? cur.head : size > 0 ? Buffer.from(src.read!(0, Math.min(PROBE, size))) : Buffer.alloc(0);
    // read again from the start when the log is shorter than what was read, or its first bytes or those before the offset changed
    const same = (a: Buffer, b: Buffer) => a.subarray(0, b.length).equals(b.subarray(0, a.length));
    if (size < cur.offset || !same(head, cur.head) || (cur.offset > 0 && !src.read!(cur.offset - cur.probe.length, cur.probe.length).equals(cur.probe))) {
      for (const t of tables) t.clear();
      cur.offset = 0;
    }
    if (cur.offset === 0 || head.length > cur.head.length) cur.head = head;
    cur.oldestGz = oldestGz;
    let piece = CHUNK;
    while (cur.offset < size) {
      const buf = src.read!(cur.offset, Math.min(piece, size - cur.offset));
      if (buf.length === 0) break; // shrank while being read: the next update reads it again
      const atEnd = cur.offset + buf.length >= size;
      const lastNl = buf.lastIndexOf(NL);
      if (lastNl < 0 && !atEnd) {
        piece *= 2; // a line longer than the piece
        continue;
      }
      const whole = lastNl + 1;
      this.lines(buf, 0, whole, which, line);
      if (atEnd && whole < buf.length) {
        // an unfinished last line: taken if it is whole JSON, and dropped again before the next read
        const before = tables.map((t) => t.n);
        this.lines(buf, whole, buf.length, which, line);
        tables.forEach((t, i) => (t.tentative = t.n - before[i]!));
      }
      cur.offset += whole;
      if (whole > 0) cur.probe = Buffer.from(buf.subarray(Math.max(0, whole - PROBE), whole));
      if (atEnd) break;
      piece = CHUNK;
    }
  }

  /** the lines of buf[start, end) that matter: every bus line's event is looked at; only blocked decision lines are */
  private lines(b: Buffer, start: number, end: number, which: 'bus' | 'decisions', line: (f: Fields) => void): void {
    if (which === 'decisions') {
      for (let at = b.indexOf(BLOCKED, start); at >= 0 && at < end; ) {
        const ls = Math.max(start, b.lastIndexOf(NL, at) + 1);
        const le = lineEnd(b, at, end);
        if (wholeLine(b, ls, le)) line(new Fields(b, ls, le));
        at = b.indexOf(BLOCKED, le);
      }
      return;
    }
    for (let ls = start; ls < end; ) {
      const le = lineEnd(b, ls, end);
      if (wholeLine(b, ls, le)) line(new Fields(b, ls, le));
      ls = le + 1;
    }
  }

  /** a bus line of one of the four events the chart reads, parsed (these lines are short; a torn one is skipped) */
  private busLine(f: Fields): void {
    const ev = f.value(KEY.event!);
    const kind = ev ? EVENTS[f.s.slice(ev[0], ev[1]) as keyof typeof EVENTS] : undefined;
    if (kind === undefined) return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(f.decoded([0, f.s.length])) as Record<string, unknown>;
    } catch {
      return;
    }
    if (!o || typeof o !== 'object' || EVENTS[o.event as keyof typeof EVENTS] !== kind) return;
    const id = (v: unknown) => this.names.idOf(typeof v === 'string' ? v : undefined);
    const run = id(o.runId);
    const pair = id(o.pair);
    if (kind === 1) {
      const i = this.runs.add();
      this.runs.c.run[i] = run;
      this.runs.c.pair[i] = pair;
    } else if (kind === 2) {
      const ts = Date.parse(String(o.ts));
      const price = Number(o.price);
      if (Number.isNaN(ts) || !Number.isFinite(price)) return;
      const t = this.points;
      const i = t.add();
      t.c.ts[i] = ts;
      t.c.price[i] = price;
      t.c.run[i] = run;
      t.c.pair[i] = pair;
    } else {
      const t = this.trades;
      const i = t.add();
      t.c.entryTs[i] = Date.parse(String(o.entryTs));
      t.c.entryPrice[i] = Number(o.entryPrice);
      t.c.exitTs[i] = Date.parse(String(o.exitTs));
      t.c.exitPrice[i] = Number(o.exitPrice);
      t.c.pnl[i] = this.amountId(typeof o.pnl === 'string' && DEC.test(o.pnl) ? o.pnl : '0');
      t.c.run[i] = run;
      t.c.strategy[i] = id(o.strategy);
      t.c.pair[i] = pair;
    }
  }

  private decisionLine(f: Fields): void {
    const ts = f.time(KEY.ts!);
    const price = f.num(KEY.price!, true);
    if (Number.isNaN(ts) || !Number.isFinite(price)) return;
    const t = this.blocked;
    const i = t.add();
    t.c.ts[i] = ts;
    t.c.price[i] = price;
    t.c.run[i] = this.names.of(f, KEY.runId!, true);
    t.c.strategy[i] = this.names.of(f, KEY.strategy!);
    t.c.pair[i] = this.names.of(f, KEY.pair!);
  }

  private amountId(text: string): number {
    let id = this.amountIds.get(text);
    if (id === undefined) {
      id = this.amounts.length;
      this.amounts.push(amountOf(text));
      this.amountIds.set(text, id);
    }
    return id;
  }

  /** scratch columns of one query's markers, reused (grown as the logs grow) */
  private scratch = { ts: new Float64Array(0), px: new Float64Array(0), kind: new Uint8Array(0), rows: new Int32Array(0) };

  /** The chart of one filter from the columns (call `update` first to see the logs' latest lines). */
  chart(f: ChartFilter, candles: ReadonlyArray<readonly [number, number]> | null = null, maxMarkers = 3000, maxPoints = 2000, maxDays = Infinity): ChartData {
    const names = this.names;
    // the filter as ids: a run outside the set, or a strategy or pair never logged, matches no row (-2); -3: no such filter
    const runOk = new Uint8Array(names.list.length + 1); // the last slot: rows without a run id (-1)
    names.list.forEach((s, id) => (runOk[id] = f.runs === null || f.runs.has(s) ? 1 : 0));
    runOk[names.list.length] = f.runs === null ? 1 : 0;
    const none = names.list.length;
    const strategy = f.strategy ? names.find(f.strategy) : -3;
    const pairId = f.pair ? names.find(f.pair) : -3;
    const lo = f.since ?? -Infinity;
    const hi = f.until ?? Infinity;

    let pair: string | null = f.pair ?? null;
    for (let i = 0; i < this.runs.n && pair === null; i++) {
      const p = this.runs.c.run[i]!;
      if (runOk[p < 0 ? none : p] && this.runs.c.pair[i]! >= 0) pair = names.list[this.runs.c.pair[i]!]!;
    }

    // markers: every one of the filter (kind 0 entry, 1 exit, 2 blocked), then the newest maxMarkers of them
    // (columns in locals: the loops below run over every row of the logs)
    const { run: tRun, strategy: tStrategy, pair: tPair, entryTs: tEntryTs, entryPrice: tEntryPx, exitTs: tExitTs, exitPrice: tExitPx, pnl: tPnl } = this.trades.c;
    const { run: bRun, strategy: bStrategy, pair: bPair, ts: bTs, price: bPx } = this.blocked.c;
    const cap = 2 * this.trades.n + this.blocked.n;
    if (this.scratch.ts.length < cap) this.scratch = { ts: new Float64Array(cap), px: new Float64Array(cap), kind: new Uint8Array(cap), rows: this.scratch.rows };
    const { ts: mTs, px: mPx, kind: mKind } = this.scratch;
    let m = 0;
    // the rows of the filter's trades that exited in its dates: their days and (for the days shown only) PnL below
    if (this.scratch.rows.length < this.trades.n) this.scratch.rows = new Int32Array(this.trades.n);
    const { rows: tradeRows } = this.scratch;
    let nTrades = 0;
    for (let i = 0; i < this.trades.n; i++) {
      const r = tRun[i]!;
      if (!runOk[r < 0 ? none : r] || (strategy !== -3 && tStrategy[i] !== strategy) || (pairId !== -3 && tPair[i] !== pairId)) continue;
      const entryTs = tEntryTs[i]!;
      if (entryTs >= lo && entryTs < hi && Number.isFinite(tEntryPx[i]!)) {
        mTs[m] = entryTs;
        mPx[m] = tEntryPx[i]!;
        mKind[m++] = 0;
      }
      const exitTs = tExitTs[i]!;
      if (!(exitTs >= lo && exitTs < hi)) continue;
      if (Number.isFinite(tExitPx[i]!)) {
        mTs[m] = exitTs;
        mPx[m] = tExitPx[i]!;
        mKind[m++] = 1;
      }
      tradeRows[nTrades++] = i;
    }
    for (let i = 0; i < this.blocked.n; i++) {
      const r = bRun[i]!;
      const t = bTs[i]!;
      if (!runOk[r < 0 ? none : r] || (strategy !== -3 && bStrategy[i] !== strategy) || (pairId !== -3 && bPair[i] !== pairId) || !(t >= lo && t < hi)) continue;
      mTs[m] = t;
      mPx[m] = bPx[i]!;
      mKind[m++] = 2;
    }
    const cutoff = m > maxMarkers ? kthLargest(mTs, m, maxMarkers) : -Infinity;
    let above = 0;
    for (let i = 0; i < m; i++) if (mTs[i]! > cutoff) above++;
    let atCutoff = maxMarkers - above; // markers at the cutoff time itself that still fit
    const kept: Marker[][] = [[], [], []];
    for (let i = 0; i < m; i++) {
      const t = mTs[i]!;
      if (t < cutoff || (t === cutoff && atCutoff-- <= 0)) continue;
      kept[mKind[i]!]!.push({ ts: t, price: mPx[i]! });
    }
    for (const k of kept) k.sort((a, b) => a.ts - b.ts);
    const omitted = m - kept[0]!.length - kept[1]!.length - kept[2]!.length;
    const markersFrom = omitted > 0 ? cutoff : null;

    // the line: [ms, price] ascending (the logged prices: one per time, the last logged of a time)
    let line: Array<readonly [number, number]>;
    if (candles) {
      line = candles.filter(([t]) => t >= lo && t < hi && (f.span?.from == null || t >= f.span.from) && (f.span?.to == null || t <= f.span.to));
    } else {
      const P = this.points.c;
      const pts: Array<[number, number]> = [];
      for (let i = 0; i < this.points.n; i++) {
        const t = P.ts[i]!;
        const r = P.run[i]!;
        if (!runOk[r < 0 ? none : r] || (pairId !== -3 && P.pair[i] !== pairId) || !(t >= lo && t < hi)) continue;
        if (pts.length && pts[pts.length - 1]![0] === t) pts[pts.length - 1]![1] = P.price[i]!;
        else pts.push([t, P.price[i]!]);
      }
      line = pts.sort((a, b) => a[0] - b[0]);
    }
    // with markers left out the chart opens on the kept markers' stretch: the line keeps most of its points there
    let drawn: Array<[number, number]>;
    if (markersFrom === null) drawn = thin(line, maxPoints);
    else {
      const split = line.findIndex(([t]) => t >= markersFrom);
      const cut = split < 0 ? line.length : split;
      drawn = [...thin(line.slice(0, cut), Math.floor(maxPoints / 4)), ...thin(line.slice(cut), maxPoints - Math.floor(maxPoints / 4))];
    }
    // every marker sits on a point of the line (the chart places a marker on a time of its series)
    const onLine = new Map(drawn);
    for (const m of [...kept[0]!, ...kept[1]!, ...kept[2]!]) if (!onLine.has(m.ts)) onLine.set(m.ts, m.price);
    // their UTC exit days (days since 1970), sorted: each day's trades are a run of it; the newest maxDays shown
    const days = new Float64Array(nTrades);
    for (let j = 0; j < nTrades; j++) days[j] = Math.floor(tExitTs[tradeRows[j]!]! / DAY_MS);
    days.sort();
    const runs: Array<[number, number]> = []; // [day, trades], newest first, at most maxDays
    let distinct = 0;
    for (let j = nTrades - 1; j >= 0; j--) {
      if (j === nTrades - 1 || days[j] !== days[j + 1]) {
        distinct++;
        if (runs.length < maxDays) runs.push([days[j]!, 0]);
      }
      if (runs.length && runs[runs.length - 1]![0] === days[j]) runs[runs.length - 1]![1]++;
    }
    runs.reverse();
    const sums = new Map(runs.map(([d]) => [d, new ExactSum()]));
    const firstShown = runs.length ? runs[0]![0] * DAY_MS : Infinity;
    for (let j = 0; j < nTrades; j++) {
      const t = tExitTs[tradeRows[j]!]!;
      if (t >= firstShown) sums.get(Math.floor(t / DAY_MS))!.addAmount(this.amounts[tPnl[tradeRows[j]!]!]!);
    }
    const daily = runs.map(([day, trades]) => ({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), trades, pnl: sums.get(day)!.toString() }));
    return { pair, prices: [...onLine].sort((a, b) => a[0] - b[0]), entries: kept[0]!, exits: kept[1]!, blocked: kept[2]!, daily, days: distinct, omitted, markersFrom };
  }
}

/**
 * The k-th largest of xs[0, n) (1 ≤ k ≤ n): a histogram of the values' range finds the bucket it falls in, and
 * only that bucket's values are sorted (two passes over xs; the newest markers are a thin slice of them).
 */
function kthLargest(xs: Float64Array, n: number, k: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = xs[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return lo;
  const B = 4096;
  const scale = B / (hi - lo);
  const counts = new Uint32Array(B);
  for (let i = 0; i < n; i++) {
    const at = Math.min(B - 1, Math.floor((xs[i]! - lo) * scale));
    counts[at] = counts[at]! + 1;
  }
  let above = 0;
  let b = B - 1;
  while (above + counts[b]! < k) above += counts[b--]!;
  const inB = new Float64Array(counts[b]!);
  let j = 0;
  for (let i = 0; i < n; i++) if (Math.min(B - 1, Math.floor((xs[i]! - lo) * scale)) === b) inB[j++] = xs[i]!;
  inB.sort();
  return inB[inB.length - (k - above)]!;
}
