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
import * as flags from './dataset.ts';
import type { Dataset } from './dataset.ts';
import { reportSourceOf } from './report-source.ts';
import type { LogReadModel } from './read-model.ts';
import { amountOf, ExactSum, type Amount } from './exact-sum.ts';
import { maxDrawdown, meanCI, mean, percentile, profitFactor, sharpe, sortino, type Interval, type Nums } from './stats.ts';

export const REPORT_SCHEMA_VERSION = 1;
// the columns' flags as this module's constants (read per row; an imported binding may be read through an accessor)
const { SH_BOUGHT, SH_OVERLAPS, LIFE_TERMINAL, LIFE_OPEN_AT_END } = flags;
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
  /** the numbers of the outcomes that bought something, in order: a list (addOne), or a column of `filled` (column, put) */
  nums: number[] | Float64Array = [];
  private at = 0;
  count = 0;
  wins = 0;
  filled = 0;

  add(pnl: string, filled: boolean): void {
    this.addOne(outcome(pnl), filled);
  }

  /** an outcome read once (outcome()) and added to each accumulator it belongs to */
  addOne(o: Outcome, filled: boolean): void {
    this.addSums(o, filled);
    if (filled) (this.nums as number[]).push(o.n);
  }

  /** the numbers as a column of exactly `filled` values, written in order by `put` */
  column(): void {
    this.nums = new Float64Array(this.filled);
  }
  put(n: number): void {
    this.nums[this.at++] = n;
  }

  /** the counts and exact sums of addOne, without the list of numbers */
  addSums(o: Outcome, filled: boolean): void {
    this.count++;
    this.total.addAmount(o.amount);
    if (o.loss) this.losses.addAmount(o.amount);
    else if (o.gain) this.gains.addAmount(o.amount);
    if (filled) {
      this.filled++;
      if (o.n > 0) this.wins++;
    }
  }

  /** another's counts and exact sums (an exact sum of sums is the sum: order does not matter); not its numbers */
  mergeSums(a: PnlAcc): void {
    this.count += a.count;
    this.wins += a.wins;
    this.filled += a.filled;
    this.total.addSum(a.total);
    this.gains.addSum(a.gains);
    this.losses.addSum(a.losses);
  }

  stats(o: Required<ReportOptions>, cis?: IntervalMemo): PnlStats {
    const n = this.nums.length;
    const ci = () => meanCI(this.nums, { seed: o.bootstrapSeed, resamples: o.bootstrapResamples });
    return {
      count: this.count,
      trades: n,
      pnl: this.total.toString(),
      mean: n ? mean(this.nums) : null,
      winRate: n ? this.wins / n : null,
      ci95Mean: cis ? cis.of(this.nums, ci) : ci(),
      saved: negate(this.losses.toString()),
      cost: this.gains.toString(),
      netImpact: negate(this.total.toString()),
    };
  }
}

/**
 * Intervals of the mean already computed in this report, by their numbers: the same numbers (in the same order,
 * same seed) give the same interval, so a guard that always blocks alone has its headline and sole interval
 * bootstrapped once (2,000 resamples each: most of a filtered report's time).
 */
class IntervalMemo {
  private readonly done: Array<{ nums: Nums; ci: Interval | null }> = [];
  of(nums: Nums, make: () => Interval | null): Interval | null {
    if (nums.length < 2) return make();
    for (const d of this.done) if (sameNums(d.nums, nums)) return d.ci;
    const ci = make();
    this.done.push({ nums, ci });
    return ci;
  }
}
function sameNums(a: Nums, b: Nums): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
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

/** rows `rows` stably sorted by `key[row]` (a copy; the rows themselves when in order already, as logs mostly are) */
function sortedBy(rows: Int32Array, key: Float64Array): Int32Array {
  let inOrder = true;
  for (let i = 1; i < rows.length && inOrder; i++) inOrder = key[rows[i - 1]!]! <= key[rows[i]!]!;
  if (inOrder) return rows;
  // positions sorted by key, ties by position: the stable sort
  const pos = Array.from(rows, (_, i) => i).sort((a, b) => key[rows[a]!]! - key[rows[b]!]! || a - b);
  return Int32Array.from(pos, (p) => rows[p]!);
}

/** growable list of row numbers */
class RowList {
  a = new Int32Array(64);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.n * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  rows(): Int32Array {
    return this.a.subarray(0, this.n);
  }
}

/** the entry, exit and PnL of trade-like rows (closed trades, shadow trades) */
interface Legs {
  readonly entry: Float64Array;
  readonly exit: Float64Array;
  /** each row's PnL as a number, and its outcome (an index into Outcomes.all) */
  readonly num: Float64Array;
  readonly out: Int32Array;
}

/** -1 for each number 0..max of `nos` (string numbers): a lookup table cheaper than a Map per row */
function denseTable(nos: Int32Array): Int32Array {
  let max = -1;
  for (let i = 0; i < nos.length; i++) if (nos[i]! > max) max = nos[i]!;
  return new Int32Array(max + 1).fill(-1);
}

/** The outcomes of a report's rows, each distinct PnL text read once (by its text: the sidecar's bounded writer may give one amount several numbers). */
class Outcomes {
  readonly all: Outcome[] = [];
  private readonly byText = new Map<string, number>();
  constructor(private readonly str: (i: number) => string) {}
  /** per row: its PnL's outcome index and number */
  legs(pnl: Int32Array): { num: Float64Array; out: Int32Array } {
    const num = new Float64Array(pnl.length);
    const out = new Int32Array(pnl.length);
    // by number first (a table over the numbers used), by text the first time a number is seen
    const byNo = denseTable(pnl);
    for (let i = 0; i < pnl.length; i++) {
      let j = byNo[pnl[i]!]!;
      if (j < 0) {
        const text = this.str(pnl[i]!);
        j = this.byText.get(text) ?? -1;
        if (j < 0) {
          this.byText.set(text, (j = this.all.length));
          this.all.push(outcome(text));
        }
        byNo[pnl[i]!] = j;
      }
      out[i] = j;
      num[i] = this.all[j]!.n;
    }
    return { num, out };
  }
}

function strategyStats(rows: Int32Array, legs: Legs, outs: readonly Outcome[], base: number, from: number | null, to: number | null): StrategyStats {
  const sorted = sortedBy(rows, legs.exit);
  const n = sorted.length;
  const pnls = new Float64Array(n);
  const total = new ExactSum();
  for (let i = 0; i < n; i++) {
    pnls[i] = legs.num[sorted[i]!]!;
    total.addAmount(outs[legs.out[sorted[i]!]!]!.amount);
  }
  const curve = new Float64Array(n + 1);
  curve[0] = base;
  for (let i = 0; i < n; i++) curve[i + 1] = curve[i]! + pnls[i]!;
  const dd = maxDrawdown(curve);
  // daily returns over every day of the period (days without exits return 0), against the starting balance
  let daily: number[] = [];
  if (n && from !== null && to !== null && base > 0) {
    const d0 = utcDayStart(from);
    const days = Math.max(1, Math.ceil((to - d0) / DAY));
    const byDay = new Float64Array(days);
    for (let i = 0; i < n; i++) byDay[Math.min(days - 1, Math.max(0, Math.floor((legs.exit[sorted[i]!]! - d0) / DAY)))]! += pnls[i]!;
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
    const iv = sortedBy(rows, legs.entry); // stable: equal entries keep their order, as the pairs did
    let covered = 0;
    let curS = -Infinity;
    let curE = -Infinity;
    for (let i = 0; i < iv.length; i++) {
      const s = legs.entry[iv[i]!]!;
      const e = legs.exit[iv[i]!]!;
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
  for (let i = 0; i < n; i++) {
    if (pnls[i]! > 0) wins++;
    hold += (legs.exit[sorted[i]!]! - legs.entry[sorted[i]!]!) / HOUR;
  }
  return {
    trades: n,
    winRate: n ? wins / n : null,
    totalPnl: total.toString(),
    profitFactor: profitFactor(pnls),
    expectancy: n ? mean(pnls) : null,
    maxDrawdown: dd.amount,
    maxDrawdownPct: base > 0 ? dd.fraction : null,
    sharpe: daily.length > 1 ? sharpe(daily) : null,
    sortino: daily.length > 1 ? sortino(daily) : null,
    avgHoldHours: n ? hold / n : null,
    exposure,
  };
}

/** Blocked-opportunity cost per guard, from the shadow outcomes alone; and the outcomes' totals. */
function blockedCost(ds: ReportSource, legs: Legs, outs: readonly Outcome[], o: Required<ReportOptions>, guardModes: Record<string, string>, cis: IntervalMemo) {
  const sh = ds.shadows;
  const str = (i: number) => ds.str(i);
  // one pass: each outcome is added to the accumulators of every guard that blocked it
  const byGuard = new Map<string, GuardAcc>();
  const guardAcc = (code: string) => byGuard.get(code) ?? byGuard.set(code, { code, all: new PnlAcc(), sole: new PnlAcc(), headline: new PnlAcc(), soleHeadline: new PnlAcc(), openAtEnd: 0 }).get(code)!;
  const totals = { all: new PnlAcc(), headline: new PnlAcc() };
  // the counts and exact sums per group of outcomes blocked by the same guards, overlapping or not (one addition
  // per outcome, merged into each accumulator after); the numbers, whose order the statistics keep, per accumulator
  type Group = { readonly acc: PnlAcc; readonly overlaps: boolean; readonly guards: GuardAcc[]; openAtEnd: number };
  const groups = new Map<number, number>();
  const groupList: Group[] = [];
  const groupOf = new Int32Array(sh.n);
  const nums = new Float64Array(sh.n);
  const statusCount = new Map<number, number>();
  let overlapping = 0;
  for (let i = 0; i < sh.n; i++) {
    const flags = sh.flags[i]!;
    const overlaps = (flags & SH_OVERLAPS) !== 0;
    const out = outs[legs.out[i]!]!;
    const st = sh.status[i]!;
    statusCount.set(st, (statusCount.get(st) ?? 0) + 1);
    if (overlaps) overlapping++;
    const key = 2 * sh.blockedBy[i]! + (overlaps ? 1 : 0);
    let gi = groups.get(key);
    if (gi === undefined) {
      groups.set(key, (gi = groupList.length));
      groupList.push({ acc: new PnlAcc(), overlaps, guards: ds.list(sh.blockedBy[i]!).map(guardAcc), openAtEnd: 0 });
    }
    const grp = groupList[gi]!;
    grp.acc.addSums(out, (flags & SH_BOUGHT) !== 0);
    if (str(st) === 'open_at_end') grp.openAtEnd++;
    groupOf[i] = gi;
    nums[i] = out.n;
  }
  // the accumulators each group feeds: the totals, and those of every guard that blocked it
  const feeds = groupList.map(({ overlaps, guards: gs }) => {
    const sole = gs.length === 1;
    const to = overlaps ? [totals.all] : [totals.all, totals.headline];
    for (const g of gs) to.push(...[g.all, ...(sole ? [g.sole] : []), ...(overlaps ? [] : [g.headline, ...(sole ? [g.soleHeadline] : [])])]);
    return to;
  });
  groupList.forEach((grp, gi) => {
    for (const acc of feeds[gi]!) acc.mergeSums(grp.acc);
    for (const g of grp.guards) g.openAtEnd += grp.openAtEnd;
  });
  // then the numbers of the outcomes that bought something, in order, into columns of the exact sizes now known
  totals.all.column();
  totals.headline.column();
  for (const g of byGuard.values()) for (const acc of [g.all, g.sole, g.headline, g.soleHeadline]) acc.column();
  for (let i = 0; i < sh.n; i++) {
    if (!(sh.flags[i]! & SH_BOUGHT)) continue;
    const n = nums[i]!;
    for (const acc of feeds[groupOf[i]!]!) acc.put(n);
  }
  const byStatus: Record<string, number> = {};
  for (const [st, n] of statusCount) byStatus[str(st)] = (byStatus[str(st)] ?? 0) + n;
  // blocked signals whose shadow trade has not ended yet (live, or a torn outcome file) still count as blocked
  const awaiting = ds.awaiting;
  for (const code of awaiting.keys()) guardAcc(code);
  const guards: GuardReport[] = [...byGuard.entries()].map(([code, g]) => ({
    code, mode: guardModes[code] ?? null,
    blocked: g.all.count + (awaiting.get(code)?.all ?? 0), shadowPnl: g.all.total.toString(),
    soleBlocked: g.sole.count + (awaiting.get(code)?.sole ?? 0), soleShadowPnl: g.sole.total.toString(),
    awaitingOutcome: awaiting.get(code)?.all ?? 0,
    headlineBlocked: g.headline.count, headlineShadowPnl: g.headline.total.toString(), overlapping: g.all.count - g.headline.count,
    openAtEnd: g.openAtEnd,
    headline: g.headline.stats(o, cis), sole: g.soleHeadline.stats(o, cis),
  }));
  // ranking: biggest net impact of the marginal (sole, headline) blocks first
  guards.sort((a, b) => Number(b.sole.netImpact) - Number(a.sole.netImpact) || a.code.localeCompare(b.code));

  return { guards, totals, byStatus, overlapping };
}

/** What a report is built from: the read model's columns (read-model.ts), or a Dataset (dataset.ts' loadDataset, the reference). */
export type ReportSource = LogReadModel;

const isDataset = (x: ReportSource | Dataset): x is Dataset => 'fills' in x;

type GuardAcc = { readonly code: string; all: PnlAcc; sole: PnlAcc; headline: PnlAcc; soleHeadline: PnlAcc; openAtEnd: number };

export function buildReport(input: ReportSource | Dataset, options: ReportOptions = {}): Report {
  const ds = isDataset(input) ? reportSourceOf(input) : input;
  const o: Required<ReportOptions> = { stuckAfterMs: options.stuckAfterMs ?? 6 * HOUR, minSample: options.minSample ?? 30, bootstrapSeed: options.bootstrapSeed ?? 20260101, bootstrapResamples: options.bootstrapResamples ?? 2000 };
  const guardModes: Record<string, string> = {};
  for (const r of ds.runs) Object.assign(guardModes, r.guardModes);
  const from = ds.runs.length ? Math.min(...ds.runs.map((r) => r.from ?? r.startedTs)) : ds.firstTs;
  const to = ds.runs.length ? Math.max(...ds.runs.map((r) => r.to ?? ds.lastTs ?? r.startedTs)) : ds.lastTs;
  const base = ds.runs.reduce((a, r) => Math.max(a, r.startingBalance ?? 0), 0);
  const str = (i: number) => ds.str(i);

  // ── blocked-opportunity cost per guard (from the shadow outcomes alone) ────────
  const sh = ds.shadows;
  const outcomes = new Outcomes(str);
  const shLegs: Legs = { entry: sh.entry, exit: sh.exit, ...outcomes.legs(sh.pnl) };
  const tr = ds.trades;
  const trLegs: Legs = { entry: tr.entry, exit: tr.exit, ...outcomes.legs(tr.pnl) };
  const outs = outcomes.all;
  const cis = new IntervalMemo();
  const { guards, totals, byStatus, overlapping } = blockedCost(ds, shLegs, outs, o, guardModes, cis);

  // ── observe mode, the other direction: realized outcomes of trades a guard would have blocked ──
  const observed = new Map<string, PnlAcc>();
  const observedCount = new Map<string, number>();
  const ob = ds.observed;
  for (let j = 0; j < ob.n; j++) {
    const t = ob.trade[j]!;
    for (const c of ds.list(ob.codes[j]!)) {
      observedCount.set(c, (observedCount.get(c) ?? 0) + 1);
      if (t >= 0) (observed.get(c) ?? observed.set(c, new PnlAcc()).get(c)!).addOne(outs[trLegs.out[t]!]!, true);
    }
  }
  const observe: ObserveReport[] = [...observedCount.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => {
    const acc = observed.get(code) ?? new PnlAcc();
    return { code, mode: guardModes[code] ?? null, wouldHaveBlocked: n, realized: acc.stats(o, cis) };
  });

  const recommendations = [...guards.map((g) => recommend(g, o.minSample)), ...observe.map((g) => recommendObserve(g, o.minSample))];

  // ── strategies ───────────────────────────────────────────────────────────────
  type Strat = { signals: number; approved: number; blocked: number; trades: RowList; shadows: RowList };
  const strategies = new Map<string, Strat>();
  const strat = (name: string) => strategies.get(name) ?? strategies.set(name, { signals: 0, approved: 0, blocked: 0, trades: new RowList(), shadows: new RowList() }).get(name)!;
  for (const [name, c] of ds.byStrategy) Object.assign(strat(name), c);
  const stratList: Strat[] = [];
  const stratOf = (nos: Int32Array) => {
    const byNo = denseTable(nos);
    return (no: number) => stratList[byNo[no]! >= 0 ? byNo[no]! : (byNo[no] = stratList.push(strat(str(no))) - 1)]!;
  };
  const trStrat = stratOf(tr.strategy);
  for (let i = 0; i < tr.n; i++) trStrat(tr.strategy[i]!).trades.push(i);
  const shStrat = stratOf(sh.strategy);
  for (let i = 0; i < sh.n; i++) {
    if ((sh.flags[i]! & (SH_OVERLAPS | SH_BOUGHT)) === SH_BOUGHT && !Number.isNaN(sh.entry[i]!) && !Number.isNaN(sh.exit[i]!)) shStrat(sh.strategy[i]!).shadows.push(i);
  }
  const strategyReports: StrategyReport[] = [...strategies.entries()].map(([name, s]) => ({
    strategy: name, signals: s.signals, approved: s.approved, blocked: s.blocked,
    realized: strategyStats(s.trades.rows(), trLegs, outs, base, from, to),
    shadow: strategyStats(s.shadows.rows(), shLegs, outs, base, from, to), // entry and exit known (above)
  }));
  strategyReports.sort((a, b) => Number(b.realized.totalPnl) - Number(a.realized.totalPnl) || a.strategy.localeCompare(b.strategy));

  // ── equity curves ────────────────────────────────────────────────────────────
  // each list in time order (a stable sort), the two merged stably (on equal exits the realized first): the
  // stable sort of their concatenation
  const all = (n: number) => {
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i;
    return rows;
  };
  const realizedByTime = sortedBy(all(tr.n), tr.exit);
  const exits = new RowList();
  for (let i = 0; i < sh.n; i++) if (!(sh.flags[i]! & SH_OVERLAPS) && !Number.isNaN(sh.exit[i]!)) exits.push(i);
  const shadowByTime = sortedBy(exits.rows(), sh.exit);
  const start = (): Array<[number, number]> => (from !== null ? [[from, base]] : []);
  const realized = start();
  let eq = base;
  for (let i = 0; i < realizedByTime.length; i++) {
    const t = realizedByTime[i]!;
    realized.push([tr.exit[t]!, (eq += trLegs.num[t]!)]);
  }
  const withShadow = start();
  eq = base;
  let a = 0;
  let b = 0;
  while (a < realizedByTime.length || b < shadowByTime.length) {
    const ta = a < realizedByTime.length ? tr.exit[realizedByTime[a]!]! : Infinity;
    const tb = b < shadowByTime.length ? sh.exit[shadowByTime[b]!]! : Infinity;
    if (b >= shadowByTime.length || (a < realizedByTime.length && ta <= tb)) withShadow.push([ta, (eq += trLegs.num[realizedByTime[a++]!]!)]);
    else withShadow.push([tb, (eq += shLegs.num[shadowByTime[b++]!]!)]);
  }

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runs: ds.runs.map((r) => ({ runId: r.runId, mode: r.mode, pair: r.pair, from: r.from === null ? null : isoTime(r.from), to: r.to === null ? null : isoTime(r.to), startingBalance: r.startingBalance })),
    period: { from: from === null ? null : isoTime(from), to: to === null ? null : isoTime(to) },
    rules: REPORT_RULES,
    pipeline: pipeline(ds, o),
    shadow: { outcomes: sh.n, byStatus, pnl: totals.all.total.toString(), headlineShadowPnl: totals.headline.total.toString(), overlapping, blockedWithoutOutcome: ds.blockedWithoutOutcome },
    guards,
    observe,
    recommendations,
    strategies: strategyReports,
    equity: { base, realized, withShadow },
    skippedLines: ds.skipped,
    duplicateLines: ds.duplicates,
  };
}

const NON_STUCK = new Set(['open']);

function pipeline(ds: ReportSource, o: Required<ReportOptions>): PipelineReport {
  const states: Record<string, number> = {};
  const life = ds.life;
  // stuck signals: rows, with their age; named once sorted (the first 20 are shown)
  const stuckRows = new RowList();
  const perHour = new Map<number, number>();
  const end = ds.lastTs ?? 0;
  let failed = 0;
  let rejected = 0;
  for (let i = 0; i < life.n; i++) {
    const received = life.received[i]!;
    if (!Number.isNaN(received)) {
      const h = Math.floor(received / HOUR);
      perHour.set(h, (perHour.get(h) ?? 0) + 1);
    }
    const state = ds.str(life.state[i]!);
    const terminal = (life.flags[i]! & LIFE_TERMINAL) !== 0;
    const shown = !terminal && life.flags[i]! & LIFE_OPEN_AT_END ? `${state} (open at end)` : state;
    states[shown] = (states[shown] ?? 0) + 1;
    if (state === 'failed') failed++;
    if (state === 'rejected') rejected++;
    if (!terminal && !NON_STUCK.has(state) && end - life.ts[i]! > o.stuckAfterMs) stuckRows.push(i);
  }
  // oldest first; equal ages in table order (a stable sort)
  const age = (i: number) => end - life.ts[i]!;
  const stuck = Array.from(stuckRows.rows()).sort((a, b) => age(b) - age(a) || a - b);
  const timeInState: PipelineReport['timeInState'] = {};
  for (const [state, xs] of [...ds.timeInState.entries()].sort(([a], [b]) => a.localeCompare(b))) timeInState[state] = { p50: percentile(xs, 50), p95: percentile(xs, 95), n: xs.length };
  let peak = 0;
  let peakHour: number | null = null;
  for (const [h, n] of perHour) if (n > peak || (n === peak && peakHour !== null && h < peakHour)) [peak, peakHour] = [n, h];
  const hours = ds.firstTs !== null && ds.lastTs !== null ? Math.max(1, (ds.lastTs - ds.firstTs) / HOUR) : null;
  const elapsed = ds.runs.reduce((a, r) => a + (r.elapsedMs ?? 0), 0);
  const { approved, blocked } = ds.decisionCounts;
  return {
    signals: life.n,
    states: Object.fromEntries(Object.entries(states).sort(([a], [b]) => a.localeCompare(b))),
    decisions: { approved, blocked },
    throughput: {
      perHourMean: hours === null ? null : life.n / hours,
      perHourPeak: peak,
      peakHour: peakHour === null ? null : isoTime(peakHour * HOUR),
      perSecondProcessing: elapsed > 0 ? life.n / (elapsed / 1000) : null,
    },
    timeInState,
    stuck: {
      count: stuck.length, afterMs: o.stuckAfterMs,
      signals: stuck.slice(0, 20).map((i) => ({ signalId: life.signalId(i), state: ds.str(life.state[i]!), since: isoTime(life.ts[i]!), ageMs: age(i) })),
    },
    errors: { busErrors: ds.busErrors, warnings: ds.warnings, failed, rejected },
  };
}
