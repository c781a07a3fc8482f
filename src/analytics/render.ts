/**
 * Views of a Report: text (terminal), markdown, JSON (LOGS.md contract) and a self-contained HTML page
 * with inline SVG charts (no scripts, no network). Tables are built once and rendered per format.
 */
import type { GuardReport, PnlStats, Report, StrategyStats } from './report.ts';

export type ReportFormat = 'text' | 'md' | 'json' | 'html';

interface Table {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
  readonly note?: string;
}

const num = (v: number | null, d = 2) => (v === null || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const pct = (v: number | null, d = 1) => (v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(d)}%`);
/** money string to 2 decimals with a sign (display only; the JSON keeps the exact decimal) */
const usd = (v: string) => {
  const n = Number(v);
  return `${n < 0 ? '-' : '+'}${Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
};
const ci = (s: PnlStats) => (s.ci95Mean ? `${num(s.ci95Mean.low)}..${num(s.ci95Mean.high)}` : '–');

function tables(r: Report): Table[] {
  const p = r.pipeline;
  const out: Table[] = [];
  out.push({
    title: 'Signal pipeline',
    head: ['measure', 'value'],
    rows: [
      ['signals', String(p.signals)],
      ['approved / blocked', `${p.decisions.approved} / ${p.decisions.blocked}`],
      ['states', Object.entries(p.states).map(([s, n]) => `${s} ${n}`).join(', ') || '–'],
      ['signals per hour (event time): mean / peak', `${num(p.throughput.perHourMean, 3)} / ${p.throughput.perHourPeak}${p.throughput.peakHour ? ` at ${p.throughput.peakHour}` : ''}`],
      ['processing throughput', p.throughput.perSecondProcessing === null ? '–' : `${num(p.throughput.perSecondProcessing, 0)} signals/s`],
      ['stuck signals', `${p.stuck.count} (non-terminal > ${num(p.stuck.afterMs / 60_000, 0)} min, positions excluded)`],
      ['errors', `bus ${p.errors.busErrors}, failed ${p.errors.failed}, rejected ${p.errors.rejected}${Object.keys(p.errors.warnings).length ? `, warnings ${Object.entries(p.errors.warnings).map(([c, n]) => `${c} ${n}`).join(', ')}` : ''}`],
    ],
  });
  const tis = Object.entries(p.timeInState);
  if (tis.length) {
    out.push({
      title: 'Time in state (event time)',
      head: ['state', 'n', 'p50', 'p95'],
      rows: tis.map(([s, t]) => [s, String(t.n), dur(t.p50), dur(t.p95)]),
    });
  }
  out.push({
    title: 'Blocked-opportunity cost per guard (headline: overlaps left out)',
    head: ['guard', 'mode', 'blocked', 'sole', 'overlap', 'shadow PnL (all)', 'headline PnL', 'trades', 'win rate', 'mean', '95% CI mean', 'saved', 'missed', 'net impact'],
    rows: r.guards.map((g: GuardReport) => [
      g.code, g.mode ?? '?', String(g.blocked), String(g.soleBlocked), String(g.overlapping), usd(g.shadowPnl), usd(g.headlineShadowPnl),
      String(g.headline.trades), pct(g.headline.winRate), num(g.headline.mean), ci(g.headline), usd(g.headline.saved), usd(g.headline.cost), usd(g.headline.netImpact),
    ]),
    note: `shadow outcomes ${r.shadow.outcomes} (${Object.entries(r.shadow.byStatus).map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}); all ${usd(r.shadow.pnl)}, headline ${usd(r.shadow.headlineShadowPnl)}, ${r.shadow.overlapping} overlapping${r.shadow.blockedWithoutOutcome ? `; ${r.shadow.blockedWithoutOutcome} blocked signals without an outcome yet` : ''}. net impact > 0: the guard saved money.`,
  });
  out.push({
    title: 'Guard effectiveness ranking (signals a guard alone blocked, overlaps left out)',
    head: ['rank', 'guard', 'sole trades', 'net impact', 'saved', 'missed', 'win rate', '95% CI mean'],
    rows: r.guards.map((g, i) => [String(i + 1), g.code, String(g.sole.trades), usd(g.sole.netImpact), usd(g.sole.saved), usd(g.sole.cost), pct(g.sole.winRate), ci(g.sole)]),
  });
  if (r.observe.length) {
    out.push({
      title: 'Observe-mode guards: realized outcome of the trades they would have blocked',
      head: ['guard', 'mode', 'would have blocked', 'closed trades', 'realized PnL', 'win rate', 'mean', '95% CI mean', 'net if enforced'],
      rows: r.observe.map((g) => [g.code, g.mode ?? '?', String(g.wouldHaveBlocked), String(g.realized.trades), usd(g.realized.pnl), pct(g.realized.winRate), num(g.realized.mean), ci(g.realized), usd(g.realized.netImpact)]),
    });
  }
  const strategyRows = (pick: (s: Report['strategies'][number]) => StrategyStats) =>
    r.strategies.map((s) => {
      const x = pick(s);
      return [s.strategy, String(x.trades), pct(x.winRate), usd(x.totalPnl), num(x.profitFactor), num(x.expectancy), num(x.maxDrawdown), pct(x.maxDrawdownPct), num(x.sharpe), num(x.sortino), num(x.avgHoldHours, 1), pct(x.exposure)];
    });
  const sHead = ['strategy', 'trades', 'win rate', 'total PnL', 'profit factor', 'expectancy', 'max DD', 'max DD %', 'Sharpe', 'Sortino', 'avg hold h', 'exposure'];
  out.push({ title: 'Strategy leaderboard: realized trades', head: sHead, rows: strategyRows((s) => s.realized), note: 'Sharpe and Sortino on daily returns against the starting balance, annualised with √365.' });
  out.push({ title: 'Strategy leaderboard: shadow trades of blocked signals (headline)', head: sHead, rows: strategyRows((s) => s.shadow) });
  return out;
}

function dur(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function header(r: Report): string[] {
  const runs = r.runs.map((x) => `${x.runId} (${x.mode ?? '?'} ${x.pair ?? ''} ${x.from ?? ''} → ${x.to ?? ''})`).join('; ');
  const skipped = Object.entries(r.skippedLines);
  return [
    `Tollgate report — ${r.period.from ?? '?'} → ${r.period.to ?? '?'}`,
    `runs: ${runs || 'none found'}`,
    ...(skipped.length ? [`skipped malformed lines: ${skipped.map(([f, n]) => `${f} ${n}`).join(', ')}`] : []),
    ...(Object.keys(r.duplicateLines).length ? [`duplicate lines (later one used): ${Object.entries(r.duplicateLines).map(([f, n]) => `${f} ${n}`).join(', ')}`] : []),
  ];
}

function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [t.title, line(t.head), widths.map((w) => '─'.repeat(w)).join('  '), ...(t.rows.length ? t.rows.map(line) : ['(none)']), ...(t.note ? [t.note] : [])].join('\n');
}

function mdTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`## ${t.title}`, '', `| ${t.head.map(esc).join(' | ')} |`, `|${t.head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`), ...(t.note ? ['', t.note] : [])].join('\n');
}

export function renderReport(r: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2);
    case 'text':
      return [...header(r), '', ...tables(r).map(textTable).flatMap((t) => [t, '']), 'Recommendations (advice only; nothing changes a setting by itself)', ...r.recommendations.map((x) => `  - ${x.text}`), '', 'Rules', ...r.rules.map((x) => `  - ${x}`)].join('\n');
    case 'md':
      return [`# ${header(r)[0]}`, '', ...header(r).slice(1).map((l) => `- ${l}`), '', ...tables(r).flatMap((t) => [mdTable(t), '']), '## Recommendations', '', ...r.recommendations.map((x) => `- ${x.text}`), '', '## Rules', '', ...r.rules.map((x) => `- ${x}`), ''].join('\n');
    case 'html':
      return html(r);
  }
}

const escHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function equitySvg(r: Report): string {
  const W = 900;
  const H = 300;
  const pad = 50;
  const series = [
    { name: 'realized', color: '#1f77b4', pts: r.equity.realized },
    { name: 'realized + shadow (headline)', color: '#d62728', pts: r.equity.withShadow },
  ];
  const all = series.flatMap((s) => s.pts);
  if (all.length < 2) return '<p>(no trades to chart)</p>';
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const v0 = Math.min(...all.map((p) => p[1]));
  const v1 = Math.max(...all.map((p) => p[1]));
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const y = (v: number) => H - pad + -((v - v0) / Math.max(1e-9, v1 - v0)) * (H - 2 * pad);
  const paths = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"><title>${escHtml(s.name)}</title></polyline>`);
  const legend = series.map((s, i) => `<text x="${pad + 10}" y="${pad - 20 + i * 16}" fill="${s.color}" font-size="12">■ ${escHtml(s.name)}</text>`);
  const axis = [
    `<text x="${pad}" y="${H - pad + 18}" font-size="11">${new Date(t0).toISOString().slice(0, 10)}</text>`,
    `<text x="${W - pad}" y="${H - pad + 18}" font-size="11" text-anchor="end">${new Date(t1).toISOString().slice(0, 10)}</text>`,
    `<text x="${pad - 4}" y="${y(v1)}" font-size="11" text-anchor="end">${num(v1, 0)}</text>`,
    `<text x="${pad - 4}" y="${y(v0)}" font-size="11" text-anchor="end">${num(v0, 0)}</text>`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/>`,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="equity curve">${axis.join('')}${paths.join('')}${legend.join('')}</svg>`;
}

function guardBarsSvg(r: Report): string {
  const gs = r.guards;
  if (!gs.length) return '<p>(no blocked signals)</p>';
  const W = 900;
  const row = 26;
  const H = gs.length * row + 30;
  const left = 190;
  const vals = gs.map((g) => Number(g.headline.netImpact));
  const m = Math.max(1e-9, ...vals.map(Math.abs));
  const mid = left + (W - left - 20) / 2;
  const scale = (W - left - 20) / 2 / m;
  const bars = gs.map((g, i) => {
    const v = vals[i]!;
    const w = Math.abs(v) * scale;
    const yy = 10 + i * row;
    return `<text x="${left - 8}" y="${yy + 15}" font-size="12" text-anchor="end">${escHtml(g.code)}</text><rect x="${v >= 0 ? mid : mid - w}" y="${yy}" width="${w.toFixed(1)}" height="${row - 8}" fill="${v >= 0 ? '#2ca02c' : '#d62728'}"><title>${escHtml(g.code)}: net impact ${usd(g.headline.netImpact)}</title></rect><text x="${v >= 0 ? mid + w + 4 : mid - w - 4}" y="${yy + 15}" font-size="11" text-anchor="${v >= 0 ? 'start' : 'end'}">${usd(g.headline.netImpact)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="net impact per guard"><line x1="${mid}" y1="0" x2="${mid}" y2="${H}" stroke="#999"/>${bars.join('')}</svg>`;
}

function html(r: Report): string {
  const tbl = (t: Table) =>
    `<h2>${escHtml(t.title)}</h2><table><thead><tr>${t.head.map((h) => `<th>${escHtml(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${escHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>${t.note ? `<p class="note">${escHtml(t.note)}</p>` : ''}`;
  const h = header(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escHtml(h[0]!)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9em}</style>
</head><body>
<h1>${escHtml(h[0]!)}</h1>${h.slice(1).map((l) => `<p>${escHtml(l)}</p>`).join('')}
<h2>Equity: realized vs realized + shadow</h2>${equitySvg(r)}
<h2>Net impact per guard (headline; green = saved money by blocking)</h2>${guardBarsSvg(r)}
${tables(r).map(tbl).join('\n')}
<h2>Recommendations</h2><ul>${r.recommendations.map((x) => `<li>${escHtml(x.text)}</li>`).join('')}</ul>
<h2>Rules</h2><ul>${r.rules.map((x) => `<li>${escHtml(x)}</li>`).join('')}</ul>
</body></html>
`;
}
