/**
 * Reads one JSONL file as lines, in 4 MiB chunks (no whole-file string, so a multi-GB log is fine).
 * A torn last line (crash mid-write) comes out as it is; the parser decides it is malformed.
 * A rotated log (segments and the live file) is read by `LogLines` (segments.ts).
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import type { LineSource } from '../../ports/line-source.ts';
import { fdChunks, splitLines } from './segments.ts';

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
      yield* splitLines(fdChunks(fd, this.chunkBytes));
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
