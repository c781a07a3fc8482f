/**
 * The dashboard server: fastify, server-rendered tabs over the report read model of a logs directory (the
 * same `reportFor` as `tollgate report`), optionally a state database opened read-only.
 * It never writes the bot's files. Login, sessions, backoff and CSRF: see auth.ts.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Decimal } from 'decimal.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../ports/clock.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { logFiles, reportFor, tailLines } from '../engine/reporting.ts';
import { InputError } from '../engine/wiring.ts';
import type { Report, ReportOptions } from '../analytics/report.ts';
import type { LoadOptions } from '../analytics/dataset.ts';
import { ReadOnlyState, type StateView } from '../adapters/sqlite/read-only.ts';
import { LoginBackoff, LoginTokens, parseCookies, safeEqual, sameOrigin, Sessions, Verifier, type BackoffOptions, type Session, type SessionOptions } from './auth.ts';
import { parseConfig, type Config } from '../config/schema.ts';
import { startExitTrack } from '../domain/exits.ts';
import { Dec } from '../domain/money.ts';
import { analyticsBody, confirmBody, DAILY_ROWS, esc, filterForm, layout, loginPage, maskSecrets, performanceBody, systemBody, TABS, tradingBody, type ControlsView, type DecisionLine, type ExitLevels, type FilterValues, type PageContext } from './pages.ts';
import { BotApiError, BotClient, GUARD_MODES, type BotLink, type ControlCommand, type GuardModeName } from './bot-client.ts';
import { ChartIndex, type ChartData } from './chart-data.ts';
import { CLIENT_JS, CLIENT_JS_VERSION } from './client.ts';

export const DEFAULT_PORT = 8501;
export const DEFAULT_HOST = '127.0.0.1';
export const SESSION_COOKIE = 'tg_session';
export const LOGIN_COOKIE = 'tg_login';

export class DashboardConfigError extends Error {
  override name = 'DashboardConfigError';
}

export interface DashboardOptions {
  readonly logsDir: string;
  readonly stateFile?: string | null;
  /** the bot's parsed config, shown with secrets masked */
  readonly config?: unknown;
  /** `hashPassword`'s output; null only with noAuth */
  readonly passwordHash: string | null;
  readonly noAuth?: boolean;
  /** where it will listen: --no-auth is refused unless this is loopback */
  readonly host: string;
  readonly port?: number;
  /** behind a TLS-terminating proxy: Secure cookies, X-Forwarded-* trusted from loopback */
  readonly behindTls?: boolean;
  readonly clock: Clock;
  readonly sessions?: SessionOptions;
  readonly backoff?: BackoffOptions;
  readonly load?: LoadOptions;
  readonly report?: ReportOptions;
  readonly tailLines?: number;
  /** the bot's operator API (its HTTP face and token): the only way the dashboard commands; null: read-only */
  readonly bot?: BotLink | null;
  /** the replayed candles' closes ([ms, close]) for the price chart; without them the chart draws the logged prices */
  readonly candles?: ReadonlyArray<readonly [number, number]> | null;
  /** how often the logs and state are checked for changes while a page listens on /events (default 1 s) */
  readonly liveEveryMs?: number;
}

const gzipAsync = promisify(gzip);

const LWC_FILE = 'lightweight-charts.standalone.production.js';
const LWC_PATH = join(dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')), 'dist', LWC_FILE);
const ASSET_CACHE = 'public, max-age=31536000, immutable';

/**
 * The CSP hash of the one <style> element lightweight-charts adds (its attribution logo's rules): the chart
 * creates it without our nonce, so the page allows exactly that text. Read from the installed bundle, so an
 * upgrade that changes the text keeps working; null (the logo unstyled) when the bundle no longer has it.
 */
export function chartStyleHash(bundle: string): string | null {
  const m = /innerText=("a#tv-attr-logo(?:[^"\\]|\\.)*")/.exec(bundle);
  return m ? `'sha256-${createHash('sha256').update(JSON.parse(m[1]!) as string).digest('base64')}'` : null;
}
let chartStyle: string | undefined;
function chartStyleSrc(): string {
  if (chartStyle === undefined) {
    const hash = chartStyleHash(readFileSync(LWC_PATH, 'utf8'));
    chartStyle = hash ? ` ${hash}` : '';
  }
  return chartStyle;
}

/** The same defaults as `tollgate report`, so the numbers agree with `report --format json`. */
export const REPORT_DEFAULTS = { load: { run: 'latest', since: null } as LoadOptions, report: { stuckAfterMs: 360 * 60_000, minSample: 30 } as ReportOptions };

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** The size and mtime of each log file: a cache key that changes when a log grows or is rotated. */
function logsKey(dir: string, extra: ReadonlyArray<string | null> = []): string {
  return [...Object.values(LOG_FILES).map((f) => join(dir, f)), ...extra]
    .map((f) => {
      if (!f) return '';
      try {
        const s = statSync(f);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/**
 * The report of one filter: the ONE call the dashboard makes into the report read model — `reportFor`, what
 * `tollgate report` reads too (the sidecar where it holds, the JSONL for the rest), with its defaults.
 */
export function reportOf(dir: string, f: Filter, base: LoadOptions, options: ReportOptions): Report {
  return reportFor(dir, { run: f.run ?? base.run ?? 'latest', since: f.since ?? base.since ?? null, until: f.until ?? null, strategy: f.strategy ?? null, pair: f.pair ?? null }, options);
}

/** A few recent values per filter, each rebuilt only when a log file changed (size or mtime). */
class FilterCache<T> {
  private readonly entries = new Map<string, { key: string; value: T }>();
  constructor(private readonly dir: string, private readonly build: (f: Filter) => T, private readonly max = 4) {}
  get(f: Filter = {}): T {
    const key = logsKey(this.dir);
    const id = JSON.stringify([f.run ?? '', f.since ?? '', f.until ?? '', f.strategy ?? '', f.pair ?? '']);
    const hit = this.entries.get(id);
    if (hit && hit.key === key) return hit.value;
    const value = this.build(f);
    this.entries.delete(id);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { key, value });
    return value;
  }
}

/** The filters of a page: `?run=<id|latest|all>&since=YYYY-MM-DD&until=YYYY-MM-DD&strategy=&pair=` (run and since as `tollgate report --run --since`). */
export interface Filter extends FilterValues {
  readonly run?: string;
  readonly since?: number | null;
  /** exclusive: the day after `until=` */
  readonly until?: number | null;
  readonly strategy?: string;
  readonly pair?: string;
}

export class FilterError extends Error {}

const DAY_MS = 86_400_000;

function dayParam(q: Record<string, unknown>, name: string): number | undefined {
  if (typeof q[name] !== 'string' || !(q[name] as string).trim()) return undefined;
  const v = (q[name] as string).trim();
  const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
  if (Number.isNaN(t)) throw new FilterError(`${name}: "${v}" is not a date (YYYY-MM-DD, UTC)`);
  return t;
}

function nameParam(q: Record<string, unknown>, name: string, re: RegExp, what: string): string | undefined {
  const v = typeof q[name] === 'string' ? (q[name] as string).trim() : '';
  if (!v) return undefined;
  if (!re.test(v)) throw new FilterError(`${name}: ${what}`);
  return v;
}

export function filterOf(query: unknown): Filter {
  const q = (query ?? {}) as Record<string, unknown>;
  const run = nameParam(q, 'run', /^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits, "-", "_", "." or ":" only');
  const strategy = nameParam(q, 'strategy', /^[a-z][a-z0-9_]{0,31}$/, 'a strategy name (lower-case letters, digits, "_")');
  const pair = nameParam(q, 'pair', /^[A-Z0-9]{1,12}\/[A-Z0-9]{1,12}$/, 'a pair as BASE/QUOTE, e.g. BTC/USD');
  const since = dayParam(q, 'since');
  const last = dayParam(q, 'until');
  const until = last === undefined ? undefined : last + DAY_MS;
  if (since !== undefined && until !== undefined && until <= since) throw new FilterError('until: before since');
  return { ...(run ? { run } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(strategy ? { strategy } : {}), ...(pair ? { pair } : {}) };
}

/** Stop and target prices of a position from its strategy's exit rules in the config. */
export function exitLevelsFrom(config: Config): (strategy: string, entryPrice: Decimal) => ExitLevels | null {
  const rules = new Map(config.strategies.map((s) => [s.name, s.exits]));
  return (strategy, entryPrice) => {
    const r = rules.get(strategy);
    if (!r) return null;
    const t = startExitTrack(r, new Dec(entryPrice.toFixed()), 0);
    return { stop: t.stopLoss?.toFixed(8) ?? null, target: t.takeProfit?.toFixed(8) ?? null, trailingPct: r.trailingStopPct };
  };
}

const inWindow = (f: Filter, ts: string) => {
  const t = Date.parse(ts);
  return (f.since == null || t >= f.since) && (f.until == null || t < f.until);
};

type Body = Record<string, string> | undefined;

export async function createDashboard(o: DashboardOptions): Promise<FastifyInstance> {
  const noAuth = o.noAuth === true;
  if (noAuth && !LOOPBACK.has(o.host)) throw new DashboardConfigError(`--no-auth is allowed only when bound to 127.0.0.1 (got ${o.host}); set TOLLGATE_DASHBOARD_PASSWORD or --password-file instead`);
  if (!noAuth && !o.passwordHash) throw new DashboardConfigError('no dashboard password: set TOLLGATE_DASHBOARD_PASSWORD or --password-file FILE (mode 600), or bind to 127.0.0.1 with --no-auth');

  const cache = new FilterCache<Report>(o.logsDir, (f) => reportOf(o.logsDir, f, o.load ?? REPORT_DEFAULTS.load, o.report ?? REPORT_DEFAULTS.report));
  cache.get(); // a bad logs directory fails at start, not at the first page
  // the price chart's columns, read once from the logs and then followed as they grow; each filter scans them
  const chartIndex = new ChartIndex(o.logsDir);
  const charts = new FilterCache<ChartData>(o.logsDir, (f) => {
    const runs = cache.get(f.run ? { run: f.run } : {}).runs;
    const times = (k: 'from' | 'to') => runs.map((r) => (r[k] ? Date.parse(r[k]) : NaN)).filter((t) => !Number.isNaN(t));
    const span = { from: times('from').length ? Math.min(...times('from')) : null, to: times('to').length ? Math.max(...times('to')) : null };
    chartIndex.update();
    return chartIndex.chart({ runs: f.run === 'all' ? null : new Set(runs.map((r) => r.runId)), since: f.since ?? null, until: f.until ?? null, span, ...(f.strategy ? { strategy: f.strategy } : {}), ...(f.pair ? { pair: f.pair } : {}) }, o.candles ?? null, undefined, undefined, DAILY_ROWS);
  });
  charts.get(); // the chart index read once at start (then followed); the unfiltered chart is the tab's first view
  const bot = o.bot ? new BotClient(o.bot) : null;
  const exits = exitLevelsFrom(o.config === undefined ? parseConfig({}) : (o.config as Config));
  const lwc = readFileSync(LWC_PATH);
  const scripts = [`/assets/dashboard.js?v=${CLIENT_JS_VERSION}`];
  const chartScripts = [`/assets/${LWC_FILE}`, ...scripts];
  const state = o.stateFile ? ReadOnlyState.open(o.stateFile) : null;
  const sessions = new Sessions(o.clock, o.sessions);
  const backoff = new LoginBackoff(o.clock, o.backoff);
  const loginTokens = new LoginTokens();
  const verifier = o.passwordHash ? new Verifier(o.passwordHash) : null;
  /** without auth there is one implicit session; its token still guards every POST */
  const openSession: Session | null = noAuth ? { id: '', csrf: randomBytes(32).toString('base64url'), createdTs: o.clock.now(), lastSeenTs: o.clock.now() } : null;

  const app = Fastify({ logger: false, trustProxy: o.behindTls ? ['127.0.0.1', '::1'] : false, bodyLimit: 16 * 1024 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onClose', async () => state?.close());

  const nonces = new WeakMap<FastifyRequest, string>();
  const nonceOf = (req: FastifyRequest) => {
    let n = nonces.get(req);
    if (!n) nonces.set(req, (n = randomBytes(16).toString('base64')));
    return n;
  };
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonceOf(req)}'; style-src 'nonce-${nonceOf(req)}'${chartStyleSrc()}; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    reply.header('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on same-site form posts
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('X-Frame-Options', 'DENY');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    return payload;
  });

  const secure = (req: FastifyRequest) => o.behindTls === true || req.protocol === 'https';
  const cookie = (req: FastifyRequest, name: string, value: string, maxAgeS: number | null) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure(req) ? '; Secure' : ''}${maxAgeS === null ? '' : `; Max-Age=${maxAgeS}`}`;
  const cookies = (req: FastifyRequest) => parseCookies(req.headers.cookie);
  const sessionOf = (req: FastifyRequest): Session | null => openSession ?? sessions.touch(cookies(req)[SESSION_COOKIE]);

  // CSRF: every POST passes the origin check and carries the token of its session (or of the login form)
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    const origin = sameOrigin(req.headers, req.protocol);
    if (!origin.ok) return reply.code(403).type('text/plain').send(`refused: cross-site request (${origin.why})`);
    const body = req.body as Body;
    const given = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? (req.headers['x-csrf-token'] as string | undefined);
    if (req.url === '/login') {
      if (!loginTokens.valid(cookies(req)[LOGIN_COOKIE], given)) return reply.code(403).type('text/plain').send('refused: missing or wrong CSRF token (reload the login page)');
      return;
    }
    const s = sessionOf(req);
    if (!s) return reply.code(401).type('text/plain').send('not logged in');
    if (!given || !safeEqual(given, s.csrf)) return reply.code(403).type('text/plain').send('refused: missing or wrong CSRF token');
  });

  const ctxOf = (req: FastifyRequest, s: Session, withChart = false): PageContext => ({ nonce: nonceOf(req), csrf: s.csrf, authenticated: !noAuth, noAuth, source: o.logsDir, scripts: withChart ? chartScripts : scripts });
  const requirePage = (req: FastifyRequest, reply: FastifyReply): Session | null => {
    const s = sessionOf(req);
    if (!s) void reply.code(303).header('Location', '/login').send();
    return s;
  };

  const showLogin = (req: FastifyRequest, reply: FastifyReply, code: number, message: string | null) => {
    const nonce = loginTokens.newNonce();
    return reply.code(code).header('Set-Cookie', cookie(req, LOGIN_COOKIE, nonce, 600)).type('text/html; charset=utf-8').send(loginPage(nonceOf(req), loginTokens.tokenFor(nonce), message));
  };

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/', async (_req, reply) => reply.code(303).header('Location', TABS[0].path).send());
  app.get('/login', async (req, reply) => {
    if (noAuth || sessionOf(req)) return reply.code(303).header('Location', TABS[0].path).send();
    return showLogin(req, reply, 200, null);
  });
  app.post('/login', async (req, reply) => {
    if (noAuth || !verifier) return reply.code(303).header('Location', TABS[0].path).send();
    const client = req.ip;
    const wait = backoff.waitMs(client);
    if (wait > 0) {
      reply.header('Retry-After', String(Math.ceil(wait / 1000)));
      return showLogin(req, reply, 429, `Too many failed attempts: try again in ${Math.ceil(wait / 1000)} s.`);
    }
    const password = (req.body as Body)?.password;
    const check = typeof password === 'string' && password.length > 0 && password.length <= 1024 ? verifier.verify(password) : Promise.resolve(false);
    if (!check) {
      reply.header('Retry-After', '1');
      return showLogin(req, reply, 503, 'Busy checking other logins: try again in a moment.');
    }
    if (!(await check)) {
      backoff.failed(client);
      return showLogin(req, reply, 401, 'Wrong password.');
    }
    backoff.succeeded(client);
    sessions.end(cookies(req)[SESSION_COOKIE]); // rotate: a session id from before the login never becomes valid
    const s = sessions.create();
    return reply
      .code(303)
      .header('Set-Cookie', [cookie(req, SESSION_COOKIE, s.id, null), cookie(req, LOGIN_COOKIE, '', 0)])
      .header('Location', TABS[0].path)
      .send();
  });
  app.post('/logout', async (req, reply) => {
    sessions.end(cookies(req)[SESSION_COOKIE]);
    return reply.code(303).header('Set-Cookie', cookie(req, SESSION_COOKIE, '', 0)).header('Location', '/login').send();
  });

  app.get('/assets/dashboard.js', async (_req, reply) => reply.header('Cache-Control', ASSET_CACHE).type('application/javascript; charset=utf-8').send(CLIENT_JS));
  app.get(`/assets/${LWC_FILE}`, async (_req, reply) => reply.header('Cache-Control', ASSET_CACHE).type('application/javascript; charset=utf-8').send(lwc));

  const choices = () => {
    const r = cache.get();
    return { runs: r.runs.map((x) => x.runId), strategies: r.strategies.map((x) => x.strategy), pairs: [...new Set(r.runs.map((x) => x.pair).filter((x): x is string => !!x))] };
  };
  const page = (path: string, title: string, body: (f: Filter, s: Session) => string | Promise<string>, o2: { filtered?: boolean; chart?: boolean } = {}) =>
    app.get(path, async (req, reply) => {
      const s = requirePage(req, reply);
      if (!s) return reply;
      const filtered = o2.filtered !== false;
      let f: Filter;
      let html: string;
      try {
        f = filtered ? filterOf(req.query) : {};
        html = (filtered ? filterForm(path, choices(), f) : '') + (await body(f, s));
      } catch (e) {
        if (!(e instanceof FilterError) && !(e instanceof InputError)) throw e;
        return reply.code(400).type('text/html; charset=utf-8').send(layout(ctxOf(req, s), path, title, `<p class="banner" role="alert">${esc((e as Error).message)}</p><p><a href="${path}">Clear the filters</a></p>`));
      }
      return reply.type('text/html; charset=utf-8').send(layout(ctxOf(req, s, o2.chart), path, title, html));
    });
  // the two report tabs depend only on the logs and the filter: rendered once per change of either
  const analyticsHtml = new FilterCache<string>(o.logsDir, (f) => analyticsBody(cache.get(f), f));
  const performanceHtml = new FilterCache<string>(o.logsDir, (f) => performanceBody(cache.get(f), charts.get(f), f));
  page('/analytics', 'Analytics', (f) => analyticsHtml.get(f));
  page('/performance', 'Performance', (f) => performanceHtml.get(f), { chart: true });
  const stateView = (): StateView | { error: string } | null => {
    if (!state) return null;
    try {
      return state.view();
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const recentDecisions = (f: Filter): DecisionLine[] =>
    tailLines(o.logsDir, LOG_FILES.decisions, f.strategy || f.pair || f.since != null || f.until != null ? 5000 : (o.tailLines ?? 50)).flatMap((l) => {
      try {
        const d = JSON.parse(l) as DecisionLine;
        const keep = typeof d.signalId === 'string' && Array.isArray(d.guards) && (!f.strategy || d.strategy === f.strategy) && (!f.pair || d.pair === f.pair) && inWindow(f, d.ts);
        return keep ? [d] : [];
      } catch {
        return [];
      }
    }).slice(-(o.tailLines ?? 50));

  /** the lifecycle state of each of `ids` from the tail of the bus log (a signal older than it has none shown) */
  const signalStates = (ids: ReadonlySet<string>): Map<string, string> => {
    const out = new Map<string, string>();
    for (const l of tailLines(o.logsDir, LOG_FILES.bus, 5000)) {
      if (!l.includes('"signal.transition"')) continue;
      try {
        const e = JSON.parse(l) as { signalId?: unknown; to?: unknown };
        if (typeof e.signalId === 'string' && ids.has(e.signalId) && typeof e.to === 'string') out.set(e.signalId, e.to);
      } catch {
        // a torn last line: skipped
      }
    }
    return out;
  };

  // ── controls: confirmed, then sent to the bot's operator API (which audits them) ──────────────────────
  /** the result of a session's last command, shown once on its next Trading page */
  const flashes = new Map<string, { ok: boolean; text: string }>();
  const controlsView = async (): Promise<ControlsView> => {
    if (!bot) return { kind: 'off' };
    try {
      const [st, g] = await Promise.all([bot.status(), bot.guards()]);
      return { kind: 'ok', state: st.bot?.state ?? null, paused: st.bot ? st.bot.paused : st.controls.paused, guards: g.guards };
    } catch (e) {
      if (!(e instanceof BotApiError)) throw e;
      return { kind: 'error', message: e.message };
    }
  };
  page('/trading', 'Trading', async (f, s) => {
    const flash = flashes.get(s.csrf) ?? null;
    flashes.delete(s.csrf);
    const decisions = recentDecisions(f);
    return tradingBody({ state: stateView(), decisions, states: signalStates(new Set(decisions.map((d) => d.signalId))), exits, controls: await controlsView(), flash });
  });

  /** a control from a query or a form; null when it is not one */
  const commandOf = (q: Record<string, unknown>, reason: string): ControlCommand | string => {
    const action = q.action;
    if (action === 'pause' || action === 'resume') return { action, reason };
    if (action !== 'guard') return 'action: expected pause, resume or guard';
    const code = typeof q.code === 'string' ? q.code : '';
    if (!/^[A-Z][A-Z_]{0,39}$/.test(code)) return 'code: a guard code such as COOLDOWN';
    if (!GUARD_MODES.includes(q.mode as GuardModeName)) return `mode: expected ${GUARD_MODES.join(', ')}`;
    return { action, code, mode: q.mode as GuardModeName, reason };
  };
  const describe = (c: ControlCommand, from: string | null = null) => (c.action === 'guard' ? `switch guard ${c.code} ${from ? `from ${from} ` : ''}to ${c.mode}` : c.action === 'pause' ? 'pause entries (open positions keep their exits)' : 'resume entries');
  const fieldsOf = (c: ControlCommand): Record<string, string> => (c.action === 'guard' ? { action: c.action, code: c.code, mode: c.mode } : { action: c.action });
  const confirmPage = (req: FastifyRequest, reply: FastifyReply, s: Session, code: number, c: ControlCommand, key: string, error: string | null, from: string | null = null) =>
    reply.code(code).type('text/html; charset=utf-8').send(layout(ctxOf(req, s), '/trading', 'Confirm', confirmBody(describe(c, from), fieldsOf(c), s.csrf, key, error, c.reason)));

  app.get('/trading/confirm', async (req, reply) => {
    const s = requirePage(req, reply);
    if (!s) return reply;
    const c = commandOf((req.query ?? {}) as Record<string, unknown>, '');
    if (typeof c === 'string') return reply.code(400).type('text/html; charset=utf-8').send(layout(ctxOf(req, s), '/trading', 'Confirm', `<p class="banner" role="alert">${esc(c)}</p><p><a href="/trading">Back to Trading</a></p>`));
    if (!bot) return reply.code(409).type('text/html; charset=utf-8').send(layout(ctxOf(req, s), '/trading', 'Confirm', '<p class="banner" role="alert">No bot link: the dashboard is read-only.</p><p><a href="/trading">Back to Trading</a></p>'));
    // the guard's mode now, so the page says what changes (left out when the bot does not say)
    let from: string | null = null;
    if (c.action === 'guard') {
      try {
        from = (await bot.guards()).guards.find((g) => g.code === c.code)?.mode ?? null;
      } catch (e) {
        if (!(e instanceof BotApiError)) throw e;
      }
    }
    return confirmPage(req, reply, s, 200, c, randomBytes(18).toString('base64url'), null, from);
  });
  app.post('/trading/control', async (req, reply) => {
    const s = sessionOf(req)!; // the CSRF hook answered 401 without one
    const b = (req.body ?? {}) as Record<string, unknown>;
    const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
    const key = typeof b.key === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(b.key) ? b.key : null;
    const c = commandOf(b, reason);
    if (typeof c === 'string' || !key) return reply.code(400).type('text/plain').send(`refused: ${typeof c === 'string' ? c : 'key: missing (reload the confirm page)'}`);
    if (!bot) return reply.code(409).type('text/plain').send('refused: no bot link, the dashboard is read-only');
    if (!reason || reason.length > 200) return confirmPage(req, reply, s, 400, c, key, 'A reason is needed (at most 200 characters): it goes to the audit log.');
    try {
      const r = await bot.command(c, `dashboard-${key}`);
      const what = r.guard ? `Guard ${r.guard.code}: ${r.guard.from} → ${r.guard.to}` : c.action === 'pause' ? 'Entries paused' : 'Entries resumed';
      flashes.set(s.csrf, r.repeated
        ? { ok: true, text: `Already sent: this confirmation was used before, and the bot did not apply it twice (audit #${r.seq}).` }
        : { ok: true, text: `${what} (audit #${r.seq}${r.applied ? '' : ', applied at the bot\'s next controls check'}).` });
      return reply.code(303).header('Location', '/trading').send();
    } catch (e) {
      if (!(e instanceof BotApiError)) throw e;
      if (e.code === 'IDEMPOTENCY_CONFLICT') {
        // the key is new on every confirm page: a conflict is this confirmation sent again (a double click, a resubmitted form)
        flashes.set(s.csrf, { ok: true, text: 'Already sent: this confirmation was used before, and the bot did not apply it twice.' });
        return reply.code(303).header('Location', '/trading').send();
      }
      return confirmPage(req, reply, s, e.status === null ? 502 : e.status >= 500 ? 502 : 422, c, key, e.message);
    }
  });

  // ── live updates: Server-Sent Events when a log or the state changes ──────────────────────────────────
  const listeners = new Set<ServerResponse>();
  const watched = [o.stateFile ?? null, o.stateFile ? `${o.stateFile}-wal` : null];
  let lastKey = logsKey(o.logsDir, watched);
  let ticks = 0;
  const timer = setInterval(() => {
    if (listeners.size === 0) return;
    const key = logsKey(o.logsDir, watched);
    const msg = key !== lastKey ? `event: change\ndata: ${JSON.stringify({ at: o.clock.now() })}\n\n` : ++ticks % 15 === 0 ? ': keep-alive\n\n' : null;
    lastKey = key;
    if (msg) for (const res of listeners) res.write(msg);
  }, o.liveEveryMs ?? 1000);
  timer.unref();
  app.get('/events', async (req, reply) => {
    if (!sessionOf(req)) return reply.code(401).send({ error: 'not logged in' });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    listeners.add(res);
    req.raw.on('close', () => listeners.delete(res));
  });
  app.addHook('preClose', async () => {
    clearInterval(timer);
    for (const res of listeners) res.end();
    listeners.clear();
  });

  const botStatus = async () => {
    if (!bot) return null;
    try {
      return (await bot.status()).bot ?? { unreachable: 'the operator API answers, but no bot runs in its process' };
    } catch (e) {
      if (!(e instanceof BotApiError)) throw e;
      return { unreachable: e.message };
    }
  };
  page('/system', 'System', async () => {
    const report = cache.get();
    const view = stateView();
    const botLog = join(o.logsDir, 'bot.jsonl');
    const hasBotLog = (() => {
      try {
        return statSync(botLog).size > 0;
      } catch {
        return false;
      }
    })();
    return systemBody(report, {
      settings: {
        'logs directory': o.logsDir,
        'state file': o.stateFile ?? '(none)',
        listening: `${o.host}:${o.port ?? DEFAULT_PORT}`,
        authentication: noAuth ? 'off (--no-auth, loopback only)' : 'password (scrypt)',
        'idle timeout': `${Math.round(sessions.idleMs / 60_000)} min`,
        'secure cookies': o.behindTls ? 'yes (behind TLS)' : 'when the request is https',
        'bot operator API': bot ? `${bot.origin} (token set, not shown)` : 'none (read-only)',
      },
      config: o.config === undefined ? '(no --config given)' : maskSecrets(o.config),
      logFiles: Object.values(LOG_FILES).flatMap((f): Array<{ name: string; bytes: number | null }> => {
        const files = logFiles(o.logsDir, f); // rotated segments, oldest first, then the live file
        return files.length ? files.map((p) => ({ name: basename(p), bytes: statSync(p).size })) : [{ name: f, bytes: null }];
      }),
      tail: tailLines(o.logsDir, hasBotLog ? 'bot.jsonl' : LOG_FILES.bus, o.tailLines ?? 50),
      tailOf: hasBotLog ? 'bot.jsonl' : LOG_FILES.bus,
      state: view,
      skipped: report.skippedLines,
      bot: await botStatus(),
    });
  }, { filtered: false });
  const reportJson = new FilterCache(o.logsDir, (f) => {
    const raw = Buffer.from(JSON.stringify(cache.get(f)));
    let gz: Promise<Buffer> | null = null;
    // compressed on libuv's thread pool: a report of 1M decisions is ~36 MB of JSON, and the other tabs'
    // requests (and their live updates) are answered meanwhile; level 1: ~30% less CPU than 4 (0.2 s instead of
    // 0.3 s for 34 MB), ~15% more bytes, on a machine the bot shares
    return { raw, gzip: () => (gz ??= gzipAsync(raw, { level: 1 })) };
  });
  app.get('/api/report', async (req, reply) => {
    if (!sessionOf(req)) return reply.code(401).send({ error: 'not logged in' });
    let body: { raw: Buffer; gzip: () => Promise<Buffer> };
    try {
      body = reportJson.get(filterOf(req.query));
    } catch (e) {
      if (!(e instanceof FilterError) && !(e instanceof InputError)) throw e;
      return reply.code(400).send({ error: (e as Error).message });
    }
    reply.type('application/json; charset=utf-8').header('Vary', 'Accept-Encoding');
    // the report of a long run is tens of MB of JSON (its equity series): compressed once, sent as bytes
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(await body.gzip());
    return reply.send(body.raw);
  });
  return app;
}
