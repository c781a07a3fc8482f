/**
 * Append-only JSONL file sink. Lines are buffered and written with one `write` per 64 KiB (or per
 * `rotate.maxBytes` when smaller); `flush` writes what is buffered, `close` flushes and fsyncs. A crash can lose
 * at most the unflushed tail, never corrupt an earlier line (readers skip a torn last line; the next writer
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
  private buf = '';
  private lines = 0;
  private readonly flushAt: number;

  constructor(readonly path: string, options: JsonlWriterOptions = {}) {
    this.file = new RotatingFile(path, { rotate: options.rotate ?? null, ...(options.onError ? { onError: options.onError } : {}) });
    this.flushAt = Math.min(FLUSH_AT, options.rotate?.maxBytes ?? FLUSH_AT);
  }

  append(record: object): void {
    this.appendLine(JSON.stringify(record));
  }

  appendLine(line: string, _record?: object): void {
    this.buf += line + '\n';
    this.lines++;
    if (this.buf.length >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.closed || this.buf.length === 0) return;
    this.file.write(this.buf);
    this.buf = '';
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
