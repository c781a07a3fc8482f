/**
 * Counterfactual fidelity: run 1 has guard G enforcing, run 2 the same data and config with G in
 * observe. For each signal G alone blocked in run 1, the shadow outcome of run 1 is compared with what
 * run 2 really did with it. Where run 2's conditions differ (another guard blocked it because earlier
 * trades took the slot or cooldown, a different order size, a candle's volume shared with other fills,
 * a venue refusal), the signal is counted and labelled as an interaction instead of being compared.
 * A `mismatch` is a signal traded under the same conditions with a different result: a defect.
 */
import { keyOf, type Dataset, type ShadowRec } from './dataset.ts';

export type FidelityStatus = 'match' | 'mismatch' | 'interaction';

export interface FidelityRow {
  readonly signalId: string;
  readonly status: FidelityStatus;
  /** why the runs differ (interaction) or which fields differ (mismatch) */
  readonly label: string | null;
  readonly shadowPnl: string;
  readonly realizedPnl: string | null;
}

export interface FidelityResult {
  readonly guard: string;
  /** signals G alone blocked in run 1 */
  readonly soleBlocked: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly interactions: number;
  /** interaction labels → count */
  readonly byLabel: Record<string, number>;
  readonly rows: FidelityRow[];
}

const FIELDS = ['entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason', 'quantity', 'fees', 'pnl'] as const;

function onlyRun(ds: Dataset, which: string): string {
  if (ds.runs.length !== 1) throw new Error(`counterfactual: ${which} must hold exactly one run (found ${ds.runs.length})`);
  return ds.runs[0]!.runId;
}

/**
 * Evidence that other orders took candle volume this signal's orders needed in run 2: one of its orders
 * filled in several parts or later than the first candle after it was sent, and other signals filled on
 * the candles it waited through.
 */
function volumeContention(ds: Dataset, runId: string, pair: string, key: string): boolean {
  const fills = ds.fills.get(key) ?? [];
  const sub = ds.submits.get(key) ?? {};
  for (const purpose of ['entry', 'exit'] as const) {
    const mine = fills.filter((f) => f.purpose === purpose);
    const sent = sub[purpose];
    if (!mine.length || sent === undefined) continue;
    const last = Math.max(...mine.map((f) => f.ts));
    const waited = mine.length > 1 || Math.min(...mine.map((f) => f.ts)) > sent;
    if (!waited) continue;
    for (const [at, keys] of ds.fillsAt) {
      const [r, p, ts] = at.split('|');
      const t = Number(ts);
      if (r === runId && p === pair && t >= sent && t <= last && [...keys].some((k) => k !== key)) return true;
    }
  }
  return false;
}

function compareOne(s: ShadowRec, run1: Dataset, run2: Dataset, r1: string, r2: string): FidelityRow {
  const key2 = keyOf(r2, s.signalId);
  const base = { signalId: s.signalId, shadowPnl: s.pnl };
  const inter = (label: string, realizedPnl: string | null = null): FidelityRow => ({ ...base, status: 'interaction', label, realizedPnl });
  const d1 = run1.decisions.get(keyOf(r1, s.signalId));
  const d2 = run2.decisions.get(key2);
  if (!d2) return inter('no decision in run 2');
  if (d2.decision === 'blocked') return inter(`blocked in run 2 by ${d2.blockedBy.join('+')}`);
  if (d1?.quantity !== d2.quantity) return inter('different order size (equity differed)');
  const t = run2.trades.get(key2);
  const life = run2.life.get(key2);
  const end = life?.state ?? null;
  if (s.status !== 'closed') {
    // the shadow never bought (expired/refused) or was still open at the end
    if ((s.status === 'expired' || s.status === 'rejected') && !t && end === s.status) return { ...base, status: 'match', label: null, realizedPnl: '0' };
    if (s.status === 'open_at_end' && !t && life?.openAtEnd) return { ...base, status: 'match', label: null, realizedPnl: null };
    return inter(`shadow ${s.status}, run 2 ended ${end ?? 'unknown'}`, t?.pnl ?? null);
  }
  if (!t) return inter(`run 2 ended ${end ?? 'unknown'} without a closed trade`);
  const differs = FIELDS.filter((f) => {
    const a = s[f];
    const b = t[f];
    return f === 'entryTs' || f === 'exitTs' ? a !== b : String(a) !== String(b);
  });
  if (!differs.length) return { ...base, status: 'match', label: null, realizedPnl: t.pnl };
  // an interaction only with evidence in run 2's own fills
  const fills2 = run2.fills.get(key2) ?? [];
  if (volumeContention(run2, r2, s.pair, key2)) return inter('waited for candle volume other orders took in run 2 (volume cap)', t.pnl);
  const bought = fills2.filter((f) => f.purpose === 'entry').reduce((a, f) => a + Number(f.quantity), 0);
  if (d2.quantity !== null && bought < Number(d2.quantity)) return inter('run 2 bought less than it ordered (cash at the fill)', t.pnl);
  return { ...base, status: 'mismatch', label: `differs in ${differs.join(', ')}`, realizedPnl: t.pnl };
}

export function compareCounterfactual(guard: string, enforced: Dataset, observed: Dataset): FidelityResult {
  const r1 = onlyRun(enforced, 'run 1 (enforce)');
  const r2 = onlyRun(observed, 'run 2 (observe)');
  const rows: FidelityRow[] = [];
  for (const s of enforced.shadows.values()) {
    if (s.blockedBy.length !== 1 || s.blockedBy[0] !== guard) continue;
    rows.push(compareOne(s, enforced, observed, r1, r2));
  }
  rows.sort((a, b) => a.signalId.localeCompare(b.signalId));
  const byLabel: Record<string, number> = {};
  for (const r of rows) if (r.status === 'interaction') byLabel[r.label!] = (byLabel[r.label!] ?? 0) + 1;
  return {
    guard,
    soleBlocked: rows.length,
    matched: rows.filter((r) => r.status === 'match').length,
    mismatched: rows.filter((r) => r.status === 'mismatch').length,
    interactions: rows.filter((r) => r.status === 'interaction').length,
    byLabel,
    rows,
  };
}

export function renderFidelity(r: FidelityResult): string {
  const lines = [
    `counterfactual fidelity for ${r.guard}: ${r.soleBlocked} signals it alone blocked (run 1 enforce, run 2 observe)`,
    `  match        ${r.matched}  (shadow outcome of run 1 = realized outcome of run 2: entry/exit price and time, exit reason, quantity, fees, PnL)`,
    `  interaction  ${r.interactions}  (run 2's conditions differed; not compared)`,
    ...Object.entries(r.byLabel).sort(([, a], [, b]) => b - a).map(([l, n]) => `    ${String(n).padStart(5)}  ${l}`),
    `  mismatch     ${r.mismatched}${r.mismatched ? '  ← same conditions, different result: a defect' : ''}`,
    ...r.rows.filter((x) => x.status === 'mismatch').slice(0, 20).map((x) => `    ${x.signalId}: ${x.label} (shadow ${x.shadowPnl}, realized ${x.realizedPnl})`),
  ];
  return lines.join('\n');
}
