/**
 * The report of a small run is the same, byte for byte, as the one `tollgate report` printed before the
 * read model (issue 13): fixtures captured from main at 94bd92c, logs gzipped under test/fixtures/report/
 * (see its README). When the numbers or the output change on purpose, regenerate the expected files and
 * say why in the commit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderFromLogs } from '../src/engine/reporting.ts';
import type { ReportFormat } from '../src/analytics/render.ts';
import { BIN, tmp } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'report');
const FIRST_RUN = '7b9f4f81-d189-4698-ab68-813803752a47';

/** the gzipped fixture logs, unpacked into a fresh logs directory */
function unpack(name: string): string {
  const dir = join(tmp('tollgate-report-golden-'), name);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(join(FIXTURES, name))) writeFileSync(join(dir, f.replace(/\.gz$/, '')), gunzipSync(readFileSync(join(FIXTURES, name, f))));
  return dir;
}
const expected = (file: string) => readFileSync(join(FIXTURES, 'expected', file), 'utf8');
/** what the CLI prints: the rendering and a newline */
const printed = (dir: string, format: ReportFormat, load: Parameters<typeof renderFromLogs>[2] = {}, options: Parameters<typeof renderFromLogs>[3] = {}) =>
  renderFromLogs(dir, format, load, options) + '\n';

describe('report golden: a small replay (two runs, a duplicate outcome, a reordered line, a malformed and a torn line)', () => {
  let dir = '';
  beforeAll(() => {
    dir = unpack('replay');
  });

  for (const [format, file] of [['json', 'replay.json'], ['text', 'replay.txt'], ['md', 'replay.md'], ['html', 'replay.html']] as const) {
    it(`when rendered as ${format} for the latest run then it equals the captured report byte for byte`, () => {
      expect(printed(dir, format)).toBe(expected(file));
    });
  }

  it('when every run is selected then the JSON equals the captured one', () => {
    expect(printed(dir, 'json', { run: 'all' })).toBe(expected('replay-all.json'));
  });

  it('when the first run is selected by id then the JSON equals the captured one', () => {
    expect(printed(dir, 'json', { run: FIRST_RUN })).toBe(expected('replay-first-run.json'));
  });

  it('when --since cuts every run then the JSON equals the captured one', () => {
    expect(printed(dir, 'json', { run: 'all', since: Date.UTC(2019, 2, 20) })).toBe(expected('replay-all-since.json'));
  });

  it('when the stuck threshold and the minimum sample change then the JSON equals the captured one', () => {
    expect(printed(dir, 'json', {}, { stuckAfterMs: 60_000, minSample: 5 })).toBe(expected('replay-tuned.json'));
  });

  it('when the CLI prints the JSON report then stdout equals the captured one', () => {
    const r = spawnSync(process.execPath, [BIN, 'report', '--logs', dir, '--format', 'json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected('replay.json'));
  });
});

describe('report golden: the benchmark generator at 1,000 decisions (700 outcomes, overlaps, 300 trades)', () => {
  let dir = '';
  beforeAll(() => {
    dir = unpack('synthetic');
  });

  it('when rendered as JSON then it equals the captured report byte for byte', () => {
    expect(printed(dir, 'json')).toBe(expected('synthetic.json'));
  });

  it('when rendered as text then it equals the captured report', () => {
    expect(printed(dir, 'text')).toBe(expected('synthetic.txt'));
  });
});
