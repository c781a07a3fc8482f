/**
 * The report's read model on disk (issue 13): `report_read_model.bin` beside the JSONL logs, appended by a
 * decorator around the decision-log sinks, so a report reads the facts of a million decisions without
 * parsing a gigabyte of JSON. The JSONL stays the truth: the sidecar only ever says "the first B bytes of
 * signal_decisions.jsonl (logically, across rotated segments) hold these rows", and a reader checks that
 * claim against the JSONL (the last covered line's length and CRC-32) before it believes it; what comes
 * after B, or a file whose claim fails, or a missing or corrupt sidecar, is read from the JSONL.
 *
 * Format: a 16-byte header, then frames appended one per flush of one log file:
 *   u32 magic 'TGF1' · u32 payload length · u32 CRC-32 of the payload · payload
 *   payload: u8 file, 3 pad · u32 new strings, new lists, new refs, rows · f64 covered bytes · u32 last line's
 *   length, CRC · f64 lines · strings (u32 length + UTF-8) · lists (u32 n + n string indices) · refs (u32 run,
 *   u32 signal) · pad to 8 · u8 kind[rows], u8 flags[rows] · pad to 8 · i32 columns · f64 columns (facts.ts)
 * The writer remembers only the values used recently (facts.ts' WriterTables): one it forgot is defined again by
 * a later frame; a reader maps a ref defined again to its first definition (Tables.refOf), so rows name one ref
 * per signal whichever definition they were written with.
 * A torn or corrupt frame ends the sidecar there (the writer cuts it off before appending again).
 * Frames are written only after the JSONL sink has flushed the same lines, so the sidecar never claims a
 * line the JSONL does not have; a writer that opens on JSONL lines the sidecar lacks (a crash, logs written
 * before the sidecar existed) records them as a GAP to read from the JSONL, and one that opens on a JSONL
 * cut back (a resumed durable replay) RESETs the file's rows to the last claim that still holds.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { JsonlSink } from '../ports/decision-log.ts';
import { F64_COLS, FILES, I32_COLS, K, Rows, Tables, WriterTables, gapRow, resetRow, rowOf, type FactFile } from './facts.ts';
import type { ByteSource, ReadFacts } from './read-model.ts';

export const SIDECAR_FILE = 'report_read_model.bin';
// 16 bytes: name, version. Version 2 may define a ref again (a bounded writer): a version-1 reader, which would
// take it for another signal, refuses the file and reads the JSONL; this reader reads both (version 1 never does).
const HEADER = Buffer.from('TOLLGATE-RM\u0000\u0002\u0000\u0000\u0000', 'latin1');
const VERSION_AT = 12;
const MAGIC = 0x31464754; // 'TGF1'
const FILE_NO: Record<FactFile, number> = { bus: 0, decisions: 1, shadow: 2 };
/** rows kept in memory before they are written as a frame even without a flush */
const FRAME_ROWS = 8192;

/** What one frame says about its file once applied: rows so far, and the JSONL they cover. */
export interface Claim {
  readonly rows: number;
  /** logical bytes of the JSONL covered (all segments, uncompressed), -1 when the writer could not tell */
  readonly bytes: number;
  readonly lastLen: number;
  readonly lastCrc: number;
  readonly lines: number;
}

export interface SidecarFile {
  readonly rows: Rows;
  /** one per frame of this file, in order */
  readonly claims: Claim[];
  /** a sidecar loaded lazily (its rows decoded only when asked, sidecarRows): where this file's frames' payloads are, and its rows' count */
  lazy?: { readonly frames: { at: number; len: number }[]; n: number; total: number };
}

export interface Sidecar {
  readonly tables: Tables;
  readonly files: Record<FactFile, SidecarFile>;
  /** bytes of the sidecar up to the end of its last good frame */
  readonly goodBytes: number;
  /** the file read, and where its last good frame starts with which CRC: a reader following it knows it is the same file */
  readonly ino?: number;
  readonly last?: { readonly at: number; readonly crc: number };
  /** the file read (a lazy load decodes its rows from it when asked) */
  readonly path?: string;
}

const emptySidecar = (): Sidecar => ({ tables: new Tables(), files: { bus: { rows: new Rows(), claims: [] }, decisions: { rows: new Rows(), claims: [] }, shadow: { rows: new Rows(), claims: [] } }, goodBytes: 0 });
const pad8 = (n: number) => (n + 7) & ~7;
/** a row's bytes in a frame: kind, flags and the columns */
const ROW_BYTES = 2 + 4 * I32_COLS.length + 8 * F64_COLS.length;

/**
 * The sidecar's frames up to the first torn or corrupt one; null when there is none or its header is wrong.
 * `lazy`: the tables and claims now, each file's rows only when asked (sidecarRows): a reader that reads one file
 * after another then holds one file's rows at a time (a sidecar read once; one followed is loaded whole).
 */
export function loadSidecar(path: string, lazy = false): Sidecar | null {
  return withFile(path, (fd, size) => {
    if (!headerOk(fd, size)) return null;
    const sc = emptySidecar();
    if (lazy) for (const f of FILES) sc.files[f].lazy = { frames: [], n: 0, total: 0 };
    return { ...sc, ...decodeFile(fd, sc, HEADER.length, size), ino: fstatSync(fd).ino, path };
  });
}

/**
 * The rows of `file` of a sidecar: decoded from its file now when it was loaded lazily (its frames were checked then).
 * `pool`: the columns of the file decoded before, decoded into again (the reader is done with them: its files one
 * after another), sized for the largest file: the rows of one file held at a time whenever the GC runs.
 */
export function sidecarRows(sc: Sidecar, file: FactFile, pool?: { cols: Rows | null }): Rows {
  const f = sc.files[file];
  const lazy = f.lazy;
  if (!lazy || !sc.path) return f.rows;
  const rows = f.rows;
  const got = withFile(sc.path, (fd) => {
    if (pool?.cols) takeColumns(rows, pool.cols);
    rows.reserve(Math.max(...FILES.map((x) => sc.files[x].lazy?.total ?? 0)), true);
    if (pool) takeColumns((pool.cols ??= new Rows()), rows);
    let buf = Buffer.alloc(0);
    for (const { at, len } of lazy.frames) {
      if (buf.length < len) buf = Buffer.allocUnsafe(Math.max(len, 2 * buf.length));
      const p = buf.subarray(0, len);
      if (readSync(fd, p, 0, len, at + 12) !== len || crc32(p) !== u32At(fd, at + 8)) return null;
      decodeRows(rows, sc.tables, p, rowsStart(p), p.readUInt32LE(16), () => {});
    }
    return rows;
  });
  // the file changed under the reader (the frames it checked are gone): the report cannot go on from it
  if (!got || rows.n !== lazy.n) throw new Error(`${sc.path}: changed while read; run the report again`);
  f.lazy = undefined;
  return rows;
}

/** `to` made to use `from`'s columns (no rows) */
function takeColumns(to: Rows, from: Rows): void {
  to.n = 0;
  to.kind = from.kind;
  to.flags = from.flags;
  for (const c of I32_COLS) to[c] = from[c];
  for (const c of F64_COLS) to[c] = from[c];
}

function u32At(fd: number, at: number): number {
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, at);
  return b.readUInt32LE(0);
}

/** where a frame's payload's rows start: after its strings, lists and refs */
function rowsStart(buf: Buffer): number {
  const [nS, nL, nR] = [buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)];
  let q = 48;
  for (let i = 0; i < nS; i++) q += 4 + buf.readUInt32LE(q);
  for (let i = 0; i < nL; i++) q += 4 + 4 * buf.readUInt32LE(q);
  return pad8(q + 8 * nR);
}

/** `fn` on the file opened for reading, with its size; null when it cannot be opened */
function withFile<T>(path: string, fn: (fd: number, size: number) => T | null): T | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return fn(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function headerOk(fd: number, size: number): boolean {
  if (size < HEADER.length) return false;
  const head = Buffer.alloc(HEADER.length);
  readSync(fd, head, 0, HEADER.length, 0);
  const v = head[VERSION_AT]!;
  head[VERSION_AT] = HEADER[VERSION_AT]!;
  return (v === 1 || v === 2) && head.compare(HEADER) === 0;
}

/**
 * The frames appended since `sc` was read (`sc.goodBytes` onwards), decoded into it: a reader that keeps the
 * sidecar (the dashboard) follows a growing file without reading it again. null when the file was replaced.
 */
export function followSidecar(path: string, sc: Sidecar): Sidecar | null {
  return withFile(path, (fd, size) => {
    if (size < sc.goodBytes || !headerOk(fd, size) || fstatSync(fd).ino !== sc.ino) return null;
    if (sc.last) {
      // the frame last read is still there, unchanged: the file was only appended to
      const h = Buffer.alloc(12);
      readSync(fd, h, 0, 12, sc.last.at);
      if (h.readUInt32LE(0) !== MAGIC || h.readUInt32LE(8) !== sc.last.crc) return null;
    }
    if (size === sc.goodBytes) return sc;
    const more = decodeFile(fd, sc, sc.goodBytes, size);
    return { ...sc, goodBytes: more.goodBytes, last: more.last ?? sc.last };
  });
}

/**
 * Decodes the good frames of the file from `start` into `sc`, one frame in memory at a time; returns the offset
 * after the last good one. The rows of each file, the strings and refs are counted first (frame headers only): the columns and tables grow once.
 */
function decodeFile(fd: number, sc: Omit<Sidecar, 'goodBytes'>, start: number, size: number): { goodBytes: number; last?: { at: number; crc: number } } {
  const h = Buffer.alloc(32);
  const more = [0, 0, 0];
  let [strings, stringBytes, refs] = [0, 0, 0];
  for (let at = start; at + 32 <= size; ) {
    readSync(fd, h, 0, 32, at);
    const len = h.readUInt32LE(4);
    if (h.readUInt32LE(0) !== MAGIC || len < 48 || at + 12 + len > size || h[12]! > 2) break;
    // counts no larger than the frame's length allows (a frame not yet checked may be corrupt)
    const n = Math.min(h.readUInt32LE(28), Math.floor(len / ROW_BYTES));
    const nR = Math.min(h.readUInt32LE(24), Math.floor(len / 8));
    more[h[12]!]! += n;
    strings += Math.min(h.readUInt32LE(16), Math.floor(len / 4));
    refs += nR;
    // what is not rows nor refs: the strings and lists (an upper bound of the strings' bytes)
    stringBytes += Math.max(0, len - 48 - 8 * nR - n * ROW_BYTES);
    at += 12 + len;
  }
  FILES.forEach((f, i) => sc.files[f].lazy || sc.files[f].rows.reserve(more[i]!, true));
  sc.tables.reserve(strings, stringBytes, refs);
  let buf = Buffer.alloc(0);
  let at = start;
  let last: { at: number; crc: number } | undefined;
  while (at + 12 <= size) {
    readSync(fd, h, 0, 12, at);
    const len = h.readUInt32LE(4);
    if (h.readUInt32LE(0) !== MAGIC || len < 48 || at + 12 + len > size) break;
    if (buf.length < len) buf = Buffer.allocUnsafe(Math.max(len, 2 * buf.length));
    const p = buf.subarray(0, len);
    if (readSync(fd, p, 0, len, at + 12) !== len || crc32(p) !== h.readUInt32LE(8) || !decodeFrame(sc, p, at, len)) break;
    last = { at, crc: h.readUInt32LE(8) };
    at += 12 + len;
  }
  return { goodBytes: at, ...(last ? { last } : {}) };
}

/** one frame's payload (at `at` in the file, `len` bytes) into `sc`; false when it names no file */
function decodeFrame(sc: Omit<Sidecar, 'goodBytes'>, buf: Buffer, at: number, len: number): boolean {
  const t = sc.tables;
  const p = 0;
  const file = FILES[buf[p]!];
  if (!file) return false;
  const [nS, nL, nR, n] = [buf.readUInt32LE(p + 4), buf.readUInt32LE(p + 8), buf.readUInt32LE(p + 12), buf.readUInt32LE(p + 16)];
  const claim = { bytes: buf.readDoubleLE(p + 24), lastLen: buf.readUInt32LE(p + 32), lastCrc: buf.readUInt32LE(p + 36), lines: buf.readDoubleLE(p + 40) };
  // the strings' bytes kept as they are (Tables makes a string of one only when asked)
  let q = t.addStrings(buf, p + 48, nS);
  for (let i = 0; i < nL; i++) {
    const m = buf.readUInt32LE(q);
    const xs: string[] = [];
    for (let j = 0; j < m; j++) xs.push(t.str(buf.readUInt32LE(q + 4 + 4 * j)));
    t.lists.push(xs);
    q += 4 + 4 * m;
  }
  for (let i = 0; i < nR; i++) {
    t.adoptRef(buf.readUInt32LE(q), buf.readUInt32LE(q + 4));
    q += 8;
  }
  const f = sc.files[file];
  q = p + pad8(q - p);
  // claims past a RESET's cut named rows that are gone
  const cut = (keep: number) => {
    const kept = f.claims.filter((c) => c.rows <= keep);
    f.claims.length = 0;
    f.claims.push(...kept);
  };
  let count: number;
  if (f.lazy) {
    // the rows counted only (RESET cuts them back to its `a` rows), the frame remembered for sidecarRows
    f.lazy.frames.push({ at, len });
    f.lazy.total += n;
    const RESET = K.RESET;
    const aAt = pad8(q + 2 * n) + 4 * n * I32_COLS.indexOf('a');
    let m = f.lazy.n;
    for (let j = 0; j < n; j++) {
      if (buf[q + j] === RESET) {
        m = buf.readInt32LE(aAt + 4 * j);
        cut(m);
      } else m++;
    }
    count = f.lazy.n = m;
  } else count = decodeRows(f.rows, t, buf, q, n, cut);
  f.claims.push({ rows: count, ...claim });
  return true;
}

/** a frame's `n` rows (from `q` in its payload) appended to `rows`; RESET rows cut them back (`onCut`); the rows' count */
function decodeRows(rows: Rows, t: Tables, buf: Buffer, q: number, n: number, onCut: (keep: number) => void): number {
  const p = 0;
  const base = rows.n;
  rows.reserve(n);
  rows.kind.set(buf.subarray(q, q + n), base);
  rows.flags.set(buf.subarray(q + n, q + 2 * n), base);
  q = p + pad8(q + 2 * n - p);
  for (const c of I32_COLS) {
    new Uint8Array(rows[c].buffer, base * 4, n * 4).set(buf.subarray(q, q + n * 4));
    q += n * 4;
  }
  for (const c of F64_COLS) {
    new Uint8Array(rows[c].buffer, base * 8, n * 8).set(buf.subarray(q, q + n * 8));
    q += n * 8;
  }
  rows.n = base + n;
  if (!t.sameRefs) {
    // a ref defined again: the rows name its first definition
    const ref = rows.ref;
    for (let i = base; i < rows.n; i++) if (ref[i]! >= 0) ref[i] = t.refOf(ref[i]!);
  }
  // RESET rows cut the file's rows back (to `a` rows) in place (K.RESET read once: an imported object's field may be an accessor call per row)
  const RESET = K.RESET;
  for (let i = base; i < rows.n; i++) {
    if (rows.kind[i] === RESET) {
      const keep = rows.a[i]!;
      rows.cut(keep, i + 1);
      i = keep - 1;
      onCut(keep);
    }
  }
  return rows.n;
}

function encodeFrame(file: FactFile, defs: WriterTables['pending'], rows: Rows, claim: Omit<Claim, 'rows'>): Buffer {
  const strs = defs.strings.map((s) => Buffer.from(s, 'utf8'));
  const lists = defs.lists;
  const nR = defs.refs.length / 2;
  const n = rows.n;
  let size = 48 + strs.reduce((a, b) => a + 4 + b.length, 0) + lists.reduce((a, l) => a + 4 + 4 * l.length, 0) + 8 * nR;
  size = pad8(size) + pad8(2 * n) + n * 4 * I32_COLS.length + n * 8 * F64_COLS.length;
  const buf = Buffer.alloc(12 + size);
  const p = 12;
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(size, 4);
  buf[p] = FILE_NO[file];
  buf.writeUInt32LE(strs.length, p + 4);
  buf.writeUInt32LE(lists.length, p + 8);
  buf.writeUInt32LE(nR, p + 12);
  buf.writeUInt32LE(n, p + 16);
  buf.writeDoubleLE(claim.bytes, p + 24);
  buf.writeUInt32LE(claim.lastLen >>> 0, p + 32);
  buf.writeUInt32LE(claim.lastCrc >>> 0, p + 36);
  buf.writeDoubleLE(claim.lines, p + 40);
  let q = p + 48;
  for (const s of strs) {
    buf.writeUInt32LE(s.length, q);
    s.copy(buf, q + 4);
    q += 4 + s.length;
  }
  for (const l of lists) {
    buf.writeUInt32LE(l.length, q);
    for (let j = 0; j < l.length; j++) buf.writeUInt32LE(l[j]!, q + 4 + 4 * j);
    q += 4 + 4 * l.length;
  }
  for (const x of defs.refs) {
    buf.writeUInt32LE(x, q);
    q += 4;
  }
  q = p + pad8(q - p);
  buf.set(rows.kind.subarray(0, n), q);
  buf.set(rows.flags.subarray(0, n), q + n);
  q = p + pad8(q + 2 * n - p);
  for (const c of I32_COLS) {
    buf.set(new Uint8Array(rows[c].buffer, 0, n * 4), q);
    q += n * 4;
  }
  for (const c of F64_COLS) {
    buf.set(new Uint8Array(rows[c].buffer, 0, n * 8), q);
    q += n * 8;
  }
  buf.writeUInt32LE(crc32(buf.subarray(p)), 8);
  return buf;
}

/** a version-1 sidecar marked version 2 before a bounded writer appends to it (see HEADER) */
function upgradeHeader(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const v = Buffer.alloc(1);
    readSync(fd, v, 0, 1, VERSION_AT);
    if (v[0] !== HEADER[VERSION_AT]) writeSync(fd, HEADER, VERSION_AT, 1, VERSION_AT);
  } finally {
    closeSync(fd);
  }
}

/** Reads `length` bytes at a logical offset of a source that can (null when it cannot). */
function readAt(src: ByteSource, offset: number, length: number): Buffer | null {
  return src.read ? src.read(offset, length) : null;
}

/** true when the JSONL's first `c.bytes` bytes end with the line the claim names (its length and CRC-32) */
export function claimHolds(src: ByteSource, c: Omit<Claim, 'rows'>): boolean {
  if (c.bytes < 0 || !src.exists || src.size === undefined) return false;
  const size = src.size();
  if (c.bytes > size) return false;
  if (c.bytes === 0) return true;
  const lineStart = c.bytes - 1 - c.lastLen; // the line, then its newline at bytes - 1
  if (lineStart < 0) return false;
  const from = lineStart > 0 ? lineStart - 1 : 0;
  const b = readAt(src, from, c.bytes - from);
  if (!b || b.length !== c.bytes - from) return false;
  if (b[b.length - 1] !== 10 || (lineStart > 0 && b[0] !== 10)) return false;
  return crc32(b.subarray(lineStart - from, b.length - 1)) === c.lastCrc;
}

/** The last line of the first `bytes` bytes (without its newline), read back: for a claim after a GAP. */
function lastLineBefore(src: ByteSource, bytes: number): { lastLen: number; lastCrc: number } | null {
  if (bytes === 0) return { lastLen: 0, lastCrc: 0 };
  for (let look = 4096; ; look *= 4) {
    const from = Math.max(0, bytes - 1 - look);
    const b = readAt(src, from, bytes - from);
    if (!b || b[b.length - 1] !== 10) return null;
    const nl = b.lastIndexOf(10, b.length - 2);
    if (nl >= 0 || from === 0) {
      const line = b.subarray(nl + 1, b.length - 1);
      return { lastLen: line.length, lastCrc: crc32(line) };
    }
  }
}

/**
 * What a reader may take from the sidecar: per file, the rows up to the last claim that the JSONL bears out,
 * and the byte offset its JSONL is read from after them. A file without such a claim is read from its JSONL.
 * `release`: the sidecar is read once (not kept): the reader frees its rows as it goes, and it is not used again.
 */
export function factsOf(sc: Sidecar, sources: Record<FactFile, ByteSource>, release = false): ReadFacts {
  const files: Record<string, { rows: Rows; upTo: number; from: number }> = {};
  // a lazy sidecar's files decoded one after another into the same columns, let go with the last one (the reader frees it)
  const pool = { cols: null as Rows | null };
  let left = 0;
  for (const file of FILES) {
    const f = sc.files[file];
    for (let i = f.claims.length - 1; i >= 0; i--) {
      const c = f.claims[i]!;
      if (claimHolds(sources[file], c)) {
        // a lazy sidecar's rows decoded when the reader gets to this file (and freed by it after)
        let rows: Rows | null = null;
        left++;
        files[file] = {
          get rows() {
            if (rows) return rows;
            rows = sidecarRows(sc, file, pool);
            if (--left <= 0) pool.cols = null;
            return rows;
          },
          upTo: c.rows,
          from: c.bytes,
        };
        break;
      }
    }
  }
  return { tables: sc.tables, files, release };
}

export interface SidecarWriterOptions {
  /** the sidecar's path (SIDECAR_FILE in the logs directory) */
  readonly path: string;
  /** each log file as the report reads it (all its segments), to check the sidecar against at open */
  readonly sources: Record<FactFile, ByteSource>;
  /** how many values of each kind the writer remembers (facts.ts' WRITER_CACHE by default) */
  readonly cache?: { readonly strings: number; readonly lists: number; readonly refs: number };
}

/**
 * Appends the facts of the records given to the sinks it wraps. One per logs directory and process; `wrap`
 * each of the bus, decisions and shadow sinks (the outcomes sink is not read by the report).
 */
export class SidecarWriter {
  private fd: number | null;
  private readonly t: WriterTables;
  private readonly pending: Record<FactFile, Rows> = { bus: new Rows(), decisions: new Rows(), shadow: new Rows() };
  private readonly state = {} as Record<FactFile, { lines: number; last: string | null; claim: Omit<Claim, 'rows' | 'lines'> | null; dirty: boolean }>;

  constructor(private readonly o: SidecarWriterOptions) {
    let sc = loadSidecar(o.path);
    this.fd = openSync(o.path, 'a+');
    const size = fstatSync(this.fd).size;
    if (!sc) {
      ftruncateSync(this.fd, 0);
      writeSync(this.fd, HEADER, 0, HEADER.length, 0);
      sc = emptySidecar();
    } else {
      if (sc.goodBytes < size) ftruncateSync(this.fd, sc.goodBytes); // a torn frame: cut off, never built on
      upgradeHeader(o.path);
    }
    // numbered on from the file's definitions; none of its values remembered (a value used again is defined again)
    this.t = new WriterTables({ strings: sc.tables.nStrings, lists: sc.tables.lists.length, refs: sc.tables.refDefs }, o.cache);
    for (const file of FILES) {
      this.state[file] = { lines: 0, last: null, claim: null, dirty: false };
      this.open(file, sc.files[file], this.state[file]);
    }
  }

  /** lines up the file's rows with its JSONL as it is now: RESET to the last claim that holds, GAP for the rest */
  private open(file: FactFile, f: SidecarFile, s: SidecarWriter['state'][FactFile]): void {
    const src = this.o.sources[file];
    if (!src.size || !src.read) return this.giveUp(file, s); // cannot be lined up without random access
    const size = src.exists ? src.size() : 0;
    let keep: Claim | null = null;
    for (let i = f.claims.length - 1; i >= 0; i--) {
      if (claimHolds(src, f.claims[i]!)) {
        keep = f.claims[i]!;
        break;
      }
    }
    const rows = this.pending[file];
    const have = f.claims.length ? f.claims[f.claims.length - 1]!.rows : 0;
    s.claim = { bytes: 0, lastLen: 0, lastCrc: 0 };
    if (keep === null && f.claims.length === 0 && size === 0) return;
    const from = keep?.bytes ?? 0;
    s.lines = keep?.lines ?? 0;
    if (!keep || keep.rows !== have || from !== f.claims[f.claims.length - 1]!.bytes) {
      resetRow(rows, keep?.rows ?? 0);
      s.dirty = true;
    }
    s.claim = keep ? { bytes: keep.bytes, lastLen: keep.lastLen, lastCrc: keep.lastCrc } : { bytes: 0, lastLen: 0, lastCrc: 0 };
    if (size > from) {
      const last = lastLineBefore(src, size);
      if (!last) return this.giveUp(file, s);
      gapRow(rows, from, size);
      s.claim = { bytes: size, ...last };
      s.dirty = true;
    }
    if (s.dirty) this.writeFrame(file, -1);
  }

  /** the JSONL cannot be lined up (its end is not a line end): this file's rows say nothing from here on */
  private giveUp(_file: FactFile, s: SidecarWriter['state'][FactFile]): void {
    s.claim = null;
    s.dirty = false;
  }

  /** a sink that appends to `inner` and keeps the record's facts for the sidecar */
  wrap(file: FactFile, inner: JsonlSink, size: () => number): JsonlSink {
    const self = this;
    return {
      append(record: object): void {
        this.appendLine(JSON.stringify(record), record);
      },
      appendLine(line: string, record: object): void {
        inner.appendLine(line, record);
        if (self.append(file, line, record)) {
          // a long run between flushes: its lines on disk first, then their frame
          inner.flush();
          self.writeFrame(file, size());
        }
      },
      flush(): void {
        inner.flush();
        self.writeFrame(file, size());
      },
      close(): void {
        inner.close();
        self.writeFrame(file, size());
        self.closeIfDone(file);
      },
    };
  }

  /** the values the writer remembers, per kind: bounded whatever the run's length */
  tableSizes(): { strings: number; lists: number; refs: number } {
    return this.t.sizes();
  }

  private append(file: FactFile, line: string, record: object): boolean {
    const s = this.state[file];
    if (!s.claim) return false;
    rowOf(file, record as Record<string, unknown>, this.t, this.pending[file], line);
    s.lines++;
    s.last = line;
    s.dirty = true;
    return this.pending[file].n >= FRAME_ROWS;
  }

  private writeFrame(file: FactFile, bytes: number): void {
    const s = this.state[file];
    if (this.fd === null || !s.claim || !s.dirty) return;
    let c = s.claim;
    if (bytes >= 0 && s.last !== null) {
      const line = Buffer.from(s.last, 'utf8'); // the last line given, as the JSONL has it
      c = { bytes, lastLen: line.length, lastCrc: crc32(line) };
    }
    const frame = encodeFrame(file, this.t.take(), this.pending[file], { ...c, lines: s.lines });
    writeSync(this.fd, frame);
    this.pending[file].clear();
    s.claim = c;
    s.last = null;
    s.dirty = false;
  }

  private readonly closed = new Set<FactFile>();
  private closeIfDone(file: FactFile): void {
    this.closed.add(file);
    if (this.closed.size === FILES.length && this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

