/**
 * The dashboard's analytics endpoints over 1,000,000 decisions (the logs of bench-analytics.ts's generator):
 * the first request of each filter (its report built by the read model, its chart from the chart index read at
 * start) and then p50/p95/max of repeated requests, as a browser polling the tabs would make them: over HTTP
 * on 127.0.0.1 (gzip asked for, as a browser does), timed to the last byte. The repeats are answered from the dashboard's caches, so they say
 * nothing about a filter the operator has not asked for yet: each analytics endpoint is then also asked
 * NEW_FILTERS filters no request has asked for before (other dates, strategy, pair), each timed once, and
 * their p95 is its own figure (`dashboard_<endpoint>_new_filter_p95_ms`). Prints numbers; never fails on
 * time. Goal (issue 15): p95 < 200 ms per endpoint.
 *
 *   node --import tsx scripts/bench-dashboard.ts [decisions]   (also part of `npm run bench`)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { createDashboard, filterOf } from '../src/dashboard/server.ts';
import { ChartIndex } from '../src/dashboard/chart-data.ts';
import { DAILY_ROWS } from '../src/dashboard/pages.ts';
import { writeLogs } from './bench-analytics.ts';
import { fmt, now, pct, row, type Figure } from './bench-util.ts';

const ENDPOINTS = [
  '/api/report',
  '/analytics',
  '/performance',
  '/trading',
  '/system',
  '/api/report?since=2100-01-01',
  '/analytics?strategy=strat1',
  '/performance?since=2080-01-01&until=2090-12-31',
  '/trading?strategy=strat2&pair=BTC/USD',
];

/** the endpoints that answer a filter (System shows no filter) */
const FILTERED = ['/api/report', '/analytics', '/performance', '/trading'];
const NEW_FILTERS = 12;

/**
 * `n` filters for endpoint number `k` that no other request of this bench asks for (each endpoint its own
 * years: the report cache is shared between the endpoints): windows of one to three years, open-ended
 * since/until, with and without a strategy and the pair. The logs span 2015 to about 2129 (one decision an hour).
 */
export function newFilters(k: number, n = NEW_FILTERS): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = 2016 + k * 27 + i * 2;
    const q = new URLSearchParams();
    if (i % 4 !== 1) q.set('since', `${y}-0${1 + (i % 9)}-01`);
    if (i % 4 !== 2) q.set('until', `${y + 1 + (i % 3)}-0${1 + ((i + 4) % 9)}-15`);
    if (i % 3 !== 2) q.set('strategy', `strat${(i + k) % 3}`);
    if (i % 2 === 1) q.set('pair', 'BTC/USD');
    out.push(q.toString());
  }
  return out;
}

/** one GET on loopback: status, bytes on the wire, whether gzipped */
function fetchRaw(port: number, path: string): Promise<{ status: number; bytes: number; gzip: boolean; head: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let bytes = 0;
      let head = '';
      res.on('data', (b: Buffer) => {
        if (head.length < 200) head += b.subarray(0, 200).toString('latin1');
        bytes += b.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, gzip: res.headers['content-encoding'] === 'gzip', head }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export async function benchDashboard(decisions = 1_000_000, repeats = 40): Promise<Figure[]> {
  const figures: Figure[] = [];
  console.log(`\ndashboard endpoints over ${fmt(decisions)} decisions (first request of a filter builds it; then ${repeats} requests each)`);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-dashboard-'));
  try {
    let t = now();
    const { bytes } = writeLogs(dir, decisions);
    row('writing the logs (not measured)', `${fmt((now() - t) / 1000, 1)} s, ${fmt(bytes / 2 ** 20)} MiB`);
    t = now();
    const app = await createDashboard({ logsDir: dir, passwordHash: null, noAuth: true, host: '127.0.0.1', clock: new SystemClock() });
    row('start (unfiltered report, chart index read)', `${fmt((now() - t) / 1000, 2)} s`);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as AddressInfo).port;
      for (const url of ENDPOINTS) {
        t = now();
        const first = await fetchRaw(port, url);
        const firstMs = now() - t;
        if (first.status !== 200) throw new Error(`bench: ${url} answered ${first.status}: ${first.head}`);
        const ms: number[] = [];
        for (let i = 0; i < repeats; i++) {
          t = now();
          const res = await fetchRaw(port, url);
          ms.push(now() - t);
          if (res.status !== 200) throw new Error(`bench: ${url} answered ${res.status}`);
        }
        const p95 = pct(ms, 95);
        row(url, `first ${fmt(firstMs)} ms; p50 ${fmt(pct(ms, 50), 1)} ms, p95 ${fmt(p95, 1)} ms, max ${fmt(Math.max(...ms), 1)} ms (${fmt(first.bytes / 1024)} KiB${first.gzip ? ' gzip' : ''})`);
        const name = `dashboard_${url.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}`;
        figures.push({ name: `${name}_p95_ms`, value: p95, unit: 'ms', usPerUnit: null });
        figures.push({ name: `${name}_first_ms`, value: firstMs, unit: 'ms', usPerUnit: null });
      }
      console.log(`first requests of ${NEW_FILTERS} new filters per endpoint (dates, strategy, pair no request asked for before; each timed once)`);
      const seen = new Set(ENDPOINTS);
      for (const [k, path] of FILTERED.entries()) {
        const ms: number[] = [];
        for (const q of newFilters(k)) {
          const url = `${path}?${q}`;
          if (seen.has(url)) throw new Error(`bench: ${url} asked twice`);
          seen.add(url);
          t = now();
          const res = await fetchRaw(port, url);
          ms.push(now() - t);
          if (res.status !== 200) throw new Error(`bench: ${url} answered ${res.status}: ${res.head}`);
        }
        const p95 = pct(ms, 95);
        row(`${path} (new filters)`, `p50 ${fmt(pct(ms, 50))} ms, p95 ${fmt(p95)} ms, max ${fmt(Math.max(...ms))} ms`);
        figures.push({ name: `dashboard_${path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}_new_filter_p95_ms`, value: p95, unit: 'ms', usPerUnit: null });
      }
    } finally {
      await app.close();
    }
    // the price chart's share of a new /performance filter (the rest is its report): the same filters in-process
    t = now();
    const index = new ChartIndex(dir);
    index.update();
    row('chart index read from the logs (part of start)', `${fmt(now() - t)} ms`);
    const chartMs = newFilters(FILTERED.indexOf('/performance')).map((q) => {
      const f = filterOf(Object.fromEntries(new URLSearchParams(q)));
      const t0 = now();
      index.chart({ runs: null, since: f.since ?? null, until: f.until ?? null, ...(f.strategy ? { strategy: f.strategy } : {}), ...(f.pair ? { pair: f.pair } : {}) }, null, undefined, undefined, DAILY_ROWS);
      return now() - t0;
    });
    row('  of a new /performance filter: the chart', `p50 ${fmt(pct(chartMs, 50), 1)} ms, p95 ${fmt(pct(chartMs, 95), 1)} ms`);
    figures.push({ name: 'dashboard_performance_chart_new_filter_p95_ms', value: pct(chartMs, 95), unit: 'ms', usPerUnit: null });
    console.log('  goal: p95 < 200 ms per endpoint, the first request of a new filter included');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  await benchDashboard(Number.isInteger(n) && n > 0 ? n : 1_000_000);
}
