/**
 * The bot's HTTP face: fastify inside the bot process (`--http 127.0.0.1:8080`), in every mode.
 *
 *   POST /webhook           TradingView (passphrase in the body, optional address allowlist) and own scripts
 *                           (HMAC-SHA256); durable intake, 202 with the signal id; see webhook.ts and intake.ts
 *   GET  /health/live       the process and its event loop, nothing external
 *   GET  /health/ready      200 when the state is recovered and reconciled, market data fresh, the venue not
 *                           halted and entries not paused; 503 otherwise (and from the start of a shutdown)
 *   GET  /health            every component with the reason for anything not healthy
 *   GET  /metrics           Prometheus text (metrics.ts)
 *   /api/v1/...             the operator API, bearer token (operator-api.ts)
 *
 * Security: body limit, helmet headers, request ids (X-Request-Id), no stack traces in replies (an unexpected
 * error is a 500 naming only the request id, logged in full), request lines in the operational log (whose
 * pino redaction masks the secrets), rate limits on the operator API.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { overallHealth, type Bot, type ComponentHealth } from '../engine/bot.ts';
import type { OperatorService } from '../operator/service.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { Activity } from './activity.ts';
import type { HttpSettings } from './config.ts';
import { Intake, type IntakeStore } from './intake.ts';
import { Metrics } from './metrics.ts';
import { registerOperatorApi } from './operator-api.ts';
import { authenticatedAlert, dedupKey, sourceOf, WebhookError } from './webhook.ts';

export interface HttpDeps {
  readonly bot: Bot;
  readonly operator: OperatorService;
  /** where accepted alerts are written before the reply (the state store, or an in-memory one) */
  readonly intake: IntakeStore;
  readonly settings: HttpSettings;
  /** real time: alert freshness, HMAC replay window, dedup window (the bot's clock may be a replay's) */
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Health the bot does not know of (the leader lease of a PostgreSQL state): its components count in readiness
   * and /health as the bot's do, and its fields are added to the /health body.
   */
  readonly health?: () => { readonly components: Readonly<Record<string, ComponentHealth>>; readonly fields: Readonly<Record<string, unknown>> };
}

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  readonly intake: Intake;
  readonly activity: Activity;
  /** listens on the settings' host and port (or `at`); resolves with the address (`http://127.0.0.1:PORT`) */
  listen(at?: { readonly host: string; readonly port: number }): Promise<string>;
  /** ready goes 503 from now on */
  beginShutdown(): void;
  /** graceful: ready 503, stop accepting, drain the requests in flight, hand accepted alerts to the bus */
  close(): Promise<void>;
  readonly shuttingDown: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export async function buildHttpServer(d: HttpDeps): Promise<HttpServer> {
  const { bot, settings, logger } = d;
  const log = logger.child({ component: 'http' });
  const metrics = new Metrics(bot);
  const activity = new Activity(bot);
  const intake = new Intake(d.intake, bot, d.clock, log, settings.webhook.dedupWindowMs);
  intake.onSubmitted = (s) => metrics.decisionLatency.observe(s);
  let shuttingDown = false;
  let attached = false;
  const attach = () => {
    if (attached) return true;
    if (!bot.pipeline) return false;
    metrics.attach();
    activity.attach();
    intake.attach();
    attached = true;
    intake.recover();
    return true;
  };
  // the bot may still be starting (recovery, reconciliation): its bus is followed as soon as it exists
  const attachTimer = setInterval(() => {
    if (attach()) clearInterval(attachTimer);
  }, 50);
  attachTimer.unref();
  attach();

  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();

  const app = Fastify({
    logger: false,
    bodyLimit: settings.bodyLimit,
    trustProxy: false, // X-Forwarded-For is read only from the configured proxies (webhook.ts clientAddress)
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    connectionTimeout: 10_000,
    requestTimeout: 10_000,
  });

  // bodies are kept raw (the HMAC is over the exact bytes); JSON is parsed by the routes, with precise errors
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(helmet, { contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }, crossOriginResourcePolicy: { policy: 'same-origin' } });
  await app.register(rateLimit, { global: false });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('cache-control', 'no-store');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, status: `${Math.floor(reply.statusCode / 100)}xx` });
    const quiet = route.startsWith('/health') || route === '/metrics';
    log.log(quiet ? 'debug' : 'info', 'http.request', {
      reqId: req.id, method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ip: req.socket.remoteAddress ?? null,
    });
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      log.error('http.error', { reqId: req.id, route: req.routeOptions.url ?? null, error: err }, `internal error answering ${req.method} ${req.routeOptions.url ?? '?'}`);
      return reply.code(500).send({ error: 'INTERNAL', message: `internal error (request ${req.id}; see the operational log)` });
    }
    const code = status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 429 ? 'RATE_LIMITED' : (err.code ?? 'BAD_REQUEST');
    const message = status === 413 ? `request body is larger than ${settings.bodyLimit} bytes`
      : status === 415 ? `unsupported content type ${String(req.headers['content-type'] ?? '(none)').slice(0, 60)}: send application/json or text/plain`
        : err.message;
    if (req.routeOptions.url === '/webhook') metrics.webhookRequests.inc({ outcome: code });
    return reply.code(status).send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 100)}` }));

  // ── webhook ──────────────────────────────────────────────────────────────────
  app.post('/webhook', async (req, reply) => {
    const t0 = performance.now();
    const s = settings.webhook;
    const raw = typeof req.body === 'string' ? req.body : '';
    const source = sourceOf(req.headers);
    const now = d.clock.now();
    try {
      const { alert } = authenticatedAlert(raw, req, s, bot.pair, now);
      const r = intake.accept(alert, source, dedupKey(source, raw, alert.id));
      if (r.kind === 'conflict') throw new WebhookError(409, 'ID_REUSED', `field id: already used by another alert (signal ${r.signalId}); use a new id for a new alert`);
      metrics.webhookRequests.inc({ outcome: r.kind });
      if (r.kind === 'repeated') {
        log.info('webhook.repeated', { reqId: req.id, signalId: r.reply.signalId, source });
        reply.header('idempotent-replayed', 'true');
      } else {
        log.info('webhook.accepted', { reqId: req.id, signalId: r.reply.signalId, source, pair: alert.pair, side: alert.side, strategy: alert.strategy });
        intake.enqueue(r.reply.signalId);
      }
      return reply.code(202).send({ ...r.reply, repeated: r.kind === 'repeated', processingMs: Math.round((performance.now() - t0) * 1000) / 1000 });
    } catch (e) {
      if (!(e instanceof WebhookError)) throw e;
      metrics.webhookRequests.inc({ outcome: e.code });
      log.warn(e.code === 'STALE_ALERT' ? 'webhook.stale' : 'webhook.refused', { reqId: req.id, source, status: e.status, code: e.code, ip: req.socket.remoteAddress ?? null }, e.message);
      return reply.code(e.status).send({ error: e.code, message: e.message });
    }
  });

  // ── health ───────────────────────────────────────────────────────────────────
  app.get('/health/live', async () => ({
    status: 'live',
    eventLoopDelayMs: { mean: round(loop.mean / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) },
    uptimeSeconds: Math.round(process.uptime()),
  }));

  const readiness = (): { ready: boolean; reasons: string[] } => {
    const st = bot.status();
    const reasons: string[] = [];
    if (shuttingDown) reasons.push('shutting down');
    if (st.state !== 'running') reasons.push(`engine ${st.state}${st.error ? `: ${st.error}` : ''}`);
    for (const [name, c] of Object.entries({ ...st.components, ...d.health?.().components })) if (c.status !== 'healthy' && name !== 'engine') reasons.push(`${name}: ${c.reason ?? c.status}`);
    return { ready: reasons.length === 0, reasons };
  };
  app.get('/health/ready', async (_req, reply) => {
    const r = readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', reasons: r.reasons });
  });
  app.get('/health', async (_req, reply) => {
    const st = bot.status();
    const extra = d.health?.();
    const components = { ...st.components, ...extra?.components, http: shuttingDown ? { status: 'degraded' as const, reason: 'shutting down' } : { status: 'healthy' as const, reason: null } };
    const status = overallHealth(components);
    return reply.code(status === 'unhealthy' ? 503 : 200).send({ status, ...extra?.fields, mode: st.mode, state: st.state, pair: st.pair, components, ready: readiness().ready });
  });

  app.get('/metrics', async (_req, reply) => {
    attach();
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).send(text);
  });

  registerOperatorApi(app, { bot, operator: d.operator, intake: d.intake, activity, metrics, settings, log });

  let closing: Promise<void> | null = null;
  return {
    app, metrics, intake, activity,
    get shuttingDown() {
      return shuttingDown;
    },
    async listen(at) {
      const address = await app.listen({ host: at?.host ?? settings.host, port: at?.port ?? settings.port });
      log.info('http.listening', { address }, `HTTP on ${address} (webhook${settings.webhook.passphrase ? ' passphrase' : ''}${settings.webhook.hmacSecret ? ' hmac' : ''}${settings.token ? ', operator API' : ', operator API off: no token'})`);
      return address;
    },
    beginShutdown() {
      shuttingDown = true;
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        clearInterval(attachTimer);
        await app.close(); // stops accepting; waits for the requests in flight
        loop.disable();
        await new Promise((r) => setImmediate(r)); // alerts accepted by the last requests reach the bus
        log.info('http.closed', {});
      })();
      return closing;
    },
  };
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
}

export type { FastifyReply, FastifyRequest };
