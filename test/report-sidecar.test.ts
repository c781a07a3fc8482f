/**
 * The report's sidecar (report_read_model.bin): a report built from it equals the report of the JSONL alone,
 * for every selection the dashboard makes, and a torn, corrupt, missing or stale sidecar changes nothing.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { buildReport } from '../src/analytics/report.ts';
import { factsOf, loadSidecar, SIDECAR_FILE } from '../src/analytics/sidecar.ts';
import { runReplay } from '../src/engine/compose.ts';
import { logSources, readModelOf, reportFor, withReadModel, type ReportFilter } from '../src/engine/reporting.ts';
import { LOG_FILES } from '../src/ports/decision-log.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const OPTS = { bootstrapResamples: 200 };
const jsonlOnly = (dir: string, f: ReportFilter) => JSON.parse(JSON.stringify(buildReport(readModelOf(dir, { ...f, sidecar: false }), OPTS)));
const viaSidecar = (dir: string, f: ReportFilter) => JSON.parse(JSON.stringify(reportFor(dir, f, OPTS)));

/** two replays into one logs directory (the second appends to the first's logs and sidecar) */
function twoRuns(): { dir: string; runs: string[]; strategies: string[]; mid: number } {
  const dir = tmp('tollgate-sidecar-');
  const { config, markets } = defaults();
  const a = runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-05-01'), logsDir: dir });
  const b = runReplay({ config, markets, series: bundledSlice('2019-03-01', '2019-07-01'), logsDir: dir });
  const decisions = readJsonl(join(dir, LOG_FILES.decisions));
  const strategies = [...new Set(decisions.map((d) => d.strategy as string))];
  return { dir, runs: [a.summary.runId, b.summary.runId], strategies, mid: Date.parse('2019-04-01T00:00:00Z') };
}

function filters(runs: string[], strategies: string[], mid: number): ReportFilter[] {
  return [
    {}, { run: 'all' }, { run: runs[0] }, { run: 'all', since: mid }, { run: 'all', until: mid }, { run: 'all', since: Date.parse('2019-03-15T00:00:00Z'), until: mid },
    ...strategies.map((strategy) => ({ run: 'all', strategy })), { run: 'all', pair: 'BTC/USD' }, { run: 'all', pair: 'ETH/USD' },
    { run: 'all', strategy: strategies[0], since: mid },
  ];
}

/** every row of every file is the sidecar's: the JSONL is read from its end */
function coveredWhole(dir: string): boolean {
  const sc = loadSidecar(join(dir, SIDECAR_FILE));
  if (!sc) return false;
  const sources = logSources(dir);
  const f = factsOf(sc, sources);
  return (['bus', 'decisions', 'shadow'] as const).every((k) => f.files[k] !== undefined && f.files[k]!.from === statSync(join(dir, LOG_FILES[k])).size && f.files[k]!.upTo > 0);
}

describe('the report sidecar', () => {
  const { dir, runs, strategies, mid } = twoRuns();

  it('when a replay writes its logs then the sidecar beside them covers every line of the bus, decisions and shadow logs', () => {
    expect(existsSync(join(dir, SIDECAR_FILE))).toBe(true);
    expect(coveredWhole(dir)).toBe(true);
    expect(strategies.length).toBeGreaterThan(1);
  });

  it('when a report is built from the sidecar then it deep-equals the report of the JSONL alone, for every run, time range, strategy and pair', () => {
    for (const f of filters(runs, strategies, mid)) expect(viaSidecar(dir, f), JSON.stringify(f)).toEqual(jsonlOnly(dir, f));
  });

  it('when filtered then the selection narrows: a strategy’s report holds only that strategy, a time range fewer decisions, an unknown pair none', () => {
    const all = viaSidecar(dir, { run: 'all' });
    const one = viaSidecar(dir, { run: 'all', strategy: strategies[0] });
    expect(one.strategies.map((s: { strategy: string }) => s.strategy)).toEqual([strategies[0]]);
    const n = (r: typeof all) => r.pipeline.decisions.approved + r.pipeline.decisions.blocked;
    expect(n(one)).toBeLessThan(n(all));
    expect(n(viaSidecar(dir, { run: 'all', until: mid }))).toBeLessThan(n(all));
    expect(n(viaSidecar(dir, { run: 'all', pair: 'ETH/USD' }))).toBe(0);
    expect(n(all)).toBe(readJsonl(join(dir, LOG_FILES.decisions)).length);
  });

  it('when the sidecar is torn, corrupt, replaced by garbage or missing then the report is still the JSONL’s', () => {
    const path = join(dir, SIDECAR_FILE);
    const good = readFileSync(path);
    const expected = filters(runs, strategies, mid).map((f) => jsonlOnly(dir, f));
    const check = () => filters(runs, strategies, mid).forEach((f, i) => expect(viaSidecar(dir, f), JSON.stringify(f)).toEqual(expected[i]));
    try {
      for (const cut of [good.length - 1, Math.floor(good.length / 2), Math.floor(good.length / 7), 40, 10]) {
        writeFileSync(path, good.subarray(0, cut));
        check();
      }
      const flipped = Buffer.from(good);
      flipped[Math.floor(good.length / 3)]! ^= 0xff;
      writeFileSync(path, flipped.subarray(0, good.length - 1)); // shorter too: a reader that kept the sidecar reads it again
      check();
      writeFileSync(path, 'not a sidecar at all');
      check();
      rmSync(path);
      check();
    } finally {
      writeFileSync(path, good);
    }
  });

  it('when JSONL lines were written without the sidecar, or the JSONL was cut back, then reports match, and the next writer lines the sidecar up again', () => {
    const d = twoRuns().dir;
    const dec = join(d, LOG_FILES.decisions);
    const extra = readFileSync(dec, 'utf8').split('\n').filter(Boolean).slice(0, 5).map((l) => l.replace(/"signalId":"/, '"signalId":"extra-')).join('\n') + '\n';
    appendFileSync(dec, extra); // a writer without the sidecar
    for (const f of [{ run: 'all' }, {}]) expect(viaSidecar(d, f)).toEqual(jsonlOnly(d, f));
    // a writer with it: records the lines it lacks as a gap, then appends its own rows
    const log = withReadModel(d, (name) => new JsonlWriter(join(d, LOG_FILES[name])));
    const last = readJsonl(dec).at(-1)!;
    log.decisions.append({ ...last, signalId: 'after-gap' });
    log.decisions.append({ ...last, signalId: 'torn', ts: 'not a time' }); // malformed: kept as its line, counted as skipped
    for (const s of Object.values(log)) s.close();
    expect(coveredWhole(d)).toBe(true);
    for (const f of [{ run: 'all' }, {}]) expect(viaSidecar(d, f)).toEqual(jsonlOnly(d, f));
    expect(viaSidecar(d, { run: 'all' }).skippedLines[LOG_FILES.decisions]).toBe(1);
    // the JSONL cut back (a resumed durable replay rolls its logs back): the sidecar's later claims fail
    truncateSync(dec, statSync(dec).size - extra.length - 200);
    appendFileSync(dec, '\n');
    for (const f of [{ run: 'all' }, {}]) expect(viaSidecar(d, f)).toEqual(jsonlOnly(d, f));
    const again = withReadModel(d, (name) => new JsonlWriter(join(d, LOG_FILES[name])));
    again.decisions.append({ ...last, signalId: 'after-reset' });
    for (const s of Object.values(again)) s.close();
    expect(coveredWhole(d)).toBe(true);
    for (const f of [{ run: 'all' }, {}]) expect(viaSidecar(d, f)).toEqual(jsonlOnly(d, f));
  });
});
