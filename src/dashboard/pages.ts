/**
 * Server-rendered pages of the dashboard: plain HTML, one small inline stylesheet and script (sortable tables)
 * carrying the response's CSP nonce, inline SVG charts. Every amount keeps its exact value in `data-value`
 * (what a test, or a sort, reads) and shows it rounded, with currency and sign.
 */
import { Decimal } from 'decimal.js';
import type { Report } from '../analytics/report.ts';
import type { StateView } from '../adapters/sqlite/read-only.ts';
import type { BotStatusView } from './bot-client.ts';
import { thin, type ChartData } from './chart-data.ts';

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
export const textCell = (v: string | null) => `<td data-value="${esc(v ?? '')}">${esc(v ?? '–')}</td>`;

/** a sortable table in its own section; `data-live` sections are swapped in by the page script on a change */
function table(id: string, caption: string, head: string[], rows: string[][], note?: string): string {
  return `<section id="${id}-section" data-live aria-labelledby="${id}-h"><h2 id="${id}-h">${esc(caption)}</h2>
<table id="${id}" class="sortable"><thead><tr>${head.map((h, i) => `<th scope="col"><button type="button" data-col="${i}">${esc(h)}</button></th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}</tbody></table>${note ? `<p class="note">${esc(note)}</p>` : ''}</section>`;
}

export function currencyOf(r: Report): string {
  const pair = r.runs.find((x) => x.pair)?.pair;
  return pair?.split('/')[1] ?? 'quote';
}

/** The palette: every text colour with the backgrounds it is drawn on (WCAG AA needs 4.5:1; a test checks each pair). */
export const PALETTE = { fg: '#1a1a1a', muted: '#555555', bg: '#ffffff', line: '#cccccc', pos: '#0a6b2c', neg: '#a4161a', accent: '#0b4f9c', onAccent: '#ffffff', banner: '#fff4ce', code: '#f4f4f4', focus: '#e8a100', blocked: '#b35900' } as const;
export const TEXT_PAIRS: ReadonlyArray<readonly [keyof typeof PALETTE, keyof typeof PALETTE]> = [
  ['fg', 'bg'], ['muted', 'bg'], ['pos', 'bg'], ['neg', 'bg'], ['accent', 'bg'], ['onAccent', 'accent'], ['fg', 'banner'], ['fg', 'code'], ['muted', 'code'], ['blocked', 'bg'],
];

const P = PALETTE;
const CSS = `
:root{color-scheme:light;--fg:${P.fg};--muted:${P.muted};--bg:${P.bg};--line:${P.line};--pos:${P.pos};--neg:${P.neg};--accent:${P.accent}}
body{font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1rem;border-bottom:1px solid var(--line);flex-wrap:wrap}
header .brand{font-size:1.1rem;font-weight:700;margin:0}
nav ul{display:flex;gap:.25rem;list-style:none;margin:0;padding:0}
nav a{display:block;padding:.35rem .8rem;color:var(--accent);text-decoration:none;border-radius:4px}
nav a[aria-current=page]{background:var(--accent);color:${P.onAccent}}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid ${P.focus};outline-offset:2px}
main{padding:1rem;max-width:1200px}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:var(--fg)}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td.num{text-align:right}.pos{color:var(--pos)}.neg{color:var(--neg)}.blocked{color:${P.blocked}}
.note,.muted{color:var(--muted);font-size:.9rem}
.banner{background:${P.banner};border:1px solid #c9a100;padding:.4rem .8rem;margin:0 0 1rem}
pre{background:${P.code};padding:.6rem;overflow:auto;max-height:30rem;font-size:12px}
form.inline{margin-left:auto}
svg{max-width:100%;height:auto;border:1px solid var(--line)}
#price-chart{width:100%;max-width:1100px;height:340px;border:1px solid var(--line)}
form.filters{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0 0 1rem}
form.control{display:flex;gap:.4rem;align-items:center;margin:0}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;


export interface PageContext {
  readonly nonce: string;
  readonly csrf: string | null;
  readonly authenticated: boolean;
  readonly noAuth: boolean;
  readonly source: string;
  /** the page script's URL (versioned) and any library a tab needs before it */
  readonly scripts: readonly string[];
}

export function layout(ctx: PageContext, active: string, title: string, body: string): string {
  const nav = TABS.map((t) => `<li><a href="${t.path}"${t.path === active ? ' aria-current="page"' : ''}>${t.title}</a></li>`).join('');
  const logout = ctx.authenticated && ctx.csrf ? `<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(ctx.csrf)}"><button type="submit">Log out</button></form>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Tollgate</title><style nonce="${ctx.nonce}">${CSS}</style></head><body>
<header><p class="brand">Tollgate</p><nav aria-label="Dashboard tabs"><ul>${nav}</ul></nav><span class="muted">${esc(ctx.source)}</span><span id="live-status" class="muted" role="status" aria-live="polite"></span>${logout}</header>
<main id="main">${ctx.noAuth ? '<p class="banner" role="note">Started with --no-auth: anyone on this machine can open this dashboard.</p>' : ''}<h1>${esc(title)}</h1>
${body}</main>${ctx.scripts.map((src) => `<script nonce="${ctx.nonce}" src="${esc(src)}"></script>`).join('')}</body></html>`;
}

export function loginPage(nonce: string, csrf: string, message: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Log in · Tollgate</title><style nonce="${nonce}">${CSS}</style></head><body><main>
<h1>Tollgate dashboard</h1>${message ? `<p class="banner" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${esc(csrf)}">
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required autofocus></p>
<p><button type="submit">Log in</button></p></form></main></body></html>`;
}

export interface FilterValues {
  readonly run?: string;
  readonly since?: number | null;
  /** exclusive end (the day after the last day shown) */
  readonly until?: number | null;
  readonly strategy?: string;
  readonly pair?: string;
}

const DAY = 86_400_000;
const dayOf = (t: number | null | undefined) => (typeof t === 'number' ? new Date(t).toISOString().slice(0, 10) : '');

/** The GET form of a tab's filters: labelled inputs, submitted as the query (bookmarkable). */
export function filterForm(path: string, choices: { runs: string[]; strategies: string[]; pairs: string[] }, f: FilterValues): string {
  const select = (id: string, name: string, label: string, values: string[], current: string | undefined, first: string) => {
    const all = [...new Set([...values, ...(current ? [current] : [])])];
    const opts = [`<option value="">${esc(first)}</option>`, ...all.map((v) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(v)}</option>`)].join('');
    return `<label for="${id}">${esc(label)}</label> <select id="${id}" name="${name}">${opts}</select>`;
  };
  const run = f.run ?? 'latest';
  const runOpts = ['latest', 'all', ...choices.runs].map((r) => `<option value="${esc(r)}"${r === run ? ' selected' : ''}>${esc(r)}</option>`).join('');
  return `<form id="filters" class="filters" method="get" action="${esc(path)}" role="search" aria-label="Filters">
<label for="f-run">Run</label> <select id="f-run" name="run">${runOpts}</select>
<label for="f-since">Signals since (UTC)</label> <input id="f-since" name="since" type="date" value="${esc(dayOf(f.since))}">
<label for="f-until">until (UTC, inclusive)</label> <input id="f-until" name="until" type="date" value="${esc(dayOf(typeof f.until === 'number' ? f.until - DAY : null))}">
${select('f-strategy', 'strategy', 'Strategy', choices.strategies, f.strategy, 'all strategies')}
${select('f-pair', 'pair', 'Pair', choices.pairs, f.pair, 'all pairs')}
<button type="submit">Apply</button> <a href="${esc(path)}">Clear</a></form>`;
}

// ── tabs ───────────────────────────────────────────────────────────────────────

export function analyticsBody(r: Report, f: FilterValues = {}): string {
  const ccy = currencyOf(r);
  const p = r.pipeline;
  const pipeline = `<section id="pipeline-section" data-live aria-labelledby="pipe-h"><h2 id="pipe-h">Signal pipeline health</h2><dl id="pipeline">
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
      .filter((s) => !f.strategy || s.strategy === f.strategy)
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
  // an SVG 900 units wide shows no more than ~1,000 points a series; each bucket keeps its low and its high
  series = series.map((s) => ({ ...s, points: thin(s.points, 1000) }));
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

/** The price chart's data block: [ms, price] pairs (what the page script draws), and where it opens when markers were left out. */
export function chartJson(c: ChartData): string {
  const pts = (xs: ReadonlyArray<{ ts: number; price: number }>) => xs.map((m) => [m.ts, m.price]);
  return JSON.stringify({ prices: c.prices, entries: pts(c.entries), exits: pts(c.exits), blocked: pts(c.blocked), from: c.markersFrom });
}

/** days shown in the daily PnL table (the newest) */
export const DAILY_ROWS = 120;

export function performanceBody(r: Report, chart: ChartData, f: FilterValues = {}): string {
  const ccy = currencyOf(r);
  const eq = r.equity;
  const last = (s: Array<[number, number]>) => (s.length ? s[s.length - 1]![1] : eq.base);
  const dd = drawdownOf(eq.realized);
  const maxDd = dd.reduce((m, [, v]) => Math.min(m, v), 0);
  const summary = `<section id="equity-section" data-live aria-labelledby="eq-h"><h2 id="eq-h">Equity</h2><dl id="equity-summary"><dt>Starting balance</dt><dd data-value="${eq.base}">${esc(money(eq.base, ccy).replace(/^\+/, ''))}</dd>
<dt>Realized equity at end</dt><dd data-value="${last(eq.realized)}">${esc(money(last(eq.realized), ccy).replace(/^\+/, ''))}</dd>
<dt>Realized + shadow at end</dt><dd data-value="${last(eq.withShadow)}">${esc(money(last(eq.withShadow), ccy).replace(/^\+/, ''))}</dd>
<dt>Max drawdown (realized)</dt><dd data-value="${maxDd}">${esc(money(maxDd.toFixed(8), ccy))}</dd></dl>`;
  const equity = svgChart('equity-chart', 'Equity: realized and realized + headline shadow', [
    { name: 'realized', color: PALETTE.accent, points: eq.realized },
    { name: 'realized + shadow', color: PALETTE.blocked, points: eq.withShadow },
  ], ccy);
  const ddChart = svgChart('drawdown-chart', 'Drawdown of realized equity', [{ name: 'drawdown', color: PALETTE.neg, points: dd }], ccy);
  const n = (xs: unknown[]) => xs.length;
  const kept = n(chart.entries) + n(chart.exits) + n(chart.blocked);
  const price = `<section aria-labelledby="price-h"><h2 id="price-h">Price${chart.pair ? ` of ${esc(chart.pair)}` : ''}: entries, exits and blocked signals</h2>
<div id="price-chart" role="img" aria-label="Price chart with ${n(chart.entries)} entries, ${n(chart.exits)} exits and ${n(chart.blocked)} blocked signals marked"></div>
<p class="note" id="price-note"><span class="pos">▲ entry</span> · <span class="neg">▼ exit</span> · <span class="blocked">● blocked signal</span>. ${chart.prices.length} price points${chart.markersFrom === null ? '' : `; markers: the newest ${kept} from ${esc(new Date(chart.markersFrom).toISOString().slice(0, 16).replace('T', ' '))} UTC on (the chart opens there), ${chart.omitted} older left out: narrow the dates to see them`}.</p>
<script type="application/json" id="price-data">${chartJson(chart)}</script></section>`;
  const days = chart.daily.slice(-DAILY_ROWS);
  const daily = table('daily', 'Daily realized PnL (by exit day, UTC)', ['Day', 'Trades', 'PnL'], days.map((d) => [textCell(d.day), intCell(d.trades), moneyCell(d.pnl, ccy)]), `Exact sums of the closed trades' net PnL (trade.closed in signal_bus.jsonl)${chart.days > days.length ? `; the last ${days.length} of ${chart.days} days with exits (narrow the dates for earlier ones)` : ''}.`);
  const strat = table(
    'strategy-risk',
    'Strategy risk',
    ['Strategy', 'Max drawdown', 'Max drawdown %', 'Sharpe', 'Sortino', 'Avg hold (h)', 'Exposure'],
    r.strategies.filter((s) => !f.strategy || s.strategy === f.strategy).map((s) => [textCell(s.strategy), moneyCell(-s.realized.maxDrawdown, ccy), pctCell(s.realized.maxDrawdownPct), numCell(s.realized.sharpe), numCell(s.realized.sortino), numCell(s.realized.avgHoldHours, 1), pctCell(s.realized.exposure)]),
  );
  return [summary, equity, ddChart, '</section>', price, daily, strat].join('\n');
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

/** Stop and target of an open position from its strategy's exit rules (trailing stops follow the peak, not shown as a price). */
export interface ExitLevels {
  readonly stop: string | null;
  readonly target: string | null;
  readonly trailingPct: number | null;
}

/** What the Trading tab's controls show: the bot's answer, or why there is none. */
export type ControlsView =
  | { readonly kind: 'off' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly state: string | null; readonly paused: { by: string; reason: string; since: number } | null; readonly guards: ReadonlyArray<{ code: string; mode: string | null }> };

export interface TradingInfo {
  readonly state: StateView | { error: string } | null;
  readonly decisions: DecisionLine[];
  /** each recent signal's lifecycle state: the `to` of its last transition in the bus log */
  readonly states: ReadonlyMap<string, string>;
  readonly exits: (strategy: string, entryPrice: Decimal) => ExitLevels | null;
  readonly controls: ControlsView;
  /** the result of the last confirmed command of this session, shown once */
  readonly flash: { ok: boolean; text: string } | null;
}

const MODES = ['enforce', 'observe', 'off'] as const;

function controlsSection(c: ControlsView, flash: TradingInfo['flash']): string {
  const head = `<section id="controls-section" data-live aria-labelledby="controls-h"><h2 id="controls-h">Controls</h2>${flash ? `<p id="flash" class="banner" role="${flash.ok ? 'status' : 'alert'}">${esc(flash.text)}</p>` : ''}`;
  if (c.kind === 'off') return `${head}<p class="muted" id="controls-off">No bot link: start the dashboard with <code>--bot http://127.0.0.1:8080</code> (or TOLLGATE_HTTP set) and the operator token in TOLLGATE_HTTP_TOKEN or TOLLGATE_HTTP_TOKEN_FILE to pause, resume and switch guards.</p></section>`;
  if (c.kind === 'error') return `${head}<p class="banner" role="alert" id="controls-error">${esc(c.message)}</p></section>`;
  const paused = c.paused
    ? `<p id="entries" data-paused="true">Entries are <strong>paused</strong> by ${esc(c.paused.by)} since ${esc(new Date(c.paused.since).toISOString())}: ${esc(c.paused.reason)}</p>
<form class="control" method="get" action="/trading/confirm"><input type="hidden" name="action" value="resume"><button type="submit">Resume entries…</button></form>`
    : `<p id="entries" data-paused="false">Entries are <strong>running</strong>${c.state ? ` (bot ${esc(c.state)})` : ''}.</p>
<form class="control" method="get" action="/trading/confirm"><input type="hidden" name="action" value="pause"><button type="submit">Pause entries…</button></form>`;
  const rows = c.guards.map((g) => {
    const id = `mode-${g.code}`;
    const opts = MODES.map((m) => `<option value="${m}"${m === g.mode ? ' selected' : ''}>${m}</option>`).join('');
    return `<tr><td data-value="${esc(g.code)}">${esc(g.code)}</td><td data-value="${esc(g.mode ?? '')}">${esc(g.mode ?? 'config default')}</td><td><form class="control" method="get" action="/trading/confirm"><input type="hidden" name="action" value="guard"><input type="hidden" name="code" value="${esc(g.code)}">
<label class="sr-only" for="${id}">New mode of ${esc(g.code)}</label><select id="${id}" name="mode">${opts}</select><button type="submit" aria-label="Switch ${esc(g.code)}…">Switch…</button></form></td></tr>`;
  });
  return `${head}${paused}
<table id="guard-controls"><thead><tr><th scope="col">Guard</th><th scope="col">Mode</th><th scope="col">Switch (asks to confirm)</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="note">Every command goes to the bot's operator API, which applies it and writes it to its audit log with the reason you give; nothing here writes the state.</p></section>`;
}

/** The confirm step of a control: what will happen, a reason for the audit log, Confirm or Cancel. */
export function confirmBody(what: string, fields: Record<string, string>, csrf: string, key: string, error: string | null, reason = ''): string {
  return `<section aria-labelledby="confirm-h"><h2 id="confirm-h">Confirm: ${esc(what)}</h2>${error ? `<p class="banner" role="alert">${esc(error)}</p>` : ''}
<form id="confirm" method="post" action="/trading/control"><input type="hidden" name="_csrf" value="${esc(csrf)}"><input type="hidden" name="key" value="${esc(key)}">
${Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('')}
<p><label for="reason">Reason (written to the bot's audit log)</label><br><input id="reason" name="reason" type="text" required maxlength="200" size="60" value="${esc(reason)}"></p>
<p><button type="submit">Confirm</button> <a href="/trading">Cancel</a></p></form></section>`;
}

export function tradingBody(t: TradingInfo): string {
  const state = t.state;
  let st = '<p class="muted">No state file: start the dashboard with <code>--state FILE</code> to see positions and orders.</p>';
  if (state && 'error' in state) st = `<p class="banner" role="alert">${esc(state.error)}</p>`;
  else if (state) {
    const mark = new Map(state.marks.map((m) => [m.pair, m.price]));
    const level = (v: string | null, ccy: string) => (v === null ? textCell(null) : moneyCellPlain(v, ccy));
    const positions = table(
      'open-positions',
      'Open positions',
      ['Strategy', 'Pair', 'Size', 'Entry price', 'Mark', 'Unrealized PnL', 'Stop', 'Target', 'Opened'],
      state.openPositions.map((p) => {
        const entry = new Decimal(p.entryCost).div(p.quantity);
        const m = mark.get(p.pair);
        const upnl = m === undefined ? null : new Decimal(m).minus(entry).times(p.quantity);
        const x = t.exits(p.strategy, entry);
        const stop = x?.stop ?? null;
        return [
          textCell(p.strategy), textCell(p.pair), textCell(p.quantity), moneyCellPlain(entry.toFixed(8), p.quote), m === undefined ? textCell(null) : moneyCellPlain(m, p.quote),
          upnl === null ? textCell(null) : moneyCell(upnl.toFixed(8), p.quote),
          x?.trailingPct != null && stop === null ? textCell(`trailing ${(x.trailingPct * 100).toFixed(1)}%`) : level(stop, p.quote), level(x?.target ?? null, p.quote), textCell(new Date(p.openedTs).toISOString()),
        ];
      }),
      "Unrealized PnL = size × (last mark − average entry price), before exit fees. Stop and target: the entry price and the strategy's exit rules in the config (a trailing stop, where set, also follows the highest close).",
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
    ['Time', 'Signal', 'Strategy', 'Pair', 'Side', 'Decision', 'State', 'Guards that did not allow'],
    [...t.decisions].reverse().map((d) => [textCell(d.ts), textCell(d.signalId), textCell(d.strategy), textCell(d.pair), textCell(d.side), textCell(d.decision), textCell(t.states.get(d.signalId) ?? null), `<td data-value="${esc(verdicts(d))}"><details><summary>${esc(verdicts(d))}</summary><ul>${d.guards.map((g) => `<li>${esc(g.code)} (${esc(g.mode)}): ${esc(g.verdict)}${g.detail ? ` — ${esc(g.detail)}` : ''}</li>`).join('')}</ul></details></td>`]),
    'From the tail of signal_decisions.jsonl, newest first; the state is the last lifecycle transition in signal_bus.jsonl.',
  );
  return controlsSection(t.controls, t.flash) + st + signals;
}

export interface SystemInfo {
  readonly settings: Record<string, string>;
  readonly config: unknown;
  readonly logFiles: Array<{ name: string; bytes: number | null }>;
  readonly tail: string[];
  readonly state: StateView | { error: string } | null;
  readonly skipped: Record<string, number>;
  /** the running bot's status from its operator API; null without a bot link */
  readonly bot: BotStatusView['bot'] | { unreachable: string } | null;
  /** which log the tail is of */
  readonly tailOf: string;
}

function botSection(b: SystemInfo['bot'], audit: StateView['auditTail']): string {
  const findings = audit.filter((a) => a.operation === 'reconcile' || a.actor === 'reconcile');
  const rec = table('reconciliation', 'Reconciliation findings (state audit, latest)', ['Seq', 'Time', 'Operation', 'Finding'], findings.map((a) => [intCell(a.seq), textCell(new Date(a.ts).toISOString()), textCell(a.operation), textCell(a.reason)]));
  if (b === null) return `<section id="bot-section" aria-labelledby="bot-h"><h2 id="bot-h">Bot</h2><p class="muted">No bot link (--bot and the operator token): health, venue and reconciliation status come from the running bot.</p></section>${rec}`;
  if ('unreachable' in b) return `<section id="bot-section" aria-labelledby="bot-h"><h2 id="bot-h">Bot</h2><p class="banner" role="alert">${esc(b.unreachable)}</p></section>${rec}`;
  const r = b.reconciliation;
  const facts = `<dl id="bot-status"><dt>Mode</dt><dd>${esc(b.mode)}</dd><dt>State</dt><dd data-value="${esc(b.state)}">${esc(b.state)}</dd><dt>Pair</dt><dd>${esc(b.pair)}</dd>
<dt>Started</dt><dd>${esc(b.startedAt ?? '–')}</dd><dt>Candles</dt><dd>${b.candles} (last ${esc(b.lastCandleTs ?? '–')})</dd>
<dt>Venue</dt><dd id="venue" data-value="${b.venue.halted ? 'halted' : 'ok'}">${esc(b.venue.name)}: ${b.venue.halted ? `halted — ${esc(b.venue.halted)}` : 'trading'}</dd>
<dt>Reconciliation</dt><dd id="reconciliation-last">${r ? `${esc(r.ts)}: ${r.differences} difference(s)${r.halted ? ', trading halted' : ''}` : 'none ran (paper and replay do not reconcile)'}</dd>
${b.error ? `<dt>Error</dt><dd class="neg">${esc(b.error)}</dd>` : ''}</dl>`;
  const comps = table('health', 'Health components', ['Component', 'Status', 'Detail'], Object.entries(b.components).map(([k, v]) => [textCell(k), textCell(String(v.status ?? '?')), textCell(v.detail == null ? null : String(v.detail))]));
  return `<section id="bot-section" data-live aria-labelledby="bot-h"><h2 id="bot-h">Bot (operator API)</h2>${facts}</section>${comps}${rec}`;
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
  const config = `<section aria-labelledby="cfg-h"><h2 id="cfg-h">Configuration (secrets masked)</h2><pre id="config" tabindex="0">${esc(JSON.stringify(s.config, null, 2))}</pre></section>`;
  const tail = `<section id="tail-section" data-live aria-labelledby="tail-h"><h2 id="tail-h">Log tail (${esc(s.tailOf)})</h2><pre id="log-tail" tabindex="0">${esc(s.tail.join('\n'))}</pre></section>`;
  const audit = s.state && !('error' in s.state) ? s.state.auditTail : [];
  return [botSection(s.bot, audit), settings, runs, files, state, config, tail].join('\n');
}

const SECRET_KEY = /secret|password|passwd|token|api[-_]?key|private|credential|auth/i;

/** A copy with every value under a secret-looking key replaced by "***". */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) ? '***' : maskSecrets(x)]));
  return v;
}
