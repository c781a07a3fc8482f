/**
 * Append-only JSONL file sink. Lines are buffered and written with one `write` per 64 KiB; `flush`
 * writes what is buffered, `close` flushes and fsyncs. A crash can lose at most the unflushed tail,
 * never corrupt an earlier line (readers skip a torn last line; the next writer starts a new line).
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { JsonlSink } from '../../ports/decision-log.ts';

const FLUSH_AT = 64 * 1024;

export class JsonlWriter implements JsonlSink {
  private fd: number | null;
  private buf = '';
  private lines = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a+');
    // a torn last line (crash mid-write) must not swallow the first line we write: start on a new line
    const size = fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, size - 1);
      if (last[0] !== 10) writeSync(this.fd, '\n');
    }
  }

  append(record: object): void {
    this.buf += JSON.stringify(record) + '\n';
    this.lines++;
    if (this.buf.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.buf.length === 0) return;
    writeSync(this.fd, this.buf);
    this.buf = '';
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
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
  flush(): void {
    this.inner.flush();
  }
  close(): void {
    this.inner.close();
  }
}
