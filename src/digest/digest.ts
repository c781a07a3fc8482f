/**
 * The periodic digest (`tollgate digest --period day|week`): one day's or one ISO week's PnL, what each guard
 * cost with the report's advice, pipeline health, and the reconciliation findings and operator actions of
 * the audit log, as JSON and Markdown. Pure: the report(s), the ledger snapshot and the audit rows are read
 * by the caller (src/cli/cli-digest.ts) and handed in; the time comes from the caller's clock.
 *
 * Periods are UTC: a day is [00:00, 24:00), a week is an ISO week (Monday 00:00 to the next Monday). The
 * report's read path filters by a start time only (`since`), so the log figures are those of signals decided
 * since the period start minus those decided since its end (a second report from the end); counts and
 * decimal sums subtract exactly. Statistics and advice are the first report's (from the start, to the end of
 * the logs at the time of the digest), which the digest says when the logs go on past the period.
 */
import { Dec } from '../domain/money.ts';
import { DAY_MS, isoTime } from '../domain/time.ts';
import type { GuardReport, Recommendation, Report } from '../analytics/report.ts';
import type { AuditRow, ExternalHoldingRow, LedgerSnapshot } from '../ports/ledger.ts';

export const DIGEST_SCHEMA_VERSION = 1;
export const DIGEST_PERIODS = ['day', 'week'] as const;
export type DigestPeriodKind = (typeof DIGEST_PERIODS)[number];

export interface DigestPeriod {
  readonly kind: DigestPeriodKind;
  /** `2024-01-15` or `2024-W03` */
  readonly key: string;
  /** epoch ms, inclusive */
  readonly from: number;
  /** epoch ms, exclusive */
  readonly to: number;
}

function isoWeek(mondayMs: number): string {
  // the ISO year and week are those of the week's Thursday
  const thursday = mondayMs + 3 * DAY_MS;
  const year = Number(isoTime(thursday).slice(0, 4));
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The period of `kind` that contains `at`. */
export function periodOf(kind: DigestPeriodKind, at: number): DigestPeriod {
  const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
  if (kind === 'day') return { kind, key: isoTime(dayStart).slice(0, 10), from: dayStart, to: dayStart + DAY_MS };
  // 1970-01-01 was a Thursday: (days + 3) mod 7 is 0 on Mondays
  const days = dayStart / DAY_MS;
  const monday = (days - (((days + 3) % 7) + 7) % 7) * DAY_MS;
  return { kind, key: isoWeek(monday), from: monday, to: monday + 7 * DAY_MS };
}

/** The last period of `kind` that has ended at `now` (yesterday; last week). */
export function lastCompletePeriod(kind: DigestPeriodKind, now: number): DigestPeriod {
  const current = periodOf(kind, now);
  return periodOf(kind, current.from - 1);
}

export interface GuardDigest {
  readonly code: string;
  readonly mode: string | null;
  /** signals decided in the period it was among the enforcing blockers of */
  readonly blocked: number;
  /** their shadow PnL (what blocking them made or lost had they been traded), quote currency */
  readonly shadowPnl: string;
  readonly soleBlocked: number;
  readonly soleShadowPnl: string;
  /** the report's net impact of the signals it alone blocked (losses avoided − gains missed) */
  readonly soleNetImpact: string;
  /** the report's recommendation for it, if any */
  readonly advice: { readonly verdict: Recommendation['verdict']; readonly text: string } | null;
}

export interface ReconciliationFinding {
  readonly ts: string;
  readonly kind: string;
  readonly policy: string;
  readonly detail: string;
}

export interface OperatorAction {
  readonly ts: string;
  readonly actor: string;
  readonly operation: string;
  readonly reason: string | null;
  readonly input: unknown;
}

export interface Digest {
  readonly schemaVersion: number;
  readonly period: { readonly kind: DigestPeriodKind; readonly key: string; readonly from: string; readonly to: string };
  readonly generatedAt: string;
  /** the ledger's figures (with --state): trades closed in the period, and the state at the time of the digest */
  readonly ledger: {
    readonly closedTrades: number;
    readonly wins: number;
    readonly realizedPnl: Record<string, string>;
    readonly fees: Record<string, string>;
    readonly byStrategy: Array<{ strategy: string; trades: number; pnl: string }>;
    readonly now: {
      sequence: number; cash: Record<string, string>; openPositions: number; realizedPnlTotal: Record<string, string>;
      /** the bot's own positions (what exits sell, what the guards count), quantity per pair */
      managed: Record<string, string>;
      /** venue balances the bot did not buy, per asset: not the bot's, never sold by it (null: not kept in this state) */
      external: Record<string, string> | null;
    };
  } | null;
  /** the logs' figures (signals decided in the period) */
  readonly logs: {
    readonly signals: number;
    readonly approved: number;
    readonly blocked: number;
    readonly strategies: Array<{ strategy: string; signals: number; approved: number; blocked: number; trades: number; realizedPnl: string }>;
    readonly shadow: { outcomes: number; pnl: string };
    /** signals in the logs decided after the period end (left out of the figures above; in the advice) */
    readonly decidedAfterPeriod: number;
  } | null;
  readonly guards: GuardDigest[];
  readonly pipeline: {
    readonly states: Record<string, number>;
    readonly stuck: { count: number; signals: Array<{ signalId: string; state: string; since: string }> };
    readonly errors: { busErrors: number; failed: number; rejected: number; warnings: Record<string, number> };
    readonly skippedLines: Record<string, number>;
    readonly health: 'ok' | 'attention';
    readonly notes: string[];
  } | null;
  readonly reconciliation: {
    readonly findings: ReconciliationFinding[];
    /** the last reconciliation kept in the state (sim/live), null when none ran */
    readonly last: { ts: string; halted: boolean; differences: number } | null;
  } | null;
  readonly operatorActions: OperatorAction[];
  readonly sources: { logs: string | null; state: string | null };
}

export interface DigestInputs {
  readonly period: DigestPeriod;
  readonly generatedAt: number;
  /** the report of signals decided since the period start (run 'all'); null without logs */
  readonly report: Report | null;
  /** the same since the period end: subtracted */
  readonly afterEnd: Report | null;
  readonly ledger: { snapshot: LedgerSnapshot; audit: Iterable<AuditRow>; reconciliation: unknown; externalHoldings?: readonly ExternalHoldingRow[] } | null;
  readonly sources: { logs: string | null; state: string | null };
}

const sub = (a: string, b: string | undefined) => new Dec(a).minus(b ?? '0').toFixed();
const inPeriod = (p: DigestPeriod, ts: number) => ts >= p.from && ts < p.to;

function guardsOf(report: Report, after: Report | null): GuardDigest[] {
  const later = new Map<string, GuardReport>((after?.guards ?? []).map((g) => [g.code, g]));
  const advice = new Map(report.recommendations.filter((r) => r.verdict !== 'would_save_money' && r.verdict !== 'would_cost_money').map((r) => [r.code, r]));
  return report.guards
    .map((g) => {
      const l = later.get(g.code);
      const a = advice.get(g.code);
      return {
        code: g.code, mode: g.mode,
        blocked: g.blocked - (l?.blocked ?? 0), shadowPnl: sub(g.shadowPnl, l?.shadowPnl),
        soleBlocked: g.soleBlocked - (l?.soleBlocked ?? 0), soleShadowPnl: sub(g.soleShadowPnl, l?.soleShadowPnl),
        soleNetImpact: g.sole.netImpact,
        advice: a ? { verdict: a.verdict, text: a.text } : null,
      };
    })
    .filter((g) => g.blocked > 0 || g.advice !== null);
}

function logsOf(report: Report, after: Report | null): NonNullable<Digest['logs']> {
  const later = new Map((after?.strategies ?? []).map((s) => [s.strategy, s]));
  const p = report.pipeline;
  const q = after?.pipeline;
  return {
    signals: p.signals - (q?.signals ?? 0),
    approved: p.decisions.approved - (q?.decisions.approved ?? 0),
    blocked: p.decisions.blocked - (q?.decisions.blocked ?? 0),
    strategies: report.strategies.map((s) => {
      const l = later.get(s.strategy);
      return { strategy: s.strategy, signals: s.signals - (l?.signals ?? 0), approved: s.approved - (l?.approved ?? 0), blocked: s.blocked - (l?.blocked ?? 0), trades: s.realized.trades - (l?.realized.trades ?? 0), realizedPnl: sub(s.realized.totalPnl, l?.realized.totalPnl) };
    }).filter((s) => s.signals > 0),
    shadow: { outcomes: report.shadow.outcomes - (after?.shadow.outcomes ?? 0), pnl: sub(report.shadow.pnl, after?.shadow.pnl) },
    decidedAfterPeriod: q?.signals ?? 0,
  };
}

function pipelineOf(report: Report, logs: NonNullable<Digest['logs']>): NonNullable<Digest['pipeline']> {
  const p = report.pipeline;
  const notes: string[] = [];
  if (p.stuck.count) notes.push(`${p.stuck.count} signal(s) stuck (non-terminal longer than ${Math.round(p.stuck.afterMs / 60_000)} min)`);
  if (p.errors.busErrors) notes.push(`${p.errors.busErrors} subscriber error(s) on the bus`);
  if (p.errors.failed) notes.push(`${p.errors.failed} signal(s) failed`);
  const skipped = Object.values(report.skippedLines).reduce((a, n) => a + n, 0);
  if (skipped) notes.push(`${skipped} malformed log line(s) skipped`);
  if (logs.decidedAfterPeriod) notes.push(`the logs go on past the period end: ${logs.decidedAfterPeriod} later signal(s) are left out of the counts and sums, not out of the advice`);
  return {
    states: p.states,
    stuck: { count: p.stuck.count, signals: p.stuck.signals.slice(0, 10).map((s) => ({ signalId: s.signalId, state: s.state, since: s.since })) },
    errors: { busErrors: p.errors.busErrors, failed: p.errors.failed, rejected: p.errors.rejected, warnings: p.errors.warnings },
    skippedLines: report.skippedLines,
    health: p.stuck.count || p.errors.busErrors || p.errors.failed ? 'attention' : 'ok',
    notes,
  };
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

function ledgerOf(period: DigestPeriod, l: NonNullable<DigestInputs['ledger']>) {
  const s = l.snapshot;
  const quoteOf = new Map(s.positions.map((p) => [p.pair, p.quote]));
  const pnl = new Map<string, Dec>();
  const fees = new Map<string, Dec>();
  const byStrategy = new Map<string, { trades: number; pnl: Dec }>();
  let closed = 0;
  let wins = 0;
  for (const t of s.closedTrades) {
    if (!inPeriod(period, t.exitTs)) continue;
    closed++;
    if (new Dec(t.pnl).gt(0)) wins++;
    const ccy = quoteOf.get(t.pair) ?? t.pair.split('/')[1] ?? '?';
    pnl.set(ccy, (pnl.get(ccy) ?? new Dec(0)).plus(t.pnl));
    fees.set(ccy, (fees.get(ccy) ?? new Dec(0)).plus(t.fees));
    const st = byStrategy.get(t.strategy) ?? { trades: 0, pnl: new Dec(0) };
    byStrategy.set(t.strategy, { trades: st.trades + 1, pnl: st.pnl.plus(t.pnl) });
  }
  const findings: ReconciliationFinding[] = [];
  const actions: OperatorAction[] = [];
  for (const row of l.audit) {
    if (!inPeriod(period, row.ts)) continue;
    if (row.operation === 'reconcile') {
      const x = parse(row.input) as { kind?: string; policy?: string; detail?: string };
      findings.push({ ts: isoTime(row.ts), kind: String(x.kind ?? '?'), policy: String(x.policy ?? '?'), detail: String(x.detail ?? row.input) });
    } else if (row.actor !== 'reconcile' && row.actor !== 'bot') {
      actions.push({ ts: isoTime(row.ts), actor: row.actor, operation: row.operation, reason: row.reason, input: parse(row.input) });
    }
  }
  const rec = l.reconciliation as { ts?: number; halted?: boolean; differences?: unknown[] } | null | undefined;
  const last = rec && typeof rec.ts === 'number' ? { ts: isoTime(rec.ts), halted: Boolean(rec.halted), differences: Array.isArray(rec.differences) ? rec.differences.length : 0 } : null;
  const toObj = (m: Map<string, Dec>) => Object.fromEntries([...m].map(([k, v]) => [k, v.toFixed()]));
  return {
    ledger: {
      closedTrades: closed, wins, realizedPnl: toObj(pnl), fees: toObj(fees),
      byStrategy: [...byStrategy].map(([strategy, v]) => ({ strategy, trades: v.trades, pnl: v.pnl.toFixed() })),
      now: {
        sequence: s.sequence, cash: Object.fromEntries(s.cash.map((c) => [c.currency, c.amount])), openPositions: s.positions.length,
        realizedPnlTotal: Object.fromEntries(s.totals.map((t) => [t.currency, t.realized])),
        managed: toObj(s.positions.reduce((m, p) => m.set(p.pair, (m.get(p.pair) ?? new Dec(0)).plus(p.quantity)), new Map<string, Dec>())),
        external: l.externalHoldings ? Object.fromEntries(l.externalHoldings.filter((h) => !new Dec(h.quantity).isZero()).map((h) => [h.asset, h.quantity])) : null,
      },
    },
    reconciliation: { findings, last },
    actions,
  };
}

export function buildDigest(i: DigestInputs): Digest {
  const { period } = i;
  const logs = i.report ? logsOf(i.report, i.afterEnd) : null;
  const fromLedger = i.ledger ? ledgerOf(period, i.ledger) : null;
  return {
    schemaVersion: DIGEST_SCHEMA_VERSION,
    period: { kind: period.kind, key: period.key, from: isoTime(period.from), to: isoTime(period.to) },
    generatedAt: isoTime(i.generatedAt),
    ledger: fromLedger?.ledger ?? null,
    logs,
    guards: i.report ? guardsOf(i.report, i.afterEnd) : [],
    pipeline: i.report && logs ? pipelineOf(i.report, logs) : null,
    reconciliation: fromLedger?.reconciliation ?? null,
    operatorActions: fromLedger?.actions ?? [],
    sources: i.sources,
  };
}

const signed = (v: string) => (v.startsWith('-') ? v : `+${v}`);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The digest as Markdown (a view over the JSON: the same figures). */
export function renderDigestMd(d: Digest): string {
  const out: string[] = [`# Tollgate ${d.period.kind === 'day' ? 'daily' : 'weekly'} digest ${d.period.key}`, '', `Period ${d.period.from} → ${d.period.to} (UTC). Generated ${d.generatedAt}.`, ''];
  out.push('## PnL', '');
  if (d.ledger) {
    const l = d.ledger;
    const pnl = Object.entries(l.realizedPnl).map(([c, v]) => `${signed(v)} ${c}`).join(', ') || '0';
    out.push(`- ledger: ${l.closedTrades} trade(s) closed (${l.wins} won), realized ${pnl}${Object.keys(l.fees).length ? `, fees ${Object.entries(l.fees).map(([c, v]) => `${v} ${c}`).join(', ')}` : ''}`);
    for (const s of l.byStrategy) out.push(`  - ${s.strategy}: ${s.trades} trade(s), ${signed(s.pnl)}`);
    out.push(`- now: sequence ${l.now.sequence}, cash ${Object.entries(l.now.cash).map(([c, v]) => `${v} ${c}`).join(', ') || '-'}, ${l.now.openPositions} open position(s), realized in total ${Object.entries(l.now.realizedPnlTotal).map(([c, v]) => `${signed(v)} ${c}`).join(', ') || '0'}`);
    const managed = Object.entries(l.now.managed).map(([p, q]) => `${q} ${p}`).join(', ') || 'none';
    const external = l.now.external === null ? 'not kept in this state' : Object.entries(l.now.external).map(([a, q]) => `${q} ${a}`).join(', ') || 'none';
    out.push(`- bot-managed positions: ${managed}; external holdings (not the bot's, never sold by it): ${external}`);
  } else out.push('- ledger: no state given (`--state`)');
  if (d.logs) {
    out.push(`- logs: ${d.logs.signals} signal(s), ${d.logs.approved} approved, ${d.logs.blocked} blocked; shadow trades of blocked signals ${d.logs.shadow.outcomes}, net ${signed(d.logs.shadow.pnl)}`, '');
    if (d.logs.strategies.length) {
      out.push('| strategy | signals | approved | blocked | trades | realized PnL |', '|---|---:|---:|---:|---:|---:|');
      for (const s of d.logs.strategies) out.push(`| ${cell(s.strategy)} | ${s.signals} | ${s.approved} | ${s.blocked} | ${s.trades} | ${signed(s.realizedPnl)} |`);
    }
  } else out.push('- logs: none read');
  out.push('', '## Guard costs', '');
  if (!d.guards.length) out.push(d.logs ? 'No guard blocked a signal in the period.' : 'No logs read.');
  else {
    out.push('| guard | mode | blocked | shadow PnL | alone | alone shadow PnL | advice |', '|---|---|---:|---:|---:|---:|---|');
    for (const g of d.guards) out.push(`| ${g.code} | ${g.mode ?? '-'} | ${g.blocked} | ${signed(g.shadowPnl)} | ${g.soleBlocked} | ${signed(g.soleShadowPnl)} | ${g.advice ? cell(g.advice.text) : '-'} |`);
    out.push('', 'Shadow PnL is what the blocked signals would have made: positive means blocking them cost money. Advice is the report\'s and changes nothing by itself.');
  }
  out.push('', '## Pipeline health', '');
  if (d.pipeline) {
    out.push(`Health: **${d.pipeline.health}**. States: ${Object.entries(d.pipeline.states).map(([s, n]) => `${s} ${n}`).join(', ') || '-'}.`);
    out.push(`Errors: ${d.pipeline.errors.busErrors} bus, ${d.pipeline.errors.failed} failed, ${d.pipeline.errors.rejected} rejected.`);
    for (const n of d.pipeline.notes) out.push(`- ${n}`);
    for (const s of d.pipeline.stuck.signals) out.push(`  - stuck: ${s.signalId} in ${s.state} since ${s.since}`);
  } else out.push('No logs read.');
  out.push('', '## Reconciliation', '');
  if (d.reconciliation) {
    const last = d.reconciliation.last;
    out.push(last ? `Last reconciliation ${last.ts}: ${last.differences} difference(s)${last.halted ? ' — TRADING HALTED' : ''}.` : 'No reconciliation with a venue is kept in the state (replay or paper).');
    if (!d.reconciliation.findings.length) out.push('', 'No new findings in the period.');
    else {
      out.push('', '| time | kind | policy | detail |', '|---|---|---|---|');
      for (const f of d.reconciliation.findings) out.push(`| ${f.ts} | ${f.kind} | ${f.policy} | ${cell(f.detail)} |`);
    }
  } else out.push('No state given (`--state`).');
  if (d.operatorActions.length) {
    out.push('', '## Operator actions', '');
    for (const a of d.operatorActions) out.push(`- ${a.ts} ${a.actor}: ${a.operation}${a.reason ? ` — ${a.reason}` : ''}`);
  }
  return out.join('\n') + '\n';
}
