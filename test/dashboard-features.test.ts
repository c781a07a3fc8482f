/**
 * The dashboard's controls, live updates, filters, price chart data and accessibility, through fastify.inject
 * and a real socket: pause/resume and guard switches go through a confirm step to a bot's operator API (an
 * in-process bot with its HTTP face on 127.0.0.1) and land in its audit log; no bot link means read-only;
 * the operator token is never on a page; /events pushes when a log grows; stop and target per open position;
 * strategy/pair/until filters; the palette's contrast; the chart library served with a long cache.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { parseConfig } from '../src/config/schema.ts';
import { createDashboard, filterOf, FilterError, REPORT_DEFAULTS, type DashboardOptions } from '../src/dashboard/server.ts';
import { reportFor } from '../src/engine/reporting.ts';
import { PALETTE, TEXT_PAIRS } from '../src/dashboard/pages.ts';
import { botLinkFrom } from '../src/cli/cli-dashboard.ts';
import { BIN, BUNDLED, tmp } from './helpers.ts';
import { harness, TOKEN, type Harness } from './http-harness.ts';

const HOST = '127.0.0.1:8501';
const SAME = { host: HOST, origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' };
const FORM = { ...SAME, 'content-type': 'application/x-www-form-urlencoded' };
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
const rows = (html: string, id: string) => (new RegExp(`<table id="${id}"[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)?.[1] ?? '').split('</tr>').filter((r) => r.includes('<td'));

let dir: string;
let logs: string;
let openState: string;
let report: any;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

function replay(to: string, out: string): void {
  execFileSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--from', '2019-01-01', '--to', to, '--logs', join(out, 'logs'), '--state', join(out, 'state.db'), '--no-progress'], { stdio: 'pipe' });
}
const options = (over: Partial<DashboardOptions> = {}): DashboardOptions => ({ logsDir: logs, stateFile: null, passwordHash: null, noAuth: true, host: '127.0.0.1', clock, ...over });
const get = (a: FastifyInstance, url: string) => a.inject({ method: 'GET', url, headers: { host: HOST } });
/** the no-auth session's CSRF token, from a page's logout-less forms: the confirm page carries it */
async function confirm(a: FastifyInstance, query: string) {
  const res = await get(a, `/trading/confirm?${query}`);
  return { res, csrf: hidden(res.body, '_csrf'), key: hidden(res.body, 'key') };
}

beforeAll(() => {
  dir = tmp('tollgate-dashboard-features-');
  replay('2019-06-01', join(dir, 'full'));
  replay('2019-01-08', join(dir, 'open'));
  logs = join(dir, 'full', 'logs');
  openState = join(dir, 'open', 'state.db');
  report = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json'], { encoding: 'utf8' }));
}, 120_000);

describe('controls through the bot operator API', () => {
  let bot: Harness;
  let url: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    bot = await harness({ pace: 5 });
    url = await bot.http.listen();
    app = await createDashboard(options({ bot: { url, token: TOKEN } }));
  });
  afterAll(async () => {
    await app?.close();
    await bot?.close();
  });

  it('when a guard switch is confirmed with a reason then the bot applies it and audits it as the dashboard, once even if the form is sent twice', async () => {
    const page = await get(app, '/trading');
    expect(page.body).toContain('<label class="sr-only" for="mode-MIN_CONFIDENCE">New mode of MIN_CONFIDENCE</label>');
    const c = await confirm(app, 'action=guard&code=MIN_CONFIDENCE&mode=off');
    expect(c.res.statusCode).toBe(200);
    expect(c.res.body).toContain('Confirm: switch guard MIN_CONFIDENCE from enforce to off');
    expect(bot.bot.guardModes().find((g) => g.code === 'MIN_CONFIDENCE')?.mode).toBe('enforce'); // the confirm page changes nothing
    const post = () => app.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ _csrf: c.csrf, key: c.key, action: 'guard', code: 'MIN_CONFIDENCE', mode: 'off', reason: 'test: see what it blocks' }) });
    const res = await post();
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/trading');
    expect(bot.bot.guardModes().find((g) => g.code === 'MIN_CONFIDENCE')?.mode).toBe('off');
    expect((await get(app, '/trading')).body).toMatch(/<p id="flash" class="banner" role="status">Guard MIN_CONFIDENCE: enforce → off \(audit #\d+\)/);
    const audit = [...bot.store.audit()].filter((a) => a.reason === 'test: see what it blocks');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^http:dashboard@[0-9a-f]{8}$/);
    expect(JSON.parse(audit[0]!.input)).toMatchObject({ command: 'guard_mode', detail: { code: 'MIN_CONFIDENCE', from: 'enforce', to: 'off' } });
    const again = await post(); // a double submit of the same confirmation
    expect(again.statusCode).toBe(303);
    expect((await get(app, '/trading')).body).toContain('Already sent: this confirmation was used before');
    expect([...bot.store.audit()].filter((a) => a.reason === 'test: see what it blocks')).toHaveLength(1);
    const after = await get(app, '/trading');
    expect(after.body).not.toContain('id="flash"'); // shown once
    expect(after.body).not.toContain(TOKEN);
    expect((await get(app, '/system')).body).not.toContain(TOKEN);
  });

  it('when pause is confirmed without a reason then nothing is sent and the confirm page asks for one', async () => {
    const c = await confirm(app, 'action=pause');
    const res = await app.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ _csrf: c.csrf, key: c.key, action: 'pause', reason: '  ' }) });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('A reason is needed');
    expect(bot.bot.status().paused).toBeNull();
    const ok = await app.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ _csrf: c.csrf, key: c.key, action: 'pause', reason: 'test pause' }) });
    expect(ok.statusCode).toBe(303);
    expect(bot.bot.status().paused).toMatchObject({ reason: 'test pause', by: expect.stringMatching(/^http:dashboard@/) });
    expect((await get(app, '/trading')).body).toContain('data-paused="true"');
  });

  it('when the control post has no CSRF token or comes from another site then it is refused and nothing reaches the bot', async () => {
    const before = [...bot.store.audit()].length;
    const a = await app.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ action: 'resume', reason: 'x', key: 'k'.repeat(20) }) });
    expect(a.statusCode).toBe(403);
    const c = await confirm(app, 'action=resume');
    const b = await app.inject({ method: 'POST', url: '/trading/control', headers: { ...FORM, origin: 'https://evil.example' }, payload: form({ _csrf: c.csrf, action: 'resume', reason: 'x', key: c.key }) });
    expect(b.statusCode).toBe(403);
    expect([...bot.store.audit()].length).toBe(before);
  });

  it('when the bot refuses (an unknown guard) or does not answer then the confirm page shows why', async () => {
    const c = await confirm(app, 'action=guard&code=NO_SUCH_GUARD&mode=off');
    const res = await app.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ _csrf: c.csrf, key: c.key, action: 'guard', code: 'NO_SUCH_GUARD', mode: 'off', reason: 'r' }) });
    expect(res.statusCode).toBe(422);
    expect(res.body).toMatch(/the bot refused: guard NO_SUCH_GUARD: not a guard code/);
    const gone = await createDashboard(options({ bot: { url: 'http://127.0.0.1:9', token: TOKEN, timeoutMs: 2000 } }));
    try {
      expect((await get(gone, '/trading')).body).toMatch(/id="controls-error">the bot at http:\/\/127\.0\.0\.1:9 did not answer/);
      const d = await confirm(gone, 'action=pause');
      const r = await gone.inject({ method: 'POST', url: '/trading/control', headers: FORM, payload: form({ _csrf: d.csrf, key: d.key, action: 'pause', reason: 'r' }) });
      expect(r.statusCode).toBe(502);
      expect(r.body).not.toContain(TOKEN);
    } finally {
      await gone.close();
    }
  });

  it('when the token is wrong then the page says the bot refused, never showing either token', async () => {
    const wrong = await createDashboard(options({ bot: { url, token: 'not-the-token-123456' } }));
    try {
      const html = (await get(wrong, '/trading')).body;
      expect(html).toMatch(/the bot refused: authentication failed \(AUTH_FAILED\)/);
      expect(html).not.toContain('not-the-token-123456');
    } finally {
      await wrong.close();
    }
  });
});

describe('without a bot link the dashboard is read-only', () => {
  it('shows how to link one, and refuses the confirm page and the command', async () => {
    const app = await createDashboard(options());
    try {
      expect((await get(app, '/trading')).body).toContain('id="controls-off"');
      const refused = await get(app, '/trading/confirm?action=pause');
      expect(refused.statusCode).toBe(409);
      expect(refused.body).not.toContain('id="confirm"');
      expect((await get(app, '/trading/confirm?action=nonsense')).body).toContain('action: expected pause, resume or guard');
    } finally {
      await app.close();
    }
  });
});

describe('the bot link from the environment (tollgate dashboard --bot)', () => {
  it('takes --bot, else TOLLGATE_HTTP (0.0.0.0 reached on loopback); --bot needs the token, TOLLGATE_HTTP without one is read-only', () => {
    expect(botLinkFrom({}, undefined)).toBeNull();
    expect(botLinkFrom({ TOLLGATE_HTTP: '0.0.0.0:8080', TOLLGATE_HTTP_TOKEN: TOKEN }, undefined)).toEqual({ url: 'http://127.0.0.1:8080', token: TOKEN });
    expect(botLinkFrom({ TOLLGATE_HTTP_TOKEN: TOKEN }, 'http://10.0.0.5:8080/')).toEqual({ url: 'http://10.0.0.5:8080', token: TOKEN });
    expect(() => botLinkFrom({}, '127.0.0.1:8080')).toThrow(/needs its operator token: set TOLLGATE_HTTP_TOKEN or TOLLGATE_HTTP_TOKEN_FILE/);
    expect(botLinkFrom({ TOLLGATE_HTTP: '127.0.0.1:8080' }, undefined)).toBeNull(); // the bot's operator API is off: read-only
    expect(() => botLinkFrom({ TOLLGATE_HTTP_TOKEN: TOKEN }, 'somewhere')).toThrow(/--bot somewhere: expected http:\/\/HOST:PORT or HOST:PORT/);
  });
});

describe('live updates over Server-Sent Events', () => {
  it('when a log grows then /events pushes a change to a listening page', async () => {
    const copy = join(tmp('tollgate-dashboard-sse-'), 'logs');
    cpSync(logs, copy, { recursive: true });
    const app = await createDashboard(options({ logsDir: copy, liveEveryMs: 50 }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const got = await new Promise<{ type: string; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/events', headers: { accept: 'text/event-stream' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
            if (text.includes('retry:') && !text.includes('appended')) {
              appendFileSync(join(copy, 'signal_decisions.jsonl'), readFileSync(join(copy, 'signal_decisions.jsonl'), 'utf8').trim().split('\n').at(-1)! + '\n');
              text += '\n(appended)\n';
            }
            if (text.includes('event: change')) {
              resolve({ type: String(res.headers['content-type']), text });
              req.destroy();
            }
          });
        });
        req.on('error', reject);
        req.end();
        setTimeout(() => reject(new Error('no change event within 10 s')), 10_000);
      });
      expect(got.type).toBe('text/event-stream; charset=utf-8');
      expect(got.text).toMatch(/event: change\ndata: \{"at":\d+\}/);
    } finally {
      await app.close();
    }
  });
});

describe('open positions: stop and target from the strategy exit rules', () => {
  it('when a position is open then its row shows the entry, the stop (entry × (1 − stopLossPct)) and the target', async () => {
    const app = await createDashboard(options({ logsDir: join(dir, 'open', 'logs'), stateFile: openState }));
    try {
      const r = rows((await get(app, '/trading')).body, 'open-positions');
      expect(r).toHaveLength(1);
      const cells = [...r[0]!.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]);
      const [strategy, , quantity, entry, , , stop, target] = cells;
      expect(strategy).toBe('donchian_breakout');
      const rules = parseConfig({}).strategies.find((s) => s.name === strategy)!.exits;
      expect(rules.stopLossPct).not.toBeNull();
      expect(new Decimal(stop!).toFixed(8)).toBe(new Decimal(entry!).times(1 - rules.stopLossPct!).toFixed(8));
      expect(rules.takeProfitPct).toBeNull();
      expect(target).toBe('');
      expect(Number(quantity)).toBeGreaterThan(0);
      expect(r[0]).toMatch(/\d,\d{3}\.\d\d USD/);
    } finally {
      await app.close();
    }
  });
});

describe('filters: run, dates, strategy and pair, as the read model\'s filtered report', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createDashboard(options());
  });
  afterAll(async () => app?.close());

  it('parses them and names what is wrong', () => {
    expect(filterOf({ since: '2019-02-01', until: '2019-02-28', strategy: 'ema_cross', pair: 'BTC/USD' })).toEqual({ since: Date.UTC(2019, 1, 1), until: Date.UTC(2019, 2, 1), strategy: 'ema_cross', pair: 'BTC/USD' });
    expect(() => filterOf({ until: '2019-01-01', since: '2019-02-01' })).toThrow(/until: before since/);
    expect(() => filterOf({ pair: 'btc-usd' })).toThrow(FilterError);
    expect(() => filterOf({ strategy: 'Bad Name' })).toThrow(/strategy: a strategy name/);
  });

  it('when a strategy is chosen then the report figures, the leaderboard and the signals cover only it', async () => {
    const html = (await get(app, '/analytics?strategy=rsi_reversion')).body;
    expect(rows(html, 'strategies').map((r) => /data-value="([^"]*)"/.exec(r)![1])).toEqual(['rsi_reversion']);
    // the report-wide figures are the read model's filtered report of the same selection
    const api = JSON.parse((await get(app, '/api/report?strategy=rsi_reversion&until=2019-03-31')).body);
    expect(api).toEqual(JSON.parse(JSON.stringify(reportFor(logs, { run: 'latest', since: null, until: Date.UTC(2019, 3, 1), strategy: 'rsi_reversion', pair: null }, REPORT_DEFAULTS.report))));
    expect(api.pipeline.signals).toBeGreaterThan(0);
    expect(api.pipeline.signals).toBeLessThan(report.pipeline.signals);
    expect(api.strategies.map((x: any) => x.strategy)).toEqual(['rsi_reversion']);
    expect(html).toContain(`<dt>Signals</dt><dd data-value="${JSON.parse((await get(app, '/api/report?strategy=rsi_reversion')).body).pipeline.signals}">`);
    expect(html).toContain('<label for="f-strategy">Strategy</label> <select id="f-strategy" name="strategy">');
    expect(html).toContain('<option value="rsi_reversion" selected>');
    const trading = rows((await get(app, '/trading?strategy=rsi_reversion&since=2019-03-01&until=2019-03-31')).body, 'signals');
    expect(trading.length).toBeGreaterThan(0);
    for (const r of trading) {
      expect(r).toContain('<td data-value="rsi_reversion">');
      expect(r).toMatch(/<td data-value="2019-03-/);
    }
    expect((await get(app, '/performance?pair=nope')).statusCode).toBe(400);
  });

  it('when the price chart is filtered by an end date then its markers and daily PnL stop there', async () => {
    const data = (html: string) => JSON.parse(/<script type="application\/json" id="price-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    const days = (html: string) => rows(html, 'daily').map((r) => [...r.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]!));
    const page = (await get(app, '/performance')).body;
    const all = data(page);
    const trades = report.strategies.reduce((n: number, s: any) => n + s.realized.trades, 0);
    expect(all.entries).toHaveLength(trades);
    expect(all.exits).toHaveLength(trades);
    expect(all.blocked).toHaveLength(report.pipeline.decisions.blocked);
    // daily PnL: exact sums that add up to the report's realized PnL
    const sum = days(page).reduce((a: Decimal, d) => a.plus(d[2]!), new Decimal(0));
    expect(sum.toFixed()).toBe(report.strategies.reduce((a: Decimal, s: any) => a.plus(s.realized.totalPnl), new Decimal(0)).toFixed());
    const marchPage = (await get(app, '/performance?until=2019-03-31')).body;
    const march = data(marchPage);
    expect(march.exits.length).toBeLessThan(all.exits.length);
    expect(Math.max(...march.exits.map((m: number[]) => m[0]))).toBeLessThan(Date.UTC(2019, 3, 1));
    expect(days(marchPage).at(-1)![0]! <= '2019-03-31').toBe(true);
  });
});

describe('accessibility and small pages', () => {
  /** WCAG 2.x relative luminance and contrast ratio */
  const lum = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const ratio = (a: string, b: string) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x! + 0.05) / (y! + 0.05);
  };

  it('every text colour of the palette has at least 4.5:1 contrast on the backgrounds it is drawn on', () => {
    expect(ratio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(ratio('#777777', '#ffffff')).toBeLessThan(4.5); // the check can fail
    expect(TEXT_PAIRS.length).toBeGreaterThanOrEqual(8);
    for (const [fg, bg] of TEXT_PAIRS) expect({ pair: `${fg} on ${bg}`, ok: ratio(PALETTE[fg], PALETTE[bg]) >= 4.5 }).toEqual({ pair: `${fg} on ${bg}`, ok: true });
  });

  it('every input and select of every tab has a label', async () => {
    const app = await createDashboard(options({ stateFile: join(dir, 'full', 'state.db') }));
    try {
      for (const url of ['/analytics', '/trading', '/performance', '/system', '/trading/confirm?action=pause']) {
        const html = (await get(app, url)).body;
        const ids = [...html.matchAll(/<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
        const unlabelled = [...html.matchAll(/<(?:input|select)(?![^>]*type="hidden")(?![^>]*\bid=)[^>]*>/g)].map((m) => m[0]);
        expect(unlabelled, url).toEqual([]);
        for (const id of ids) expect(html, `${url} #${id}`).toContain(`<label for="${id}"`);
      }
    } finally {
      await app.close();
    }
  });

  it('serves the chart library and the page script with a year-long cache, and pages without them inline', async () => {
    const app = await createDashboard(options());
    try {
      const perf = (await get(app, '/performance')).body;
      const src = /<script nonce="[^"]+" src="(\/assets\/lightweight-charts[^"]+)">/.exec(perf)![1]!;
      const lib = await get(app, src);
      expect(lib.statusCode).toBe(200);
      expect(lib.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(lib.headers['content-type']).toMatch(/javascript/);
      expect(lib.body).toContain('LightweightCharts');
      expect(lib.body.length).toBeLessThan(250_000);
      const script = /src="(\/assets\/dashboard\.js\?v=[0-9a-f]{12})"/.exec(perf)![1]!;
      expect((await get(app, script)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((await get(app, '/analytics')).headers['cache-control']).toBe('no-store');
      expect((await get(app, '/analytics')).body).not.toContain('lightweight-charts');
    } finally {
      await app.close();
    }
  });
});
