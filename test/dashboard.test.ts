/**
 * The dashboard over a replay of the bundled data, through fastify.inject: login, logout, a wrong password
 * (and its backoff), CSRF-less posts refused, each tab populated, and its numbers equal to
 * `tollgate report --format json` of the same logs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { hashPassword } from '../src/dashboard/auth.ts';
import { createDashboard, LOGIN_COOKIE, SESSION_COOKIE, type DashboardOptions } from '../src/dashboard/server.ts';
import { dashboardPassword } from '../src/cli/cli-dashboard.ts';
import { BIN, BUNDLED, tmp } from './helpers.ts';

const PASSWORD = 'correct horse battery staple';
const HOST = '127.0.0.1:8501';
const SAME = { host: HOST, origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' };

let dir: string;
let logs: string;
let state: string;
let reportJson: any;
let hash: string;
let clock: ManualClock;
let app: FastifyInstance;

function cookieOf(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  const c = list.find((x: string) => x.startsWith(`${name}=`));
  return c ? c.slice(name.length + 1).split(';')[0] : undefined;
}
function setCookieLine(res: { headers: Record<string, unknown> }, name: string): string {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : [String(raw)];
  return list.find((x: string) => x.startsWith(`${name}=`)) ?? '';
}
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const hidden = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function loginForm(a: FastifyInstance) {
  const res = await a.inject({ method: 'GET', url: '/login', headers: { host: HOST } });
  return { nonce: cookieOf(res, LOGIN_COOKIE)!, token: hidden(res.body) };
}
async function postLogin(a: FastifyInstance, password: string, extraCookie = '') {
  const f = await loginForm(a);
  return a.inject({
    method: 'POST',
    url: '/login',
    headers: { ...SAME, 'content-type': 'application/x-www-form-urlencoded', cookie: `${LOGIN_COOKIE}=${f.nonce}${extraCookie}` },
    payload: form({ _csrf: f.token, password }),
  });
}
async function login(a: FastifyInstance): Promise<{ session: string; csrf: string }> {
  const res = await postLogin(a, PASSWORD);
  expect(res.statusCode).toBe(303);
  const session = cookieOf(res, SESSION_COOKIE)!;
  const page = await a.inject({ method: 'GET', url: '/analytics', headers: { host: HOST, cookie: `${SESSION_COOKIE}=${session}` } });
  return { session, csrf: hidden(page.body) };
}
const get = (a: FastifyInstance, url: string, session: string) => a.inject({ method: 'GET', url, headers: { host: HOST, cookie: `${SESSION_COOKIE}=${session}` } });

function options(over: Partial<DashboardOptions> = {}): DashboardOptions {
  return { logsDir: logs, stateFile: state, passwordHash: hash, host: '127.0.0.1', clock, config: { strategies: ['x'], kraken: { apiKey: 'AKEY', secret: 'SSSS' } }, ...over };
}

beforeAll(async () => {
  dir = tmp('tollgate-dashboard-');
  logs = join(dir, 'logs');
  state = join(dir, 'state.db');
  execFileSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--from', '2019-01-01', '--to', '2019-06-01', '--logs', logs, '--state', state, '--no-progress'], { stdio: 'pipe' });
  reportJson = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json'], { encoding: 'utf8' }));
  hash = await hashPassword(PASSWORD);
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  app = await createDashboard(options());
}, 120_000);
afterAll(async () => {
  await app?.close();
});

describe('the dashboard refuses to start', () => {
  it('when no password is given and --no-auth is not set', async () => {
    await expect(createDashboard(options({ passwordHash: null }))).rejects.toThrow(/no dashboard password/);
  });
  it('when --no-auth is asked on an address other than 127.0.0.1', async () => {
    await expect(createDashboard(options({ passwordHash: null, noAuth: true, host: '0.0.0.0' }))).rejects.toThrow(/--no-auth is allowed only when bound to 127\.0\.0\.1/);
  });
  it('reads a password file only when its mode is 600', () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'secret-pw\n');
    chmodSync(f, 0o644);
    expect(() => dashboardPassword({}, f)).toThrow(/readable by others.*chmod 600/);
    chmodSync(f, 0o600);
    expect(dashboardPassword({}, f)).toBe('secret-pw');
    expect(dashboardPassword({ TOLLGATE_DASHBOARD_PASSWORD: 'from-env' }, undefined)).toBe('from-env');
    expect(dashboardPassword({}, undefined)).toBeNull();
  });
});

describe('login and logout', () => {
  it('when not logged in then pages redirect to the login form and the API answers 401', async () => {
    const res = await app.inject({ method: 'GET', url: '/analytics', headers: { host: HOST } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect((await app.inject({ method: 'GET', url: '/api/report', headers: { host: HOST } })).statusCode).toBe(401);
    const form = await app.inject({ method: 'GET', url: '/login', headers: { host: HOST } });
    expect(form.body).toMatch(/<label for="password">Password<\/label>/);
    expect(String(form.headers['content-security-policy'])).toMatch(/default-src 'none'/);
    // not no-referrer: with it Chromium sends `Origin: null` on the login form's POST, which the origin check refuses
    expect(form.headers['referrer-policy']).toBe('same-origin');
  });

  it('when the password is right then a new HttpOnly SameSite=Strict session is issued and an older session id is not kept', async () => {
    const first = await login(app);
    const res = await postLogin(app, PASSWORD, `; ${SESSION_COOKIE}=${first.session}`);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/analytics');
    const line = setCookieLine(res, SESSION_COOKIE);
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).not.toMatch(/Secure/);
    const second = cookieOf(res, SESSION_COOKIE)!;
    expect(second).not.toBe(first.session);
    expect((await get(app, '/analytics', second)).statusCode).toBe(200);
    expect((await get(app, '/analytics', first.session)).statusCode).toBe(303);
  });

  it('when the password is wrong then it is refused and the next attempt must wait, doubling, with no lockout', async () => {
    const res = await postLogin(app, 'wrong');
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatch(/Wrong password/);
    expect(cookieOf(res, SESSION_COOKIE)).toBeUndefined();
    const early = await postLogin(app, PASSWORD);
    expect(early.statusCode).toBe(429);
    expect(early.headers['retry-after']).toBe('1');
    clock.advance(1000);
    expect((await postLogin(app, 'wrong again')).statusCode).toBe(401);
    clock.advance(1000);
    expect((await postLogin(app, PASSWORD)).statusCode).toBe(429); // second failure: 2 s
    clock.advance(1000);
    expect((await postLogin(app, PASSWORD)).statusCode).toBe(303);
  });

  it('when a session is idle longer than the timeout then it is logged out', async () => {
    const { session } = await login(app);
    clock.advance(29 * 60_000);
    expect((await get(app, '/analytics', session)).statusCode).toBe(200);
    clock.advance(31 * 60_000);
    expect((await get(app, '/analytics', session)).statusCode).toBe(303);
  });

  it('when logging out with the token then the session ends', async () => {
    const { session, csrf } = await login(app);
    const res = await app.inject({ method: 'POST', url: '/logout', headers: { ...SAME, 'content-type': 'application/x-www-form-urlencoded', cookie: `${SESSION_COOKIE}=${session}` }, payload: form({ _csrf: csrf }) });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(setCookieLine(res, SESSION_COOKIE)).toMatch(/Max-Age=0/);
    expect((await get(app, '/analytics', session)).statusCode).toBe(303);
  });

  it('when behind TLS then the session cookie is Secure', async () => {
    const tls = await createDashboard(options({ behindTls: true }));
    try {
      const res = await postLogin(tls, PASSWORD);
      expect(setCookieLine(res, SESSION_COOKIE)).toMatch(/; Secure/);
    } finally {
      await tls.close();
    }
  });
});

describe('CSRF: every POST needs the same origin and the token', () => {
  it('when a POST has no token then it is refused and the session stays', async () => {
    const { session } = await login(app);
    const res = await app.inject({ method: 'POST', url: '/logout', headers: { ...SAME, cookie: `${SESSION_COOKIE}=${session}` } });
    expect(res.statusCode).toBe(403);
    expect(res.body).toMatch(/CSRF token/);
    expect((await get(app, '/analytics', session)).statusCode).toBe(200);
  });
  it('when a POST comes from another site then it is refused even with the token', async () => {
    const { session, csrf } = await login(app);
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }]) {
      const res = await app.inject({ method: 'POST', url: '/logout', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', cookie: `${SESSION_COOKIE}=${session}`, ...headers }, payload: form({ _csrf: csrf }) });
      expect(res.statusCode).toBe(403);
      expect(res.body).toMatch(/cross-site/);
    }
    expect((await get(app, '/analytics', session)).statusCode).toBe(200);
  });
  it('when the login form is posted without its token then it is refused before the password is checked', async () => {
    const res = await app.inject({ method: 'POST', url: '/login', headers: { ...SAME, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ password: PASSWORD }) });
    expect(res.statusCode).toBe(403);
    expect(cookieOf(res, SESSION_COOKIE)).toBeUndefined();
  });
});

describe('the tabs, from a replay of the bundled data', () => {
  let session: string;
  beforeAll(async () => {
    session = (await login(app)).session;
  });

  it('Analytics shows pipeline health, the cost of each guard, their ranking and the strategy leaderboard', async () => {
    const res = await get(app, '/analytics', session);
    expect(res.statusCode).toBe(200);
    const html = res.body;
    for (const h of ['Signal pipeline health', 'Blocked-opportunity cost per guard', 'Guard effectiveness', 'Strategy leaderboard', 'Recommendations']) expect(html).toContain(h);
    expect(html).toContain(`<dt>Signals</dt><dd data-value="${reportJson.pipeline.signals}">`);
    expect(reportJson.guards.length).toBeGreaterThan(0);
    for (const g of reportJson.guards) expect(html).toContain(`<td data-value="${g.code}">${g.code}</td>`);
    for (const s of reportJson.strategies) expect(html).toContain(`<td data-value="${s.strategy}">`);
    expect(html).toMatch(/[+-]\d[\d,]*\.\d\d USD/);
    expect(html).toContain('aria-current="page">Analytics');
  });

  it('when the tabs read the state then the state file is not changed', async () => {
    const sum = () => createHash('sha256').update(readFileSync(state)).digest('hex');
    const before = sum();
    for (const url of ['/system', '/trading']) expect((await get(app, url, session)).statusCode).toBe(200);
    expect(sum()).toBe(before);
  });

  it('Trading shows positions, the latest orders and the recent signals with every guard verdict', async () => {
    const html = (await get(app, '/trading', session)).body;
    expect(html).toContain('aria-current="page">Trading');
    expect(html).toMatch(/<table id="open-positions"/);
    const orders = /<table id="orders"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!.split('</tr>').filter((r) => r.includes('<td'));
    expect(orders.length).toBeGreaterThan(0);
    expect(orders[0]).toMatch(/data-value="filled"/);
    const lines = readFileSync(join(logs, 'signal_decisions.jsonl'), 'utf8').trim().split('\n');
    const last = JSON.parse(lines.at(-1)!);
    const signals = /<table id="signals"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!.split('</tr>').filter((r) => r.includes('<td'));
    expect(signals.length).toBe(Math.min(50, lines.length));
    expect(signals[0]).toContain(`data-value="${last.signalId}"`);
    for (const g of last.guards) expect(signals[0]).toContain(`<li>${g.code} (${g.mode}): ${g.verdict}`);
    const transitions = readFileSync(join(logs, 'signal_bus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'signal.transition' && e.signalId === last.signalId);
    expect(transitions.length).toBeGreaterThan(0);
    expect(signals[0]).toContain(`<td data-value="${transitions.at(-1).to}">`); // its lifecycle state now
  });

  it('Performance shows the equity curve (realized and with shadow) and the drawdown as SVG', async () => {
    const html = (await get(app, '/performance', session)).body;
    expect(html).toMatch(/<svg id="equity-chart"[\s\S]*?<polyline[\s\S]*?<polyline/);
    expect(html).toMatch(/<svg id="drawdown-chart"[\s\S]*?<polyline/);
    const end = reportJson.equity.realized.at(-1)[1];
    expect(html).toContain(`<dt>Realized equity at end</dt><dd data-value="${end}">`);
  });

  it('System shows the settings, the state read-only, the config with secrets masked and the log tail', async () => {
    const html = (await get(app, '/system', session)).body;
    expect(html).toContain('State (read-only)');
    expect(html).toMatch(/<dt>Closed trades<\/dt><dd data-value="41">/);
    expect(html).toContain('&quot;apiKey&quot;: &quot;***&quot;');
    expect(html).not.toContain('SSSS');
    expect(html).not.toContain('AKEY');
    expect(html).not.toContain(PASSWORD);
    expect(html).toMatch(/<pre id="log-tail" tabindex="0">[^<]*schemaVersion/);
  });
});

describe("the dashboard's numbers equal `tollgate report --format json`", () => {
  it('the report it serves is the same report, and the guard and strategy tables show its exact amounts', async () => {
    const { session } = await login(app);
    const api = JSON.parse((await get(app, '/api/report', session)).body);
    expect(api).toEqual(reportJson);

    const html = (await get(app, '/analytics', session)).body;
    const tbody = (id: string) => new RegExp(`<table id="${id}"[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)![1]!;
    const rows = (id: string) => tbody(id).split('</tr>').filter((r) => r.includes('<td')).map((r) => [...r.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]));
    const guards = rows('guards');
    expect(guards.map((r) => r[0])).toEqual(reportJson.guards.map((g: any) => g.code));
    reportJson.guards.forEach((g: any, i: number) => {
      const r = guards[i]!;
      expect([r[2], r[3], r[4], r[5], r[7], r[8], r[9]]).toEqual([String(g.blocked), g.shadowPnl, String(g.headlineBlocked), g.headlineShadowPnl, g.headline.saved, g.headline.cost, g.headline.netImpact]);
    });
    const strategies = new Map(rows('strategies').map((r) => [r[0], r]));
    for (const s of reportJson.strategies) {
      const r = strategies.get(s.strategy)!;
      expect([r[1], r[2], r[3], r[4], r[5], r[9]]).toEqual([String(s.signals), String(s.approved), String(s.blocked), String(s.realized.trades), s.realized.totalPnl, s.shadow.totalPnl]);
    }
    expect(html).toContain(`<dt>Approved</dt><dd data-value="${reportJson.pipeline.decisions.approved}">`);
    expect(html).toContain(`<dt>Blocked</dt><dd data-value="${reportJson.pipeline.decisions.blocked}">`);
  });
});

describe('filters (as `tollgate report --run --since`)', () => {
  it('when filtered by date or run then the numbers equal the report with the same options', async () => {
    const { session } = await login(app);
    const since = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json', '--since', '2019-04-01'], { encoding: 'utf8' }));
    expect(JSON.parse((await get(app, '/api/report?since=2019-04-01', session)).body)).toEqual(since);
    expect(since.pipeline.signals).toBeLessThan(reportJson.pipeline.signals);
    const html = (await get(app, '/analytics?since=2019-04-01', session)).body;
    expect(html).toContain(`<dt>Signals</dt><dd data-value="${since.pipeline.signals}">`);
    expect(html).toMatch(/<label for="f-since">[^<]+<\/label> <input id="f-since" name="since" type="date" value="2019-04-01">/);
    const all = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json', '--run', 'all'], { encoding: 'utf8' }));
    expect(JSON.parse((await get(app, '/api/report?run=all', session)).body)).toEqual(all);
  });
  it('when a filter is not valid then the page says which and answers 400', async () => {
    const { session } = await login(app);
    const bad = await get(app, '/performance?since=yesterday', session);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('since: &quot;yesterday&quot; is not a date');
    const run = await get(app, '/analytics?run=no-such-run', session);
    expect(run.statusCode).toBe(400);
    expect(run.body).toContain('no such run');
    expect((await get(app, '/api/report?since=2019-13-45', session)).statusCode).toBe(400);
  });
});

describe('`tollgate dashboard` as a process', () => {
  it('when the password is in the env then it listens on 127.0.0.1, serves the login page and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard', '--logs', logs, '--state', state, '--port', '0'], { env: { ...process.env, TOLLGATE_DASHBOARD_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no address printed: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const res = await fetch(`${url}login`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<label for="password">');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toContain(PASSWORD);
  });
  it('when there is no password, or --no-auth on another address, then it exits 2 with one clear line', () => {
    const env = { ...process.env };
    delete env.TOLLGATE_DASHBOARD_PASSWORD;
    const none = spawnSync(process.execPath, [BIN, 'dashboard', '--logs', logs], { env, encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no dashboard password: set TOLLGATE_DASHBOARD_PASSWORD or --password-file/);
    const open = spawnSync(process.execPath, [BIN, 'dashboard', '--logs', logs, '--no-auth', '--host', '0.0.0.0'], { env, encoding: 'utf8' });
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/--no-auth is allowed only when bound to 127\.0\.0\.1/);
  });
});
