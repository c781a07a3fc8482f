import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_LOGS, goldenLines, normalisedLines, replayBundled } from './golden.ts';
import { tmp } from './helpers.ts';

describe('golden replay: the bundled data with the default config', () => {
  const dir = tmp('tollgate-golden-');
  replayBundled(dir);

  for (const name of GOLDEN_LOGS) {
    it(`when the bundled file is replayed then ${name} equals the recorded main's, line for line (run ids and wall-clock fields aside)`, () => {
      const got = normalisedLines(join(dir, name));
      const want = goldenLines(name);
      const firstDiff = got.findIndex((l, i) => l !== want[i]);
      if (firstDiff >= 0) expect(got[firstDiff], `${name}:${firstDiff + 1}`).toBe(want[firstDiff]);
      expect(got.length).toBe(want.length);
    });
  }
});
