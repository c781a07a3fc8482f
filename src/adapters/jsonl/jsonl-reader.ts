/**
 * Reads a JSONL file as lines, in 4 MiB chunks (no whole-file string, so a multi-GB log is fine).
 * A torn last line (crash mid-write) comes out as it is; the parser decides it is malformed.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { LineSource } from '../../ports/line-source.ts';

const CHUNK = 4 * 1024 * 1024;

export class JsonlFileSource implements LineSource {
  readonly name: string;
  readonly exists: boolean;

  constructor(private readonly path: string, private readonly chunkBytes = CHUNK) {
    this.name = basename(path);
    this.exists = existsSync(path);
  }

  *lines(): Iterable<string> {
    if (!this.exists) return;
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(this.chunkBytes);
      // bytes after the last newline so far (a line's start): kept as bytes, so a multi-byte character
      // cut by the chunk boundary is decoded whole, together with the rest of its line
      let rest: Buffer = Buffer.alloc(0);
      for (;;) {
        const n = readSync(fd, buf, 0, this.chunkBytes, null);
        if (n === 0) break;
        const first = buf.indexOf(10);
        if (first < 0 || first >= n) {
          rest = Buffer.concat([rest, buf.subarray(0, n)]);
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
    } finally {
      closeSync(fd);
    }
  }
}

/** Lines held in memory (tests). */
export class MemoryLines implements LineSource {
  readonly exists = true;
  constructor(readonly name: string, private readonly content: readonly string[]) {}
  lines(): Iterable<string> {
    return this.content;
  }
}
