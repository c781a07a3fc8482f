/**
 * Server-rendered pages of the dashboard: plain HTML, one small inline stylesheet and script (sortable tables)
 * carrying the response's CSP nonce, inline SVG charts. Every amount keeps its exact value in `data-value`
 * (what a test, or a sort, reads) and shows it rounded, with currency and sign.
 */
import { Decimal } from 'decimal.js';
import type { Report } from '../analytics/report.ts';
import type { StateView } from '../adapters/sqlite/read-only.ts';

export const TABS = [
  { path: '/analytics', title: 'Analytics' },
  { path: '/trading', title: 'Trading' },
  { path: '/performance', title: 'Performance' },
  { path: '/system', title: 'System' },
] as const;

export const esc = (s: unknown): string => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** "+1,234.57 USD", "-3.10 USD", "0.00 USD" */
export function money(value: string | number, currency: string): string {
  const d = new Decimal(value);
  const fixed = d.abs().toFixed(2);
  const [int, frac] = fixed.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = d.isZero() || fixed === '0.00' ? '' : d.isNegative() ? '-' : '+';
  return `${sign}${grouped}.${frac} ${currency}`;
}

const cls = (v: string | number) => (new Decimal(v).isNegative() ? 'neg' : new Decimal(v).isZero() ? '' : 'pos');
/** an amount without a sign (prices, balances) */
const moneyCellPlain = (v: string | number, ccy: string) => `<td class="num" data-value="${esc(v)}">${esc(money(v, ccy).replace(/^\+/, ''))}</td>`;
export const moneyCell = (v: string | number, ccy: string) => `<td class="num ${cls(v)}" data-value="${esc(v)}">${esc(money(v, ccy))}</td>`;
const numCell = (v: number | null, digits = 2, suffix = '') => (v === null || !Number.isFinite(v) ? '<td class="num" data-value="">–</td>' : `<td class="num" data-value="${v}">${esc(v.toFixed(digits))}${suffix}</td>`);
const intCell = (v: number) => `<td class="num" data-value="${v}">${v}</td>`;
const pctCell = (v: number | null) => (v === null ? '<td class="num" data-value="">–</td>' : `<td class="num" data-value="${v}">${(v * 100).toFixed(1)}%</td>`);
const textCell = (v: string | null) => `<td data-value="${esc(v ?? '')}">${esc(v ?? '–')}</td>`;

function table(id: string, caption: string, head: string[], rows: string[][], note?: string): string {
  return `<section aria-labelledby="${id}-h"><h2 id="${id}-h">${esc(caption)}</h2>
<table id="${id}" class="sortable"><thead><tr>${head.map((h, i) => `<th scope="col"><button type="button" data-col="${i}">${esc(h)}</button></th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}</tbody></table>${note ? `<p class="note">${esc(note)}</p>` : ''}</section>`;
}

export function currencyOf(r: Report): string {
  const pair = r.runs.find((x) => x.pair)?.pair;
  return pair?.split('/')[1] ?? 'quote';
}

const CSS = `
:root{color-scheme:light;--fg:#1a1a1a;--muted:#555;--bg:#fff;--line:#ccc;--pos:#0a6b2c;--neg:#a4161a;--accent:#0b4f9c}
body{font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
header .brand{font-size:1.1rem;font-weight:700;margin:0}
nav ul{display:flex;gap:.25rem;list-style:none;margin:0;padding:0}
nav a{display:block;padding:.35rem .8rem;color:var(--accent);text-decoration:none;border-radius:4px}
nav a[aria-current=page]{background:var(--accent);color:#fff}
nav a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #e8a100;outline-offset:2px}
main{padding:1rem;max-width:1200px}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:var(--fg)}
td.num{text-align:right}.pos{color:var(--pos)}.neg{color:var(--neg)}
.note,.muted{color:var(--muted);font-size:.9rem}
.banner{background:#fff4ce;border:1px solid #c9a100;padding:.4rem .8rem;margin:0 0 1rem}
pre{background:#f4f4f4;padding:.6rem;overflow:auto;max-height:30rem;font-size:12px}
form.inline{margin-left:auto}
svg{max-width:100%;height:auto;border:1px solid var(--line)}
form.filters{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
`;

const SORT_JS = `
document.querySelectorAll('table.sortable th button').forEach(function(b){b.addEventListener('click',function(){
var t=b.closest('table'),i=+b.dataset.col,tb=t.tBodies[0],rows=[].slice.call(tb.rows),asc=b.dataset.dir!=='asc';
t.querySelectorAll('th button').forEach(function(x){delete x.dataset.dir;x.parentNode.removeAttribute('aria-sort')});
b.dataset.dir=asc?'asc':'desc';b.parentNode.setAttribute('aria-sort',asc?'ascending':'descending');
rows.sort(function(x,y){var a=x.cells[i].dataset.value,c=y.cells[i].dataset.value,na=parseFloat(a),nc=parseFloat(c);
var r=(!isNaN(na)&&!isNaN(nc))?na-nc:String(a).localeCompare(String(c));return asc?r:-r});
rows.forEach(function(r){tb.appendChild(r)})})});
`;

export interface PageContext {
  readonly nonce: string;
  readonly csrf: string | null;
  readonly authenticated: boolean;
  readonly noAuth: boolean;
  readonly source: string;
}

export function layout(ctx: PageContext, active: string, title: string, body: string): string {
  const nav = TABS.map((t) => `<li><a href="${t.path}"${t.path === active ? ' aria-current="page"' : ''}>${t.title}</a></li>`).join('');
  const logout = ctx.authenticated && ctx.csrf ? `<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(ctx.csrf)}"><button type="submit">Log out</button></form>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Tollgate</title><style nonce="${ctx.nonce}">${CSS}</style></head><body>
<header><p class="brand">Tollgate</p><nav aria-label="Dashboard tabs"><ul>${nav}</ul></nav><span class="muted">${esc(ctx.source)}</span>${logout}</header>
<main id="main">${ctx.noAuth ? '<p class="banner" role="note">Started with --no-auth: anyone on this machine can open this dashboard.</p>' : ''}<h1>${esc(title)}</h1>
${body}</main><script nonce="${ctx.nonce}">${SORT_JS}</script></body></html>`;
}

export function loginPage(nonce: string, csrf: string, message: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Log in · Tollgate</title><style nonce="${nonce}">${CSS}</style></head><body><main>
<h1>Tollgate dashboard</h1>${message ? `<p class="banner" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${esc(csrf)}">
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required autofocus></p>
<p><button type="submit">Log in</button></p></form></main></body></html>`;
}

/** The GET form of a tab's filters: labelled inputs, submitted as the query (bookmarkable). */
export function filterForm(path: string, runs: string[], f: { run?: string; since?: number | null }): string {
  const run = f.run ?? 'latest';
  const opts = ['latest', 'all', ...runs].map((r) => `<option value="${esc(r)}"${r === run ? ' selected' : ''}>${esc(r)}</option>`).join('');
  const since = typeof f.since === 'number' ? new Date(f.since).toISOString().slice(0, 10) : '';
  return `<form id="filters" class="filters" method="get" action="${esc(path)}" role="search" aria-label="Filters">
<label for="f-run">Run</label> <select id="f-run" name="run">${opts}</select>
<label for="f-since">Signals since (UTC)</label> <input id="f-since" name="since" type="date" value="${esc(since)}">
<button type="submit">Apply</button> <a href="${esc(path)}">Clear</a></form>`;
}

// ── tabs ───────────────────────────────────────────────────────────────────────

export function analyticsBody(r: Report): string {
  const ccy = currencyOf(r);
  const p = r.pipeline;
  const pipeline = `<section aria-labelledby="pipe-h"><h2 id="pipe-h">Signal pipeline health</h2><dl id="pipeline">
<dt>Period</dt><dd>${esc(r.period.from ?? '–')} → ${esc(r.period.to ?? '–')}</dd>
<dt>Signals</dt><dd data-value="${p.signals}">${p.signals}</dd>
<dt>Approved</dt><dd data-value="${p.decisions.approved}">${p.decisions.approved}</dd>
<dt>Blocked</dt><dd data-value="${p.decisions.blocked}">${p.decisions.blocked}</dd>
<dt>Throughput</dt><dd>${p.throughput.perHourMean === null ? '–' : p.throughput.perHourMean.toFixed(3)} / h mean, peak ${p.throughput.perHourPeak} / h${p.throughput.peakHour ? ` (${esc(p.throughput.peakHour)})` : ''}</dd>
<dt>Stuck signals</dt><dd data-value="${p.stuck.count}">${p.stuck.count} (older than ${Math.round(p.stuck.afterMs / 60_000)} min)</dd>
<dt>Errors</dt><dd>bus errors ${p.errors.busErrors}, failed ${p.errors.failed}, rejected ${p.errors.rejected}</dd>
</dl></section>
${table('states', 'Signals by lifecycle state', ['State', 'Signals'], Object.entries(p.states).map(([s, n]) => [textCell(s), intCell(n)]))}`;
  const guards = table(
    'guards',
    'Blocked-opportunity cost per guard',
    ['Guard', 'Mode', 'Blocked', 'Shadow PnL (all)', 'Headline blocked', 'Headline shadow PnL', 'CI 95% of mean', 'Saved', 'Missed', 'Net impact'],
    r.guards.map((g) => [
      textCell(g.code),
      textCell(g.mode),
      intCell(g.blocked),
      moneyCell(g.shadowPnl, ccy),
      intCell(g.headlineBlocked),
      moneyCell(g.headlineShadowPnl, ccy),
      `<td class="num" data-value="${g.headline.ci95Mean ? g.headline.ci95Mean.low : ''}">${g.headline.ci95Mean ? `${esc(money(g.headline.ci95Mean.low, ccy))} … ${esc(money(g.headline.ci95Mean.high, ccy))}` : '–'}</td>`,
      moneyCell(g.headline.saved, ccy),
      moneyCell(g.headline.cost, ccy),
      moneyCell(g.headline.netImpact, ccy),
    ]),
    'Net impact = losses avoided − gains missed over headline shadow trades (overlapping outcomes left out); positive means the guard made money by blocking.',
  );
  const ranked = [...r.guards].sort((a, b) => new Decimal(b.sole.netImpact).cmp(a.sole.netImpact));
  const effectiveness = table(
    'effectiveness',
    'Guard effectiveness (ranked by marginal net impact)',
    ['Rank', 'Guard', 'Alone blocked', 'Alone shadow PnL', 'Marginal net impact', 'Win rate of blocked'],
    ranked.map((g, i) => [intCell(i + 1), textCell(g.code), intCell(g.soleBlocked), moneyCell(g.soleShadowPnl, ccy), moneyCell(g.sole.netImpact, ccy), pctCell(g.sole.winRate)]),
  );
  const observe = r.observe.length
    ? table('observe', 'Observe-only guards', ['Guard', 'Would have blocked', 'Their realized PnL'], r.observe.map((o) => [textCell(o.code), intCell(o.wouldHaveBlocked), moneyCell(o.realized.pnl, ccy)]))
    : '';
  const recs = `<section aria-labelledby="rec-h"><h2 id="rec-h">Recommendations</h2><p class="note">Advice only; nothing changes a setting by itself.</p><ul id="recommendations">${r.recommendations.map((x) => `<li data-code="${esc(x.code)}" data-verdict="${esc(x.verdict)}">${esc(x.text)}</li>`).join('')}</ul></section>`;
  const leaderboard = table(
    'strategies',
    'Strategy leaderboard',
    ['Strategy', 'Signals', 'Approved', 'Blocked', 'Trades', 'Realized PnL', 'Win rate', 'Profit factor', 'Shadow trades', 'Shadow PnL'],
    [...r.strategies]
      .sort((a, b) => new Decimal(b.realized.totalPnl).cmp(a.realized.totalPnl))
      .map((s) => [textCell(s.strategy), intCell(s.signals), intCell(s.approved), intCell(s.blocked), intCell(s.realized.trades), moneyCell(s.realized.totalPnl, ccy), pctCell(s.realized.winRate), numCell(s.realized.profitFactor), intCell(s.shadow.trades), moneyCell(s.shadow.totalPnl, ccy)]),
  );
  return [pipeline, guards, effectiveness, observe, recs, leaderboard].join('\n');
}

/** A line chart of one or more series as inline SVG (x: time, y: value), with min/max labels. */
export function svgChart(id: string, label: string, series: Array<{ name: string; color: string; points: Array<[number, number]> }>, ccy: string): string {
  const W = 900;
  const H = 260;
  const P = 48;
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return `<p id="${id}" class="muted">${esc(label)}: not enough points to draw.</p>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (y: number) => H - P + -((y - y0) / (y1 - y0)) * (H - 2 * P);
  const paths = series
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`)
    .join('');
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const legend = series.map((s, i) => `<text x="${P + i * 260}" y="16" fill="${s.color}" font-size="13">■ ${esc(s.name)}</text>`).join('');
  return `<figure><svg id="${id}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${legend}
<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#888"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#888"/>
<text x="${P}" y="${H - P + 18}" font-size="12">${day(x0)}</text><text x="${W - P}" y="${H - P + 18}" font-size="12" text-anchor="end">${day(x1)}</text>
<text x="${P - 4}" y="${sy(y1) + 4}" font-size="11" text-anchor="end">${esc(Math.round(y1))}</text><text x="${P - 4}" y="${sy(y0) + 4}" font-size="11" text-anchor="end">${esc(Math.round(y0))}</text>
${paths}</svg><figcaption class="muted">${esc(label)} (${esc(ccy)})</figcaption></figure>`;
}

export function drawdownOf(points: Array<[number, number]>): Array<[number, number]> {
  let peak = -Infinity;
  return points.map(([t, v]) => {
    peak = Math.max(peak, v);
    return [t, v - peak];
  });
}

export function dailyPnl(points: Array<[number, number]>): Array<[string, number]> {
  const out = new Map<string, number>();
  for (let i = 1; i < points.length; i++) {
    const d = new Date(points[i]![0]).toISOString().slice(0, 10);
    out.set(d, (out.get(d) ?? 0) + points[i]![1] - points[i - 1]![1]);
  }
  return [...out];
}

export function performanceBody(r: Report): string {
  const ccy = currencyOf(r);
  const eq = r.equity;
  const last = (s: Array<[number, number]>) => (s.length ? s[s.length - 1]![1] : eq.base);
  const dd = drawdownOf(eq.realized);
  const maxDd = dd.reduce((m, [, v]) => Math.min(m, v), 0);
  const summary = `<dl id="equity-summary"><dt>Starting balance</dt><dd data-value="${eq.base}">${esc(money(eq.base, ccy).replace(/^\+/, ''))}</dd>
<dt>Realized equity at end</dt><dd data-value="${last(eq.realized)}">${esc(money(last(eq.realized), ccy).replace(/^\+/, ''))}</dd>
<dt>Realized + shadow at end</dt><dd data-value="${last(eq.withShadow)}">${esc(money(last(eq.withShadow), ccy).replace(/^\+/, ''))}</dd>
<dt>Max drawdown (realized)</dt><dd data-value="${maxDd}">${esc(money(maxDd.toFixed(8), ccy))}</dd></dl>`;
  const equity = svgChart('equity-chart', 'Equity: realized and realized + headline shadow', [
    { name: 'realized', color: '#0b4f9c', points: eq.realized },
    { name: 'realized + shadow', color: '#b35900', points: eq.withShadow },
  ], ccy);
  const ddChart = svgChart('drawdown-chart', 'Drawdown of realized equity', [{ name: 'drawdown', color: '#a4161a', points: dd }], ccy);
  const daily = table('daily', 'Daily realized PnL (days with exits)', ['Day', 'PnL'], dailyPnl(eq.realized).map(([d, v]) => [textCell(d), moneyCell(v.toFixed(8), ccy)]));
  const strat = table(
    'strategy-risk',
    'Strategy risk',
    ['Strategy', 'Max drawdown', 'Max drawdown %', 'Sharpe', 'Sortino', 'Avg hold (h)', 'Exposure'],
    r.strategies.map((s) => [textCell(s.strategy), moneyCell(-s.realized.maxDrawdown, ccy), pctCell(s.realized.maxDrawdownPct), numCell(s.realized.sharpe), numCell(s.realized.sortino), numCell(s.realized.avgHoldHours, 1), pctCell(s.realized.exposure)]),
  );
  return [summary, equity, ddChart, strat, daily].join('\n');
}

/** One line of signal_decisions.jsonl, as much of it as the Trading tab shows. */
export interface DecisionLine {
  readonly ts: string;
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: string;
  readonly decision: string;
  readonly guards: Array<{ code: string; mode: string; verdict: string; detail: string | null }>;
  readonly price?: string;
}

export function tradingBody(state: StateView | { error: string } | null, decisions: DecisionLine[]): string {
  let st = '<p class="muted">No state file: start the dashboard with <code>--state FILE</code> to see positions and orders.</p>';
  if (state && 'error' in state) st = `<p class="banner" role="alert">${esc(state.error)}</p>`;
  else if (state) {
    const mark = new Map(state.marks.map((m) => [m.pair, m.price]));
    const positions = table(
      'open-positions',
      'Open positions',
      ['Strategy', 'Pair', 'Size', 'Entry price', 'Mark', 'Unrealized PnL', 'Opened'],
      state.openPositions.map((p) => {
        const entry = new Decimal(p.entryCost).div(p.quantity);
        const m = mark.get(p.pair);
        const upnl = m === undefined ? null : new Decimal(m).minus(entry).times(p.quantity);
        return [textCell(p.strategy), textCell(p.pair), textCell(p.quantity), moneyCellPlain(entry.toFixed(8), p.quote), m === undefined ? textCell(null) : moneyCellPlain(m, p.quote), upnl === null ? textCell(null) : moneyCell(upnl.toFixed(8), p.quote), textCell(new Date(p.openedTs).toISOString())];
      }),
      'Unrealized PnL = size × (last mark − average entry price), before exit fees.',
    );
    const orders = table(
      'orders',
      'Orders (latest)',
      ['Client order id', 'Pair', 'Side', 'Type', 'Purpose', 'Quantity', 'Filled', 'Limit', 'Status', 'Updated'],
      state.orders.map((o) => [textCell(o.clientOrderId), textCell(o.pair), textCell(o.side), textCell(o.type), textCell(o.purpose), textCell(o.quantity), textCell(o.filledQuantity), textCell(o.limitPrice), textCell(o.status), textCell(new Date(o.updatedTs).toISOString())]),
    );
    st = positions + orders;
  }
  const verdicts = (d: DecisionLine) =>
    d.guards.filter((g) => g.verdict !== 'allow').map((g) => `${g.code}${g.mode === 'enforce' ? '' : ` (${g.mode})`}: ${g.verdict}${g.detail ? ` — ${g.detail}` : ''}`).join('; ') || `all ${d.guards.length} allow`;
  const signals = table(
    'signals',
    'Recent signals and every guard\'s verdict',
    ['Time', 'Signal', 'Strategy', 'Pair', 'Side', 'Decision', 'Guards that did not allow'],
    [...decisions].reverse().map((d) => [textCell(d.ts), textCell(d.signalId), textCell(d.strategy), textCell(d.pair), textCell(d.side), textCell(d.decision), `<td data-value="${esc(verdicts(d))}"><details><summary>${esc(verdicts(d))}</summary><ul>${d.guards.map((g) => `<li>${esc(g.code)} (${esc(g.mode)}): ${esc(g.verdict)}${g.detail ? ` — ${esc(g.detail)}` : ''}</li>`).join('')}</ul></details></td>`]),
    'From the tail of signal_decisions.jsonl, newest first. Pause/resume and guard switches are not in the dashboard yet (they will go through the operator API).',
  );
  return st + signals;
}

export interface SystemInfo {
  readonly settings: Record<string, string>;
  readonly config: unknown;
  readonly logFiles: Array<{ name: string; bytes: number | null }>;
  readonly tail: string[];
  readonly state: StateView | { error: string } | null;
  readonly skipped: Record<string, number>;
}

export function systemBody(r: Report, s: SystemInfo): string {
  const ccy = currencyOf(r);
  const settings = `<section aria-labelledby="set-h"><h2 id="set-h">Dashboard</h2><dl id="settings">${Object.entries(s.settings).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></section>`;
  const runs = table('runs', 'Runs in the logs', ['Run', 'Mode', 'Pair', 'From', 'To', 'Starting balance'], r.runs.map((x) => [textCell(x.runId), textCell(x.mode), textCell(x.pair), textCell(x.from), textCell(x.to), x.startingBalance === null ? textCell(null) : moneyCell(x.startingBalance, ccy)]));
  const files = table('log-files', 'Log files', ['File', 'Bytes', 'Skipped lines'], s.logFiles.map((f) => [textCell(f.name), f.bytes === null ? textCell('absent') : intCell(f.bytes), intCell(s.skipped[f.name] ?? 0)]));
  let state = '';
  if (s.state && 'error' in s.state) state = `<section aria-labelledby="state-h"><h2 id="state-h">State</h2><p class="banner" role="alert">${esc(s.state.error)}</p></section>`;
  else if (s.state) {
    const v = s.state;
    state = `<section aria-labelledby="state-h"><h2 id="state-h">State (read-only)</h2><dl id="state"><dt>File</dt><dd>${esc(v.file)}</dd><dt>Schema</dt><dd>${v.schemaVersion}</dd><dt>Ledger sequence</dt><dd>${v.sequence}</dd>
<dt>Closed trades</dt><dd data-value="${v.closedTrades}">${v.closedTrades}</dd><dt>Open signals</dt><dd>${v.openSignals}</dd></dl>
${table('cash', 'Cash', ['Currency', 'Amount'], v.cash.map((c) => [textCell(c.currency), `<td class="num" data-value="${esc(c.amount)}">${esc(money(c.amount, c.currency).replace(/^\+/, ''))}</td>`]))}
${table('totals', 'Realized totals', ['Currency', 'Realized', 'Fees'], v.totals.map((t) => [textCell(t.currency), moneyCell(t.realized, t.currency), moneyCell(t.fees, t.currency)]))}
${table('positions', 'Open positions', ['Strategy', 'Pair', 'Quantity', 'Entry cost', 'Opened'], v.openPositions.map((p) => [textCell(p.strategy), textCell(p.pair), textCell(p.quantity), moneyCell(p.entryCost, p.quote), textCell(new Date(p.openedTs).toISOString())]))}
${table('audit', 'Audit (latest)', ['Seq', 'Time', 'Operation', 'Actor', 'Reason'], v.auditTail.map((a) => [intCell(a.seq), textCell(new Date(a.ts).toISOString()), textCell(a.operation), textCell(a.actor), textCell(a.reason)]))}</section>`;
  }
  const config = `<section aria-labelledby="cfg-h"><h2 id="cfg-h">Configuration (secrets masked)</h2><pre id="config">${esc(JSON.stringify(s.config, null, 2))}</pre></section>`;
  const tail = `<section aria-labelledby="tail-h"><h2 id="tail-h">Log tail</h2><pre id="log-tail">${esc(s.tail.join('\n'))}</pre></section>`;
  return [settings, runs, files, state, config, tail].join('\n');
}

const SECRET_KEY = /secret|password|passwd|token|api[-_]?key|private|credential|auth/i;

/** A copy with every value under a secret-looking key replaced by "***". */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) ? '***' : maskSecrets(x)]));
  return v;
}
