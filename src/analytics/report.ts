/**
 * The report: pipeline health, blocked-opportunity cost per guard, observe-mode attribution, guard
 * recommendations and the strategy leaderboard, all computed from a Dataset (the logs).
 *
 * Rules the numbers follow (stated in every rendering):
 * - PnL is summed in quote currency, exactly; percentages are never summed across trades.
 * - A guard's `blocked` counts signals it was among the enforcing blockers of; `sole…` those it alone
 *   blocked. A signal blocked by two guards counts once for each.
 * - Headline figures leave out shadow outcomes marked `overlaps` (a shadow or live position of the same
 *   strategy and pair was already open at the decision), which would count one market move several
 *   times; the all-outcomes figures are reported next to them.
 * - Means, win rates and confidence intervals are over shadow trades that bought something (closed or
 *   open at the end); expired and refused entries count in `blocked` with PnL 0.
 */
import { isoTime, utcDayStart } from '../domain/time.ts';
import { keyOf } from './dataset.ts';
import type { LogReadModel, ShadowView, TradeView } from './read-model.ts';
import { amountOf, ExactSum, sumDecimals, type Amount } from './exact-sum.ts';
import { maxDrawdown, meanCI, mean, percentile, profitFactor, sharpe, sortino, type Interval } from './stats.ts';

export const REPORT_SCHEMA_VERSION = 1;
const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface ReportOptions {
  /** signals non-terminal longer than this (event time, before the end of the log) are stuck */
  readonly stuckAfterMs?: number;
  /** fewest trades for a recommendation */
  readonly minSample?: number;
  readonly bootstrapSeed?: number;
  readonly bootstrapResamples?: number;
}

export interface PnlStats {
  /** outcomes counted (incl. expired/refused entries, PnL 0) */
  readonly count: number;
  /** of which bought something */
  readonly trades: number;
  readonly pnl: string;
  readonly mean: number | null;
  readonly winRate: number | null;
  readonly ci95Mean: Interval | null;
  /** losses avoided: − Σ negative PnL (≥ 0) */
  readonly saved: string;
  /** gains missed: Σ positive PnL (≥ 0) */
  readonly cost: string;
  /** saved − cost: positive means the rule made money by blocking */
  readonly netImpact: string;
}

export interface GuardReport {
  readonly code: string;
  readonly mode: string | null;
  /** signals it was among the enforcing blockers of (decisions, or outcomes whose decision line is missing) */
  readonly blocked: number;
  readonly shadowPnl: string;
  readonly soleBlocked: number;
  /** of `blocked`, signals whose shadow trade has not ended yet (no outcome line) */
  readonly awaitingOutcome: number;
  readonly soleShadowPnl: string;
  readonly headlineBlocked: number;
  readonly headlineShadowPnl: string;
  readonly overlapping: number;
  readonly openAtEnd: number;
  /** headline outcomes of every signal it blocked */
  readonly headline: PnlStats;
  /** headline outcomes of the signals it alone blocked: its marginal effect */
  readonly sole: PnlStats;
}

export interface ObserveReport {
  readonly code: string;
  readonly mode: string | null;
  /** approved signals it would have blocked */
  readonly wouldHaveBlocked: number;
  /** their realized outcomes (closed trades) */
  readonly realized: PnlStats;
}

export interface Recommendation {
  readonly code: string;
  readonly verdict: 'cost_money' | 'saved_money' | 'insufficient_evidence' | 'would_save_money' | 'would_cost_money';
  readonly text: string;
}

export interface StrategyStats {
  readonly trades: number;
  readonly winRate: number | null;
  readonly totalPnl: string;
  readonly profitFactor: number | null;
  readonly expectancy: number | null;
  readonly maxDrawdown: number;
  readonly maxDrawdownPct: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly avgHoldHours: number | null;
  /** share of the period with at least one position of the strategy open */
  readonly exposure: number | null;
}

export interface StrategyReport {
  readonly strategy: string;
  readonly signals: number;
  readonly approved: number;
  readonly blocked: number;
  readonly realized: StrategyStats;
  /** headline shadow trades (blocked signals, overlaps left out) */
  readonly shadow: StrategyStats;
}

export interface PipelineReport {
  readonly signals: number;
  /** final (or current) lifecycle state → signals */
  readonly states: Record<string, number>;
  readonly decisions: { approved: number; blocked: number };
  readonly throughput: { perHourMean: number | null; perHourPeak: number; peakHour: string | null; perSecondProcessing: number | null };
  /** event time spent in each state before leaving it, ms */
  readonly timeInState: Record<string, { p50: number; p95: number; n: number }>;
  readonly stuck: { count: number; afterMs: number; signals: Array<{ signalId: string; state: string; since: string; ageMs: number }> };
  readonly errors: { busErrors: number; warnings: Record<string, number>; failed: number; rejected: number };
}

export interface Report {
  readonly schemaVersion: number;
  readonly runs: Array<{ runId: string; mode: string | null; pair: string | null; from: string | null; to: string | null; startingBalance: number | null }>;
  readonly period: { from: string | null; to: string | null };
  readonly rules: readonly string[];
  readonly pipeline: PipelineReport;
  readonly shadow: { outcomes: number; byStatus: Record<string, number>; pnl: string; headlineShadowPnl: string; overlapping: number; blockedWithoutOutcome: number };
  readonly guards: GuardReport[];
  readonly observe: ObserveReport[];
  readonly recommendations: Recommendation[];
  readonly strategies: StrategyReport[];
  /** realized and realized + headline shadow equity, by exit time (for charts) */
  readonly equity: { base: number; realized: Array<[number, number]>; withShadow: Array<[number, number]> };
  readonly skippedLines: Record<string, number>;
  readonly duplicateLines: Record<string, number>;
}

export const REPORT_RULES = [
  'PnL is net of fees, in quote currency, summed exactly; percentages are never summed across trades.',
  'blocked = signals the guard was among the enforcing blockers of (a signal blocked by two guards counts for both); sole = it alone blocked them.',
  'headline figures leave out shadow outcomes marked overlaps (a shadow or live position of the same strategy and pair was already open at the decision); all-outcome figures are shown next to them.',
  'net impact = losses avoided − gains missed: positive means the guard made money by blocking.',
  'means, win rates and 95% intervals of the mean are over shadow trades that bought something; intervals are a percentile bootstrap (2,000 resamples, fixed seed), or mean ± 1.96 s/√n above 10,000 trades where the bootstrap converges to it.',
  'recommendations use the signals a guard alone blocked (its marginal effect) and need the interval to exclude zero and a minimum sample; they are advice, nothing changes a setting by itself.',
];

interface Outcome {
  readonly amount: Amount;
  readonly n: number;
  readonly loss: boolean;
  readonly gain: boolean;
}
const outcome = (pnl: string): Outcome => ({ amount: amountOf(pnl), n: Number(pnl), loss: pnl.charCodeAt(0) === 45 /* - */, gain: pnl.charCodeAt(0) !== 45 && /[1-9]/.test(pnl) });

/** Running totals of a set of outcomes: exact sums, and the floats the statistics need. */
class PnlAcc {
  readonly total = new ExactSum();
  readonly gains = new ExactSum();
  readonly losses = new ExactSum();
  readonly nums: number[] = [];
  count = 0;
  wins = 0;

  add(pnl: string, filled: boolean): void {
    this.addOne(outcome(pnl), filled);
  }

  /** an outcome read once (outcome()) and added to each accumulator it belongs to */
  addOne(o: Outcome, filled: boolean): void {
    this.count++;
    this.total.addAmount(o.amount);
    if (o.loss) this.losses.addAmount(o.amount);
    else if (o.gain) this.gains.addAmount(o.amount);
    if (filled) {
      this.nums.push(o.n);
      if (o.n > 0) this.wins++;
    }
  }

  stats(o: Required<ReportOptions>): PnlStats {
    const n = this.nums.length;
    return {
      count: this.count,
      trades: n,
      pnl: this.total.toString(),
      mean: n ? mean(this.nums) : null,
      winRate: n ? this.wins / n : null,
      ci95Mean: meanCI(this.nums, { seed: o.bootstrapSeed, resamples: o.bootstrapResamples }),
      saved: negate(this.losses.toString()),
      cost: this.gains.toString(),
      netImpact: negate(this.total.toString()),
    };
  }
}

const negate = (v: string) => (v === '0' ? '0' : v.startsWith('-') ? v.slice(1) : `-${v}`);


function money(v: number): string {
  const sign = v < 0 ? '-' : '+';
  return `${sign}$${Math.abs(v).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

function recommend(g: GuardReport, minSample: number): Recommendation {
  const s = g.sole;
  const n = s.trades;
  if (n < minSample || s.ci95Mean === null || s.mean === null) {
    return { code: g.code, verdict: 'insufficient_evidence', text: `${g.code} alone blocked ${g.soleBlocked} signals (${n} shadow trades without overlap); fewer than ${minSample} trades: evidence insufficient, no recommendation.` };
  }
  const net = Number(s.pnl);
  const lo = s.ci95Mean.low * n;
  const hi = s.ci95Mean.high * n;
  const head = `${g.code} alone blocked ${g.soleBlocked} signals; shadow net ${money(net)} (95% CI ${money(lo)}..${money(hi)}, ${n} trades)`;
  if (s.ci95Mean.low > 0) return { code: g.code, verdict: 'cost_money', text: `${head}: it cost money; consider loosening.` };
  if (s.ci95Mean.high < 0) return { code: g.code, verdict: 'saved_money', text: `${head}: it saved money; keep it.` };
  return { code: g.code, verdict: 'insufficient_evidence', text: `${head}: the interval includes zero; evidence insufficient.` };
}

function recommendObserve(g: ObserveReport, minSample: number): Recommendation {
  const r = g.realized;
  if (r.trades < minSample || r.ci95Mean === null) {
    return { code: g.code, verdict: 'insufficient_evidence', text: `${g.code} (observe) would have blocked ${g.wouldHaveBlocked} approved signals (${r.trades} closed trades); fewer than ${minSample}: evidence insufficient.` };
  }
  const head = `${g.code} (observe) would have blocked ${g.wouldHaveBlocked} approved signals; their realized net ${money(Number(r.pnl))} (95% CI ${money(r.ci95Mean.low * r.trades)}..${money(r.ci95Mean.high * r.trades)}, ${r.trades} trades)`;
  if (r.ci95Mean.high < 0) return { code: g.code, verdict: 'would_save_money', text: `${head}: enforcing it would have saved money; consider enforcing.` };
  if (r.ci95Mean.low > 0) return { code: g.code, verdict: 'would_cost_money', text: `${head}: enforcing it would have cost money; keep it off.` };
  return { code: g.code, verdict: 'insufficient_evidence', text: `${head}: the interval includes zero; evidence insufficient.` };
}

/** `xs` stably sorted by `key` (a copy; the list itself when it is in order already, as logs mostly are) */
function sortedBy<T>(xs: readonly T[], key: (x: T) => number): readonly T[] {
  let inOrder = true;
  for (let i = 1; i < xs.length && inOrder; i++) inOrder = key(xs[i - 1]!) <= key(xs[i]!);
  return inOrder ? xs : [...xs].sort((a, b) => key(a) - key(b));
}
/** two lists sorted by `key` merged stably (on equal keys `a`'s first): the stable sort of `[...a, ...b]` */
function mergeBy<T>(a: readonly T[], b: readonly T[], key: (x: T) => number): T[] {
  const out: T[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = key(a[i]!) <= key(b[j]!) ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

interface TradeLike {
  readonly entryTs: number;
  readonly exitTs: number;
  readonly pnl: string;
}

function strategyStats(trades: readonly TradeLike[], base: number, from: number | null, to: number | null): StrategyStats {
  const sorted = sortedBy(trades, (t) => t.exitTs);
  const pnls = sorted.map((t) => Number(t.pnl));
  const total = sumDecimals(sorted.map((t) => t.pnl));
  const curve = [base];
  for (const p of pnls) curve.push(curve[curve.length - 1]! + p);
  const dd = maxDrawdown(curve);
  // daily returns over every day of the period (days without exits return 0), against the starting balance
  let daily: number[] = [];
  if (sorted.length && from !== null && to !== null && base > 0) {
    const d0 = utcDayStart(from);
    const days = Math.max(1, Math.ceil((to - d0) / DAY));
    const byDay = new Float64Array(days);
    for (let i = 0; i < sorted.length; i++) byDay[Math.min(days - 1, Math.max(0, Math.floor((sorted[i]!.exitTs - d0) / DAY)))]! += pnls[i]!;
    let eq = base;
    daily = Array.from(byDay, (p) => {
      const r = eq > 0 ? p / eq : 0;
      eq += p;
      return r;
    });
  }
  // exposure: union of [entry, exit) intervals over the period
  let exposure: number | null = null;
  if (from !== null && to !== null && to > from) {
    const iv = sortedBy(trades, (t) => t.entryTs); // stable: equal entries keep their order, as the pairs did
    let covered = 0;
    let curS = -Infinity;
    let curE = -Infinity;
    for (const { entryTs: s, exitTs: e } of iv) {
      if (s > curE) {
        if (curE > curS) covered += curE - curS;
        curS = s;
        curE = e;
      } else if (e > curE) curE = e;
    }
    if (curE > curS) covered += curE - curS;
    exposure = covered / (to - from);
  }
  // counted and summed in the list's order: the same numbers as filter(…).length and mean(map(…))
  let wins = 0;
  let hold = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (pnls[i]! > 0) wins++;
    hold += (sorted[i]!.exitTs - sorted[i]!.entryTs) / HOUR;
  }
  return {
    trades: sorted.length,
    winRate: sorted.length ? wins / sorted.length : null,
    totalPnl: total,
    profitFactor: profitFactor(pnls),
    expectancy: sorted.length ? mean(pnls) : null,
    maxDrawdown: dd.amount,
    maxDrawdownPct: base > 0 ? dd.fraction : null,
    sharpe: daily.length > 1 ? sharpe(daily) : null,
    sortino: daily.length > 1 ? sortino(daily) : null,
    avgHoldHours: sorted.length ? hold / sorted.length : null,
    exposure,
  };
}

/**
 * What a report is built from: the read model (read-model.ts), or a Dataset (dataset.ts' loadDataset,
 * the reference), which has the same fields.
 */
export type ReportSource = LogReadModel;

export function buildReport(ds: ReportSource, options: ReportOptions = {}): Report {
  const o: Required<ReportOptions> = { stuckAfterMs: options.stuckAfterMs ?? 6 * HOUR, minSample: options.minSample ?? 30, bootstrapSeed: options.bootstrapSeed ?? 20260101, bootstrapResamples: options.bootstrapResamples ?? 2000 };
  const guardModes: Record<string, string> = {};
  for (const r of ds.runs) Object.assign(guardModes, r.guardModes);
  const from = ds.runs.length ? Math.min(...ds.runs.map((r) => r.from ?? r.startedTs)) : ds.firstTs;
  const to = ds.runs.length ? Math.max(...ds.runs.map((r) => r.to ?? ds.lastTs ?? r.startedTs)) : ds.lastTs;
  const base = ds.runs.reduce((a, r) => Math.max(a, r.startingBalance ?? 0), 0);

  // ── blocked-opportunity cost per guard (from the shadow outcomes alone) ────────
  const shadows = [...ds.shadows.values()];
  // one pass: each outcome is added to the accumulators of every guard that blocked it
  const byGuard = new Map<string, { all: PnlAcc; sole: PnlAcc; headline: PnlAcc; soleHeadline: PnlAcc; openAtEnd: number }>();
  const totals = { all: new PnlAcc(), headline: new PnlAcc() };
  // an outcome read once per distinct pnl (they repeat: shared by every accumulator it is added to)
  const outcomes = new Map<string, Outcome>();
  for (const s of shadows) {
    const filled = s.bought;
    let out = outcomes.get(s.pnl);
    if (out === undefined) {
      out = outcome(s.pnl);
      if (outcomes.size < 1 << 16) outcomes.set(s.pnl, out);
    }
    totals.all.addOne(out, filled);
    if (!s.overlaps) totals.headline.addOne(out, filled);
    const sole = s.blockedBy.length === 1;
    for (const code of s.blockedBy) {
      let g = byGuard.get(code);
      if (!g) byGuard.set(code, (g = { all: new PnlAcc(), sole: new PnlAcc(), headline: new PnlAcc(), soleHeadline: new PnlAcc(), openAtEnd: 0 }));
      g.all.addOne(out, filled);
      if (sole) g.sole.addOne(out, filled);
      if (!s.overlaps) {
        g.headline.addOne(out, filled);
        if (sole) g.soleHeadline.addOne(out, filled);
      }
      if (s.status === 'open_at_end') g.openAtEnd++;
    }
  }
  // blocked signals whose shadow trade has not ended yet (live, or a torn outcome file) still count as blocked
  const awaiting = ds.awaiting;
  for (const code of awaiting.keys()) {
    if (!byGuard.has(code)) byGuard.set(code, { all: new PnlAcc(), sole: new PnlAcc(), headline: new PnlAcc(), soleHeadline: new PnlAcc(), openAtEnd: 0 });
  }
  const guards: GuardReport[] = [...byGuard.entries()].map(([code, g]) => ({
    code, mode: guardModes[code] ?? null,
    blocked: g.all.count + (awaiting.get(code)?.all ?? 0), shadowPnl: g.all.total.toString(),
    soleBlocked: g.sole.count + (awaiting.get(code)?.sole ?? 0), soleShadowPnl: g.sole.total.toString(),
    awaitingOutcome: awaiting.get(code)?.all ?? 0,
    headlineBlocked: g.headline.count, headlineShadowPnl: g.headline.total.toString(), overlapping: g.all.count - g.headline.count,
    openAtEnd: g.openAtEnd,
    headline: g.headline.stats(o), sole: g.soleHeadline.stats(o),
  }));
  // ranking: biggest net impact of the marginal (sole, headline) blocks first
  guards.sort((a, b) => Number(b.sole.netImpact) - Number(a.sole.netImpact) || a.code.localeCompare(b.code));

  // ── observe mode, the other direction: realized outcomes of trades a guard would have blocked ──
  const observed = new Map<string, TradeView[]>();
  const observedCount = new Map<string, number>();
  for (const d of ds.decisions.values()) {
    if (d.decision !== 'approved') continue;
    for (const c of d.observedBlocks) {
      observedCount.set(c, (observedCount.get(c) ?? 0) + 1);
      const t = ds.trades.get(keyOf(d.runId, d.signalId));
      if (t) (observed.get(c) ?? observed.set(c, []).get(c)!).push(t);
    }
  }
  const observe: ObserveReport[] = [...observedCount.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => {
    const ts = observed.get(code) ?? [];
    const acc = new PnlAcc();
    for (const t of ts) acc.add(t.pnl, true);
    return { code, mode: guardModes[code] ?? null, wouldHaveBlocked: n, realized: acc.stats(o) };
  });

  const recommendations = [...guards.map((g) => recommend(g, o.minSample)), ...observe.map((g) => recommendObserve(g, o.minSample))];

  // ── strategies ───────────────────────────────────────────────────────────────
  const strategies = new Map<string, { signals: number; approved: number; blocked: number; trades: TradeView[]; shadows: ShadowView[] }>();
  const strat = (name: string) => strategies.get(name) ?? strategies.set(name, { signals: 0, approved: 0, blocked: 0, trades: [], shadows: [] }).get(name)!;
  for (const [name, c] of ds.byStrategy) Object.assign(strat(name), c);
  for (const t of ds.trades.values()) strat(t.strategy).trades.push(t);
  for (const s of shadows) if (!s.overlaps && s.bought && s.entryTs !== null && s.exitTs !== null) strat(s.strategy).shadows.push(s);
  const strategyReports: StrategyReport[] = [...strategies.entries()].map(([name, s]) => ({
    strategy: name, signals: s.signals, approved: s.approved, blocked: s.blocked,
    realized: strategyStats(s.trades, base, from, to),
    shadow: strategyStats(s.shadows as ReadonlyArray<ShadowView & TradeLike>, base, from, to), // entry and exit known (above)
  }));
  strategyReports.sort((a, b) => Number(b.realized.totalPnl) - Number(a.realized.totalPnl) || a.strategy.localeCompare(b.strategy));

  // ── equity curves ────────────────────────────────────────────────────────────
  type Exit = { readonly exitTs: number; readonly pnl: string };
  const shadowExits = shadows.filter((s) => !s.overlaps && s.exitTs !== null) as ReadonlyArray<ShadowView & Exit>;
  // each list in time order (a stable sort), the two merged stably: the stable sort of their concatenation
  const realizedByTime = sortedBy<Exit>([...ds.trades.values()], (e) => e.exitTs);
  const byExit = (e: Exit) => e.exitTs;
  const curve = (events: ReadonlyArray<Exit>): Array<[number, number]> => {
    const out: Array<[number, number]> = from !== null ? [[from, base]] : [];
    let eq = base;
    for (const e of events) out.push([e.exitTs, (eq += Number(e.pnl))]);
    return out;
  };

  // ── shadow totals ────────────────────────────────────────────────────────────
  const byStatus: Record<string, number> = {};
  for (const s of shadows) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const blockedWithoutOutcome = ds.blockedWithoutOutcome;

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runs: ds.runs.map((r) => ({ runId: r.runId, mode: r.mode, pair: r.pair, from: r.from === null ? null : isoTime(r.from), to: r.to === null ? null : isoTime(r.to), startingBalance: r.startingBalance })),
    period: { from: from === null ? null : isoTime(from), to: to === null ? null : isoTime(to) },
    rules: REPORT_RULES,
    pipeline: pipeline(ds, o),
    shadow: {
      outcomes: shadows.length, byStatus, pnl: totals.all.total.toString(), headlineShadowPnl: totals.headline.total.toString(),
      overlapping: shadows.filter((s) => s.overlaps).length, blockedWithoutOutcome,
    },
    guards,
    observe,
    recommendations,
    strategies: strategyReports,
    equity: { base, realized: curve(realizedByTime), withShadow: curve(mergeBy(realizedByTime, sortedBy(shadowExits, byExit), byExit)) },
    skippedLines: ds.skipped,
    duplicateLines: ds.duplicates,
  };
}

const NON_STUCK = new Set(['open']);

function pipeline(ds: ReportSource, o: Required<ReportOptions>): PipelineReport {
  const states: Record<string, number> = {};
  const stuck: PipelineReport['stuck']['signals'] = [];
  const perHour = new Map<number, number>();
  const end = ds.lastTs ?? 0;
  let failed = 0;
  let rejected = 0;
  for (const [key, l] of ds.life) {
    if (l.receivedTs !== null) {
      const h = Math.floor(l.receivedTs / HOUR);
      perHour.set(h, (perHour.get(h) ?? 0) + 1);
    }
    const state = l.state;
    const shown = !l.terminal && l.openAtEnd ? `${state} (open at end)` : state;
    states[shown] = (states[shown] ?? 0) + 1;
    if (state === 'failed') failed++;
    if (state === 'rejected') rejected++;
    if (!l.terminal && !NON_STUCK.has(state) && end - l.ts > o.stuckAfterMs) {
      stuck.push({ signalId: key.slice(key.indexOf('|') + 1), state, since: isoTime(l.ts), ageMs: end - l.ts });
    }
  }
  const timeInState: PipelineReport['timeInState'] = {};
  for (const [state, xs] of [...ds.timeInState.entries()].sort(([a], [b]) => a.localeCompare(b))) timeInState[state] = { p50: percentile(xs, 50), p95: percentile(xs, 95), n: xs.length };
  let peak = 0;
  let peakHour: number | null = null;
  for (const [h, n] of perHour) if (n > peak || (n === peak && peakHour !== null && h < peakHour)) [peak, peakHour] = [n, h];
  const hours = ds.firstTs !== null && ds.lastTs !== null ? Math.max(1, (ds.lastTs - ds.firstTs) / HOUR) : null;
  const elapsed = ds.runs.reduce((a, r) => a + (r.elapsedMs ?? 0), 0);
  const { approved, blocked } = ds.decisionCounts;
  stuck.sort((a, b) => b.ageMs - a.ageMs);
  return {
    signals: ds.life.size,
    states: Object.fromEntries(Object.entries(states).sort(([a], [b]) => a.localeCompare(b))),
    decisions: { approved, blocked },
    throughput: {
      perHourMean: hours === null ? null : ds.life.size / hours,
      perHourPeak: peak,
      peakHour: peakHour === null ? null : isoTime(peakHour * HOUR),
      perSecondProcessing: elapsed > 0 ? ds.life.size / (elapsed / 1000) : null,
    },
    timeInState,
    stuck: { count: stuck.length, afterMs: o.stuckAfterMs, signals: stuck.slice(0, 20) },
    errors: { busErrors: ds.busErrors, warnings: ds.warnings, failed, rejected },
  };
}
