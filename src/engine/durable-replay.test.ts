import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKrakenOhlcvt } from '../adapters/csv/kraken-ohlcvt.ts';
import { parseConfig } from '../config/schema.ts';
import { tmp } from '../../test/helpers.ts';
import { replayFingerprint } from './durable-replay.ts';

describe('replay fingerprint', () => {
  it('when two files differ only beyond the 15th significant digit then their fingerprints differ (a resume on the other file is refused)', () => {
    const dir = tmp();
    const rows = (v: string) => `1600000000,1,1,1,1,${v},1\n1600003600,1,1,1,1,2,1\n`;
    const a = join(dir, 'A_60.csv');
    const b = join(dir, 'B_60.csv');
    writeFileSync(a, rows('108678.69637636091'));
    writeFileSync(b, rows('108678.69637636092'));
    const config = parseConfig({});
    const fa = replayFingerprint(loadKrakenOhlcvt(a, { pair: 'ETH/USD' }), config);
    const fb = replayFingerprint(loadKrakenOhlcvt(b, { pair: 'ETH/USD' }), config);
    expect(fa).not.toBe(fb);
    expect(replayFingerprint(loadKrakenOhlcvt(a, { pair: 'ETH/USD' }), config)).toBe(fa);
  });
});
