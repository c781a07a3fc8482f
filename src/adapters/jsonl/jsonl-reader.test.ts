import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tmp } from '../../../test/helpers.ts';
import { JsonlFileSource } from './jsonl-reader.ts';

describe('reading a JSONL file as lines', () => {
  it('gives back exactly the lines written, whatever the chunk size cuts (multi-byte characters included)', () => {
    const dir = tmp();
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/\n/g, ' ')), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), (lines, chunk, trailingNewline) => {
        const file = join(dir, 'x.jsonl');
        const content = lines.join('\n') + (trailingNewline ? '\n' : '');
        writeFileSync(file, content);
        const want = content.split('\n');
        if (want.at(-1) === '') want.pop(); // after the final newline there is no line
        expect([...new JsonlFileSource(file, chunk).lines()]).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('a missing file is an empty source, not an error', () => {
    const s = new JsonlFileSource(join(tmp(), 'absent.jsonl'));
    expect(s.exists).toBe(false);
    expect([...s.lines()]).toEqual([]);
  });
});
