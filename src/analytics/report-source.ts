/**
 * The reference Dataset (dataset.ts) in the read model's form (read-model.ts): its own module, so that the
 * Dataset's module needs nothing of the read model's (the read model uses the Dataset's parsers).
 */
import { keyOf, LIFE_OPEN_AT_END, LIFE_TERMINAL, SH_BOUGHT, SH_OVERLAPS, type Dataset } from './dataset.ts';
import type { LogReadModel } from './read-model.ts';

/**
 * A Dataset as the report reads it (read-model.ts' columns): the reference implementation's answer in the
 * read model's form, so that `buildReport` has one input and the differential test compares like with like.
 */
export function reportSourceOf(ds: Dataset): LogReadModel {
  const strs: string[] = [];
  const strNo = new Map<string, number>();
  const no = (v: string): number => strNo.get(v) ?? (strNo.set(v, strs.length), strs.push(v) - 1);
  const lists: Array<readonly string[]> = [];
  const listNo = new Map<readonly string[], number>();
  const list = (xs: readonly string[]): number => listNo.get(xs) ?? (listNo.set(xs, lists.length), lists.push(xs) - 1);
  const nan = (v: number | null) => (v === null ? NaN : v);
  const sh = [...ds.shadows.values()];
  const tr = [...ds.trades.entries()];
  const tradeRow = new Map(tr.map(([key], i) => [key, i]));
  const observed = [...ds.decisions.values()].filter((d) => d.decision === 'approved' && d.observedBlocks.length > 0);
  const life = [...ds.life.entries()];
  return {
    runs: ds.runs, decisionCounts: ds.decisionCounts, byStrategy: ds.byStrategy, awaiting: ds.awaiting, blockedWithoutOutcome: ds.blockedWithoutOutcome,
    str: (i) => strs[i]!,
    list: (i) => lists[i]!,
    shadows: {
      n: sh.length,
      strategy: Int32Array.from(sh, (s) => no(s.strategy)), blockedBy: Int32Array.from(sh, (s) => list(s.blockedBy)), status: Int32Array.from(sh, (s) => no(s.status)),
      pnl: Int32Array.from(sh, (s) => no(s.pnl)), entry: Float64Array.from(sh, (s) => nan(s.entryTs)), exit: Float64Array.from(sh, (s) => nan(s.exitTs)),
      flags: Uint8Array.from(sh, (s) => (s.overlaps ? SH_OVERLAPS : 0) | (s.bought ? SH_BOUGHT : 0)),
    },
    trades: {
      n: tr.length,
      strategy: Int32Array.from(tr, ([, t]) => no(t.strategy)), pnl: Int32Array.from(tr, ([, t]) => no(t.pnl)),
      entry: Float64Array.from(tr, ([, t]) => t.entryTs), exit: Float64Array.from(tr, ([, t]) => t.exitTs),
    },
    observed: { n: observed.length, codes: Int32Array.from(observed, (d) => list(d.observedBlocks)), trade: Int32Array.from(observed, (d) => tradeRow.get(keyOf(d.runId, d.signalId)) ?? -1) },
    life: {
      n: life.length,
      received: Float64Array.from(life, ([, l]) => nan(l.receivedTs)), state: Int32Array.from(life, ([, l]) => no(l.state)), ts: Float64Array.from(life, ([, l]) => l.ts),
      flags: Uint8Array.from(life, ([, l]) => (l.terminal ? LIFE_TERMINAL : 0) | (l.openAtEnd ? LIFE_OPEN_AT_END : 0)),
      signalId: (i) => life[i]![0].slice(life[i]![0].indexOf('|') + 1),
    },
    timeInState: new Map([...ds.timeInState].map(([state, xs]) => [state, Float64Array.from(xs)])),
    busErrors: ds.busErrors, warnings: ds.warnings, skipped: ds.skipped, duplicates: ds.duplicates, firstTs: ds.firstTs, lastTs: ds.lastTs,
  };
}
