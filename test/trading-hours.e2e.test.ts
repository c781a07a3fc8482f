/**
 * TRADING_HOURS in a replay of the bundled Kraken candles: the guard runs on candle time (the injected clock),
 * its blocks are decisions like any other guard's, and the shadow engine follows every signal it blocked, so the
 * report can say what the restriction cost.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../src/engine/compose.ts';
import { reportFromLogs } from '../src/engine/reporting.ts';
import { localTimeIn } from '../src/guards/trading-hours.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const ZONE = 'America/New_York';
const HOURS = { mode: 'enforce', timeZone: ZONE, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:30', to: '16:00' }], blackouts: [{ from: '2019-07-04', reason: 'Independence Day' }] };
const series = bundledSlice('2019-01-01', '2019-10-01');

describe('TRADING_HOURS in a replay of the bundled data (NYSE hours, America/New_York)', () => {
  const dir = tmp('tollgate-hours-');
  const { config, markets } = defaults({ guards: { TRADING_HOURS: HOURS } });
  const { summary } = runReplay({ config, markets, series, logsDir: dir });
  const decisions = readJsonl(join(dir, 'signal_decisions.jsonl'));
  const shadows = readJsonl(join(dir, 'shadow_trade_outcomes.jsonl'));
  const local = localTimeIn(ZONE);
  const inHours = (iso: string) => {
    const t = local(Date.parse(iso));
    return !['sat', 'sun'].includes(t.weekday) && t.minute >= 570 && t.minute < 960 && t.date !== '2019-07-04';
  };

  it('when it enforces then it blocks signals, and the summary counts them under TRADING_HOURS', () => {
    const blocked = decisions.filter((d) => d.blockedBy.includes('TRADING_HOURS'));
    expect(blocked.length).toBeGreaterThan(10);
    expect(summary.blockedByCode.TRADING_HOURS).toBe(blocked.length);
  });

  it('when a decision is made then TRADING_HOURS is listed last and blocks exactly the signals decided outside the hours (in New York time)', () => {
    for (const d of decisions) {
      const g = d.guards[d.guards.length - 1];
      expect(g.code).toBe('TRADING_HOURS');
      expect(g.verdict, `${d.signalId} at ${d.ts}`).toBe(inHours(d.ts) ? 'allow' : 'block');
    }
  });

  it('when a signal is blocked by TRADING_HOURS then the shadow engine follows it: one shadow outcome per blocked signal', () => {
    const blocked = new Set(decisions.filter((d) => d.blockedBy.includes('TRADING_HOURS')).map((d) => d.signalId));
    const shadowed = shadows.filter((s) => s.blockedBy.includes('TRADING_HOURS'));
    expect(new Set(shadowed.map((s) => s.signalId))).toEqual(blocked);
    expect(shadowed.length).toBe(blocked.size);
    expect(shadowed.filter((s) => s.status === 'closed').length).toBeGreaterThan(0);
  });

  it('when the report is read then TRADING_HOURS has its blocked count and shadow PnL like every other guard', () => {
    const report = reportFromLogs(dir, { run: summary.runId });
    const g = report.guards.find((x) => x.code === 'TRADING_HOURS');
    expect(g).toBeDefined();
    expect(g!.blocked).toBe(summary.blockedByCode.TRADING_HOURS);
    expect(g!.mode).toBe('enforce');
  });

  it('when it only observes then nothing is blocked by it but its would-blocks are recorded', () => {
    const d2 = tmp('tollgate-hours-observe-');
    const c2 = defaults({ guards: { TRADING_HOURS: { ...HOURS, mode: 'observe' } } });
    const r2 = runReplay({ config: c2.config, markets: c2.markets, series, logsDir: d2 });
    expect(r2.summary.blockedByCode.TRADING_HOURS ?? 0).toBe(0);
    expect(r2.summary.observedByCode.TRADING_HOURS).toBeGreaterThan(0);
  });
});
