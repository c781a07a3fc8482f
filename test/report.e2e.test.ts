/**
 * `tollgate report` end to end: the numbers equal an independent summation of the JSONL logs, torn and
 * malformed lines are skipped and counted, `--since` and `--run` select what they say, every format
 * renders, bad input exits 2, and `replay --report` prints the summary then the report.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../src/engine/compose.ts';
import { renderFromLogs, reportFromLogs } from '../src/engine/reporting.ts';
import type { Report } from '../src/analytics/report.ts';
import { BIN, BUNDLED, bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

type Line = Record<string, any>;
const FILES = { bus: 'signal_bus.jsonl', decisions: 'signal_decisions.jsonl', shadow: 'shadow_trade_outcomes.jsonl' } as const;

function tollgate(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const D = (v: string | number | Decimal) => new Decimal(v);
const total = (xs: readonly Line[]) => xs.reduce<Decimal>((a, s) => a.plus(s.pnl), D(0));

/** Per guard, from shadow_trade_outcomes.jsonl lines alone: what LOGS.md says the report's guard entries hold. */
function recompute(shadows: readonly Line[]) {
  const out = new Map<string, { blocked: number; soleBlocked: number; headlineBlocked: number; overlapping: number; shadowPnl: Decimal; soleShadowPnl: Decimal; headlineShadowPnl: Decimal }>();
  for (const s of shadows) {
    for (const code of s.blockedBy as string[]) {
      let g = out.get(code);
      if (!g) out.set(code, (g = { blocked: 0, soleBlocked: 0, headlineBlocked: 0, overlapping: 0, shadowPnl: D(0), soleShadowPnl: D(0), headlineShadowPnl: D(0) }));
      g.blocked++;
      g.shadowPnl = g.shadowPnl.plus(s.pnl);
      if (s.blockedBy.length === 1) {
        g.soleBlocked++;
        g.soleShadowPnl = g.soleShadowPnl.plus(s.pnl);
      }
      if (s.overlaps) g.overlapping++;
      else {
        g.headlineBlocked++;
        g.headlineShadowPnl = g.headlineShadowPnl.plus(s.pnl);
      }
    }
  }
  return out;
}

/** The report's per-guard and overall shadow figures equal the recomputation from `shadows`. */
let soleAwaitingOf: (code: string) => number = () => 0;

function expectTotals(r: Report, shadows: readonly Line[]) {
  const want = recompute(shadows);
  expect(new Set(r.guards.map((g) => g.code))).toEqual(new Set(want.keys()));
  for (const g of r.guards) {
    const w = want.get(g.code)!;
    // blocked counts decisions; those without an outcome line yet are `awaitingOutcome`
    const soleAwaiting = r.guards.length && g.awaitingOutcome ? soleAwaitingOf(g.code) : 0;
    expect({ code: g.code, blocked: g.blocked - g.awaitingOutcome, soleBlocked: g.soleBlocked - soleAwaiting, headlineBlocked: g.headlineBlocked, overlapping: g.overlapping })
      .toEqual({ code: g.code, blocked: w.blocked, soleBlocked: w.soleBlocked, headlineBlocked: w.headlineBlocked, overlapping: w.overlapping });
    expect(D(g.shadowPnl).eq(w.shadowPnl), `${g.code} shadowPnl ${g.shadowPnl} vs ${w.shadowPnl}`).toBe(true);
    expect(D(g.soleShadowPnl).eq(w.soleShadowPnl), `${g.code} soleShadowPnl ${g.soleShadowPnl} vs ${w.soleShadowPnl}`).toBe(true);
    expect(D(g.headlineShadowPnl).eq(w.headlineShadowPnl), `${g.code} headlineShadowPnl ${g.headlineShadowPnl} vs ${w.headlineShadowPnl}`).toBe(true);
    expect(D(g.headline.pnl).eq(w.headlineShadowPnl)).toBe(true);
  }
  expect(r.shadow.outcomes).toBe(shadows.length);
  expect(D(r.shadow.pnl).eq(total(shadows))).toBe(true);
  expect(D(r.shadow.headlineShadowPnl).eq(total(shadows.filter((s) => !s.overlaps)))).toBe(true);
  expect(r.shadow.overlapping).toBe(shadows.filter((s) => s.overlaps).length);
  const byStatus: Record<string, number> = {};
  for (const s of shadows) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  expect(r.shadow.byStatus).toEqual(byStatus);
}

const { config, markets } = defaults();
const series = bundledSlice('2018-01-01', '2019-07-01');
const dir = tmp();
const { summary } = runReplay({ config, markets, series, logsDir: dir });
const read = (d: string, f: keyof typeof FILES) => readJsonl(join(d, FILES[f]));
const shadows = read(dir, 'shadow');
const decisions = read(dir, 'decisions');
const bus = read(dir, 'bus');
const closed = bus.filter((l) => l.event === 'trade.closed');

describe('report totals equal an independent summation of the logs', () => {
  const cli = tollgate(['report', '--logs', dir, '--format', 'json']);
  const r = JSON.parse(cli.out) as Report;

  it('when the JSON report is built by the CLI then every guard blocked/soleBlocked/shadowPnl/soleShadowPnl/headlineShadowPnl equals a summation of shadow_trade_outcomes.jsonl', () => {
    expect(cli.code).toBe(0);
    expect(shadows.length).toBeGreaterThan(100);
    expect(r.guards.length).toBeGreaterThanOrEqual(3);
    expect(shadows.some((s) => s.overlaps) && shadows.some((s) => s.blockedBy.length > 1)).toBe(true); // both rules are exercised
    expectTotals(r, shadows);
    expect(r.shadow.blockedWithoutOutcome).toBe(0);
    expect(r.skippedLines).toEqual({});
  });

  it('when the report counts blocked signals per guard then they equal the enforcing blockers in signal_decisions.jsonl and the replay summary', () => {
    for (const g of r.guards) {
      const n = decisions.filter((d) => d.decision === 'blocked' && d.blockedBy.includes(g.code)).length;
      expect(g.blocked, g.code).toBe(n);
      expect(g.blocked, g.code).toBe(summary.blockedByCode[g.code as keyof typeof summary.blockedByCode]);
    }
    expect(r.pipeline.decisions).toEqual({ approved: summary.approved, blocked: summary.blocked });
    expect(r.pipeline.signals).toBe(summary.signals);
  });

  it('when the report sums the overall shadow PnL then it equals the replay summary, with and without overlaps', () => {
    expect(D(r.shadow.pnl).eq(summary.shadow.pnl)).toBe(true);
    expect(D(r.shadow.headlineShadowPnl).eq(summary.shadow.headlinePnl)).toBe(true);
  });

  it("when the leaderboard reports a strategy's realized figures then they equal its trade.closed lines", () => {
    const names = new Set([...decisions.map((d) => d.strategy as string)]);
    expect(new Set(r.strategies.map((s) => s.strategy))).toEqual(names);
    for (const s of r.strategies) {
      const mine = closed.filter((t) => t.strategy === s.strategy);
      expect(s.realized.trades, s.strategy).toBe(mine.length);
      expect(D(s.realized.totalPnl).eq(total(mine)), `${s.strategy} ${s.realized.totalPnl}`).toBe(true);
      const wins = mine.filter((t) => D(t.pnl).gt(0)).length;
      expect(s.realized.winRate).toBe(mine.length ? wins / mine.length : null);
      const dec = decisions.filter((d) => d.strategy === s.strategy);
      expect({ signals: s.signals, approved: s.approved, blocked: s.blocked }).toEqual({
        signals: dec.length, approved: dec.filter((d) => d.decision === 'approved').length, blocked: dec.filter((d) => d.decision === 'blocked').length,
      });
      // shadow leaderboard: headline shadow trades that bought something and have an exit
      const sh = shadows.filter((x) => x.strategy === s.strategy && !x.overlaps && x.exitTs !== null && D(x.quantity).gt(0));
      expect(s.shadow.trades).toBe(sh.length);
      expect(D(s.shadow.totalPnl).eq(total(sh))).toBe(true);
    }
    const allRealized = r.strategies.reduce((a, s) => a.plus(s.realized.totalPnl), D(0));
    expect(allRealized.eq(summary.realizedPnl)).toBe(true);
    // the realized equity curve ends at the starting balance plus the realized PnL
    const last = r.equity.realized[r.equity.realized.length - 1]!;
    expect(last[1]).toBeCloseTo(10_000 + Number(summary.realizedPnl), 6);
  });

  it('when reportFromLogs builds the same report in-process then it equals the CLI JSON', () => {
    expect(JSON.parse(JSON.stringify(reportFromLogs(dir)))).toEqual(r);
  });
});

describe('malformed and truncated lines', () => {
  const base = reportFromLogs(dir);

  /** copy the logs; into each read file insert `middle` garbage lines half-way and append `tail`, ending with a torn half line */
  function damaged(opts: { corruptShadowAt?: number } = {}) {
    const d = tmp();
    cpSync(dir, d, { recursive: true });
    const runId = summary.runId;
    for (const f of Object.values(FILES)) {
      const p = join(d, f);
      const lines = readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0);
      const mid = Math.floor(lines.length / 2);
      lines.splice(mid, 0, '{"schemaVersion":1,"ts":"2018-03-01T00:00:00.000Z","signalId":'); // cut short, in the middle
      if (f === FILES.shadow && opts.corruptShadowAt !== undefined) {
        lines[opts.corruptShadowAt] = lines[opts.corruptShadowAt]!.replace(/"pnl":"[^"]*"/, '"pnl":"12,5"');
      }
      const tail = [
        'garbage that is not JSON',
        '[1,2,3]',
        'null',
        `{"schemaVersion":1,"ts":"not a time","event":"signal.received","signalId":"x","decision":"approved","overlaps":false,"runId":"${runId}"}`,
      ];
      const torn = lines[1]!.slice(0, Math.floor(lines[1]!.length / 2)); // a crash mid-write: no newline after it
      writeFileSync(p, [...lines, ...tail].join('\n') + '\n' + torn);
    }
    return d;
  }
  const PER_FILE = 6; // 1 in the middle + 4 appended + 1 torn at the end

  it('when every log file has garbage, a cut line in the middle and a torn last line then the report renders, counts each skipped line and its totals are unchanged', () => {
    const d = damaged();
    const r = reportFromLogs(d);
    expect(r.skippedLines).toEqual({ [FILES.bus]: PER_FILE, [FILES.decisions]: PER_FILE, [FILES.shadow]: PER_FILE });
    expect(r.guards).toEqual(base.guards);
    expect(r.shadow).toEqual(base.shadow);
    expect(r.strategies).toEqual(base.strategies);
    expect(r.pipeline.signals).toBe(base.pipeline.signals);
    expect(r.pipeline.decisions).toEqual(base.pipeline.decisions);
    for (const format of ['md', 'json', 'html'] as const) expect(renderFromLogs(d, format).length).toBeGreaterThan(100);
    const c = tollgate(['report', '--logs', d]);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(new RegExp(`skipped malformed lines: .*${FILES.shadow} ${PER_FILE}`));
  });

  it('when one shadow line in the middle is corrupted then it is skipped and counted, and the totals lose exactly that outcome', () => {
    const at = Math.floor(shadows.length / 3);
    const lost = shadows[at]!;
    const d = damaged({ corruptShadowAt: at });
    const r = reportFromLogs(d);
    expect(r.skippedLines[FILES.shadow]).toBe(PER_FILE + 1);
    expect(r.shadow.blockedWithoutOutcome).toBe(1);
    // the lost outcome's signal still counts as blocked by its guards, awaiting an outcome
    for (const g of r.guards) expect(g.awaitingOutcome).toBe(lost.blockedBy.includes(g.code) ? 1 : 0);
    soleAwaitingOf = (code) => (lost.blockedBy.length === 1 && lost.blockedBy[0] === code ? 1 : 0);
    expectTotals(r, shadows.filter((s) => s !== lost));
    soleAwaitingOf = () => 0;
    expect(D(r.shadow.pnl).eq(D(base.shadow.pnl).minus(lost.pnl))).toBe(true);
  });

  it('when the last line of a log is torn just before its closing brace (a crash mid-write) then it is skipped and counted too', () => {
    const d = tmp();
    cpSync(dir, d, { recursive: true });
    const line = readFileSync(join(dir, FILES.decisions), 'utf8').split('\n')[0]!;
    appendFileSync(join(d, FILES.decisions), line.slice(0, -1)); // `…"runId":"<id>"` without the final `}`
    const r = reportFromLogs(d);
    expect(r.skippedLines[FILES.decisions]).toBe(1);
  });

  it('when a replay appends to logs whose last lines were torn by a crash then the report covers the new run with all its lines and counts the torn ones', () => {
    const d = tmp();
    runReplay({ config, markets, series: bundledSlice('2018-01-01', '2018-04-01'), logsDir: d });
    for (const f of Object.values(FILES)) {
      const line = readFileSync(join(d, f), 'utf8').split('\n')[1]!;
      appendFileSync(join(d, f), line.slice(0, Math.floor(line.length / 2))); // the crash: half a line, no newline
    }
    const next = runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-04-01'), logsDir: d }).summary;
    const r = reportFromLogs(d);
    expect(r.runs.map((x) => x.runId)).toEqual([next.runId]);
    expect(r.pipeline.decisions).toEqual({ approved: next.approved, blocked: next.blocked });
    expect(r.shadow.outcomes).toBe(next.shadow.outcomes);
    expect(D(r.shadow.pnl).eq(next.shadow.pnl)).toBe(true);
    expect(r.skippedLines).toEqual({ [FILES.bus]: 1, [FILES.decisions]: 1, [FILES.shadow]: 1 });
  });
});

describe('report selection: --since and --run', () => {
  it('when --since is given then only signals decided at or after it are reported, and the totals are those of the later shadow lines', () => {
    const since = '2018-10-01';
    const t = Date.parse(`${since}T00:00:00Z`);
    const c = tollgate(['report', '--logs', dir, '--format', 'json', '--since', since]);
    expect(c.code).toBe(0);
    const r = JSON.parse(c.out) as Report;
    const later = shadows.filter((s) => Date.parse(s.decidedTs) >= t);
    expect(later.length).toBeGreaterThan(0);
    expect(later.length).toBeLessThan(shadows.length);
    expectTotals(r, later);
    const laterDecisions = decisions.filter((d) => Date.parse(d.ts) >= t);
    expect(r.pipeline.decisions).toEqual({
      approved: laterDecisions.filter((d) => d.decision === 'approved').length,
      blocked: laterDecisions.filter((d) => d.decision === 'blocked').length,
    });
    expect(r.pipeline.signals).toBe(bus.filter((l) => l.event === 'signal.received' && Date.parse(l.ts) >= t).length);
    // realized trades of signals decided before --since are left out
    const laterApproved = new Set(laterDecisions.filter((d) => d.decision === 'approved').map((d) => d.signalId));
    const realized = r.strategies.reduce((a, s) => a.plus(s.realized.totalPnl), D(0));
    expect(realized.eq(total(closed.filter((x) => laterApproved.has(x.signalId))))).toBe(true);
  });

  it('when two replays append to the same logs then the report covers the latest run by default and both with --run all', () => {
    const d = tmp();
    const first = runReplay({ config, markets, series: bundledSlice('2018-01-01', '2018-05-01'), logsDir: d }).summary;
    const second = runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-05-01'), logsDir: d }).summary;
    const sh = read(d, 'shadow');
    const latest = JSON.parse(tollgate(['report', '--logs', d, '--format', 'json']).out) as Report;
    expect(latest.runs.map((x) => x.runId)).toEqual([second.runId]);
    expectTotals(latest, sh.filter((s) => s.runId === second.runId));
    expect(latest.pipeline.signals).toBe(second.signals);
    expect(latest.pipeline.decisions).toEqual({ approved: second.approved, blocked: second.blocked });

    const all = reportFromLogs(d, { run: 'all' });
    expect(all.runs.map((x) => x.runId)).toEqual([first.runId, second.runId]);
    expectTotals(all, sh);
    expect(all.pipeline.signals).toBe(first.signals + second.signals);

    const byId = reportFromLogs(d, { run: first.runId });
    expectTotals(byId, sh.filter((s) => s.runId === first.runId));
    expect(tollgate(['report', '--logs', d, '--run', 'no-such-run']).code).toBe(2);
  });
});

describe('report formats and errors', () => {
  it('when each format is asked for then text, md, json and html render; html is self-contained with two SVG charts', () => {
    const text = tollgate(['report', '--logs', dir, '--format', 'text']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^Tollgate report/);
    expect(text.out).toMatch(/Blocked-opportunity cost per guard/);
    expect(text.out).toMatch(/Recommendations/);
    expect(text.out).toMatch(/overlaps/); // the headline rule is stated
    const md = renderFromLogs(dir, 'md');
    expect(md).toMatch(/^# Tollgate report/);
    expect(md).toMatch(/^\| guard \| mode \| blocked/m);
    expect(JSON.parse(renderFromLogs(dir, 'json'))).toHaveProperty('guards'); // the CLI's JSON is checked above
    const html = tollgate(['report', '--logs', dir, '--format', 'html']);
    expect(html.code).toBe(0);
    expect(html.out).toMatch(/^<!doctype html>/);
    expect(html.out.match(/<svg\b/g)).toHaveLength(2);
    expect(html.out).not.toMatch(/<script/i);
    expect(html.out).not.toMatch(/(src|href)="https?:/);
  });

  it('when the format is unknown then the exit code is 2 and the message names the formats', () => {
    const c = tollgate(['report', '--logs', dir, '--format', 'pdf']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/"pdf" is not a report format \(text, md, json, html\)/);
    expect(c.out).toBe('');
  });

  it('when the logs directory is missing or holds no logs then the exit code is 2 with a clear message and no stack trace', () => {
    const missing = tollgate(['report', '--logs', join(tmp(), 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--logs .*nope: no such directory/);
    expect(missing.err).not.toMatch(/\bat .*\.ts:\d+/);
    const empty = tollgate(['report', '--logs', tmp()]);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/no signal_bus\.jsonl or signal_decisions\.jsonl there/);
  });

  it('when replay is run with --report then it prints the summary, then the text report of that run only', () => {
    const logs = tmp();
    const args = ['replay', '--data', BUNDLED, '--pair', 'BTC/USD', '--from', '2019-01-01', '--to', '2019-03-01', '--logs', logs, '--no-progress', '--report'];
    tollgate(args); // an earlier run in the same logs
    const c = tollgate(args);
    expect(c.code, c.err).toBe(0);
    const iSummary = c.out.indexOf('realized PnL');
    const iReport = c.out.indexOf('Tollgate report');
    expect(iSummary).toBeGreaterThan(0);
    expect(iReport).toBeGreaterThan(iSummary);
    expect(c.out).toMatch(/^replay 2019-01-01/);
    const runsLine = c.out.split('\n').find((l) => l.startsWith('runs: '))!;
    expect(runsLine.split(';')).toHaveLength(1);
    const lastRun = read(logs, 'bus').filter((l) => l.event === 'run.started').pop()!;
    expect(runsLine).toContain(lastRun.runId);
  });
});

describe('the overlaps rule on hand-written logs', () => {
  const RUN = 'hand';
  const t = (h: number) => new Date(Date.UTC(2024, 0, 1, h)).toISOString();
  const decision = (id: string, h: number, strategy: string) =>
    ({ schemaVersion: 1, ts: t(h), signalId: id, strategy, pair: 'BTC/USD', side: 'buy', decision: 'blocked', guards: [], blockedBy: ['COOLDOWN'], observedBlocks: [], quantity: '0.1', runId: RUN });
  const shadow = (id: string, h: number, strategy: string, exitH: number, pnl: string, overlaps: boolean) => ({
    schemaVersion: 1, ts: t(exitH), signalId: id, strategy, pair: 'BTC/USD', side: 'buy', blockedBy: ['COOLDOWN'], blockingGuards: ['COOLDOWN'], status: 'closed', reason: null,
    decidedTs: t(h), entryTs: t(h + 1), entryPrice: '100', exitTs: t(exitH), exitPrice: '110', exitReason: 'take_profit', quantity: '0.1', fees: '0.5', pnl, pnlPct: 1,
    maxAdverse: '0', maxFavourable: '1', overlaps, runId: RUN,
  });
  const logs = tmp();
  mkdirSync(logs, { recursive: true });
  const jsonl = (xs: object[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
  writeFileSync(join(logs, FILES.bus), jsonl([
    { schemaVersion: 1, ts: t(0), event: 'run.started', signalId: null, mode: 'replay', pair: 'BTC/USD', from: t(0), to: t(24), startingCash: { USD: '10000' }, guards: { COOLDOWN: 'enforce' }, runId: RUN },
    ...['a', 'b', 'c'].map((id, i) => ({ schemaVersion: 1, ts: t(1 + i), event: 'signal.received', signalId: id, runId: RUN })),
    ...['a', 'b', 'c'].map((id, i) => ({ schemaVersion: 1, ts: t(1 + i), event: 'signal.transition', signalId: id, from: 'guarded', to: 'blocked', terminal: true, runId: RUN })),
  ]));
  // a: first move; b: same strategy and pair while a is still held (overlaps); c: another strategy at the same time
  writeFileSync(join(logs, FILES.decisions), jsonl([decision('a', 1, 'ema_cross'), decision('b', 2, 'ema_cross'), decision('c', 3, 'rsi_reversion')]));
  writeFileSync(join(logs, FILES.shadow), jsonl([shadow('a', 1, 'ema_cross', 10, '40', false), shadow('b', 2, 'ema_cross', 10, '35.5', true), shadow('c', 3, 'rsi_reversion', 12, '-7.25', false)]));

  it('when a blocked signal overlaps an open shadow of the same strategy and pair then the headline leaves it out and the all-outcomes figure keeps it', () => {
    const c = tollgate(['report', '--logs', logs, '--format', 'json']);
    expect(c.code, c.err).toBe(0);
    const r = JSON.parse(c.out) as Report;
    const g = r.guards.find((x) => x.code === 'COOLDOWN')!;
    expect(g.blocked).toBe(3);
    expect(g.overlapping).toBe(1);
    expect(g.headlineBlocked).toBe(2);
    expect(D(g.shadowPnl).eq('68.25')).toBe(true); // 40 + 35.5 − 7.25
    expect(D(g.headlineShadowPnl).eq('32.75')).toBe(true); // 40 − 7.25: b left out
    expect(D(g.soleShadowPnl).eq('68.25')).toBe(true);
    expect(g.headline.trades).toBe(2);
    expect(D(r.shadow.pnl).eq('68.25')).toBe(true);
    expect(D(r.shadow.headlineShadowPnl).eq('32.75')).toBe(true);
    expect(r.shadow.overlapping).toBe(1);
    // the shadow leaderboard and the equity curve with shadows count the headline only
    expect(r.strategies.find((s) => s.strategy === 'ema_cross')!.shadow.totalPnl).toBe('40');
    expect(r.equity.withShadow[r.equity.withShadow.length - 1]![1]).toBeCloseTo(10_000 + 32.75, 9);
    expect(r.rules.some((x) => /overlaps/.test(x) && /headline/.test(x))).toBe(true);
  });
});
