/**
 * The sidecar writer's memory is bounded (issue 13: RSS flat across a replay): it remembers only the values it
 * used recently and defines a forgotten one again; the reader maps a signal defined again to its first
 * definition, so what it reconstructs, and the report, are the JSONL's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { buildReport } from '../src/analytics/report.ts';
import { WRITER_CACHE } from '../src/analytics/facts.ts';
import { loadSidecar, SIDECAR_FILE, SidecarWriter } from '../src/analytics/sidecar.ts';
import { runReplay } from '../src/engine/compose.ts';
import { logSource, logSources, readModelOf, reportFor, withReadModel, type ReportFilter } from '../src/engine/reporting.ts';
import { FILES } from '../src/analytics/facts.ts';
import { LOG_FILES } from '../src/ports/decision-log.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const OPTS = { bootstrapResamples: 200 };
const jsonlOnly = (dir: string, f: ReportFilter) => JSON.parse(JSON.stringify(buildReport(readModelOf(dir, { ...f, sidecar: false }), OPTS)));
const viaSidecar = (dir: string, f: ReportFilter) => JSON.parse(JSON.stringify(reportFor(dir, f, OPTS)));
const DENSE = { strategies: [{ kind: 'ema_cross', fast: 2, slow: 3 }, { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 }, { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 }] };

describe('the sidecar writer’s bounded tables', () => {
  it('when the writer remembers only a few values then it defines signals again, and the sidecar report still equals the JSONL’s for every selection', () => {
    const saved = { ...WRITER_CACHE };
    Object.assign(WRITER_CACHE, { strings: 8, lists: 2, refs: 8 });
    const dir = tmp('tollgate-sidecar-bounded-');
    try {
      const { config, markets } = defaults(DENSE);
      const a = runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-03-01'), logsDir: dir });
      runReplay({ config, markets, series: bundledSlice('2019-02-01', '2019-04-01'), logsDir: dir });
      const sc = loadSidecar(join(dir, SIDECAR_FILE))!;
      // signals were defined again (the small cache forgot them), and each is one ref to the reader
      expect(sc.tables.sameRefs).toBe(false);
      expect(sc.tables.refDefs).toBeGreaterThan(sc.tables.refs);
      const signals = new Set(readJsonl(join(dir, LOG_FILES.decisions)).map((d) => `${d.runId}/${d.signalId}`));
      const refs = new Set(Array.from(sc.tables.refRun.subarray(0, sc.tables.refs), (r, i) => `${sc.tables.str(r)}/${sc.tables.str(sc.tables.refSig[i]!)}`));
      expect(refs.size).toBe(sc.tables.refs);
      for (const s of signals) expect(refs.has(s)).toBe(true);
      const strategies = [...new Set(readJsonl(join(dir, LOG_FILES.decisions)).map((d) => d.strategy as string))];
      const mid = Date.parse('2019-02-15T00:00:00Z');
      const filters: ReportFilter[] = [{}, { run: 'all' }, { run: a.summary.runId }, { run: 'all', since: mid }, { run: 'all', until: mid }, ...strategies.map((strategy) => ({ run: 'all', strategy })), { run: 'all', pair: 'BTC/USD' }];
      for (const f of filters) expect(viaSidecar(dir, f), JSON.stringify(f)).toEqual(jsonlOnly(dir, f));
      expect(viaSidecar(dir, { run: 'all' }).pipeline.decisions.approved).toBeGreaterThan(0);
    } finally {
      Object.assign(WRITER_CACHE, saved);
    }
  });

  it('when many signals pass through the writer then its tables stay within their bounds and every row names its own signal', () => {
    const dir = tmp('tollgate-sidecar-bounded-');
    const cache = { strings: 300, lists: 4, refs: 200 };
    const writer = new SidecarWriter({ path: join(dir, SIDECAR_FILE), sources: logSources(dir), cache });
    const sinks = Object.fromEntries(FILES.map((f) => [f, writer.wrap(f, new JsonlWriter(join(dir, LOG_FILES[f])), () => logSource(dir, LOG_FILES[f]).size!())]));
    const runId = 'run-bounded';
    const ts = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString();
    const expected: string[] = [];
    const N = 20_000;
    let most = { strings: 0, lists: 0, refs: 0 };
    sinks.bus!.append({ schemaVersion: 1, ts: ts(0), event: 'run.started', runId });
    for (let i = 0; i < N; i++) {
      sinks.bus!.append({ schemaVersion: 1, ts: ts(i), event: 'signal.received', signalId: `s${i}`, runId });
      expected.push(`s${i}`);
      if (i >= 1000) {
        // a signal long forgotten comes back (its outcome, much later)
        sinks.bus!.append({ schemaVersion: 1, ts: ts(i), event: 'signal.transition', signalId: `s${i - 1000}`, from: 'received', to: 'closed', terminal: true, cause: 'X', runId });
        expected.push(`s${i - 1000}`);
      }
      if (i % 500 === 0) {
        sinks.bus!.flush();
        const z = writer.tableSizes();
        most = { strings: Math.max(most.strings, z.strings), lists: Math.max(most.lists, z.lists), refs: Math.max(most.refs, z.refs) };
      }
    }
    expect(most.refs).toBeGreaterThan(cache.refs / 2); // it did remember
    expect(most.refs).toBeLessThanOrEqual(2 * cache.refs);
    expect(most.strings).toBeLessThanOrEqual(2 * cache.strings);
    expect(most.lists).toBeLessThanOrEqual(2 * cache.lists);
    for (const s of Object.values(sinks)) s.close();

    const sc = loadSidecar(join(dir, SIDECAR_FILE))!;
    const t = sc.tables;
    expect(t.refs).toBe(N); // one ref per signal, however often it was defined
    expect(t.refDefs).toBeGreaterThan(N);
    const rows = sc.files.bus.rows;
    const named: string[] = [];
    for (let i = 0; i < rows.n; i++) if (rows.ref[i]! >= 0) named.push(t.str(t.refSig[rows.ref[i]!]!));
    expect(named).toEqual(expected);
    for (const f of [{}, { run: 'all' }, { since: Date.UTC(2020, 0, 5) }] as ReportFilter[]) expect(viaSidecar(dir, f)).toEqual(jsonlOnly(dir, f));
  });

  it('when a version-1 sidecar (never a ref defined again) is found then it is read, and a writer appending to it marks it version 2 first (which a version-1 reader refuses)', () => {
    const dir = tmp('tollgate-sidecar-bounded-');
    const { config, markets } = defaults();
    runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-03-01'), logsDir: dir });
    const path = join(dir, SIDECAR_FILE);
    const file = readFileSync(path);
    expect(file[12]).toBe(2);
    const before = viaSidecar(dir, { run: 'all' });
    writeFileSync(path, Buffer.concat([file.subarray(0, 12), Buffer.from([1]), file.subarray(13)]));
    expect(loadSidecar(path)!.files.decisions.rows.n).toBe(loadSidecar(path)!.files.decisions.claims.at(-1)!.rows);
    expect(loadSidecar(path)!.files.decisions.rows.n).toBeGreaterThan(0);
    expect(viaSidecar(dir, { run: 'all' })).toEqual(before);
    const log = withReadModel(dir, (name) => new JsonlWriter(join(dir, LOG_FILES[name])));
    for (const s of Object.values(log)) s.close();
    expect(readFileSync(path)[12]).toBe(2);
    writeFileSync(path, Buffer.concat([file.subarray(0, 12), Buffer.from([3]), file.subarray(13)]));
    expect(loadSidecar(path)).toBeNull(); // a version this reader does not know
    expect(viaSidecar(dir, { run: 'all' })).toEqual(jsonlOnly(dir, { run: 'all' }));
  });
});
