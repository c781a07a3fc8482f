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
import { handleRecord, isoFromParts, keyOf, Malformed, pickFields, type DecisionRec, type LifeRec, type LoadOptions, type RunInfo } from './dataset.ts';
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

/** What the report needs of one shadow outcome. */
export interface ShadowView {
  readonly strategy: string;
  readonly blockedBy: readonly string[];
  readonly status: string;
  readonly entryTs: number | null;
  readonly exitTs: number | null;
  readonly pnl: string;
  readonly overlaps: boolean;
  readonly bought: boolean;
}

/** What the report needs of one closed trade. */
export interface TradeView {
  readonly strategy: string;
  readonly entryTs: number;
  readonly exitTs: number;
  readonly pnl: string;
}

/** The read model's answer for one selection of runs (and `since`): what `buildReport` reads. */
export interface LogReadModel {
  readonly runs: RunInfo[];
  readonly decisions: ReadonlyMap<string, DecisionRec>;
  readonly decisionCounts: { approved: number; blocked: number };
  readonly byStrategy: ReadonlyMap<string, { signals: number; approved: number; blocked: number }>;
  readonly awaiting: ReadonlyMap<string, { all: number; sole: number }>;
  readonly blockedWithoutOutcome: number;
  /** in first-seen order; a later duplicate line replaces the values in place */
  readonly shadows: { readonly size: number; values(): IterableIterator<ShadowView> };
  readonly trades: { readonly size: number; get(key: string): TradeView | undefined; values(): IterableIterator<TradeView> };
  readonly life: ReadonlyMap<string, LifeRec>;
  readonly timeInState: ReadonlyMap<string, number[]>;
  readonly busErrors: number;
  readonly warnings: Record<string, number>;
  readonly skipped: Record<string, number>;
  readonly duplicates: Record<string, number>;
  readonly firstTs: number | null;
  readonly lastTs: number | null;
}


// ── growable columns ────────────────────────────────────────────────────────────
class F64 {
  a = new Float64Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) this.a = grow(this.a, new Float64Array(this.a.length * 2));
    this.a[this.n++] = v;
  }
}
class I32 {
  a = new Int32Array(1024);
  n = 0;
  /** n values v */
  static of(n: number, v: number): I32 {
    const x = new I32();
    x.a = new Int32Array(Math.max(1024, n)).fill(v, 0, n);
    x.n = n;
    return x;
  }
  push(v: number): void {
    if (this.n === this.a.length) this.a = grow(this.a, new Int32Array(this.a.length * 2));
    this.a[this.n++] = v;
  }
}
function grow<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
/** null timestamps as NaN in the columns */
const nn = (v: number | null): number => (v === null ? NaN : v);
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
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
}

/**
 * One pass per file (the bus, then the shadow outcomes, then the decisions): each file's sidecar rows where
 * `facts` has them (then its JSONL from where they end), else its JSONL bytes. The same model either way.
 */
export function readLogs(src: ByteLogSources, opts: ReadOptions = {}, facts?: ReadFacts): LogReadModel {
  if (opts.detail) throw new Error('readLogs: detail (one record per decision, prices, fills) is loadDataset’s');
  return new Reader(src, opts, facts ?? null).read();
}

class Reader {
  private readonly intern = new Interner();
  private readonly runsWanted: Set<string> | null;
  private readonly suffixes: Buffer[] | null;
  private readonly since: number | null;
  private readonly before: Set<string> | null;
  private readonly out = new Int32Array(3 * 20);

  // signals: run id → signal id → index into the per-signal columns
  private readonly keys = new Map<string, Map<string, number>>();
  private nKeys = 0;
  private shadowAt = new I32();
  private tradeAt = new I32();
  private decided = new I32();

  // shadow outcome columns, in first-seen order
  private readonly sh = { strategy: [] as string[], blockedBy: [] as Array<readonly string[]>, status: [] as string[], pnl: [] as string[], entry: new F64(), exit: new F64(), flags: new I32() };
  // trade columns
  private readonly tr = { key: [] as string[], strategy: [] as string[], pnl: [] as string[], entry: new F64(), exit: new F64(), gone: [] as boolean[] };

  private readonly m = {
    runs: new Map<string, RunInfo>(), decisions: new Map<string, DecisionRec>(), decisionCounts: { approved: 0, blocked: 0 },
    byStrategy: new Map<string, { signals: number; approved: number; blocked: number }>(), awaiting: new Map<string, { all: number; sole: number }>(),
    blockedWithoutOutcome: 0, life: new Map<string, LifeRec>(), timeInState: new Map<string, number[]>(), busErrors: 0,
    warnings: {} as Record<string, number>, skipped: {} as Record<string, number>, duplicates: {} as Record<string, number>, firstTs: null as number | null, lastTs: null as number | null,
  };

  private readonly until: number | null;
  private readonly after: Set<string> | null;
  private readonly strategy: string | null;
  private readonly pair: string | null;
  /** per key (with a strategy or pair filter): 1 when its signal is the filter's, 2 when it is not */
  private attr = new I32();
  /** with a strategy or pair filter: life keys' indices, and time-in-state spans kept until the signal is known */
  private readonly lifeKey = new Map<string, number>();
  private readonly spans: Array<{ state: string; ms: number; k: number }> = [];
  // sidecar rows: per ref, the key string (made once); the keys by value only once a JSONL line asks for one
  private refKey: Array<string | undefined> = [];
  private refsKeyed = true;

  constructor(private readonly src: ByteLogSources, opts: ReadOptions, private readonly facts: ReadFacts | null) {
    const run = opts.run ?? 'latest';
    this.runsWanted = run === 'all' ? null : run !== 'latest' ? new Set([run]) : this.latest();
    this.suffixes = this.runsWanted ? [...this.runsWanted].map((r) => Buffer.from(`"runId":"${r}"}`)) : null;
    this.since = opts.since ?? null;
    this.before = this.since === null ? null : new Set();
    this.until = opts.until ?? null;
    this.after = this.until === null ? null : new Set();
    this.strategy = opts.strategy ?? null;
    this.pair = opts.pair ?? null;
    if (facts) {
      // the sidecar's refs (run id, signal id) are the first keys, in their order: key index = ref
      const n = facts.tables.refRun.length;
      this.nKeys = n;
      this.shadowAt = I32.of(n, -1);
      this.tradeAt = I32.of(n, -1);
      this.decided = I32.of(n, 0);
      this.attr = I32.of(n, 0);
      this.refsKeyed = false;
    }
  }

  /** the last run started, in line order over the sidecar's rows and the JSONL around them */
  private latest(): Set<string> | null {
    const f = this.facts?.files.bus;
    let last: string | null = null;
    if (!f) last = lastRunStarted(this.src.bus);
    else {
      const strings = this.facts!.tables.strings;
      const { rows } = f;
      for (let i = 0; i < f.upTo; i++) {
        const kind = rows.kind[i];
        if (kind === K.RAW && rows.flags[i]! & F.RUN_STARTED) last = strings[rows.run[i]!]!;
        else if (kind === K.GAP) last = lastRunStarted(rangeOf(this.src.bus, rows.t1[i]!, rows.t2[i]!)) ?? last;
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
      const strings = this.facts!.tables.strings;
      for (let i = 0; i < f.upTo; i++) {
        const kind = rows.kind[i]!;
        if (kind === K.RAW) {
          const b = Buffer.from(strings[rows.a[i]!]!, 'utf8');
          if (b.length) line(b, 0, b.length, isAscii(b));
        } else if (kind === K.GAP) eachLine(rangeOf(src, rows.t1[i]!, rows.t2[i]!), line);
        else this.row(file, rows, i);
      }
      eachLine(rangeOf(src, f.from), line);
    }
    if (bad) this.m.skipped[src.name] = (this.m.skipped[src.name] ?? 0) + bad;
  }

  // ── a sidecar row: what the object path does with the line it stands for ─────────
  private row(file: FactFile, rows: Rows, i: number): void {
    const t = this.facts!.tables;
    const S_ = t.strings;
    const I = rows;
    const T = rows;
    const runId = S_[I.run[i]!]!;
    if (this.runsWanted !== null && !this.runsWanted.has(runId)) return;
    const ref = I.ref[i]!;
    const kind = rows.kind[i]!;
    const flags = rows.flags[i]!;
    const ts = T.ts[i]!;
    // outside the time range and no strategy or pair to note: what decision() and shadow() would do with it is nothing
    if (file !== 'bus' && !this.filtered && (this.since !== null || this.until !== null)) {
      const at = file === 'decisions' ? ts : firstOf(T.t1[i]!, T.t2[i]!, ts);
      if ((this.since !== null && at < this.since) || (this.until !== null && at >= this.until)) return;
    }
    if (file === 'decisions') {
      const signalId = S_[t.refSig[ref]!]!;
      const blockedBy = t.lists[I.d[i]!]!;
      const observedBlocks = t.lists[I.e[i]!]!;
      const strategy = S_[I.a[i]!]!;
      const pair = S_[I.b[i]!]!;
      const decision = flags & F.BLOCKED ? 'blocked' : 'approved';
      const keep = this.decision(this.kOf(ref), runId, signalId, ts, strategy, pair, decision, blockedBy, observedBlocks.length);
      if (keep !== null) {
        const q = T.t1[i]!;
        this.m.decisions.set(keep, { runId, signalId, ts, strategy, pair, side: S_[I.c[i]!]!, decision, blockedBy, observedBlocks, quantity: q < 0 ? null : S_[q]! });
      }
      return;
    }
    if (file === 'shadow') {
      const nul = orNull;
      this.shadow(this.kOf(ref), runId, ts, S_[I.a[i]!]!, S_[I.b[i]!]!, t.lists[I.d[i]!]!, S_[I.c[i]!]!, nul(T.t1[i]!), nul(T.t2[i]!), nul(T.t3[i]!), S_[I.e[i]!]!, (flags & F.OVERLAPS) !== 0, (flags & F.BOUGHT) !== 0);
      return;
    }
    this.seen(ts);
    switch (kind) {
      case K.RECEIVED:
        this.received(this.keyOfRef(ref), this.kOf(ref), ts);
        break;
      case K.TRANSITION:
        this.transition(this.keyOfRef(ref), this.kOf(ref), ts, S_[I.a[i]!]!, (flags & F.TERMINAL) !== 0);
        break;
      case K.OPEN_AT_END:
        this.openAtEnd(this.keyOfRef(ref), this.kOf(ref), ts);
        break;
      case K.TRADE: {
        const k = this.kOf(ref);
        if (this.tradeAt.a[k]! >= 0) this.dup(this.src.bus.name);
        this.trade(k, this.keyOfRef(ref), S_[I.a[i]!]!, S_[I.b[i]!]!, T.t2[i]!, T.t3[i]!, S_[I.e[i]!]!);
        break;
      }
      case K.BUS_ERROR:
        this.m.busErrors++;
        break;
      case K.WARNING: {
        const code = S_[I.a[i]!]!;
        this.m.warnings[code] = (this.m.warnings[code] ?? 0) + 1;
        break;
      }
      default:
        break;
    }
  }

  private kOf(ref: number): number {
    return ref;
  }
  private keyOfRef(ref: number): string {
    const t = this.facts!.tables;
    return (this.refKey[ref] ??= keyOf(t.strings[t.refRun[ref]!]!, t.strings[t.refSig[ref]!]!));
  }

  private get filtered(): boolean {
    return this.strategy !== null || this.pair !== null;
  }
  /** with a strategy or pair filter: notes whether key k's signal is the filter's; true when it is (or no filter) */
  private mark(k: number, strategy: string, pair: string): boolean {
    if (!this.filtered) return true;
    const yes = (this.strategy === null || strategy === this.strategy) && (this.pair === null || pair === this.pair);
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

  private keyIndex(runId: string, signalId: string): number {
    if (!this.refsKeyed) {
      this.refsKeyed = true;
      const t = this.facts!.tables;
      for (let r = 0; r < t.refRun.length; r++) {
        const id = t.strings[t.refRun[r]!]!;
        (this.keys.get(id) ?? this.keys.set(id, new Map()).get(id)!).set(t.strings[t.refSig[r]!]!, r);
      }
    }
    let run = this.keys.get(runId);
    if (!run) this.keys.set(runId, (run = new Map()));
    let i = run.get(signalId);
    if (i === undefined) {
      i = this.nKeys++;
      run.set(signalId, i);
      this.shadowAt.push(-1);
      this.tradeAt.push(-1);
      this.decided.push(0);
      this.attr.push(0);
    }
    return i;
  }

  private lifeOf(key: string, k: number, ts: number): LifeRec | null {
    if (this.before?.has(key) || this.after?.has(key)) return null;
    let l = this.m.life.get(key);
    if (!l) {
      this.m.life.set(key, (l = { receivedTs: null, state: 'received', ts, terminal: false, openAtEnd: false }));
      if (this.filtered) this.lifeKey.set(key, k);
    }
    return l;
  }

  private received(key: string, k: number, ts: number): void {
    if (this.before && ts < this.since!) {
      this.before.add(key);
      this.m.life.delete(key);
      return;
    }
    if (this.after && ts >= this.until!) {
      this.after.add(key);
      this.m.life.delete(key);
      return;
    }
    const l = this.lifeOf(key, k, ts);
    if (l) l.receivedTs = ts;
  }

  private transition(key: string, k: number, ts: number, to: string, terminal: boolean): void {
    const l = this.lifeOf(key, k, ts);
    if (!l) return;
    if (this.filtered) this.spans.push({ state: l.state, ms: ts - l.ts, k });
    else {
      const spent = this.m.timeInState.get(l.state) ?? this.m.timeInState.set(l.state, []).get(l.state)!;
      spent.push(ts - l.ts);
    }
    l.state = to;
    l.ts = ts;
    if (terminal) l.terminal = true;
  }

  private openAtEnd(key: string, k: number, ts: number): void {
    const l = this.lifeOf(key, k, ts);
    if (l) l.openAtEnd = true;
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
      case 'signal.received': {
        const signalId = str(o, 'signalId');
        this.received(keyOf(runId, signalId), this.keyIndex(runId, signalId), ts);
        break;
      }
      case 'signal.transition': {
        const to = str(o, 'to');
        const signalId = str(o, 'signalId');
        this.transition(keyOf(runId, signalId), this.keyIndex(runId, signalId), ts, to, o.terminal === true);
        break;
      }
      case 'signal.open_at_end': {
        const signalId = str(o, 'signalId');
        this.openAtEnd(keyOf(runId, signalId), this.keyIndex(runId, signalId), ts);
        break;
      }
      case 'trade.closed': {
        const signalId = str(o, 'signalId');
        const key = keyOf(runId, signalId);
        const k = this.keyIndex(runId, signalId);
        if (this.tradeAt.a[k]! >= 0) this.dup(this.src.bus.name); // counted before the fields are checked, as dataset.ts does
        const f = tradeFields(o);
        this.trade(k, key, this.intern.str(f.strategy), this.intern.str(f.pair), f.entryTs, f.exitTs, f.pnl);
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

  private trade(k: number, key: string, strategy: string, pair: string, entryTs: number, exitTs: number, pnl: string): void {
    if (!this.mark(k, strategy, pair)) return;
    const tr = this.tr;
    let at = this.tradeAt.a[k]!;
    if (at < 0) {
      at = tr.key.length;
      this.tradeAt.a[k] = at;
      tr.key.push(key);
      tr.strategy.push('');
      tr.pnl.push('');
      tr.entry.push(0);
      tr.exit.push(0);
      tr.gone.push(false);
    }
    tr.strategy[at] = strategy;
    tr.pnl[at] = pnl;
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
    const strategy = it.str(str(o, 'strategy'));
    const pair = it.str(str(o, 'pair'));
    const blockedBy = it.codes(codes(o, 'blockedBy'));
    const decidedTs = optTime(o, 'decidedTs');
    const entryTs = optTime(o, 'entryTs');
    const exitTs = optTime(o, 'exitTs');
    const pnl = decimal(o, 'pnl');
    const overlaps = o.overlaps;
    this.shadow(this.keyIndex(runId, signalId), runId, ts, strategy, pair, blockedBy, status, decidedTs, entryTs, exitTs, pnl, overlaps, boughtOf(status, quantity));
  }

  private shadow(k: number, _runId: string, ts: number, strategy: string, pair: string, blockedBy: readonly string[], status: string, decidedTs: number | null, entryTs: number | null, exitTs: number | null, pnl: string, overlaps: boolean, bought: boolean): void {
    if (!this.mark(k, strategy, pair)) return;
    const at0 = decidedTs ?? entryTs ?? ts;
    if ((this.since !== null && at0 < this.since) || (this.until !== null && at0 >= this.until)) return;
    const sh = this.sh;
    let at = this.shadowAt.a[k]!;
    if (at >= 0) this.dup(this.src.shadow.name);
    else {
      at = sh.pnl.length;
      this.shadowAt.a[k] = at;
      sh.strategy.push('');
      sh.blockedBy.push([]);
      sh.status.push('');
      sh.pnl.push('');
      sh.entry.push(0);
      sh.exit.push(0);
      sh.flags.push(0);
    }
    sh.strategy[at] = strategy;
    sh.blockedBy[at] = blockedBy;
    sh.status[at] = status;
    sh.pnl[at] = pnl;
    sh.entry.a[at] = nn(entryTs);
    sh.exit.a[at] = nn(exitTs);
    sh.flags.a[at] = (overlaps ? 1 : 0) | (bought ? 2 : 0);
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
    this.shadow(
      this.keyIndex(runId, b.toString('latin1', out[at.signalId! * 3 + 1]!, out[at.signalId! * 3 + 2]!)), runId, ts, it.bytes(b, out[at.strategy! * 3 + 1]!, out[at.strategy! * 3 + 2]!), it.bytes(b, out[at.pair! * 3 + 1]!, out[at.pair! * 3 + 2]!),
      it.codeBytes(b, out[at.blockedBy! * 3 + 1]!, out[at.blockedBy! * 3 + 2]!), status, decidedTs, entryTs, exitTs, b.toString('latin1', out[at.pnl! * 3 + 1]!, out[at.pnl! * 3 + 2]!), ov === TRUE, bought,
    );
    return true;
  }

  // ── decisions (after the outcomes: a blocked one without an outcome is awaiting it) ─
  private decisionObject(o: Record<string, unknown>): void {
    if (!this.wanted(o.runId)) return;
    const decision = o.decision;
    if (decision !== 'approved' && decision !== 'blocked') throw new Malformed('decision');
    const rec: DecisionRec = {
      runId: o.runId, signalId: str(o, 'signalId'), ts: time(o, 'ts'), strategy: str(o, 'strategy'), pair: str(o, 'pair'), side: str(o, 'side'),
      decision, blockedBy: codes(o, 'blockedBy'), observedBlocks: codes(o, 'observedBlocks'), quantity: optStr(o, 'quantity'),
    };
    const keep = this.decision(this.keyIndex(rec.runId, rec.signalId), rec.runId, rec.signalId, rec.ts, this.intern.str(rec.strategy), rec.pair, decision, rec.blockedBy, rec.observedBlocks.length);
    if (keep !== null) this.m.decisions.set(keep, rec);
  }

  /** counts the decision; returns the key to keep its record under (set or replace), or null */
  private decision(k: number, runId: string, signalId: string, ts: number, strategy: string, pair: string, decision: 'approved' | 'blocked', blockedBy: readonly string[], observed: number): string | null {
    if (!this.mark(k, strategy, pair)) return null;
    if ((this.since !== null && ts < this.since) || (this.until !== null && ts >= this.until)) return null;
    const m = this.m;
    if (this.decided.a[k]) {
      const key = keyOf(runId, signalId);
      this.dup(this.src.decisions.name); // the later line wins for the one-by-one record; counts keep the first
      return m.decisions.has(key) ? key : null;
    }
    this.decided.a[k] = 1;
    m.decisionCounts[decision]++;
    const st = m.byStrategy.get(strategy) ?? m.byStrategy.set(strategy, { signals: 0, approved: 0, blocked: 0 }).get(strategy)!;
    st.signals++;
    st[decision]++;
    if (decision === 'blocked' && this.shadowAt.a[k]! < 0) {
      m.blockedWithoutOutcome++;
      for (const code of blockedBy) {
        const a = m.awaiting.get(code) ?? m.awaiting.set(code, { all: 0, sole: 0 }).get(code)!;
        a.all++;
        if (blockedBy.length === 1) a.sole++;
      }
    }
    return decision === 'approved' && observed > 0 ? keyOf(runId, signalId) : null;
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
    const strategy = it.bytes(b, out[at.strategy! * 3 + 1]!, out[at.strategy! * 3 + 2]!);
    const blockedBy = bk === ARR ? it.codeBytes(b, out[at.blockedBy! * 3 + 1]!, out[at.blockedBy! * 3 + 2]!) : it.codes([]);
    const observedBlocks = ok === ARR ? it.codeBytes(b, out[at.observedBlocks! * 3 + 1]!, out[at.observedBlocks! * 3 + 2]!) : it.codes([]);
    const pair = b.toString('latin1', out[at.pair! * 3 + 1]!, out[at.pair! * 3 + 2]!);
    const keep = this.decision(this.keyIndex(runId, signalId), runId, signalId, ts, strategy, pair, decision, blockedBy, observedBlocks.length);
    if (keep !== null) {
      this.m.decisions.set(keep, {
        runId, signalId, ts, strategy, pair, side: b.toString('latin1', out[at.side! * 3 + 1]!, out[at.side! * 3 + 2]!),
        decision, blockedBy, observedBlocks, quantity: q === STR ? b.toString('latin1', out[at.quantity! * 3 + 1]!, out[at.quantity! * 3 + 2]!) : null,
      });
    }
    return true;
  }

  // ── the answer ───────────────────────────────────────────────────────────────
  private finish(): LogReadModel {
    const m = this.m;
    const since = this.since;
    if (since !== null) {
      for (const [key, l] of m.life) if ((l.receivedTs ?? l.ts) < since) m.life.delete(key);
      const tr = this.tr;
      for (let i = 0; i < tr.key.length; i++) if (!m.life.has(tr.key[i]!) && (this.before!.has(tr.key[i]!) || tr.entry.a[i]! < since)) tr.gone[i] = true;
    }
    const until = this.until;
    if (until !== null) {
      for (const [key, l] of m.life) if ((l.receivedTs ?? l.ts) >= until) m.life.delete(key);
      const tr = this.tr;
      for (let i = 0; i < tr.key.length; i++) if (!m.life.has(tr.key[i]!) && (this.after!.has(tr.key[i]!) || tr.entry.a[i]! >= until)) tr.gone[i] = true;
    }
    if (this.filtered) {
      // signals known only from the bus are the filter's when their decision, outcome or trade says so
      const attr = this.attr.a;
      for (const [key, k] of this.lifeKey) if (attr[k] !== 1) m.life.delete(key);
      for (const { state, ms, k } of this.spans) {
        if (attr[k] !== 1) continue;
        (m.timeInState.get(state) ?? m.timeInState.set(state, []).get(state)!).push(ms);
      }
    }
    const sh = this.sh;
    const tr = this.tr;
    const n = sh.pnl.length;
    const shadows = {
      size: n,
      *values(): IterableIterator<ShadowView> {
        for (let i = 0; i < n; i++) {
          const f = sh.flags.a[i]!;
          yield { strategy: sh.strategy[i]!, blockedBy: sh.blockedBy[i]!, status: sh.status[i]!, entryTs: orNull(sh.entry.a[i]!), exitTs: orNull(sh.exit.a[i]!), pnl: sh.pnl[i]!, overlaps: (f & 1) !== 0, bought: (f & 2) !== 0 };
        }
      },
    };
    const tradeView = (i: number): TradeView => ({ strategy: tr.strategy[i]!, entryTs: tr.entry.a[i]!, exitTs: tr.exit.a[i]!, pnl: tr.pnl[i]! });
    let byKey: Map<string, number> | null = null;
    const trades = {
      size: tr.gone.reduce((a, g) => a + (g ? 0 : 1), 0),
      get(key: string): TradeView | undefined {
        byKey ??= new Map(tr.key.map((k, i) => [k, i]));
        const i = byKey.get(key);
        return i === undefined || tr.gone[i] ? undefined : tradeView(i);
      },
      *values(): IterableIterator<TradeView> {
        for (let i = 0; i < tr.key.length; i++) if (!tr.gone[i]) yield tradeView(i);
      },
    };
    return {
      runs: [...m.runs.values()].sort((a, b) => a.startedTs - b.startedTs),
      decisions: m.decisions, decisionCounts: m.decisionCounts, byStrategy: m.byStrategy, awaiting: m.awaiting, blockedWithoutOutcome: m.blockedWithoutOutcome,
      shadows, trades, life: m.life, timeInState: m.timeInState, busErrors: m.busErrors, warnings: m.warnings, skipped: m.skipped, duplicates: m.duplicates,
      firstTs: m.firstTs, lastTs: m.lastTs,
    };
  }
}
