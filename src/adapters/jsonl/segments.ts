/**
 * The segments of a rotated log, and reading them as one stream, oldest first, gzipped or plain.
 *
 *   logs/signal_bus.000001.jsonl.gz   rotated, gzipped (oldest)
 *   logs/signal_bus.000002.jsonl.gz
 *   logs/signal_bus.000003.jsonl      the newest rotated segment, still plain
 *   logs/signal_bus.jsonl             the live file (what `tail -F` follows)
 *
 * The segment number is zero-padded, so a sorted glob (`logs/signal_bus.*`) lists the segments oldest first
 * and the live file last ('0'–'9' sort before 'j'): `zcat -f logs/signal_bus.* | grep …` reads every line
 * once, in order. A compression in progress writes a hidden `.signal_bus.000002.jsonl.gz.tmp` that no glob
 * of the name matches; a segment present both plain and gzipped (the instant between the rename of the
 * finished .gz and the removal of the plain file, or a crash there) is read once, from the plain file.
 *
 * The concatenated bytes of every segment and the live file are the bytes an unrotated writer would have
 * written: the writer rotates only between whole writes of whole lines.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ByteSource, LineSource } from '../../ports/line-source.ts';

const CHUNK = 4 * 1024 * 1024;
/** digits of a segment number: 999999 segments of 64 MiB are 64 TB of one log */
export const SEGMENT_DIGITS = 6;

export interface Segment {
  /** 1, 2, …: older segments have smaller numbers */
  readonly seq: number;
  /** the file to read: the plain one when both exist */
  readonly path: string;
  readonly gz: boolean;
  /** set when the plain file is read and a gzipped copy exists too (read it if the plain one is gone by then) */
  readonly gzPath: string | null;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parts(fileName: string): { stem: string; ext: string } {
  const ext = extname(fileName);
  return { stem: ext ? fileName.slice(0, -ext.length) : fileName, ext };
}

/** `signal_bus.jsonl`, 3 → `signal_bus.000003.jsonl` (plain) or `signal_bus.000003.jsonl.gz` */
export function segmentName(fileName: string, seq: number, gz: boolean): string {
  const { stem, ext } = parts(fileName);
  return `${stem}.${String(seq).padStart(SEGMENT_DIGITS, '0')}${ext}${gz ? '.gz' : ''}`;
}

/** The hidden file a compression writes before it is renamed to the segment's .gz name. */
export function compressingName(fileName: string, seq: number): string {
  return `.${segmentName(fileName, seq, true)}.tmp`;
}

export function segmentPattern(fileName: string): RegExp {
  const { stem, ext } = parts(fileName);
  return new RegExp(`^${escape(stem)}\\.(\\d{${SEGMENT_DIGITS},})${escape(ext)}(\\.gz)?$`);
}

/** The rotated segments of `dir/fileName`, oldest first (the live file not included). A missing dir: none. */
export function logSegments(dir: string, fileName: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const re = segmentPattern(fileName);
  const found = new Map<number, { plain: boolean; gz: boolean }>();
  for (const n of names) {
    const m = re.exec(n);
    if (!m) continue;
    const seq = Number(m[1]);
    const f = found.get(seq) ?? { plain: false, gz: false };
    if (m[2]) f.gz = true;
    else f.plain = true;
    found.set(seq, f);
  }
  return [...found.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([seq, f]) => ({
      seq,
      path: join(dir, segmentName(fileName, seq, !f.plain)),
      gz: !f.plain,
      gzPath: f.plain && f.gz ? join(dir, segmentName(fileName, seq, true)) : null,
    }));
}

/** Every file of the log, oldest first: its segments, then the live file when it exists. */
export function logFiles(dir: string, fileName: string): string[] {
  const live = join(dir, fileName);
  return [...logSegments(dir, fileName).map((s) => s.path), ...(existsSync(live) ? [live] : [])];
}

/** Whether the log has any file at all (live or rotated). */
export function logExists(dir: string, fileName: string): boolean {
  return existsSync(join(dir, fileName)) || logSegments(dir, fileName).length > 0;
}

/** A key that changes whenever the log's content changes (file names, sizes, mtimes): for caches. */
export function logVersion(dir: string, fileName: string): string {
  return logFiles(dir, fileName)
    .map((f) => {
      try {
        const s = statSync(f);
        return `${basename(f)}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${basename(f)}:gone`;
      }
    })
    .join('|');
}

export function* fdChunks(fd: number, chunkBytes: number): Iterable<Buffer> {
  const buf = Buffer.allocUnsafe(chunkBytes);
  for (;;) {
    const n = readSync(fd, buf, 0, chunkBytes, null);
    if (n === 0) break;
    yield n === chunkBytes ? buf : buf.subarray(0, n);
  }
}

function* bufferChunks(b: Buffer, chunkBytes: number): Iterable<Buffer> {
  for (let i = 0; i < b.length; i += chunkBytes) yield b.subarray(i, Math.min(b.length, i + chunkBytes));
}

function openOrNull(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * One segment's bytes. A plain segment compressed (and removed) since the listing is read from its .gz; a
 * segment removed by retention since the listing is skipped. A gzipped segment is decompressed whole: a
 * segment is at most `logs.rotate.maxBytes` plus one write.
 */
function* segmentChunks(s: Segment, chunkBytes: number): Iterable<Buffer> {
  if (!s.gz) {
    const fd = openOrNull(s.path);
    if (fd !== null) {
      try {
        yield* fdChunks(fd, chunkBytes);
      } finally {
        closeSync(fd);
      }
      return;
    }
  }
  const gzPath = s.gz ? s.path : s.gzPath ?? `${s.path}.gz`;
  let packed: Buffer;
  try {
    packed = readFileSync(gzPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  yield* bufferChunks(gunzipSync(packed), chunkBytes);
}

/**
 * The log `dir/fileName` as one ByteSource: every rotated segment oldest first, then the live file. A
 * rotation while it is being read loses nothing and repeats nothing: the live file is opened first, then
 * the segments are listed again; a segment that appeared since is read before it, unless it is the very
 * file opened (same inode: the live file was rotated after it was opened, and is read through that fd).
 */
export function logBytes(dir: string, fileName: string, chunkBytes = CHUNK): ByteSource {
  const live = join(dir, fileName);
  return {
    name: fileName,
    exists: logExists(dir, fileName),
    *chunks() {
      let last = 0;
      for (const s of logSegments(dir, fileName)) {
        yield* segmentChunks(s, chunkBytes);
        last = s.seq;
      }
      const fd = openOrNull(live);
      try {
        const ino = fd === null ? null : fstatSync(fd).ino;
        for (const s of logSegments(dir, fileName)) {
          if (s.seq <= last) continue;
          if (!s.gz && ino !== null && inoOf(s.path) === ino) break;
          yield* segmentChunks(s, chunkBytes);
        }
        if (fd !== null) yield* fdChunks(fd, chunkBytes);
      } finally {
        if (fd !== null) closeSync(fd);
      }
    },
  };
}

function inoOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/**
 * Lines out of byte chunks (chunks may be reused buffers). Bytes after the last newline so far are kept
 * as bytes, so a multi-byte character cut by a chunk boundary is decoded whole with the rest of its line.
 * A torn last line (crash mid-write) comes out as it is; the parser decides it is malformed.
 */
export function* splitLines(chunks: Iterable<Buffer>): Iterable<string> {
  let rest: Buffer = Buffer.alloc(0);
  for (const buf of chunks) {
    const n = buf.length;
    const first = buf.indexOf(10);
    if (first < 0) {
      rest = Buffer.concat([rest, buf]);
      continue;
    }
    yield Buffer.concat([rest, buf.subarray(0, first)]).toString('utf8');
    const last = buf.lastIndexOf(10, n - 1);
    if (last > first) {
      const text = buf.toString('utf8', first + 1, last);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) {
          yield text.slice(start);
          break;
        }
        yield text.slice(start, nl);
        start = nl + 1;
      }
    }
    rest = Buffer.from(buf.subarray(last + 1, n));
  }
  if (rest.length) yield rest.toString('utf8');
}

/** The log `dir/fileName`, all segments and the live file, as lines (for JsonlFileSource's users). */
export class LogLines implements LineSource {
  readonly name: string;
  readonly exists: boolean;
  private readonly bytes: ByteSource;

  constructor(dir: string, fileName: string, chunkBytes = CHUNK) {
    this.bytes = logBytes(dir, fileName, chunkBytes);
    this.name = fileName;
    this.exists = this.bytes.exists;
  }

  lines(): Iterable<string> {
    return splitLines(this.bytes.chunks());
  }
}

/** `LogLines` of a path (`logs/signal_bus.jsonl`): the same log named the way the single-file reader was. */
export function logLinesOf(path: string, chunkBytes = CHUNK): LogLines {
  return new LogLines(dirname(path), basename(path), chunkBytes);
}

/**
 * The last `n` non-empty lines of the log, oldest first, reaching back into rotated segments when the live
 * file holds fewer (a dashboard's tail just after a rotation). Reads at most `maxBytes` from the end of each
 * plain file; a line longer than that is left out.
 */
export function tailLines(dir: string, fileName: string, n: number, maxBytes = 256 * 1024): string[] {
  if (n <= 0) return [];
  const out: string[] = [];
  const files: Array<{ path: string; gz: boolean; gzPath: string | null }> = [
    { path: join(dir, fileName), gz: false, gzPath: null },
    ...logSegments(dir, fileName).reverse(),
  ];
  for (const f of files) {
    const got = f.gz ? tailOfGz(f.path, n - out.length) : tailOfPlain(f.path, n - out.length, maxBytes) ?? (f.gzPath ? tailOfGz(f.gzPath, n - out.length) : []);
    out.unshift(...got);
    if (out.length >= n) break;
  }
  return out.slice(-n);
}

function tailOfPlain(path: string, n: number, maxBytes: number): string[] | null {
  const fd = openOrNull(path);
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (len < size) all.shift(); // partial first line
    return all.filter((l) => l.length > 0).slice(-n);
  } finally {
    closeSync(fd);
  }
}

function tailOfGz(path: string, n: number): string[] {
  let packed: Buffer;
  try {
    packed = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return gunzipSync(packed).toString('utf8').split('\n').filter((l) => l.length > 0).slice(-n);
}
