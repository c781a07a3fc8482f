/**
 * The report's facts of one log line, as columns (issue 13): what read-model.ts' Reader takes from a line,
 * taken instead from the record the tracker appends (sidecar.ts keeps them on disk beside the JSONL).
 *
 * A record becomes one row of its file: a typed row (decision, shadow outcome, or one of the bus events the
 * report reads) when it passes exactly the checks the Reader's object path makes, else a RAW row holding the
 * line's text, which the Reader then reads as it reads a JSONL line. GAP rows name a byte range of the JSONL
 * the sidecar does not hold (lines written without it); RESET voids the file's earlier rows.
 * Repeated values (run ids, signal ids, strategies, pairs, codes, decimals) are interned to small integers.
 */
import { Malformed, parseIso } from './dataset.ts';

// ── the object path's checks (shared with read-model.ts: one definition) ──────────────
export const isStr = (v: unknown): v is string => typeof v === 'string';
/** `v`, the value of field `k`, when it is a string */
function strOf(v: unknown, k: string): string {
  if (typeof v !== 'string') throw new Malformed(k);
  return v;
}
export function str(o: Record<string, unknown>, k: string): string {
  return strOf(o[k], k);
}
const optStrOf = (v: unknown, k: string): string | null => (v === null || v === undefined ? null : strOf(v, k));
export function optStr(o: Record<string, unknown>, k: string): string | null {
  return optStrOf(o[k], k);
}
// the last time parsed: the lines of one candle mostly share their time, so most are parsed once
let lastIso = '';
let lastTime = NaN;
function parsed(s: string, k: string): number {
  if (s !== lastIso) {
    lastTime = parseIso(s);
    lastIso = s;
  }
  if (Number.isNaN(lastTime)) throw new Malformed(k);
  return lastTime;
}
const timeOf = (v: unknown, k: string): number => parsed(strOf(v, k), k);
export function time(o: Record<string, unknown>, k: string): number {
  return timeOf(o[k], k);
}
export function optTime(o: Record<string, unknown>, k: string): number | null {
  const s = optStrOf(o[k], k);
  return s === null ? null : parsed(s, k);
}
function codesOf(v: unknown, k: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isStr)) throw new Malformed(k);
  return v;
}
export function codes(o: Record<string, unknown>, k: string): string[] {
  return codesOf(o[k], k);
}
const DEC = /^-?\d+(\.\d+)?$/;
function decimalOf(v: unknown, k: string): string {
  const s = strOf(v, k);
  if (!DEC.test(s)) throw new Malformed(k);
  return s;
}
export function decimal(o: Record<string, unknown>, k: string): string {
  return decimalOf(o[k], k);
}
/** a `trade.closed` line's fields after its signal id, checked as the report checks them */
export function tradeFields(o: Record<string, unknown>): { strategy: string; pair: string; entryTs: number; exitTs: number; pnl: string } {
  const strategy = strOf(o.strategy, 'strategy');
  const pair = strOf(o.pair, 'pair');
  const entryTs = timeOf(o.entryTs, 'entryTs');
  decimalOf(o.entryPrice, 'entryPrice');
  const exitTs = timeOf(o.exitTs, 'exitTs');
  decimalOf(o.exitPrice, 'exitPrice');
  strOf(o.exitReason, 'exitReason');
  decimalOf(o.quantity, 'quantity');
  decimalOf(o.fees, 'fees');
  return { strategy, pair, entryTs, exitTs, pnl: decimalOf(o.pnl, 'pnl') };
}
/** a shadow outcome that bought something (the report's `filled`) */
export const boughtOf = (status: string, quantity: string): boolean => (status === 'closed' || status === 'open_at_end') && /[1-9]/.test(quantity);

export const FILES = ['bus', 'decisions', 'shadow'] as const;
export type FactFile = (typeof FILES)[number];

/** row kinds */
export const K = {
  RAW: 1, GAP: 2, RESET: 3, DECISION: 4, SHADOW: 5,
  RECEIVED: 6, TRANSITION: 7, OPEN_AT_END: 8, TRADE: 9, BUS_ERROR: 10, WARNING: 11, OTHER: 12,
} as const;
/** flags */
export const F = { RUN_STARTED: 1, BLOCKED: 2, OVERLAPS: 4, BOUGHT: 8, TERMINAL: 16 } as const;

/**
 * One file's rows. Columns by kind (-1 / NaN when unused):
 * - RAW: a = the line (string); flags RUN_STARTED with run = its run id when it is a `run.started` line
 * - GAP: t1, t2 = the JSONL byte range [from, to) to read instead
 * - DECISION: a strategy, b pair, c side, d blockedBy (list), e observedBlocks (list), t1 quantity (string or -1); flags BLOCKED
 * - SHADOW: a strategy, b pair, c status, d blockedBy (list), e pnl, t1 decidedTs, t2 entryTs, t3 exitTs; flags OVERLAPS, BOUGHT
 * - TRANSITION: a `to`; flags TERMINAL. TRADE: a strategy, b pair, e pnl, t2 entryTs, t3 exitTs. WARNING: a code.
 */
export const I32_COLS = ['run', 'ref', 'a', 'b', 'c', 'd', 'e'] as const;
export const F64_COLS = ['ts', 't1', 't2', 't3'] as const;

export class Rows {
  n = 0;
  kind = new Uint8Array(256);
  flags = new Uint8Array(256);
  run = new Int32Array(256);
  ref = new Int32Array(256);
  a = new Int32Array(256);
  b = new Int32Array(256);
  c = new Int32Array(256);
  d = new Int32Array(256);
  e = new Int32Array(256);
  ts = new Float64Array(256);
  t1 = new Float64Array(256);
  t2 = new Float64Array(256);
  t3 = new Float64Array(256);

  /** room for `extra` more rows: doubling, or exactly (`exact`: the count is known) */
  reserve(extra: number, exact = false): void {
    const need = this.n + extra;
    if (need <= this.kind.length) return;
    let cap = this.kind.length;
    if (exact) cap = need;
    else while (cap < need) cap *= 2;
    const g = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.kind = g(this.kind, (n) => new Uint8Array(n));
    this.flags = g(this.flags, (n) => new Uint8Array(n));
    for (const c of I32_COLS) this[c] = g(this[c], (n) => new Int32Array(n));
    for (const c of F64_COLS) this[c] = g(this[c], (n) => new Float64Array(n));
  }

  /** a new row (-1 / NaN in every column) and its index */
  add(kind: number, flags: number, run: number, ref: number, ts: number): number {
    if (this.n === this.kind.length) this.reserve(1);
    const i = this.n++;
    this.kind[i] = kind;
    this.flags[i] = flags;
    this.run[i] = run;
    this.ref[i] = ref;
    this.a[i] = this.b[i] = this.c[i] = this.d[i] = this.e[i] = -1;
    this.ts[i] = ts;
    this.t1[i] = this.t2[i] = this.t3[i] = NaN;
    return i;
  }

  /** rows [keep, from) removed, the rows from `from` on moved up to `keep` */
  cut(keep: number, from: number): void {
    const m = this.n - from;
    this.kind.copyWithin(keep, from, this.n);
    this.flags.copyWithin(keep, from, this.n);
    for (const c of I32_COLS) this[c].copyWithin(keep, from, this.n);
    for (const c of F64_COLS) this[c].copyWithin(keep, from, this.n);
    this.n = keep + m;
  }

  clear(): void {
    this.n = 0;
  }

  /** the columns freed (no rows): once a reader that owns them has read them */
  release(): void {
    this.n = 0;
    this.kind = new Uint8Array(0);
    this.flags = new Uint8Array(0);
    for (const c of I32_COLS) this[c] = new Int32Array(0);
    for (const c of F64_COLS) this[c] = new Float64Array(0);
  }
}

/**
 * The sidecar's values as a reader has them: strings, code lists (of strings), signal refs (run id, signal id),
 * each in the order the frames define them. A writer's memory is bounded (WriterTables), so it may define a
 * value again: strings and lists are read by value, so a second copy changes nothing; a ref is a signal's
 * identity (its key index), so one defined again is mapped to the first (`refOf`) and rows name the first.
 * Strings are kept as their UTF-8 bytes (one buffer, an offset each) and made a JS string only when one is
 * asked for (`str`): most are signal ids, which a report needs only for a stuck signal or a JSONL line's key.
 */
export class Tables {
  readonly lists: Array<readonly string[]> = [];
  /** ref → run string, signal id string (string numbers): each signal once */
  refRun: Int32Array<ArrayBuffer> = new Int32Array(1024);
  refSig: Int32Array<ArrayBuffer> = new Int32Array(1024);
  /** refs (signals), each once */
  refs = 0;
  /** refs defined by the frames, repeats included (the numbers rows are written with) */
  refDefs = 0;
  /** false once a ref was defined again: rows' refs are then mapped through refOf */
  sameRefs = true;
  /** strings defined */
  nStrings = 0;
  // the frames' string sections as they are (u32 length + UTF-8, one after another): string i's bytes start at
  // at[i], its length the u32 before; vals[i] its JS string once asked for
  private bytes: Buffer = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private at: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private vals: Array<string | undefined> = [];
  // the refs by value: an open-addressing table of pairs (ref + 1, 0 empty; its hash): one cache line per probe
  private slots: Int32Array<ArrayBuffer> = new Int32Array(2048);
  // a defined ref number → its ref, once a ref was defined again (before that, the same number)
  private of: Int32Array<ArrayBuffer> | null = null;
  private lastRun = -1;
  private lastRunHash = 0;

  /** string i */
  str(i: number): string {
    return this.vals[i] ?? this.make(i);
  }
  private make(i: number): string {
    const s = this.at[i]!;
    const v = this.bytes.toString('utf8', s, s + u32(this.bytes, s - 4));
    this.vals[i] = v;
    return v;
  }
  /** string i's UTF-8 bytes: [buffer, start, end) (valid until more strings are added) */
  bytesOf(i: number): [Buffer, number, number] {
    const s = this.at[i]!;
    return [this.bytes, s, s + u32(this.bytes, s - 4)];
  }

  /**
   * Run and signal id of a ref, by functions that hold only the strings' bytes and the refs as they are now (not
   * the lookup tables, nor strings made): what a read model keeps, for a stuck signal's id, after the sidecar is gone.
   */
  refNames(): { run(k: number): string; sig(k: number): string } {
    const { bytes, at, refRun, refSig } = this;
    const s = (i: number): string => bytes.toString('utf8', at[i]!, at[i]! + u32(bytes, at[i]! - 4));
    const runs = new Map<number, string>(); // few: made once each
    return {
      run: (k) => {
        const r = refRun[k]!;
        let v = runs.get(r);
        if (v === undefined) runs.set(r, (v = s(r)));
        return v;
      },
      sig: (k) => s(refSig[k]!),
    };
  }

  /** room for `strings` more strings in string sections of `bytes` bytes in all, and `refs` more refs: no growing while they come */
  reserve(strings: number, bytes: number, refs: number): void {
    if (this.nStrings + strings > this.at.length) this.at = grown(this.at, this.nStrings + strings);
    this.room(bytes);
    if (this.refs + refs > this.refRun.length) {
      this.refRun = grown(this.refRun, this.refs + refs);
      this.refSig = grown(this.refSig, this.refs + refs);
    }
    let cap = this.slots.length / 2;
    while (2 * (this.refs + refs) > cap) cap *= 2;
    if (cap > this.slots.length / 2) this.rehash(cap);
  }
  private room(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    const b = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + bytes));
    this.bytes.copy(b, 0, 0, this.used);
    this.bytes = b;
  }

  /** a frame's `n` strings, src[q, ...) as u32 length + UTF-8 each: one copy; returns the offset after them */
  addStrings(src: Buffer, q: number, n: number): number {
    if (this.nStrings + n > this.at.length) this.at = grown(this.at, Math.max(2 * this.at.length, this.nStrings + n));
    const at = this.at;
    const base = this.used - q;
    let p = q;
    for (let i = 0; i < n; i++) {
      at[this.nStrings + i] = base + p + 4;
      p += 4 + u32(src, p);
    }
    this.room(p - q);
    src.copy(this.bytes, this.used, q, p);
    this.used += p - q;
    this.nStrings += n;
    return p;
  }

  /** the refs' lookup table freed, once the tables are only read (no frame is decoded into them again) */
  release(): void {
    // the map of refs defined again stays: a sidecar's rows decoded later (sidecar.ts' lazy load) still go through refOf
    this.slots = new Int32Array(0);
  }

  /** the ref that the file's ref number `def` names */
  refOf(def: number): number {
    return this.of === null ? def : this.of[def]!;
  }

  /** a ref defined by a frame (run and signal id as string numbers): its ref, the first one of that signal */
  adoptRef(run: number, sig: number): number {
    if (this.slots.length === 0) throw new Error('Tables.adoptRef: the tables were released');
    const B = this.bytes;
    const at = this.at;
    if (run !== this.lastRun) {
      this.lastRun = run;
      this.lastRunHash = hash(this.str(run), 0x811c9dc5);
    }
    const s0 = at[sig]!;
    const s1 = s0 + u32(B, s0 - 4);
    const h = hashBytes(B, s0, s1, this.lastRunHash);
    const slots = this.slots;
    const mask = slots.length / 2 - 1;
    let j = h & mask;
    let i = -1;
    for (let k = slots[2 * j]!; k > 0; j = (j + 1) & mask, k = slots[2 * j]!) {
      if (slots[2 * j + 1] === h) {
        const o = at[this.refSig[k - 1]!]!;
        const r = this.refRun[k - 1]!;
        if (sameBytes(B, o, o + u32(B, o - 4), s0, s1) && (r === run || this.str(r) === this.str(run))) {
          i = k - 1;
          break;
        }
      }
    }
    if (i < 0) {
      i = this.refs++;
      if (i === this.refRun.length) {
        this.refRun = grown(this.refRun, 2 * i);
        this.refSig = grown(this.refSig, 2 * i);
      }
      this.refRun[i] = run;
      this.refSig[i] = sig;
      slots[2 * j] = i + 1;
      slots[2 * j + 1] = h;
      if (2 * this.refs > slots.length / 2) this.rehash(slots.length);
    }
    const def = this.refDefs++;
    if (i !== def && this.of === null) {
      this.sameRefs = false;
      this.of = Int32Array.from({ length: def }, (_, x) => x);
    }
    if (this.of !== null) {
      if (def >= this.of.length) this.of = grown(this.of, 2 * def + 16);
      this.of[def] = i;
    }
    return i;
  }

  /** the ref table with `cap` slots */
  private rehash(cap: number): void {
    const old = this.slots;
    const slots = new Int32Array(2 * cap);
    const mask = cap - 1;
    for (let x = 0; x < old.length; x += 2) {
      if (old[x] === 0) continue;
      let j = old[x + 1]! & mask;
      while (slots[2 * j]! > 0) j = (j + 1) & mask;
      slots[2 * j] = old[x]!;
      slots[2 * j + 1] = old[x + 1]!;
    }
    this.slots = slots;
  }
}

const u32 = (b: Buffer, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;

/** FNV-1a over a string's length and UTF-16 units (its first 8 and last 16 when longer: ids differ there), on from `h` */
function hash(s: string, h: number): number {
  const n = s.length;
  h = Math.imul(h ^ n, 0x01000193);
  if (n <= 24) for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  else {
    for (let i = 0; i < 8; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - 16; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h & 0x7fffffff;
}
/** hash's FNV-1a over bytes b[s, e) (the same sampling) */
function hashBytes(b: Buffer, s: number, e: number, h: number): number {
  const n = e - s;
  h = Math.imul(h ^ n, 0x01000193);
  if (n <= 24) for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  else {
    for (let i = s; i < s + 8; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    for (let i = e - 16; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  }
  return h & 0x7fffffff;
}
function sameBytes(b: Buffer, s0: number, e0: number, s1: number, e1: number): boolean {
  if (e0 - s0 !== e1 - s1) return false;
  for (let i = 0; i < e0 - s0; i++) if (b[s0 + i] !== b[s1 + i]) return false;
  return true;
}
const grown = (a: Int32Array, n: number): Int32Array<ArrayBuffer> => {
  const b = new Int32Array(n);
  b.set(a);
  return b;
};

/** What rowOf needs of its tables: the number of a value, defining it when it is new. */
export interface Interning {
  str(v: string): number;
  /** a string used once (a RAW line): defined without being looked up or remembered */
  once(v: string): number;
  list(xs: readonly string[]): number;
  ref(runId: string, signalId: string): number;
}

/** values remembered: the last `cap` used at least (two generations: a value used in either stays) */
class Recent<V> {
  private hot = new Map<string, V>();
  private cold = new Map<string, V>();
  // keys last found in `hot`, in a slot by length and last character (emptied when `hot` is replaced, so a key
  // here is in `hot`: finding it here is finding it there, without the lookup); rows repeat a run, a signal, a pair
  private readonly memoK: Array<string | undefined> = new Array<string | undefined>(32).fill(undefined);
  private readonly memoV: Array<V | undefined> = new Array<V | undefined>(32).fill(undefined);
  constructor(private readonly cap: number) {}
  get(k: string): V | undefined {
    const j = (k.length * 31 + k.charCodeAt(k.length - 1)) & 31; // '' → NaN & 31 = 0
    if (this.memoK[j] === k) return this.memoV[j];
    const v = this.hot.get(k);
    if (v !== undefined) {
      this.memoK[j] = k;
      this.memoV[j] = v;
      return v;
    }
    const c = this.cold.get(k);
    if (c !== undefined) this.set(k, c);
    return c;
  }
  set(k: string, v: V): void {
    if (this.hot.size >= this.cap) {
      this.cold = this.hot;
      this.hot = new Map();
      this.memoK.fill(undefined);
    }
    this.hot.set(k, v);
  }
  get size(): number {
    return this.hot.size + this.cold.size;
  }
}

/** How many values of each kind a writer remembers (per generation): its memory, whatever the run's length. */
export const WRITER_CACHE = { strings: 4096, lists: 512, refs: 4096 };

/**
 * A writer's values: numbered in the file's order (after `start`, what the sidecar already defines), the
 * recently used ones remembered, a value forgotten defined again when it comes back (Tables maps such a ref
 * to its first). The definitions not yet written are taken by the next frame (`take`).
 */
export class WriterTables implements Interning {
  private nS: number;
  private nL: number;
  private nR: number;
  private readonly s: Recent<number>;
  private readonly l: Recent<number>;
  private readonly r: Recent<number>;
  private none = -1;
  private run: string | null = null;
  pending = { strings: [] as string[], lists: [] as number[][], refs: [] as number[] };

  constructor(start: { strings: number; lists: number; refs: number }, cache = WRITER_CACHE) {
    this.nS = start.strings;
    this.nL = start.lists;
    this.nR = start.refs;
    this.s = new Recent(cache.strings);
    this.l = new Recent(cache.lists);
    this.r = new Recent(cache.refs);
  }

  /** the definitions made since the last take */
  take(): WriterTables['pending'] {
    const p = this.pending;
    this.pending = { strings: [], lists: [], refs: [] };
    return p;
  }

  /** the values remembered, per kind (bounded by twice WRITER_CACHE's) */
  sizes(): { strings: number; lists: number; refs: number } {
    return { strings: this.s.size, lists: this.l.size, refs: this.r.size };
  }

  once(v: string): number {
    this.pending.strings.push(v);
    return this.nS++;
  }
  str(v: string): number {
    let i = this.s.get(v);
    if (i === undefined) this.s.set(v, (i = this.once(v)));
    return i;
  }
  list(xs: readonly string[]): number {
    // most lists are empty: found without a key string (a list's number stays valid once written)
    if (xs.length === 0 && this.none >= 0) return this.none;
    const k = listKey(xs);
    let i = this.l.get(k);
    if (i === undefined) {
      this.pending.lists.push(xs.map((x) => this.str(x)));
      this.l.set(k, (i = this.nL++));
    }
    if (xs.length === 0) this.none = i;
    return i;
  }
  ref(runId: string, signalId: string): number {
    // the writer's run (the first it is given) keys its signals by their id alone: no key string built per row.
    // Any other run's, and an id that could pass for such a key, as run NUL id behind a NUL.
    this.run ??= runId;
    const k = runId === this.run && signalId.charCodeAt(0) !== 0 ? signalId : `\u0000${runId}\u0000${signalId}`;
    let i = this.r.get(k);
    if (i === undefined) {
      this.pending.refs.push(this.str(runId), this.str(signalId));
      this.r.set(k, (i = this.nR++));
    }
    return i;
  }
}

const listKey = (xs: readonly string[]): string => xs.join('\u0000') + (xs.length ? '' : '\u0001');

export function rawRow(rows: Rows, t: Interning, line: string, runStarted: string | null): void {
  const i = rows.add(K.RAW, runStarted === null ? 0 : F.RUN_STARTED, runStarted === null ? -1 : t.str(runStarted), -1, NaN);
  rows.a[i] = t.once(line);
}
export function gapRow(rows: Rows, from: number, to: number): void {
  const i = rows.add(K.GAP, 0, -1, -1, NaN);
  rows.t1[i] = from;
  rows.t2[i] = to;
}
/** the file's rows cut back to the first `keep` */
export function resetRow(rows: Rows, keep: number): void {
  const i = rows.add(K.RESET, 0, -1, -1, NaN); // first: add may grow the columns
  rows.a[i] = keep;
}

/**
 * The row of one record, appended to `rows`, with the Reader's object-path checks: the typed row, or RAW (the
 * record's JSON text) when a check fails or the event is one the report reads whole (run.started, run.finished).
 */
export function rowOf(file: FactFile, o: Record<string, unknown>, t: Interning, rows: Rows, line: string = JSON.stringify(o)): void {
  const n = rows.n;
  try {
    if (typedRow(file, o, t, rows)) return;
  } catch (e) {
    if (!(e instanceof Malformed)) throw e;
  }
  rows.n = n; // a row begun and refused
  rawRow(rows, t, line, file === 'bus' && o.event === 'run.started' && isStr(o.runId) ? o.runId : null);
}

// the fields are read by name where the record's kind is known (the checks above on the value): one record
// shape per property site, instead of a property looked up by a key variable on every shape
/** an optional time, NaN when absent */
const optTimeOf = (v: unknown, k: string): number => {
  const s = optStrOf(v, k);
  return s === null ? NaN : parsed(s, k);
};

function typedRow(file: FactFile, o: Record<string, unknown>, t: Interning, rows: Rows): boolean {
  const runId = o.runId;
  if (!isStr(runId)) throw new Malformed('runId');
  if (file === 'decisions') {
    const decision = o.decision;
    if (decision !== 'approved' && decision !== 'blocked') throw new Malformed('decision');
    const signalId = strOf(o.signalId, 'signalId');
    const i = rows.add(K.DECISION, decision === 'blocked' ? F.BLOCKED : 0, t.str(runId), t.ref(runId, signalId), timeOf(o.ts, 'ts'));
    rows.a[i] = t.str(strOf(o.strategy, 'strategy'));
    rows.b[i] = t.str(strOf(o.pair, 'pair'));
    rows.c[i] = t.str(strOf(o.side, 'side'));
    rows.d[i] = t.list(codesOf(o.blockedBy, 'blockedBy'));
    rows.e[i] = t.list(codesOf(o.observedBlocks, 'observedBlocks'));
    const q = optStrOf(o.quantity, 'quantity');
    rows.t1[i] = q === null ? -1 : t.str(q);
    return true;
  }
  if (file === 'shadow') {
    if (typeof o.overlaps !== 'boolean') throw new Malformed('overlaps');
    const status = strOf(o.status, 'status');
    const quantity = decimalOf(o.quantity, 'quantity');
    const signalId = strOf(o.signalId, 'signalId');
    const i = rows.add(K.SHADOW, (o.overlaps ? F.OVERLAPS : 0) | (boughtOf(status, quantity) ? F.BOUGHT : 0), t.str(runId), t.ref(runId, signalId), timeOf(o.ts, 'ts'));
    rows.a[i] = t.str(strOf(o.strategy, 'strategy'));
    rows.b[i] = t.str(strOf(o.pair, 'pair'));
    rows.d[i] = t.list(codesOf(o.blockedBy, 'blockedBy'));
    rows.t1[i] = optTimeOf(o.decidedTs, 'decidedTs');
    rows.t2[i] = optTimeOf(o.entryTs, 'entryTs');
    rows.t3[i] = optTimeOf(o.exitTs, 'exitTs');
    rows.e[i] = t.str(decimalOf(o.pnl, 'pnl'));
    rows.c[i] = t.str(status);
    return true;
  }
  const ev = strOf(o.event, 'event');
  const ts = timeOf(o.ts, 'ts');
  const run = t.str(runId);
  switch (ev) {
    case 'run.started':
    case 'run.finished':
      return false;
    case 'signal.received':
      rows.add(K.RECEIVED, 0, run, t.ref(runId, strOf(o.signalId, 'signalId')), ts);
      return true;
    case 'signal.transition': {
      const to = strOf(o.to, 'to');
      const i = rows.add(K.TRANSITION, o.terminal === true ? F.TERMINAL : 0, run, t.ref(runId, strOf(o.signalId, 'signalId')), ts);
      rows.a[i] = t.str(to);
      return true;
    }
    case 'signal.open_at_end':
      rows.add(K.OPEN_AT_END, 0, run, t.ref(runId, strOf(o.signalId, 'signalId')), ts);
      return true;
    case 'trade.closed': {
      const signalId = strOf(o.signalId, 'signalId');
      const f = tradeFields(o);
      const i = rows.add(K.TRADE, 0, run, t.ref(runId, signalId), ts);
      rows.a[i] = t.str(f.strategy);
      rows.b[i] = t.str(f.pair);
      rows.t2[i] = f.entryTs;
      rows.t3[i] = f.exitTs;
      rows.e[i] = t.str(f.pnl);
      return true;
    }
    case 'bus.error':
      rows.add(K.BUS_ERROR, 0, run, -1, ts);
      return true;
    case 'warning': {
      const code = strOf(o.code, 'code');
      const i = rows.add(K.WARNING, 0, run, -1, ts);
      rows.a[i] = t.str(code);
      return true;
    }
    default:
      rows.add(K.OTHER, 0, run, -1, ts);
      return true;
  }
}
