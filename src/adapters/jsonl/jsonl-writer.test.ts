import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tmp } from '../../../test/helpers.ts';
import { JsonlWriter } from './jsonl-writer.ts';

describe('the JSONL writer', () => {
  it('when records and ready-made lines of any characters and length are appended then the file holds exactly their JSON, one per line', () => {
    const dir = tmp();
    let n = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 30 }), (items) => {
        const file = join(dir, `x${n++}.jsonl`);
        const w = new JsonlWriter(file);
        const want: string[] = [];
        for (const [s, big, ready] of items) {
          // big: a line longer than one write (64 KiB), of multi-byte characters
          const rec = { s, pad: big === 3 ? 'é€😀'.repeat(30_000) : '' };
          const line = JSON.stringify(rec);
          if (ready) w.appendLine(line, rec);
          else w.append(rec);
          want.push(line);
        }
        w.close();
        expect(readFileSync(file, 'utf8')).toBe(want.map((l) => l + '\n').join(''));
        expect(w.count).toBe(items.length);
      }),
      { numRuns: 60 },
    );
  });

  it('when a rotation size is set then whole lines are written and rotated, none split or lost', () => {
    const dir = tmp();
    const w = new JsonlWriter(join(dir, 'r.jsonl'), { rotate: { maxBytes: 300, keep: 1000 } });
    const want: string[] = [];
    for (let i = 0; i < 200; i++) {
      const rec = { i, text: `ligne ${i} · ${'ü'.repeat(i % 17)}` };
      w.append(rec);
      want.push(JSON.stringify(rec));
    }
    w.close();
    const files = readdirSync(dir).filter((f) => !f.endsWith('.gz')).sort();
    expect(files.length).toBeGreaterThan(10);
    const got = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.length > 0));
    expect(got.sort()).toEqual(want.sort());
  });
});
