/**
 * An append-only log file with size-based rotation (naming and reading: segments.ts). The contract logs
 * (JsonlWriter) and the operational pino logs write through it, so one rotation works the same under pm2,
 * systemd or a terminal, and one reader reads them all.
 *
 * Rotation, once a write takes the live file to `maxBytes` or more (so only between whole writes of whole
 * lines: a line is never split):
 *   1. fsync the live file; 2. rename it to the next segment (`signal_bus.000007.jsonl`, atomic);
 *   3. open a new live file. Then, off the write path (libuv thread pool):
 *   4. retention: delete the oldest segments beyond `keep`;
 *   5. gzip every plain segment but the newest: write `.signal_bus.000006.jsonl.gz.tmp`, fsync, rename it to
 *      `signal_bus.000006.jsonl.gz`, delete the plain file.
 * A crash at any point leaves each line in exactly one segment as readers see them: after 2 without 3 there
 * is no live file (the next writer creates it); a hidden .tmp is never read and is deleted by the next
 * writer; a segment present plain and gzipped (crash between the rename and the delete in 5) is read once,
 * from the plain file, and the next writer deletes the plain copy.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RotateOptions } from '../../ports/line-source.ts';
import { compressingName, logSegments, segmentName, segmentPattern } from './segments.ts';

/** Rotation when the config says nothing: 64 MiB segments, 10 kept (at most ~700 MiB of one log, mostly gzipped). */
export const DEFAULT_ROTATE: RotateOptions = { maxBytes: 64 * 1024 * 1024, keep: 10 };

export interface RotatingFileOptions {
  /** null: never rotate (a durable replay, whose resume cuts the live file back to a checkpoint offset) */
  readonly rotate: RotateOptions | null;
  /** create the directory */
  readonly mkdir?: boolean;
  /** a failed rotation or compression (the lines stay where they are, nothing is lost); default: a process warning */
  readonly onError?: (e: Error) => void;
}

export class RotatingFile {
  readonly dir: string;
  readonly fileName: string;
  private fd: number | null;
  private size: number;
  private nextSeq: number;
  private work: Promise<void> = Promise.resolve();
  private readonly rotate: RotateOptions | null;
  private readonly onError: (e: Error) => void;

  constructor(readonly path: string, options: RotatingFileOptions) {
    this.dir = dirname(path);
    this.fileName = basename(path);
    this.rotate = options.rotate;
    if (this.rotate && (!(this.rotate.maxBytes >= 1) || !(this.rotate.keep >= 1))) throw new Error(`log rotation of ${path}: maxBytes and keep must be at least 1`);
    this.onError = options.onError ?? ((e) => process.emitWarning(e.message, 'LogRotationWarning'));
    if (options.mkdir) mkdirSync(this.dir, { recursive: true });
    const segments = this.rotate ? this.recover() : [];
    this.nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
    this.fd = openSync(path, 'a+');
    this.size = fstatSync(this.fd).size;
    // a torn last line (crash mid-write) must not swallow the first line we write: start on a new line
    if (this.size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, this.size - 1);
      if (last[0] !== 10) this.size += writeSync(this.fd, '\n');
    }
    if (this.rotate && this.size >= this.rotate.maxBytes) this.rotateNow();
    else if (this.rotate && (segments.length > this.rotate.keep || segments.slice(0, -1).some((s) => !s.gz))) this.schedule();
  }

  /** Appends whole lines (`text` ends with a newline), then rotates if the live file reached maxBytes. */
  write(text: string): void {
    if (this.fd === null) throw new Error(`${this.path}: written after close`);
    if (text.length === 0) return;
    this.size += writeSync(this.fd, text);
    if (this.rotate && this.size >= this.rotate.maxBytes) this.rotateNow();
  }

  /** fsync and close the live file. A compression under way goes on (see `whenIdle`). */
  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }

  /** Resolves when the retention and compression scheduled so far are done (tests, a clean shutdown). */
  whenIdle(): Promise<void> {
    return this.work;
  }

  get liveBytes(): number {
    return this.size;
  }

  /** Steps 1–3. A failed rename leaves the live file where it is and goes on writing to it. */
  private rotateNow(): void {
    const fd = this.fd!;
    fsyncSync(fd);
    const seq = this.nextSeq;
    try {
      renameSync(this.path, join(this.dir, segmentName(this.fileName, seq, false)));
    } catch (e) {
      this.onError(new Error(`log rotation of ${this.path} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); still writing to it`));
      return;
    }
    this.nextSeq++;
    closeSync(fd);
    this.fd = openSync(this.path, 'a+');
    this.size = 0;
    this.schedule();
  }

  private schedule(): void {
    this.work = this.work.then(() => this.maintain()).catch((e: unknown) => this.onError(new Error(`log maintenance of ${this.path}: ${(e as Error).message}`)));
  }

  /** Steps 4–5, one at a time (the promise chain). */
  private async maintain(): Promise<void> {
    const { keep } = this.rotate!;
    const segments = logSegments(this.dir, this.fileName);
    const excess = Math.max(0, segments.length - keep);
    for (const s of segments.slice(0, excess)) {
      await unlinkQuiet(s.path);
      if (s.gzPath) await unlinkQuiet(s.gzPath);
    }
    const kept = segments.slice(excess);
    for (const s of kept.slice(0, -1)) if (!s.gz) await this.compress(s.seq, s.path, s.gzPath !== null);
  }

  private async compress(seq: number, plain: string, gzDone: boolean): Promise<void> {
    const gz = join(this.dir, segmentName(this.fileName, seq, true));
    if (!gzDone) {
      const tmp = join(this.dir, compressingName(this.fileName, seq));
      await pipeline(createReadStream(plain), createGzip(), createWriteStream(tmp));
      const h = await open(tmp, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, gz);
    }
    await unlinkQuiet(plain);
  }

  /** At start: remove compressions a crash left half-done, and plain copies of segments already gzipped. */
  private recover(): ReturnType<typeof logSegments> {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      // no directory yet: opening the live file will say so
    }
    const re = segmentPattern(this.fileName);
    for (const n of names) if (n.startsWith('.') && n.endsWith('.gz.tmp') && re.test(n.slice(1, -'.tmp'.length))) unlinkSync(join(this.dir, n));
    for (const s of logSegments(this.dir, this.fileName)) if (s.gzPath) unlinkSync(s.path);
    return logSegments(this.dir, this.fileName);
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** The rotation a `logs.rotate` setting asks for: absent → DEFAULT_ROTATE, false → none, fields left out → their defaults. */
export function rotationOf(setting: false | { readonly maxBytes?: number | undefined; readonly keep?: number | undefined } | undefined): RotateOptions | null {
  if (setting === false) return null;
  return { maxBytes: setting?.maxBytes ?? DEFAULT_ROTATE.maxBytes, keep: setting?.keep ?? DEFAULT_ROTATE.keep };
}
