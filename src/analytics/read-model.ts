/**
 * The report's read model over the JSONL logs (issue 13): one streaming pass over each file's bytes into
 * column arrays, no object per line and no string per field. `tollgate report` and the dashboard read it.
 *
 *   const model = readLogs({ bus, decisions, shadow }, { run: 'latest' });   // ByteSource per file
 *   model.runs, model.decisionCounts, model.shadows.size, …                  // a ReportSource
 *   buildReport(model, options)                                              // the report
 *
 * It holds the same facts, in the same order, as `loadDataset` without `detail` (dataset.ts, which stays
 * the reference: a differential test checks the two agree), so every figure of the report is unchanged.
 * How:
 * - Lines are cut and read as bytes. A line of the writer's shape (it ends with `"runId":"…"}`, its
 *   chunk is ASCII, every wanted value is simple) has its fields located by `pickFields`' own algorithm
 *   on the bytes, and timestamps and decimals are checked and parsed from the bytes. Any other line is
 *   decoded and goes through exactly what dataset.ts does (pickFields, else JSON.parse, same checks).
 * - Lines of runs not wanted are skipped by their ending alone.
 * - Repeated values (run ids, strategies, pairs, codes, statuses) are interned from their bytes; the
 *   per-signal facts live in typed arrays indexed by one key table (`runId|signalId` → index).
 */
import { isAscii } from 'node:buffer';
import { handleRecord, isoFromParts, keyOf, LIFE_OPEN_AT_END, LIFE_TERMINAL, Malformed, SH_BOUGHT, SH_OVERLAPS, type LoadOptions, type RunInfo } from './dataset.ts';
import { boughtOf, codes, decimal, F, isStr, K, optStr, optTime, str, time, tradeFields, type FactFile, type Rows, type Tables } from './facts.ts';

/** A log file as a sequence of byte chunks, in order (lines may straddle chunks). */
export interface ByteSource {
  /** a name for messages and skip counts, e.g. the file name */
  readonly name: string;
  /** false when the source does not exist (an absent log file is not an error) */
  readonly exists: boolean;
  chunks(): Iterable<Buffer>;
  /** the logical size in bytes (all segments, uncompressed): with `read`, what lets the sidecar be checked and skipped to */
  size?(): number;
  /** `length` bytes at a logical offset (fewer at the end) */
  read?(offset: number, length: number): Buffer;
}

/** The bytes [from, to) of a source that can `read` (to: its end when omitted), in 4 MiB chunks. */
export function rangeOf(src: ByteSource, from: number, to?: number): ByteSource {
  return {
    name: src.name,
    exists: src.exists,
    *chunks() {
      const end = to ?? src.size!();
      for (let at = from; at < end; ) {
        const b = src.read!(at, Math.min(4 * 1024 * 1024, end - at));
        if (b.length === 0) break;
        at += b.length;
        yield b;
      }
    },
  };
}

export interface ByteLogSources {
  readonly bus: ByteSource;
  readonly decisions: ByteSource;
  readonly shadow: ByteSource;
}

/**
 * The report's input as columns (issue 13): one row per shadow outcome, closed trade, observed approval and
 * signal with a lifecycle, each a typed array; repeated strings (strategies, statuses, states, PnL amounts)
 * and code lists are numbers into `str` and `list`. No object per row: `buildReport` reads them by index.
 * Rows are in first-seen order (a later duplicate line replaces the values in place), as the Maps of
 * dataset.ts keep them (its Dataset is turned into these columns by dataset.ts' reportSourceOf).
 */
export interface ShadowColumns {
  readonly n: number;
  readonly strategy: Int32Array;
  /** a list number */
  readonly blockedBy: Int32Array;
  readonly status: Int32Array;
  readonly pnl: Int32Array;
  /** NaN for null */
  readonly entry: Float64Array;
  readonly exit: Float64Array;
  /** SH_OVERLAPS | SH_BOUGHT (dataset.ts) */
  readonly flags: Uint8Array;
}

export interface TradeColumns {
  readonly n: number;
  readonly strategy: Int32Array;
  readonly pnl: Int32Array;
  readonly entry: Float64Array;
  readonly exit: Float64Array;
}

/** approved decisions an observing guard would have blocked, in first-seen order */
export interface ObservedColumns {
  readonly n: number;
  /** a list number: the observing guards */
  readonly codes: Int32Array;
  /** the signal's closed trade (a row of `trades`), -1 when none */
  readonly trade: Int32Array;
}

/** one row per signal seen on the bus (its lifecycle), in first-seen order */
export interface LifeColumns {
  readonly n: number;
  /** NaN when no `signal.received` line was read */
  readonly received: Float64Array;
  /** the state it is in (its last transition; a string number) and since when */
  readonly state: Int32Array;
  readonly ts: Float64Array;
  /** LIFE_TERMINAL | LIFE_OPEN_AT_END (dataset.ts) */
  readonly flags: Uint8Array;
  /** the signal id of row i (made on demand: the stuck signals name theirs) */
  signalId(i: number): string;
}

/** The read model's answer for one selection of runs (and time range, strategy, pair): what `buildReport` reads. */
export interface LogReadModel {
  readonly runs: RunInfo[];
  readonly decisionCounts: { approved: number; blocked: number };
  readonly byStrategy: ReadonlyMap<string, { signals: number; approved: number; blocked: number }>;
  readonly awaiting: ReadonlyMap<string, { all: number; sole: number }>;
  readonly blockedWithoutOutcome: number;
  /** the string and the code list numbered i */
  str(i: number): string;
  list(i: number): readonly string[];
  readonly shadows: ShadowColumns;
  readonly trades: TradeColumns;
  readonly observed: ObservedColumns;
  readonly life: LifeColumns;
  /** per state: event time spent in it before leaving it (ms), over every transition read */
  readonly timeInState: ReadonlyMap<string, Float64Array>;
  readonly busErrors: number;
  readonly warnings: Record<string, number>;
  readonly skipped: Record<string, number>;
  readonly duplicates: Record<string, number>;
  readonly firstTs: number | null;
  readonly lastTs: number | null;
}


// ── growable columns ────────────────────────────────────────────────────────────
type Typed = Float64Array | Int32Array | Uint8Array;
/** a typed array that grows by doubling; `of(n, v)`: n values v */
class Col<T extends Typed> {
  n = 0;
  constructor(public a: T) {}
  push(v: number): void {
    if (this.n === this.a.length) this.a = grow(this.a, this.a.length * 2);
    this.a[this.n++] = v;
  }
  /** room for n values in all */
  reserve(n: number): void {
    if (n > this.a.length) this.a = grow(this.a, n);
  }
  /** the first n values (a view: no copy of columns sized up front) */
  done(): T {
    return this.a.subarray(0, this.n) as T;
  }
}
function grow<T extends Typed>(from: T, size: number): T {
  const to = new (from.constructor as new (n: number) => T)(size);
  to.set(from);
  return to;
}
const f64 = (n = 0, v = 0) => Object.assign(new Col(new Float64Array(Math.max(1024, n)).fill(v, 0, n)), { n });
const i32 = (n = 0, v = 0) => Object.assign(new Col(new Int32Array(Math.max(1024, n)).fill(v, 0, n)), { n });
const u8 = (n = 0) => Object.assign(new Col(new Uint8Array(Math.max(1024, n))), { n });
/** to[j] = from[at[j]] */
function gather<T extends Typed>(to: T, from: Typed, at: Int32Array): T {
  for (let j = 0; j < at.length; j++) to[j] = from[at[j]!]!;
  return to;
}

/** null timestamps as NaN in the columns */
const nn = (v: number | null): number => (v === null ? NaN : v);
/** `decidedTs ?? entryTs ?? ts` over NaN-for-null columns */
const firstOf = (a: number, b: number, c: number): number => (Number.isNaN(a) ? (Number.isNaN(b) ? c : b) : a);

// ── bytes ──────────────────────────────────────────────────────────────────────
const Q = 34; // "
const BS = 92; // \
const pat = (k: string): Uint8Array => Buffer.from(`"${k}":`, 'latin1');

function indexOfBytes(b: Buffer, p: Uint8Array, from: number, end: number): number {
  const m = p.length;
  const p0 = p[0]!;
  const lim = end - m;
  let i = from;
  while (i <= lim) {
    while (i <= lim && b[i] !== p0) i++;
    if (i > lim) return -1;
    let j = 1;
    while (j < m && b[i + j] === p[j]) j++;
    if (j === m) return i;
    i++;
  }
  return -1;
}
function lastIndexOfBytes(b: Buffer, p: Uint8Array, start: number, end: number): number {
  const m = p.length;
  const p0 = p[0]!;
  let i = end - m;
  while (i >= start) {
    while (i >= start && b[i] !== p0) i--;
    if (i < start) return -1;
    let j = 1;
    while (j < m && b[i + j] === p[j]) j++;
    if (j === m) return i;
    i--;
  }
  return -1;
}
function byteAt(b: Buffer, c: number, from: number, end: number): number {
  let i = from;
  while (i < end && b[i] !== c) i++;
  return i < end ? i : -1;
}
function startsWithAscii(b: Buffer, at: number, end: number, word: string): boolean {
  if (at + word.length > end) return false;
  for (let j = 0; j < word.length; j++) if (b[at + j] !== word.charCodeAt(j)) return false;
  return true;
}

/** `"runId":"<no quote or backslash>"}` at the very end: dataset.ts' endsWithRunId on bytes. Returns the id's start, or -1. */
const RUN_ID = pat('runId');
function runIdStart(b: Buffer, s: number, e: number): number {
  if (e - s < 12 || b[e - 1] !== 125 || b[e - 2] !== Q) return -1;
  const at = lastIndexOfBytes(b, RUN_ID, s, e - 2);
  if (at < 0 || b[at + 8] !== Q) return -1;
  for (let i = at + 9; i < e - 2; i++) if (b[i] === Q || b[i] === BS) return -1;
  return at + 9;
}

// value kinds found by pickBytes
const ABSENT = 0, STR = 1, ARR = 2, NUL = 3, TRUE = 4, FALSE = 5;

/**
 * dataset.ts' pickFields, on the bytes of an ASCII line: the same search (keys in order from the last
 * value, tail keys from the end), the same acceptance of values. Writes kind, start, end per key into
 * `out` (strings without their quotes, arrays without their brackets) and returns false exactly when
 * pickFields would return null.
 */
function pickBytes(b: Buffer, s: number, e: number, keys: readonly Uint8Array[], tail: readonly boolean[], out: Int32Array): boolean {
  let from = s;
  for (let k = 0; k < keys.length; k++) {
    const p = keys[k]!;
    let at = tail[k] ? lastIndexOfBytes(b, p, s, e) : indexOfBytes(b, p, from, e);
    if (at < 0 && from > s && !tail[k]) at = indexOfBytes(b, p, s, e);
    if (at < 0) {
      out[k * 3] = ABSENT;
      continue;
    }
    const i = at + p.length;
    from = i;
    const c = b[i];
    if (c === Q) {
      const end = byteAt(b, Q, i + 1, e);
      if (end < 0 || byteAt(b, BS, i + 1, end) >= 0) return false;
      out[k * 3] = STR;
      out[k * 3 + 1] = i + 1;
      out[k * 3 + 2] = end;
    } else if (c === 91 /* [ */) {
      const end = byteAt(b, 93 /* ] */, i, e);
      if (end < 0) return false;
      // items split by ',': each `"…"` with no backslash and no quote inside
      let j = i + 1;
      if (end > j) {
        for (;;) {
          const comma = byteAt(b, 44, j, end);
          const ie = comma < 0 ? end : comma;
          if (ie - j < 2 || b[j] !== Q || b[ie - 1] !== Q) return false;
          for (let x = j + 1; x < ie - 1; x++) if (b[x] === Q || b[x] === BS) return false;
          if (comma < 0) break;
          j = comma + 1;
        }
      }
      out[k * 3] = ARR;
      out[k * 3 + 1] = i + 1;
      out[k * 3 + 2] = end;
    } else if (startsWithAscii(b, i, e, 'null')) out[k * 3] = NUL;
    else if (startsWithAscii(b, i, e, 'true')) out[k * 3] = TRUE;
    else if (startsWithAscii(b, i, e, 'false')) out[k * 3] = FALSE;
    else return false;
  }
  return true;
}

function dig(b: Buffer, i: number, n: number): number {
  let x = 0;
  for (let j = i; j < i + n; j++) {
    const c = b[j]! - 48;
    if (c < 0 || c > 9) return NaN;
    x = x * 10 + c;
  }
  return x;
}
/** parseIso of the 24-character form, from bytes; NaN for anything else (the caller then takes the slow path). */
function isoBytes(b: Buffer, s: number, e: number): number {
  if (e - s !== 24 || b[s + 10] !== 84 || b[s + 23] !== 90 || b[s + 19] !== 46) return NaN;
  return isoFromParts(dig(b, s, 4), dig(b, s + 5, 2), dig(b, s + 8, 2), dig(b, s + 11, 2), dig(b, s + 14, 2), dig(b, s + 17, 2), dig(b, s + 20, 3));
}
/** /^-?\d+(\.\d+)?$/ on bytes */
function isDecimal(b: Buffer, s: number, e: number): boolean {
  let i = s;
  if (b[i] === 45) i++;
  const d0 = i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  if (i === d0) return false;
  if (i === e) return true;
  if (b[i] !== 46) return false;
  const f0 = ++i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  return i > f0 && i === e;
}
function hasNonZeroDigit(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i]! >= 49 && b[i]! <= 57) return true;
  return false;
}

/** Strings made once per distinct value, looked up by a hash of their bytes. */
class Interner {
  private readonly byHash = new Map<number, string[]>();
  private readonly strings = new Map<string, string>();

  bytes(b: Buffer, s: number, e: number): string {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const list = this.byHash.get(h);
    if (list) {
      outer: for (const v of list) {
        if (v.length !== e - s) continue;
        for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) !== b[s + i]) continue outer;
        return v;
      }
    }
    const v = this.str(b.toString('latin1', s, e));
    if (list) list.push(v);
    else this.byHash.set(h, [v]);
    return v;
  }

  str(v: string): string {
    return this.strings.get(v) ?? (this.strings.set(v, v), v);
  }

  private readonly lists = new Map<string, readonly string[]>();
  codes(xs: readonly string[]): readonly string[] {
    const k = xs.join(',');
    return this.lists.get(k) ?? (this.lists.set(k, xs.map((x) => this.str(x))), this.lists.get(k)!);
  }

  /** an array body `"A","B"` (checked by pickBytes) as an interned list */
  codeBytes(b: Buffer, s: number, e: number): readonly string[] {
    if (e === s) return this.codes([]);
    const xs: string[] = [];
    let j = s;
    for (;;) {
      const comma = byteAt(b, 44, j, e);
      const ie = comma < 0 ? e : comma;
      xs.push(this.bytes(b, j + 1, ie - 1));
      if (comma < 0) break;
      j = comma + 1;
    }
    return this.codes(xs);
  }
}

// field lists, as dataset.ts' DECISION_KEYS and SHADOW_KEYS
const DKEYS = ['ts', 'signalId', 'strategy', 'pair', 'side', 'decision', 'blockedBy', 'observedBlocks', 'quantity', 'runId'] as const;
const DTAIL = new Set(['runId', 'blockedBy', 'observedBlocks', 'quantity']);
const SKEYS = ['ts', 'signalId', 'strategy', 'pair', 'blockedBy', 'status', 'decidedTs', 'entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason', 'quantity', 'fees', 'pnl', 'overlaps', 'runId'] as const;
const fields = (keys: readonly string[], tail: ReadonlySet<string>) => ({ keys, pats: keys.map(pat), tail: keys.map((k) => tail.has(k)), tailSet: tail, at: Object.fromEntries(keys.map((k, i) => [k, i])) as Record<string, number> });
const D = fields(DKEYS, DTAIL);
const S = fields(SKEYS, new Set());
/** fields that must be plain strings for the fast path */
const S_STRINGS = ['status', 'quantity', 'signalId', 'ts', 'strategy', 'pair', 'pnl'].map((k) => S.at[k]!);
const D_STRINGS = ['runId', 'decision', 'signalId', 'ts', 'strategy', 'pair', 'side'].map((k) => D.at[k]!);

/** an optional time field picked by pickBytes: null, a time, or undefined when the slow path must judge it */
function optIso(b: Buffer, out: Int32Array, k: number): number | null | undefined {
  const kd = out[k * 3]!;
  if (kd === NUL || kd === ABSENT) return null;
  if (kd !== STR) return undefined;
  const t = isoBytes(b, out[k * 3 + 1]!, out[k * 3 + 2]!);
  return Number.isNaN(t) ? undefined : t;
}

type LineFn = (b: Buffer, s: number, e: number, ascii: boolean) => void;

/** Calls `fn` for each line (without its newline) of the source, in order; empty lines are left out. */
function eachLine(src: ByteSource, fn: LineFn): void {
  if (!src.exists) return;
  // bytes after the last newline so far (a line's start), copied: the source may reuse its buffer
  let rest: Buffer | null = null;
  for (const b of src.chunks()) {
    let s = 0;
    if (rest) {
      const nl = b.indexOf(10);
      if (nl < 0) {
        rest = Buffer.concat([rest, b]);
        continue;
      }
      const line = Buffer.concat([rest, b.subarray(0, nl)]);
      rest = null;
      if (line.length) fn(line, 0, line.length, isAscii(line));
      s = nl + 1;
    }
    const last = b.lastIndexOf(10);
    if (last >= s) {
      const ascii = isAscii(b.subarray(s, last));
      while (s <= last) {
        const nl = b.indexOf(10, s);
        if (nl > s) fn(b, s, nl, ascii);
        s = nl + 1;
      }
    }
    if (s < b.length) rest = Buffer.from(b.subarray(s));
  }
  if (rest && rest.length) fn(rest, 0, rest.length, isAscii(rest));
}

/** The run id of the last `run.started` line: dataset.ts' selectRuns, finding `"run.started"` lines natively. */
function lastRunStarted(bus: ByteSource): string | null {
  let last: string | null = null;
  const needle = Buffer.from('"run.started"');
  // the next occurrence in the current chunk, found natively once per occurrence (lines come in order)
  let buf: Buffer | null = null;
  let next = -1;
  eachLine(bus, (b, s, e) => {
    if (b !== buf || (next >= 0 && next < s)) {
      buf = b;
      next = b.indexOf(needle, s);
    }
    if (next < 0 || next >= e) return;
    try {
      const o = JSON.parse(b.toString('utf8', s, e)) as Record<string, unknown>;
      if (o.event === 'run.started' && isStr(o.runId)) last = o.runId;
    } catch {
      /* counted in the main pass */
    }
  });
  return last;
}

/** A report's selection: LoadOptions' run and `since`, and the dashboard's filters. */
export interface ReadOptions extends LoadOptions {
  /** keep only signals received (decided) before this time: `since`'s mirror */
  readonly until?: number | null;
  /** keep only the signals of this strategy / this pair (as their decision, outcome or trade names them) */
  readonly strategy?: string | null;
  readonly pair?: string | null;
}

/** The sidecar's rows of each file (sidecar.ts), and where in the JSONL reading goes on after them. */
export interface ReadFacts {
  readonly tables: Tables;
  readonly files: Partial<Record<FactFile, { readonly rows: Rows; readonly upTo: number; readonly from: number }>>;
  /** the rows and tables are the reader's (a sidecar not kept): it frees each file's rows once read, and the tables' lookup */
  readonly release?: boolean;
}

/**
 * One pass per file (the bus, then the shadow outcomes, then the decisions): each file's sidecar rows where
 * `facts` has them (then its JSONL from where they end), else its JSONL bytes. The same model either way.
 */
export function readLogs(src: ByteLogSources, opts: ReadOptions = {}, facts?: ReadFacts): LogReadModel {
  if (opts.detail) throw new Error('readLogs: detail (one record per decision, prices, fills) is loadDataset’s');
  return new Reader(src, opts, facts ?? null).read();
}

/**
 * Numbers for strings (or code lists): the sidecar's own numbers for its values, and new numbers after them for
 * values read from JSONL lines. A value may have two numbers (one of each kind): readers group by the value.
 */
class Numbered<V> {
  private readonly extra: V[] = [];
  private readonly byValue = new Map<V, number>();
  constructor(private readonly base: (i: number) => V, private readonly n0: number) {}
  /** the number of an interned value (the same string or list object for the same value) */
  of(v: V): number {
    let i = this.byValue.get(v);
    if (i === undefined) {
      i = this.n0 + this.extra.length;
      this.extra.push(v);
      this.byValue.set(v, i);
    }
    return i;
  }
  at(i: number): V {
    return i < this.n0 ? this.base(i) : this.extra[i - this.n0]!;
  }
}

// facts.ts' row kinds and flags as this module's own constants: the row loop reads them per row, and an imported
// object's fields may be read through an accessor each time (as the ESM loader's compiled output did: 1 s per 6 reads)
const { RAW, GAP, RECEIVED, TRANSITION, OPEN_AT_END, TRADE, BUS_ERROR, WARNING } = K;
const { RUN_STARTED, BLOCKED: F_BLOCKED, OVERLAPS: F_OVERLAPS, BOUGHT: F_BOUGHT, TERMINAL: F_TERMINAL } = F;

// per-signal flags (the low two are LIFE_TERMINAL and LIFE_OPEN_AT_END)
const LIVE = 4; // in the lifecycle table (dataset.ts' life Map)
const BEFORE = 8; // received before `since`: left out, its later lines too
const AFTER = 16; // received at or after `until`

class Reader {
  private readonly intern = new Interner();
  private readonly runsWanted: Set<string> | null;
  private readonly suffixes: Buffer[] | null;
  private readonly since: number | null;
  private readonly until: number | null;
  private readonly strategy: string | null;
  private readonly pair: string | null;
  private readonly filtered: boolean;
  private readonly out = new Int32Array(3 * 20);
  private readonly strs: Numbered<string>;
  private readonly lists: Numbered<readonly string[]>;
  private readonly RECEIVED: number;

  // signals: run id → signal id → key index k into the per-signal columns (the sidecar's refs are the first keys)
  private readonly keys = new Map<string, Map<string, number>>();
  private readonly nRefs: number;
  private nKeys = 0;
  /** run and signal id of the keys after the refs */
  private readonly keyIds: string[] = [];
  private refsKeyed = true;
  private readonly shadowAt: Col<Int32Array>;
  private readonly tradeAt: Col<Int32Array>;
  private readonly decAt: Col<Int32Array>;
  private readonly decided: Col<Uint8Array>;
  /** with a strategy or pair filter: 1 when the signal is the filter's, 2 when it is not */
  private readonly attr: Col<Uint8Array>;
  // the lifecycle table: state (a string number), received ts (NaN: none), since when, flags; keys in first-seen order
  private readonly lState: Col<Int32Array>;
  private readonly lRecv: Col<Float64Array>;
  private readonly lTs: Col<Float64Array>;
  private readonly lFlags: Col<Uint8Array>;
  private readonly lifeOrder = i32();

  // shadow outcomes, trades and kept decisions, in first-seen order
  private readonly sh = { strategy: i32(), list: i32(), status: i32(), pnl: i32(), entry: f64(), exit: f64(), flags: u8() };
  private readonly tr = { k: i32(), strategy: i32(), pnl: i32(), entry: f64(), exit: f64(), gone: u8() };
  private readonly dec = { k: i32(), approved: u8(), observed: i32() };
  // time in state: per state string; with a strategy or pair filter the spans wait until their signal is known
  private readonly tis = new Map<string, Col<Float64Array>>();
  private readonly tisByNo = new Map<number, Col<Float64Array>>();
  private readonly spans = { state: i32(), ms: f64(), k: i32() };
  private readonly byStrategyNo = new Map<number, { signals: number; approved: number; blocked: number }>();

  private readonly m = {
    runs: new Map<string, RunInfo>(), decisionCounts: { approved: 0, blocked: 0 },
    byStrategy: new Map<string, { signals: number; approved: number; blocked: number }>(), awaiting: new Map<string, { all: number; sole: number }>(),
    blockedWithoutOutcome: 0, busErrors: 0,
    warnings: {} as Record<string, number>, skipped: {} as Record<string, number>, duplicates: {} as Record<string, number>, firstTs: null as number | null, lastTs: null as number | null,
  };

  constructor(private readonly src: ByteLogSources, opts: ReadOptions, private readonly facts: ReadFacts | null) {
    const run = opts.run ?? 'latest';
    this.runsWanted = run === 'all' ? null : run !== 'latest' ? new Set([run]) : this.latest();
    this.suffixes = this.runsWanted ? [...this.runsWanted].map((r) => Buffer.from(`"runId":"${r}"}`)) : null;
    this.since = opts.since ?? null;
    this.until = opts.until ?? null;
    this.strategy = opts.strategy ?? null;
    this.pair = opts.pair ?? null;
    this.filtered = this.strategy !== null || this.pair !== null;
    const t = facts?.tables;
    if (facts?.release) t!.release();
    this.strs = new Numbered((i) => t!.str(i), t?.nStrings ?? 0);
    this.lists = new Numbered((i) => t!.lists[i]!, t?.lists.length ?? 0);
    this.RECEIVED = this.strs.of(this.intern.str('received'));
    const n = (this.nRefs = this.nKeys = t?.refs ?? 0);
    this.refsKeyed = n === 0;
    this.shadowAt = i32(n, -1);
    this.tradeAt = i32(n, -1);
    this.decAt = i32(n, -1);
    this.decided = u8(n);
    this.attr = u8(n);
    this.lState = i32(n, -1);
    this.lRecv = f64(n, NaN);
    this.lTs = f64(n);
    this.lFlags = u8(n);
    // at most one outcome per sidecar row: the columns grow once
    const outcomes = facts?.files.shadow?.upTo ?? 0;
    for (const c of Object.values(this.sh)) c.reserve(outcomes);
    // and at most one kept decision per row (the columns the model keeps, not grown by doubling)
    const decisions = facts?.files.decisions?.upTo ?? 0;
    for (const c of Object.values(this.dec)) c.reserve(decisions);
  }

  /** the last run started, in line order over the sidecar's rows and the JSONL around them */
  private latest(): Set<string> | null {
    const f = this.facts?.files.bus;
    let last: string | null = null;
    if (!f) last = lastRunStarted(this.src.bus);
    else {
      const t = this.facts!.tables;
      const { rows } = f;
      for (let i = 0; i < f.upTo; i++) {
        const kind = rows.kind[i];
        if (kind === RAW && rows.flags[i]! & RUN_STARTED) last = t.str(rows.run[i]!);
        else if (kind === GAP) last = lastRunStarted(rangeOf(this.src.bus, rows.t1[i]!, rows.t2[i]!)) ?? last;
      }
      last = lastRunStarted(rangeOf(this.src.bus, f.from)) ?? last;
    }
    return last === null ? null : new Set([last]);
  }

  read(): LogReadModel {
    this.file('bus', (o) => this.busObject(o), null);
    this.file('shadow', (o) => this.shadowObject(o), (b, s, e) => this.shadowBytes(b, s, e));
    this.file('decisions', (o) => this.decisionObject(o), (b, s, e) => this.decisionBytes(b, s, e));
    return this.finish();
  }

  // ── per file: the sidecar's rows, the JSONL's lines (fast path, else dataset.ts' eachRecord for the one line) ─
  private file(file: FactFile, handle: (o: Record<string, unknown>) => void, fast: ((b: Buffer, s: number, e: number) => boolean) | null): void {
    const src = this.src[file];
    let bad = 0;
    const fastKeys = file === 'shadow' ? S : file === 'decisions' ? D : null;
    const line: LineFn = (b, s, e, ascii) => {
      // a complete line of another run is skipped unparsed (dataset.ts' keep)
      if (this.suffixes && ascii && !this.endsWithWanted(b, s, e) && runIdStart(b, s, e) >= 0) return;
      if (ascii && fast && b[s] === 123 && fast(b, s, e)) return;
      const text = b.toString('utf8', s, e);
      if (this.suffixes && !ascii && !this.keepLine(text)) return;
      if (!handleRecord(text, fastKeys ? fastKeys.keys : null, fastKeys?.tailSet, handle)) bad++;
    };
    const f = this.facts?.files[file];
    if (!f) eachLine(src, line);
    else {
      const { rows } = f;
      const t = this.facts!.tables;
      for (let i = 0; i < f.upTo; i++) {
        const kind = rows.kind[i]!;
        if (kind === RAW) {
          // the line's bytes as the sidecar holds them (the tables grow no more while reading)
          const [b, s, e] = t.bytesOf(rows.a[i]!);
          if (e > s) line(b, s, e, isAscii(b.subarray(s, e)));
        } else if (kind === GAP) eachLine(rangeOf(src, rows.t1[i]!, rows.t2[i]!), line);
        else this.row(file, rows, i);
      }
      eachLine(rangeOf(src, f.from), line);
      if (this.facts!.release) rows.release(); // a million decisions' columns: gone before the model's are made
    }
    if (bad) this.m.skipped[src.name] = (this.m.skipped[src.name] ?? 0) + bad;
  }

  // ── a sidecar row: what the object path does with the line it stands for (its strings by the sidecar's numbers) ─
  private row(file: FactFile, I: Rows, i: number): void {
    if (this.runsWanted !== null && !this.runsWanted.has(this.facts!.tables.str(I.run[i]!))) return;
    const k = I.ref[i]!;
    const kind = I.kind[i]!;
    const flags = I.flags[i]!;
    const ts = I.ts[i]!;
    if (file === 'decisions') {
      this.decision(k, ts, I.a[i]!, I.b[i]!, (flags & F_BLOCKED) === 0, I.d[i]!, I.e[i]!);
      return;
    }
    if (file === 'shadow') {
      this.shadow(k, ts, I.a[i]!, I.b[i]!, I.d[i]!, I.c[i]!, I.t1[i]!, I.t2[i]!, I.t3[i]!, I.e[i]!, (flags & F_OVERLAPS) !== 0, (flags & F_BOUGHT) !== 0);
      return;
    }
    this.seen(ts);
    switch (kind) {
      case RECEIVED:
        this.received(k, ts);
        break;
      case TRANSITION:
        this.transition(k, ts, I.a[i]!, (flags & F_TERMINAL) !== 0);
        break;
      case OPEN_AT_END:
        this.openAtEnd(k, ts);
        break;
      case TRADE:
        if (this.tradeAt.a[k]! >= 0) this.dup(this.src.bus.name);
        this.trade(k, I.a[i]!, I.b[i]!, I.t2[i]!, I.t3[i]!, I.e[i]!);
        break;
      case BUS_ERROR:
        this.m.busErrors++;
        break;
      case WARNING: {
        const code = this.facts!.tables.str(I.a[i]!);
        this.m.warnings[code] = (this.m.warnings[code] ?? 0) + 1;
        break;
      }
      default:
        break;
    }
  }

  /** with a strategy or pair filter: notes whether key k's signal is the filter's; true when it is (or no filter) */
  private mark(k: number, strategy: number, pair: number): boolean {
    if (!this.filtered) return true;
    const yes = (this.strategy === null || this.strs.at(strategy) === this.strategy) && (this.pair === null || this.strs.at(pair) === this.pair);
    if (this.attr.a[k] === 0) this.attr.a[k] = yes ? 1 : 2;
    return yes;
  }

  private endsWithWanted(b: Buffer, s: number, e: number): boolean {
    for (const sfx of this.suffixes!) if (e - s >= sfx.length && b.compare(sfx, 0, sfx.length, e - sfx.length, e) === 0) return true;
    return false;
  }

  /** dataset.ts' keep() on a decoded line */
  private keepLine(line: string): boolean {
    for (const r of this.runsWanted!) if (line.endsWith(`"runId":"${r}"}`)) return true;
    const n = line.length;
    if (n < 12 || line.charCodeAt(n - 1) !== 125 || line.charCodeAt(n - 2) !== 34) return true;
    const at = line.lastIndexOf('"runId":"', n - 3);
    if (at < 0) return true;
    for (let i = at + 9; i < n - 2; i++) {
      const c = line.charCodeAt(i);
      if (c === 34 || c === 92) return true;
    }
    return false;
  }

  private wanted(runId: unknown): runId is string {
    if (!isStr(runId)) throw new Malformed('runId');
    return this.runsWanted === null || this.runsWanted.has(runId);
  }

  private seen(ts: number): void {
    const m = this.m;
    if (m.firstTs === null || ts < m.firstTs) m.firstTs = ts;
    if (m.lastTs === null || ts > m.lastTs) m.lastTs = ts;
  }

  private dup(file: string): void {
    this.m.duplicates[file] = (this.m.duplicates[file] ?? 0) + 1;
  }

  /** the number of a string read from a JSONL line */
  private no(v: string): number {
    return this.strs.of(this.intern.str(v));
  }

  private keyIndex(runId: string, signalId: string): number {
    if (!this.refsKeyed) {
      // the sidecar's refs by value, once a JSONL line names a signal
      this.refsKeyed = true;
      const t = this.facts!.tables;
      for (let r = 0; r < this.nRefs; r++) {
        const id = t.str(t.refRun[r]!);
        (this.keys.get(id) ?? this.keys.set(id, new Map()).get(id)!).set(t.str(t.refSig[r]!), r);
      }
    }
    let run = this.keys.get(runId);
    if (!run) this.keys.set(runId, (run = new Map()));
    let i = run.get(signalId);
    if (i === undefined) {
      i = this.nKeys++;
      run.set(signalId, i);
      this.keyIds.push(runId, signalId);
      this.shadowAt.push(-1);
      this.tradeAt.push(-1);
      this.decAt.push(-1);
      this.decided.push(0);
      this.attr.push(0);
      this.lState.push(-1);
      this.lRecv.push(NaN);
      this.lTs.push(0);
      this.lFlags.push(0);
    }
    return i;
  }

  /** `runId|signalId` of key k, by a function that holds the ids only (the model keeps it: not the reader, nor the sidecar's rows) */
  private keyStrings(): (k: number) => string {
    const { nRefs, keyIds } = this;
    const t = this.facts?.tables.refNames();
    return (k) => (k >= nRefs ? keyOf(keyIds[2 * (k - nRefs)]!, keyIds[2 * (k - nRefs) + 1]!) : keyOf(t!.run(k), t!.sig(k)));
  }

  // ── the lifecycle (dataset.ts' life Map, as columns) ──────────────────────────
  /** true when key k has (now) a lifecycle record; false when its signal is left out */
  private lifeOf(k: number, ts: number): boolean {
    const fl = this.lFlags.a;
    if (fl[k]! & (BEFORE | AFTER)) return false;
    if (!(fl[k]! & LIVE)) {
      fl[k] = LIVE;
      this.lState.a[k] = this.RECEIVED;
      this.lRecv.a[k] = NaN;
      this.lTs.a[k] = ts;
      this.lifeOrder.push(k); // once: a record is only removed for good
    }
    return true;
  }

  private received(k: number, ts: number): void {
    if ((this.since !== null && ts < this.since) || (this.until !== null && ts >= this.until)) {
      this.lFlags.a[k] = (this.lFlags.a[k]! & ~LIVE) | (this.since !== null && ts < this.since ? BEFORE : AFTER);
      return;
    }
    if (this.lifeOf(k, ts)) this.lRecv.a[k] = ts;
  }

  private transition(k: number, ts: number, to: number, terminal: boolean): void {
    if (!this.lifeOf(k, ts)) return;
    const state = this.lState.a[k]!;
    const ms = ts - this.lTs.a[k]!;
    if (this.filtered) {
      this.spans.state.push(state);
      this.spans.ms.push(ms);
      this.spans.k.push(k);
    } else this.tisOf(state).push(ms);
    this.lState.a[k] = to;
    this.lTs.a[k] = ts;
    if (terminal) this.lFlags.a[k]! |= LIFE_TERMINAL;
  }

  private tisOf(state: number): Col<Float64Array> {
    let c = this.tisByNo.get(state);
    if (!c) {
      const name = this.strs.at(state);
      c = this.tis.get(name) ?? this.tis.set(name, f64()).get(name)!;
      this.tisByNo.set(state, c);
    }
    return c;
  }

  private openAtEnd(k: number, ts: number): void {
    if (this.lifeOf(k, ts)) this.lFlags.a[k]! |= LIFE_OPEN_AT_END;
  }

  // ── the bus (dataset.ts' bus handler; no `detail` here) ───────────────────────────
  private busObject(o: Record<string, unknown>): void {
    if (!this.wanted(o.runId)) return;
    const m = this.m;
    const runId = o.runId;
    const ev = str(o, 'event');
    const ts = time(o, 'ts');
    this.seen(ts);
    switch (ev) {
      case 'run.started': {
        const cash = o.startingCash && typeof o.startingCash === 'object' ? Object.values(o.startingCash as Record<string, unknown>) : [];
        m.runs.set(runId, {
          runId, startedTs: ts, mode: optStr(o, 'mode'), pair: optStr(o, 'pair'), from: optTime(o, 'from'), to: optTime(o, 'to'),
          startingBalance: cash.length ? cash.reduce<number>((a, v) => a + Number(v), 0) : null,
          guardModes: o.guards && typeof o.guards === 'object' ? (o.guards as Record<string, string>) : {},
          finishedTs: null, elapsedMs: null,
        });
        break;
      }
      case 'run.finished': {
        const r = m.runs.get(runId);
        if (r) {
          r.finishedTs = ts;
          const s = o.summary as Record<string, unknown> | undefined;
          r.elapsedMs = typeof s?.elapsedMs === 'number' ? s.elapsedMs : null;
        }
        break;
      }
      case 'signal.received':
        this.received(this.keyIndex(runId, str(o, 'signalId')), ts);
        break;
      case 'signal.transition': {
        const to = str(o, 'to');
        this.transition(this.keyIndex(runId, str(o, 'signalId')), ts, this.no(to), o.terminal === true);
        break;
      }
      case 'signal.open_at_end':
        this.openAtEnd(this.keyIndex(runId, str(o, 'signalId')), ts);
        break;
      case 'trade.closed': {
        const k = this.keyIndex(runId, str(o, 'signalId'));
        if (this.tradeAt.a[k]! >= 0) this.dup(this.src.bus.name); // counted before the fields are checked, as dataset.ts does
        const f = tradeFields(o);
        this.trade(k, this.no(f.strategy), this.no(f.pair), f.entryTs, f.exitTs, this.no(f.pnl));
        break;
      }
      case 'order.submitted':
      case 'fill':
        break; // detail only
      case 'bus.error':
        m.busErrors++;
        break;
      case 'warning': {
        const code = str(o, 'code');
        m.warnings[code] = (m.warnings[code] ?? 0) + 1;
        break;
      }
      default:
        break;
    }
  }

  private trade(k: number, strategy: number, pair: number, entryTs: number, exitTs: number, pnl: number): void {
    if (!this.mark(k, strategy, pair)) return;
    const tr = this.tr;
    let at = this.tradeAt.a[k]!;
    if (at < 0) {
      at = tr.k.n;
      this.tradeAt.a[k] = at;
      tr.k.push(k);
      tr.strategy.push(0);
      tr.pnl.push(0);
      tr.entry.push(0);
      tr.exit.push(0);
      tr.gone.push(0);
    }
    tr.strategy.a[at] = strategy;
    tr.pnl.a[at] = pnl;
    tr.entry.a[at] = entryTs;
    tr.exit.a[at] = exitTs;
  }

  // ── shadow outcomes ───────────────────────────────────────────────────────────
  private shadowObject(o: Record<string, unknown>): void {
    if (!this.wanted(o.runId)) return;
    if (typeof o.overlaps !== 'boolean') throw new Malformed('overlaps');
    const it = this.intern;
    const status = it.str(str(o, 'status'));
    const quantity = decimal(o, 'quantity');
    const runId = o.runId;
    const signalId = str(o, 'signalId');
    const ts = time(o, 'ts');
    const strategy = this.no(str(o, 'strategy'));
    const pair = this.no(str(o, 'pair'));
    const blockedBy = this.lists.of(it.codes(codes(o, 'blockedBy')));
    const decidedTs = nn(optTime(o, 'decidedTs'));
    const entryTs = nn(optTime(o, 'entryTs'));
    const exitTs = nn(optTime(o, 'exitTs'));
    const pnl = this.no(decimal(o, 'pnl'));
    const overlaps = o.overlaps;
    this.shadow(this.keyIndex(runId, signalId), ts, strategy, pair, blockedBy, this.no(status), decidedTs, entryTs, exitTs, pnl, overlaps, boughtOf(status, quantity));
  }

  /** times NaN for null */
  private shadow(k: number, ts: number, strategy: number, pair: number, blockedBy: number, status: number, decidedTs: number, entryTs: number, exitTs: number, pnl: number, overlaps: boolean, bought: boolean): void {
    if (!this.mark(k, strategy, pair)) return;
    const at0 = firstOf(decidedTs, entryTs, ts);
    if ((this.since !== null && at0 < this.since) || (this.until !== null && at0 >= this.until)) return;
    const sh = this.sh;
    let at = this.shadowAt.a[k]!;
    if (at >= 0) this.dup(this.src.shadow.name);
    else {
      at = sh.pnl.n;
      this.shadowAt.a[k] = at;
      sh.strategy.push(0);
      sh.list.push(0);
      sh.status.push(0);
      sh.pnl.push(0);
      sh.entry.push(0);
      sh.exit.push(0);
      sh.flags.push(0);
    }
    sh.strategy.a[at] = strategy;
    sh.list.a[at] = blockedBy;
    sh.status.a[at] = status;
    sh.pnl.a[at] = pnl;
    sh.entry.a[at] = entryTs;
    sh.exit.a[at] = exitTs;
    sh.flags.a[at] = (overlaps ? SH_OVERLAPS : 0) | (bought ? SH_BOUGHT : 0);
  }

  /** true when the line was taken; false sends it down the slow path (which then decides everything) */
  private shadowBytes(b: Buffer, s: number, e: number): boolean {
    const r = runIdStart(b, s, e);
    if (r < 0) return false;
    const out = this.out;
    if (!pickBytes(b, s, e, S.pats, S.tail, out)) return false;
    const at = S.at;
    // runId: picked last, from the line's end (the same value runIdStart found)
    if (out[at.runId! * 3]! !== STR) return false;
    const ov = out[at.overlaps! * 3]!;
    if (ov !== TRUE && ov !== FALSE) return false;
    for (const k of S_STRINGS) if (out[k * 3]! !== STR) return false;
    if (!isDecimal(b, out[at.quantity! * 3 + 1]!, out[at.quantity! * 3 + 2]!) || !isDecimal(b, out[at.pnl! * 3 + 1]!, out[at.pnl! * 3 + 2]!)) return false;
    const bk = out[at.blockedBy! * 3]!;
    if (bk !== ARR) return false;
    const ts = isoBytes(b, out[at.ts! * 3 + 1]!, out[at.ts! * 3 + 2]!);
    if (Number.isNaN(ts)) return false;
    const decidedTs = optIso(b, out, at.decidedTs!);
    const entryTs = optIso(b, out, at.entryTs!);
    const exitTs = optIso(b, out, at.exitTs!);
    if (decidedTs === undefined || entryTs === undefined || exitTs === undefined) return false;
    const it = this.intern;
    const runId = it.bytes(b, out[at.runId! * 3 + 1]!, out[at.runId! * 3 + 2]!);
    if (this.runsWanted !== null && !this.runsWanted.has(runId)) return true; // not wanted (keep() let it through: cannot happen, kept for clarity)
    const status = it.bytes(b, out[at.status! * 3 + 1]!, out[at.status! * 3 + 2]!);
    const bought = (status === 'closed' || status === 'open_at_end') && hasNonZeroDigit(b, out[at.quantity! * 3 + 1]!, out[at.quantity! * 3 + 2]!);
    const k = this.keyIndex(runId, b.toString('latin1', out[at.signalId! * 3 + 1]!, out[at.signalId! * 3 + 2]!));
    const strs = this.strs;
    this.shadow(
      k, ts, strs.of(it.bytes(b, out[at.strategy! * 3 + 1]!, out[at.strategy! * 3 + 2]!)), strs.of(it.bytes(b, out[at.pair! * 3 + 1]!, out[at.pair! * 3 + 2]!)),
      this.lists.of(it.codeBytes(b, out[at.blockedBy! * 3 + 1]!, out[at.blockedBy! * 3 + 2]!)), strs.of(status), nn(decidedTs), nn(entryTs), nn(exitTs),
      strs.of(it.bytes(b, out[at.pnl! * 3 + 1]!, out[at.pnl! * 3 + 2]!)), ov === TRUE, bought,
    );
    return true;
  }

  // ── decisions (after the outcomes: a blocked one without an outcome is awaiting it) ─
  private decisionObject(o: Record<string, unknown>): void {
    if (!this.wanted(o.runId)) return;
    const decision = o.decision;
    if (decision !== 'approved' && decision !== 'blocked') throw new Malformed('decision');
    // every field checked as dataset.ts does, in its order, before anything is counted
    const signalId = str(o, 'signalId');
    const ts = time(o, 'ts');
    const strategy = str(o, 'strategy');
    const pair = str(o, 'pair');
    str(o, 'side');
    const blockedBy = codes(o, 'blockedBy');
    const observedBlocks = codes(o, 'observedBlocks');
    optStr(o, 'quantity');
    const it = this.intern;
    this.decision(this.keyIndex(o.runId, signalId), ts, this.no(strategy), this.no(pair), decision === 'approved', this.lists.of(it.codes(blockedBy)), this.lists.of(it.codes(observedBlocks)));
  }

  /** counts the decision, and keeps what the observe section needs of an approved one an observing guard would have blocked */
  private decision(k: number, ts: number, strategy: number, pair: number, approved: boolean, blockedBy: number, observed: number): void {
    if (!this.mark(k, strategy, pair)) return;
    if ((this.since !== null && ts < this.since) || (this.until !== null && ts >= this.until)) return;
    const m = this.m;
    const dec = this.dec;
    if (this.decided.a[k]) {
      this.dup(this.src.decisions.name); // the later line wins for the one-by-one record; counts keep the first
      const at = this.decAt.a[k]!;
      if (at >= 0) {
        dec.approved.a[at] = approved ? 1 : 0;
        dec.observed.a[at] = observed;
      }
      return;
    }
    this.decided.a[k] = 1;
    const decision = approved ? 'approved' : 'blocked';
    m.decisionCounts[decision]++;
    let st = this.byStrategyNo.get(strategy);
    if (!st) {
      const name = this.strs.at(strategy);
      st = m.byStrategy.get(name) ?? m.byStrategy.set(name, { signals: 0, approved: 0, blocked: 0 }).get(name)!;
      this.byStrategyNo.set(strategy, st);
    }
    st.signals++;
    st[decision]++;
    if (!approved && this.shadowAt.a[k]! < 0) {
      m.blockedWithoutOutcome++;
      const codes = this.lists.at(blockedBy);
      for (const code of codes) {
        const a = m.awaiting.get(code) ?? m.awaiting.set(code, { all: 0, sole: 0 }).get(code)!;
        a.all++;
        if (codes.length === 1) a.sole++;
      }
    }
    if (approved && this.lists.at(observed).length > 0) {
      this.decAt.a[k] = dec.k.n;
      dec.k.push(k);
      dec.approved.push(1);
      dec.observed.push(observed);
    }
  }

  private decisionBytes(b: Buffer, s: number, e: number): boolean {
    if (runIdStart(b, s, e) < 0) return false;
    const out = this.out;
    if (!pickBytes(b, s, e, D.pats, D.tail, out)) return false;
    const at = D.at;
    for (const k of D_STRINGS) if (out[k * 3]! !== STR) return false;
    const q = out[at.quantity! * 3]!;
    if (q !== STR && q !== NUL && q !== ABSENT) return false;
    const bk = out[at.blockedBy! * 3]!;
    const ok = out[at.observedBlocks! * 3]!;
    if ((bk !== ARR && bk !== ABSENT) || (ok !== ARR && ok !== ABSENT)) return false;
    const ts = isoBytes(b, out[at.ts! * 3 + 1]!, out[at.ts! * 3 + 2]!);
    if (Number.isNaN(ts)) return false;
    const it = this.intern;
    const decision = it.bytes(b, out[at.decision! * 3 + 1]!, out[at.decision! * 3 + 2]!);
    if (decision !== 'approved' && decision !== 'blocked') return false;
    const runId = it.bytes(b, out[at.runId! * 3 + 1]!, out[at.runId! * 3 + 2]!);
    if (this.runsWanted !== null && !this.runsWanted.has(runId)) return true;
    const signalId = b.toString('latin1', out[at.signalId! * 3 + 1]!, out[at.signalId! * 3 + 2]!);
    const strategy = this.strs.of(it.bytes(b, out[at.strategy! * 3 + 1]!, out[at.strategy! * 3 + 2]!));
    const blockedBy = this.lists.of(bk === ARR ? it.codeBytes(b, out[at.blockedBy! * 3 + 1]!, out[at.blockedBy! * 3 + 2]!) : it.codes([]));
    const observedBlocks = this.lists.of(ok === ARR ? it.codeBytes(b, out[at.observedBlocks! * 3 + 1]!, out[at.observedBlocks! * 3 + 2]!) : it.codes([]));
    const pair = this.strs.of(it.bytes(b, out[at.pair! * 3 + 1]!, out[at.pair! * 3 + 2]!));
    this.decision(this.keyIndex(runId, signalId), ts, strategy, pair, decision === 'approved', blockedBy, observedBlocks);
    return true;
  }

  // ── the answer ───────────────────────────────────────────────────────────────
  private finish(): LogReadModel {
    const m = this.m;
    const fl = this.lFlags.a;
    const recv = this.lRecv.a;
    const lts = this.lTs.a;
    const order = this.lifeOrder.a.subarray(0, this.lifeOrder.n);
    const tr = this.tr;
    const nt = tr.k.n;
    // dataset.ts' finish for `since`, and its mirror for `until`: records of signals received (or, without a
    // received line, last seen) outside the range go, and the trades of signals gone or entered outside it
    const range = (out: (t: number) => boolean, mark: number) => {
      for (const k of order) if (fl[k]! & LIVE && out(Number.isNaN(recv[k]!) ? lts[k]! : recv[k]!)) fl[k]! &= ~LIVE;
      for (let i = 0; i < nt; i++) {
        const k = tr.k.a[i]!;
        if (!(fl[k]! & LIVE) && (fl[k]! & mark || out(tr.entry.a[i]!))) tr.gone.a[i] = 1;
      }
    };
    const since = this.since;
    const until = this.until;
    if (since !== null) range((t) => t < since, BEFORE);
    if (until !== null) range((t) => t >= until, AFTER);
    const attr = this.attr.a;
    if (this.filtered) {
      // signals known only from the bus are the filter's when their decision, outcome or trade says so
      for (const k of order) if (attr[k] !== 1) fl[k]! &= ~LIVE;
      const sp = this.spans;
      for (let j = 0; j < sp.k.n; j++) if (attr[sp.k.a[j]!] === 1) this.tisOf(sp.state.a[j]!).push(sp.ms.a[j]!);
    }

    // the lifecycle table, its records in first-seen order
    const keyString = this.keyStrings();
    const lifeKeys = i32();
    for (const k of order) if (fl[k]! & LIVE) lifeKeys.push(k);
    const lk = lifeKeys.done();
    const life: LifeColumns = {
      n: lk.length,
      received: gather(new Float64Array(lk.length), recv, lk),
      state: gather(new Int32Array(lk.length), this.lState.a, lk),
      ts: gather(new Float64Array(lk.length), lts, lk),
      flags: gather(new Uint8Array(lk.length), fl, lk).map((f) => f & (LIFE_TERMINAL | LIFE_OPEN_AT_END)),
      signalId: (i) => {
        const key = keyString(lk[i]!);
        return key.slice(key.indexOf('|') + 1);
      },
    };

    // trades left: renumbered; the observed approvals point at theirs
    const tradeRow = new Int32Array(nt).fill(-1);
    const kept = i32();
    for (let i = 0; i < nt; i++) if (!tr.gone.a[i]) tradeRow[i] = kept.n, kept.push(i);
    const ki = kept.done();
    const trades: TradeColumns = {
      n: ki.length,
      strategy: gather(new Int32Array(ki.length), tr.strategy.a, ki),
      pnl: gather(new Int32Array(ki.length), tr.pnl.a, ki),
      entry: gather(new Float64Array(ki.length), tr.entry.a, ki),
      exit: gather(new Float64Array(ki.length), tr.exit.a, ki),
    };
    const dec = this.dec;
    const obs = { codes: i32(), trade: i32() };
    for (let j = 0; j < dec.k.n; j++) {
      if (!dec.approved.a[j]) continue;
      const t = this.tradeAt.a[dec.k.a[j]!]!;
      obs.codes.push(dec.observed.a[j]!);
      obs.trade.push(t < 0 ? -1 : tradeRow[t]!);
    }
    const sh = this.sh;
    const strs = this.strs;
    const lists = this.lists;
    return {
      runs: [...m.runs.values()].sort((a, b) => a.startedTs - b.startedTs),
      decisionCounts: m.decisionCounts, byStrategy: m.byStrategy, awaiting: m.awaiting, blockedWithoutOutcome: m.blockedWithoutOutcome,
      str: (i) => strs.at(i),
      list: (i) => lists.at(i),
      shadows: { n: sh.pnl.n, strategy: sh.strategy.done(), blockedBy: sh.list.done(), status: sh.status.done(), pnl: sh.pnl.done(), entry: sh.entry.done(), exit: sh.exit.done(), flags: sh.flags.done() },
      trades,
      observed: { n: obs.codes.n, codes: obs.codes.done(), trade: obs.trade.done() },
      life,
      timeInState: new Map([...this.tis].map(([state, c]) => [state, c.done()])),
      busErrors: m.busErrors, warnings: m.warnings, skipped: m.skipped, duplicates: m.duplicates,
      firstTs: m.firstTs, lastTs: m.lastTs,
    };
  }
}
