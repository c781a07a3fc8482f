/**
 * The dashboard server: fastify, server-rendered tabs over the report read model of a logs directory (the
 * same `readModelOf` + `buildReport` as `tollgate report`), optionally a state database opened read-only.
 * It never writes the bot's files. Login, sessions, backoff and CSRF: see auth.ts.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../ports/clock.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { readModelOf } from '../engine/reporting.ts';
import { InputError } from '../engine/wiring.ts';
import { buildReport, type Report, type ReportOptions } from '../analytics/report.ts';
import type { LoadOptions } from '../analytics/dataset.ts';
import { ReadOnlyState, type StateView } from '../adapters/sqlite/read-only.ts';
import { LoginBackoff, LoginTokens, parseCookies, safeEqual, sameOrigin, Sessions, Verifier, type BackoffOptions, type Session, type SessionOptions } from './auth.ts';
import { analyticsBody, esc, filterForm, layout, loginPage, maskSecrets, performanceBody, systemBody, TABS, tradingBody, type DecisionLine, type PageContext } from './pages.ts';

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
}

/** The same defaults as `tollgate report`, so the numbers agree with `report --format json`. */
export const REPORT_DEFAULTS = { load: { run: 'latest', since: null } as LoadOptions, report: { stuckAfterMs: 360 * 60_000, minSample: 30 } as ReportOptions };

const LOOPBACK = new Set(['127.0.0.1', '::1']);

function tailOf(path: string, lines: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n').filter((l) => l.length > 0);
    if (len < size) all.shift(); // partial first line
    return all.slice(-lines);
  } finally {
    closeSync(fd);
  }
}

/** The reports of recent filters, each rebuilt only when a log file changed (size or mtime). */
class ReportCache {
  private readonly entries = new Map<string, { key: string; report: Report }>();
  constructor(private readonly dir: string, private readonly load: LoadOptions, private readonly options: ReportOptions, private readonly max = 8) {}
  get(filter: Filter = {}): Report {
    const key = Object.values(LOG_FILES)
      .map((f) => {
        try {
          const s = statSync(join(this.dir, f));
          return `${s.size}:${s.mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join('|');
    const load: LoadOptions = { ...this.load, ...(filter.run ? { run: filter.run } : {}), ...(filter.since !== undefined ? { since: filter.since } : {}) };
    const id = `${load.run ?? ''}|${load.since ?? ''}`;
    const hit = this.entries.get(id);
    if (hit && hit.key === key) return hit.report;
    const report = buildReport(readModelOf(this.dir, load), this.options);
    this.entries.delete(id);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { key, report });
    return report;
  }
}

/** The filters of a page: `?run=<id|latest|all>&since=YYYY-MM-DD` (as `tollgate report --run --since`). */
export interface Filter {
  readonly run?: string;
  readonly since?: number | null;
}

export class FilterError extends Error {}

export function filterOf(query: unknown): Filter {
  const q = (query ?? {}) as Record<string, unknown>;
  const run = typeof q.run === 'string' && q.run.trim() ? q.run.trim() : undefined;
  if (run !== undefined && !/^[A-Za-z0-9_.:-]{1,100}$/.test(run)) throw new FilterError('run: letters, digits, "-", "_", "." or ":" only');
  let since: number | null | undefined;
  if (typeof q.since === 'string' && q.since.trim()) {
    const v = q.since.trim();
    since = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
    if (Number.isNaN(since)) throw new FilterError(`since: "${v}" is not a date (YYYY-MM-DD, UTC)`);
  }
  return { ...(run ? { run } : {}), ...(since !== undefined ? { since } : {}) };
}

type Body = Record<string, string> | undefined;

export async function createDashboard(o: DashboardOptions): Promise<FastifyInstance> {
  const noAuth = o.noAuth === true;
  if (noAuth && !LOOPBACK.has(o.host)) throw new DashboardConfigError(`--no-auth is allowed only when bound to 127.0.0.1 (got ${o.host}); set TOLLGATE_DASHBOARD_PASSWORD or --password-file instead`);
  if (!noAuth && !o.passwordHash) throw new DashboardConfigError('no dashboard password: set TOLLGATE_DASHBOARD_PASSWORD or --password-file FILE (mode 600), or bind to 127.0.0.1 with --no-auth');

  const cache = new ReportCache(o.logsDir, o.load ?? REPORT_DEFAULTS.load, o.report ?? REPORT_DEFAULTS.report);
  cache.get(); // a bad logs directory fails at start, not at the first page
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
    reply.header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonceOf(req)}'; style-src 'nonce-${nonceOf(req)}'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    reply.header('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on same-site form posts
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cache-Control', 'no-store');
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

  const ctxOf = (req: FastifyRequest, s: Session): PageContext => ({ nonce: nonceOf(req), csrf: s.csrf, authenticated: !noAuth, noAuth, source: o.logsDir });
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

  const page = (path: string, title: string, body: (f: Filter) => string, filtered = true) =>
    app.get(path, async (req, reply) => {
      const s = requirePage(req, reply);
      if (!s) return reply;
      let f: Filter;
      let html: string;
      try {
        f = filtered ? filterOf(req.query) : {};
        html = (filtered ? filterForm(path, cache.get().runs.map((r) => r.runId), f) : '') + body(f);
      } catch (e) {
        if (!(e instanceof FilterError) && !(e instanceof InputError)) throw e;
        return reply.code(400).type('text/html; charset=utf-8').send(layout(ctxOf(req, s), path, title, `<p class="banner" role="alert">${esc((e as Error).message)}</p><p><a href="${path}">Clear the filters</a></p>`));
      }
      return reply.type('text/html; charset=utf-8').send(layout(ctxOf(req, s), path, title, html));
    });
  page('/analytics', 'Analytics', (f) => analyticsBody(cache.get(f)));
  page('/performance', 'Performance', (f) => performanceBody(cache.get(f)));
  const stateView = (): StateView | { error: string } | null => {
    if (!state) return null;
    try {
      return state.view();
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const recentDecisions = (): DecisionLine[] =>
    tailOf(join(o.logsDir, LOG_FILES.decisions), o.tailLines ?? 50).flatMap((l) => {
      try {
        const d = JSON.parse(l) as DecisionLine;
        return typeof d.signalId === 'string' && Array.isArray(d.guards) ? [d] : [];
      } catch {
        return [];
      }
    });
  page('/trading', 'Trading', () => tradingBody(stateView(), recentDecisions()), false);
  page('/system', 'System', () => {
    const report = cache.get();
    const view = stateView();
    return systemBody(report, {
      settings: {
        'logs directory': o.logsDir,
        'state file': o.stateFile ?? '(none)',
        listening: `${o.host}:${o.port ?? DEFAULT_PORT}`,
        authentication: noAuth ? 'off (--no-auth, loopback only)' : 'password (scrypt)',
        'idle timeout': `${Math.round(sessions.idleMs / 60_000)} min`,
        'secure cookies': o.behindTls ? 'yes (behind TLS)' : 'when the request is https',
      },
      config: o.config === undefined ? '(no --config given)' : maskSecrets(o.config),
      logFiles: Object.values(LOG_FILES).map((f) => {
        try {
          return { name: f, bytes: statSync(join(o.logsDir, f)).size };
        } catch {
          return { name: f, bytes: null };
        }
      }),
      tail: tailOf(join(o.logsDir, LOG_FILES.bus), o.tailLines ?? 50),
      state: view,
      skipped: report.skippedLines,
    });
  }, false);
  app.get('/api/report', async (req, reply) => {
    if (!sessionOf(req)) return reply.code(401).send({ error: 'not logged in' });
    let report: Report;
    try {
      report = cache.get(filterOf(req.query));
    } catch (e) {
      if (!(e instanceof FilterError) && !(e instanceof InputError)) throw e;
      return reply.code(400).send({ error: (e as Error).message });
    }
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(report));
  });
  return app;
}
