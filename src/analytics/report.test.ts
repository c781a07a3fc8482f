/**
 * buildReport on hand-made logs (JSONL lines in memory, loaded by loadDataset as the CLI loads files):
 * recommendations, observe-mode attribution, the strategy leaderboard and stuck-signal detection.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLines } from '../adapters/jsonl/jsonl-reader.ts';
import { loadDataset } from './dataset.ts';
import { readLogs } from './read-model.ts';
import { buildReport, type ReportOptions } from './report.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const iso = (h: number) => new Date(T0 + h * H).toISOString();
const RUN = 'run-1';

type Line = Record<string, unknown>;

/** A hand-made run: every helper writes the lines the tracker would write for it. */
class Logs {
  readonly bus: Line[] = [];
  readonly decisions: Line[] = [];
  readonly shadow: Line[] = [];
  private n = 0;

  constructor(opts: { fromH?: number; toH?: number; cash?: string; guards?: Record<string, string> } = {}) {
    this.bus.push({
      schemaVersion: 1, ts: iso(opts.fromH ?? 0), event: 'run.started', signalId: null, mode: 'replay', pair: 'BTC/USD',
      from: iso(opts.fromH ?? 0), to: iso(opts.toH ?? 1000), startingCash: { USD: opts.cash ?? '10000' },
      guards: opts.guards ?? { COOLDOWN: 'enforce', MIN_CONFIDENCE: 'enforce', LOW_PROFIT_PAIR: 'observe', VOLATILITY: 'observe' }, runId: RUN,
    });
  }

  private received(id: string, h: number, strategy: string): void {
    this.bus.push({ schemaVersion: 1, ts: iso(h), event: 'signal.received', signalId: id, strategy, pair: 'BTC/USD', side: 'buy', runId: RUN });
  }

  transition(id: string, h: number, to: string, terminal = false): this {
    this.bus.push({ schemaVersion: 1, ts: iso(h), event: 'signal.transition', signalId: id, from: '?', to, terminal, runId: RUN });
    return this;
  }

  private decision(id: string, h: number, strategy: string, blockedBy: string[], observedBlocks: string[]): void {
    this.decisions.push({
      schemaVersion: 1, ts: iso(h), signalId: id, strategy, pair: 'BTC/USD', side: 'buy', decision: blockedBy.length ? 'blocked' : 'approved',
      guards: [], blockedBy, observedBlocks, quantity: '0.1', runId: RUN,
    });
  }

  /** a blocked signal and its shadow outcome (closed unless said otherwise) */
  blocked(pnl: string, o: { by?: string[]; overlaps?: boolean; strategy?: string; status?: string; h?: number; observed?: string[] } = {}): this {
    const id = `b${++this.n}`;
    const h = o.h ?? this.n;
    const strategy = o.strategy ?? 'ema_cross';
    const status = o.status ?? 'closed';
    const bought = status === 'closed' || status === 'open_at_end';
    this.received(id, h, strategy);
    this.decision(id, h, strategy, o.by ?? ['COOLDOWN'], o.observed ?? []);
    this.transition(id, h, 'blocked', true);
    this.shadow.push({
      schemaVersion: 1, ts: iso(h + 5), signalId: id, strategy, pair: 'BTC/USD', side: 'buy', blockedBy: o.by ?? ['COOLDOWN'], blockingGuards: o.by ?? ['COOLDOWN'],
      status, reason: null, decidedTs: iso(h), entryTs: bought ? iso(h + 1) : null, entryPrice: bought ? '100' : null,
      exitTs: bought ? iso(h + 5) : null, exitPrice: bought ? '101' : null, exitReason: bought ? 'take_profit' : null,
      quantity: bought ? '0.1' : '0', fees: '0', pnl: bought ? pnl : '0', pnlPct: null, maxAdverse: '0', maxFavourable: '0', overlaps: o.overlaps ?? false, runId: RUN,
    });
    return this;
  }

  /** an approved signal; with `trade` its position closed with that pnl */
  approved(o: { trade?: { pnl: string; entryH: number; exitH: number }; observed?: string[]; strategy?: string; h?: number } = {}): this {
    const id = `a${++this.n}`;
    const h = o.h ?? o.trade?.entryH ?? this.n;
    const strategy = o.strategy ?? 'ema_cross';
    this.received(id, h, strategy);
    this.decision(id, h, strategy, [], o.observed ?? []);
    this.transition(id, h, 'submitted').transition(id, h, 'open');
    if (o.trade) {
      const t = o.trade;
      this.bus.push({
        schemaVersion: 1, ts: iso(t.exitH), event: 'trade.closed', signalId: id, strategy, pair: 'BTC/USD', side: 'buy', quantity: '0.1',
        entryTs: iso(t.entryH), entryPrice: '100', exitTs: iso(t.exitH), exitPrice: '101', exitReason: 'take_profit', fees: '0', pnl: t.pnl, runId: RUN,
      });
      this.transition(id, t.exitH, 'closed', true);
    }
    return this;
  }

  line(l: Line): this {
    this.bus.push({ schemaVersion: 1, signalId: null, runId: RUN, ...l });
    return this;
  }

  report(options: ReportOptions = {}) {
    const src = (name: string, xs: Line[]) => new MemoryLines(name, xs.map((x) => JSON.stringify(x)));
    const ds = loadDataset({ bus: src('signal_bus.jsonl', this.bus), decisions: src('signal_decisions.jsonl', this.decisions), shadow: src('shadow_trade_outcomes.jsonl', this.shadow) });
    const report = buildReport(ds, options);
    // the read model (what `tollgate report` reads) must say exactly the same
    const bytes = (name: string, xs: Line[]) => ({ name, exists: true, chunks: () => [Buffer.from(xs.map((x) => JSON.stringify(x) + '\n').join(''))] });
    const model = readLogs({ bus: bytes('signal_bus.jsonl', this.bus), decisions: bytes('signal_decisions.jsonl', this.decisions), shadow: bytes('shadow_trade_outcomes.jsonl', this.shadow) });
    expect(JSON.stringify(buildReport(model, options)), 'read model and loadDataset agree').toBe(JSON.stringify(report));
    return report;
  }
}

const recOf = (r: ReturnType<Logs['report']>, code: string) => {
  const x = r.recommendations.filter((y) => y.code === code);
  expect(x, `one recommendation for ${code}`).toHaveLength(1);
  return x[0]!;
};
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => String(f(i)));

describe('recommendations', () => {
  it('when the 95% interval of the mean of the sole, non-overlapping shadow trades is above zero and n ≥ minSample then the guard cost money', () => {
    const logs = new Logs();
    for (const p of range(12, (i) => 5 + 2 * i)) logs.blocked(p);
    const r = logs.report({ minSample: 10 });
    const g = r.guards.find((x) => x.code === 'COOLDOWN')!;
    expect(g.sole.trades).toBe(12);
    expect(g.sole.ci95Mean!.low).toBeGreaterThan(0);
    const rec = recOf(r, 'COOLDOWN');
    expect(rec.verdict).toBe('cost_money');
    expect(rec.text).toMatch(/COOLDOWN alone blocked 12 signals/);
    expect(rec.text).toMatch(/it cost money; consider loosening/);
    expect(rec.text).toMatch(/95% CI/);
  });

  it('when the interval is below zero then the guard saved money', () => {
    const logs = new Logs();
    for (const p of range(12, (i) => -5 - 2 * i)) logs.blocked(p);
    const r = logs.report({ minSample: 10 });
    expect(r.guards.find((x) => x.code === 'COOLDOWN')!.sole.ci95Mean!.high).toBeLessThan(0);
    const rec = recOf(r, 'COOLDOWN');
    expect(rec.verdict).toBe('saved_money');
    expect(rec.text).toMatch(/it saved money/);
  });

  it('when the interval includes zero then the evidence is insufficient, however large the sample', () => {
    const logs = new Logs();
    for (const p of range(60, (i) => (i % 2 ? 100 : -100))) logs.blocked(p);
    const rec = recOf(logs.report({ minSample: 10 }), 'COOLDOWN');
    expect(rec.verdict).toBe('insufficient_evidence');
    expect(rec.text).toMatch(/interval includes zero/);
  });

  it('when every sole shadow trade made exactly nothing then the interval is [0, 0] and the evidence is insufficient', () => {
    const logs = new Logs();
    for (let i = 0; i < 20; i++) logs.blocked('0');
    expect(recOf(logs.report({ minSample: 10 }), 'COOLDOWN').verdict).toBe('insufficient_evidence');
  });

  it('when fewer than minSample sole trades exist then the evidence is insufficient even if every one made money; at exactly minSample it is enough', () => {
    const nine = new Logs();
    for (const p of range(9, (i) => 10 + i)) nine.blocked(p);
    const rec = recOf(nine.report({ minSample: 10 }), 'COOLDOWN');
    expect(rec.verdict).toBe('insufficient_evidence');
    expect(rec.text).toMatch(/fewer than 10 trades/);
    const ten = new Logs();
    for (const p of range(10, (i) => 10 + i)) ten.blocked(p);
    expect(recOf(ten.report({ minSample: 10 }), 'COOLDOWN').verdict).toBe('cost_money');
  });

  it('when the default minimum sample (30) is not reached then there is no recommendation', () => {
    const logs = new Logs();
    for (const p of range(29, (i) => 10 + i)) logs.blocked(p);
    expect(recOf(logs.report(), 'COOLDOWN').verdict).toBe('insufficient_evidence');
  });

  it('when outcomes overlap an open position then they do not count toward the sample', () => {
    const logs = new Logs();
    for (const p of range(8, (i) => 10 + i)) logs.blocked(p);
    for (const p of range(6, (i) => 10 + i)) logs.blocked(p, { overlaps: true });
    const r = logs.report({ minSample: 10 });
    const g = r.guards.find((x) => x.code === 'COOLDOWN')!;
    expect(g.soleBlocked).toBe(14);
    expect(g.sole.trades).toBe(8);
    const rec = recOf(r, 'COOLDOWN');
    expect(rec.verdict).toBe('insufficient_evidence');
    expect(rec.text).toMatch(/\(8 shadow trades without overlap\)/);
  });

  it('when signals were blocked by two guards together then neither guard gets a recommendation from them (only sole blocks count)', () => {
    const logs = new Logs();
    for (const p of range(15, (i) => 10 + i)) logs.blocked(p, { by: ['COOLDOWN', 'MIN_CONFIDENCE'] });
    const r = logs.report({ minSample: 10 });
    for (const code of ['COOLDOWN', 'MIN_CONFIDENCE']) {
      const g = r.guards.find((x) => x.code === code)!;
      expect(g.blocked).toBe(15);
      expect(g.soleBlocked).toBe(0);
      expect(g.headline.trades).toBe(15);
      expect(recOf(r, code).verdict).toBe('insufficient_evidence');
    }
  });

  it('when blocked entries expired or were refused then they count as blocked with PnL 0 but not as trades', () => {
    const logs = new Logs();
    for (const p of range(6, (i) => 10 + i)) logs.blocked(p);
    for (let i = 0; i < 5; i++) logs.blocked('0', { status: i % 2 ? 'expired' : 'rejected' });
    const r = logs.report({ minSample: 10 });
    const g = r.guards.find((x) => x.code === 'COOLDOWN')!;
    expect(g.blocked).toBe(11);
    expect(g.sole.count).toBe(11);
    expect(g.sole.trades).toBe(6);
    expect(g.sole.winRate).toBe(1);
    expect(recOf(r, 'COOLDOWN').verdict).toBe('insufficient_evidence');
  });

  it('when per-guard money is reported then saved, missed and net impact are exact sums of the signed PnL', () => {
    const logs = new Logs();
    for (const p of ['10.25', '-3.5', '0.000000001', '-0.1', '7']) logs.blocked(p);
    const g = logs.report().guards.find((x) => x.code === 'COOLDOWN')!;
    expect(Number(g.shadowPnl)).toBe(13.650000001);
    expect(g.shadowPnl).toBe('13.650000001');
    expect(g.headline.cost).toBe('17.250000001'); // gains missed
    expect(g.headline.saved).toBe('3.6'); // losses avoided
    expect(g.headline.netImpact).toBe('-13.650000001');
    expect(g.headline.winRate).toBe(0.6);
  });
});

describe('observe-mode attribution', () => {
  const logs = new Logs()
    .approved({ observed: ['LOW_PROFIT_PAIR'], trade: { pnl: '10', entryH: 1, exitH: 3 } })
    .approved({ observed: ['LOW_PROFIT_PAIR', 'VOLATILITY'], trade: { pnl: '-4.5', entryH: 4, exitH: 6 } })
    .approved({ observed: ['LOW_PROFIT_PAIR'], trade: { pnl: '2.25', entryH: 7, exitH: 9 } })
    .approved({ observed: ['LOW_PROFIT_PAIR'], h: 10 }) // still open: counted, no realized outcome
    .approved({ trade: { pnl: '1000', entryH: 11, exitH: 12 } }) // no guard observed it
    .blocked('55', { observed: ['LOW_PROFIT_PAIR'] }); // blocked anyway: not an observe attribution
  const r = logs.report({ minSample: 2 });

  it('when an observing guard would have blocked approved signals then it is attributed their count and the sum of their closed trades', () => {
    const lpp = r.observe.find((x) => x.code === 'LOW_PROFIT_PAIR')!;
    expect(lpp.wouldHaveBlocked).toBe(4);
    expect(lpp.mode).toBe('observe');
    expect(lpp.realized.trades).toBe(3);
    expect(lpp.realized.pnl).toBe('7.75');
    expect(lpp.realized.winRate).toBeCloseTo(2 / 3, 12);
    const vol = r.observe.find((x) => x.code === 'VOLATILITY')!;
    expect(vol.wouldHaveBlocked).toBe(1);
    expect(vol.realized.pnl).toBe('-4.5');
    expect(r.observe.map((x) => x.code).sort()).toEqual(['LOW_PROFIT_PAIR', 'VOLATILITY']);
  });

  it('when observe attribution has a recommendation then it speaks of enforcing, never of a change made', () => {
    const rec = recOf(r, 'LOW_PROFIT_PAIR');
    expect(['would_save_money', 'would_cost_money', 'insufficient_evidence']).toContain(rec.verdict);
    expect(rec.text).toMatch(/LOW_PROFIT_PAIR \(observe\) would have blocked 4 approved signals/);
  });

  it('when every trade an observing guard would have blocked lost money then enforcing it would have saved money', () => {
    const losing = new Logs();
    for (let i = 0; i < 12; i++) losing.approved({ observed: ['VOLATILITY'], trade: { pnl: String(-3 - i), entryH: 2 * i, exitH: 2 * i + 1 } });
    const rec = recOf(losing.report({ minSample: 10 }), 'VOLATILITY');
    expect(rec.verdict).toBe('would_save_money');
    expect(rec.text).toMatch(/consider enforcing/);
  });
});

describe('strategy leaderboard', () => {
  // period 0 h → 100 h, starting balance 10,000; trades given out of exit order
  //   entry→exit h   pnl
  //   20 → 22       +30
  //    1 →  5      +100
  //   50 → 60       +20
  //    4 → 10       −50
  //   30 → 40       −80
  const logs = new Logs({ fromH: 0, toH: 100 })
    .approved({ trade: { pnl: '30', entryH: 20, exitH: 22 } })
    .approved({ trade: { pnl: '100', entryH: 1, exitH: 5 } })
    .approved({ trade: { pnl: '20', entryH: 50, exitH: 60 } })
    .approved({ trade: { pnl: '-50', entryH: 4, exitH: 10 } })
    .approved({ trade: { pnl: '-80', entryH: 30, exitH: 40 } })
    .approved({ strategy: 'rsi_reversion', trade: { pnl: '5', entryH: 2, exitH: 3 } })
    .blocked('12', { strategy: 'rsi_reversion', h: 70 })
    .blocked('99', { strategy: 'rsi_reversion', h: 71, overlaps: true });
  const r = logs.report();
  const ema = r.strategies.find((s) => s.strategy === 'ema_cross')!;

  it('when a strategy has closed trades then trades, win rate, total, profit factor and expectancy follow from its PnL list', () => {
    expect(ema.signals).toBe(5);
    expect(ema.approved).toBe(5);
    expect(ema.realized.trades).toBe(5);
    expect(ema.realized.winRate).toBe(0.6);
    expect(ema.realized.totalPnl).toBe('20');
    expect(ema.realized.profitFactor).toBeCloseTo(150 / 130, 12);
    expect(ema.realized.expectancy).toBeCloseTo(4, 12);
  });

  it('when trades are ordered by exit time then the maximum drawdown is the largest peak-to-trough fall of the equity curve', () => {
    // by exit: +100, −50, +30, −80, +20 → 10,000 → 10,100 → 10,050 → 10,080 → 10,000 → 10,020: peak 10,100, trough 10,000
    expect(ema.realized.maxDrawdown).toBeCloseTo(100, 9);
    expect(ema.realized.maxDrawdownPct).toBeCloseTo(100 / 10_100, 12);
  });

  it('when holds and exposure are measured then the average hold is the mean of exit − entry and exposure the covered share of the period', () => {
    expect(ema.realized.avgHoldHours).toBeCloseTo((2 + 4 + 10 + 6 + 10) / 5, 12);
    // union of [1,10], [20,22], [30,40], [50,60] = 9 + 2 + 10 + 10 = 31 h of 100 h
    expect(ema.realized.exposure).toBeCloseTo(0.31, 12);
  });

  it('when Sharpe and Sortino are computed then they use daily returns over every day of the period against the running balance', () => {
    // days of 24 h from 0 h to 100 h: 5 days; exits day 0: +100 −50 +30 = +80; day 1: −80; day 2: +20; days 3, 4: 0
    const daily = [80 / 10_000, -80 / 10_080, 20 / 10_000, 0, 0];
    const m = daily.reduce((a, x) => a + x, 0) / daily.length;
    const sd = Math.sqrt(daily.reduce((a, x) => a + (x - m) ** 2, 0) / (daily.length - 1));
    const down = Math.sqrt(daily.reduce((a, x) => a + Math.min(x, 0) ** 2, 0) / daily.length);
    expect(ema.realized.sharpe).toBeCloseTo((m / sd) * Math.sqrt(365), 9);
    expect(ema.realized.sortino).toBeCloseTo((m / down) * Math.sqrt(365), 9);
  });

  it('when strategies are ranked then the higher realized total comes first, and shadow figures are separate and leave out overlaps', () => {
    expect(r.strategies.map((s) => s.strategy)).toEqual(['ema_cross', 'rsi_reversion']);
    const rsi = r.strategies[1]!;
    expect(rsi.realized.totalPnl).toBe('5');
    expect(rsi.blocked).toBe(2);
    expect(rsi.shadow.trades).toBe(1);
    expect(rsi.shadow.totalPnl).toBe('12');
    expect(ema.shadow.trades).toBe(0);
    expect(ema.shadow.totalPnl).toBe('0');
  });

  it('when a strategy has no losing trade then its profit factor is undefined (null), not infinite', () => {
    const rsi = r.strategies.find((s) => s.strategy === 'rsi_reversion')!;
    expect(rsi.realized.profitFactor).toBeNull();
  });
});

describe('pipeline health: stuck signals', () => {
  // the log ends at 3 h; states entered:
  //   s-old      submitted at 0 h   (non-terminal, 3 h old)
  //   s-open     open at 0 h        (a held position is not stuck)
  //   s-recent   submitted at 2.5 h (0.5 h old)
  //   s-edge     submitted at 2 h   (exactly 1 h old)
  //   s-done     closed at 1 h      (terminal)
  const logs = new Logs({ fromH: 0, toH: 3 });
  const signal = (id: string, h: number, path: Array<[string, number, boolean?]>) => {
    logs.line({ ts: iso(h), event: 'signal.received', signalId: id });
    for (const [to, at, terminal] of path) logs.transition(id, at, to, terminal ?? false);
  };
  signal('s-old', 0, [['validated', 0], ['guarded', 0], ['approved', 0], ['submitted', 0]]);
  signal('s-open', 0, [['validated', 0], ['submitted', 0], ['filled', 0], ['open', 0]]);
  signal('s-recent', 2.5, [['validated', 2.5], ['submitted', 2.5]]);
  signal('s-edge', 2, [['validated', 2], ['submitted', 2]]);
  signal('s-done', 0, [['validated', 0], ['submitted', 0], ['expired', 1, true]]);
  logs.line({ ts: iso(3), event: 'run.finished', summary: {} });

  it('when a non-terminal signal has not moved for longer than stuckAfterMs then it is stuck; an open position, a terminal signal or one exactly at the limit is not', () => {
    const p = logs.report({ stuckAfterMs: H }).pipeline;
    expect(p.stuck.count).toBe(1);
    expect(p.stuck.afterMs).toBe(H);
    expect(p.stuck.signals).toEqual([{ signalId: 's-old', state: 'submitted', since: iso(0), ageMs: 3 * H }]);
  });

  it('when the limit is shorter then every older non-terminal signal outside `open` is stuck, oldest first', () => {
    const p = logs.report({ stuckAfterMs: 0.25 * H }).pipeline;
    expect(p.stuck.signals.map((s) => s.signalId)).toEqual(['s-old', 's-edge', 's-recent']);
    expect(p.stuck.signals.map((s) => s.ageMs)).toEqual([3 * H, H, 0.5 * H]);
  });

  it('when signals are counted then each is in its last state and the time spent in each state is measured in event time', () => {
    const p = logs.report().pipeline;
    expect(p.signals).toBe(5);
    expect(p.states).toEqual({ expired: 1, open: 1, submitted: 3 });
    // s-done waited 1 h in submitted before it expired; every other submitted signal is still there
    expect(p.timeInState.submitted).toMatchObject({ n: 2, p50: 0.5 * H });
    expect(p.errors).toMatchObject({ busErrors: 0 });
  });
});

describe('lines without a run id', () => {
  it('are malformed: skipped and counted, never silently dropped', async () => {
    const { loadDataset } = await import('./dataset.ts');
    const { MemoryLines } = await import('../adapters/jsonl/jsonl-reader.ts');
    const ds = loadDataset({
      bus: new MemoryLines('signal_bus.jsonl', ['{"schemaVersion":1,"ts":"2020-01-01T00:00:00.000Z","event":"signal.received","signalId":"x"}']),
      decisions: new MemoryLines('signal_decisions.jsonl', []),
      shadow: new MemoryLines('shadow_trade_outcomes.jsonl', []),
    }, { run: 'all' });
    expect(ds.skipped).toEqual({ 'signal_bus.jsonl': 1 });
  });
});
