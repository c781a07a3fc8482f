/**
 * Append-only JSONL file sink. Lines are encoded into a byte buffer and written with one `write` per 64 KiB (or
 * per `rotate.maxBytes` when smaller); `flush` writes what is buffered, `close` flushes and fsyncs. A crash can
 * lose at most the unflushed tail, never corrupt an earlier line (readers skip a torn last line; the next writer
 * starts a new line). With `rotate`, the file is rotated between writes (rotating-file.ts, segments.ts).
 */
import type { JsonlSink } from '../../ports/decision-log.ts';
import type { RotateOptions } from '../../ports/line-source.ts';
import { RotatingFile } from './rotating-file.ts';

const FLUSH_AT = 64 * 1024;

export interface JsonlWriterOptions {
  /** size-based rotation with retention; absent or null: the file is never rotated */
  readonly rotate?: RotateOptions | null;
  readonly onError?: (e: Error) => void;
}

export class JsonlWriter implements JsonlSink {
  private readonly file: RotatingFile;
  private closed = false;
  // the lines not written yet, as UTF-8: encoded once, straight from each line (no joined string to flatten)
  private buf: Buffer;
  private at = 0;
  private lines = 0;
  private readonly flushAt: number;

  constructor(readonly path: string, options: JsonlWriterOptions = {}) {
    this.file = new RotatingFile(path, { rotate: options.rotate ?? null, ...(options.onError ? { onError: options.onError } : {}) });
    this.flushAt = Math.min(FLUSH_AT, options.rotate?.maxBytes ?? FLUSH_AT);
    this.buf = Buffer.allocUnsafe(2 * FLUSH_AT);
  }

  append(record: object): void {
    this.appendLine(JSON.stringify(record), record);
  }

  appendLine(line: string, _record?: object): void {
    // room for the line at 3 bytes per UTF-16 unit (the most UTF-8 takes) and its newline
    const most = 3 * line.length + 1;
    if (this.at + most > this.buf.length) {
      this.flush();
      if (most > this.buf.length) this.buf = Buffer.allocUnsafe(most);
    }
    this.at += this.buf.write(line, this.at);
    this.buf[this.at++] = 10;
    this.lines++;
    if (this.at >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.closed || this.at === 0) return;
    this.file.writeBytes(this.buf.subarray(0, this.at));
    this.at = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.file.close();
    this.closed = true;
  }

  /** Resolves when the compression and retention of rotated segments scheduled so far are done. */
  whenIdle(): Promise<void> {
    return this.file.whenIdle();
  }

  get count(): number {
    return this.lines;
  }
}

/** A sink that keeps lines in memory (tests, benchmarks of the pipeline without disk). */
export class MemorySink implements JsonlSink {
  readonly records: object[] = [];
  append(record: object): void {
    this.records.push(record);
  }
  appendLine(_line: string, record: object): void {
    this.records.push(record);
  }
  flush(): void {}
  close(): void {}
}

/** Passes lines through while open; drops them while closed (a resumed replay re-deriving committed candles). */
export class GatedSink implements JsonlSink {
  open = true;
  constructor(private readonly inner: JsonlSink) {}
  append(record: object): void {
    if (this.open) this.inner.append(record);
  }
  appendLine(line: string, record: object): void {
    if (this.open) this.inner.appendLine(line, record);
  }
  flush(): void {
    this.inner.flush();
  }
  close(): void {
    this.inner.close();
  }
}
