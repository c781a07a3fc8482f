/**
 * `tollgate intake`: the webhook intake as its own small process (its own pm2 app), so an alert is taken
 * while the bot is deployed, restarted or crashed. TradingView does not retry: whatever reaches us must be
 * kept. The process checks an alert exactly like the bot's own `POST /webhook` (the same rules, http/webhook.ts)
 * and writes it to a SQLite file (WAL, busy timeout) before the 202; a bot run with `--intake-store FILE`
 * polls that file and hands every row still `accepted` to its bus, once (http/intake.ts).
 *
 *   POST /webhook        as the bot's: passphrase (TradingView) or HMAC, 202 with the signal id, repeats deduplicated
 *   GET  /health/live    the process
 *   GET  /health/ready   200 when the intake file can be read (503 from the start of a shutdown)
 *   GET  /health         the same with the number of alerts still waiting for the bot
 *
 * No bot, no exchange, no operator API here: a deploy of the bot never restarts it.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import Fastify from 'fastify';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import type { Config } from '../config/schema.ts';
import { rotationOf } from '../adapters/jsonl/rotating-file.ts';
import { buildMarkets, InputError } from '../engine/wiring.ts';
import { acceptAlert } from '../http/intake.ts';
import { authenticatedAlert, dedupKey, sourceOf, WebhookError } from '../http/webhook.ts';
import { httpSettings } from './cli-http.ts';
import { createPinoLogger } from '../adapters/log/pino-logger.ts';

export const DEFAULT_INTAKE_STORE = 'data/intake.db';

export interface IntakeServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the intake server (exported for tests); the store file is created and migrated if missing. */
export async function startIntake(o: { listen: string; store: string; pair: string; config: Config; logs: string; logLevel?: string }): Promise<IntakeServer> {
  const markets = buildMarkets(o.config);
  if (!markets.has(o.pair)) throw new InputError(`unknown pair ${o.pair} (known: ${[...markets.keys()].join(', ')})`);
  const http = httpSettings(o.listen, o.config, null);
  if (http.settings.webhook.passphrase === null && http.settings.webhook.hmacSecret === null) {
    throw new InputError('tollgate intake: no webhook secret is set (TOLLGATE_WEBHOOK_PASSPHRASE[_FILE] or TOLLGATE_WEBHOOK_HMAC_SECRET[_FILE]): every alert would be refused');
  }
  let logger;
  try {
    logger = createPinoLogger({ file: join(o.logs, 'intake.jsonl'), level: o.logLevel ?? 'info', pretty: false, secrets: http.secrets, rotate: rotationOf(o.config.logs?.rotate) }).child({ component: 'intake' });
  } catch (e) {
    throw new InputError(`intake log: ${(e as Error).message}`);
  }
  let store: SqliteStateStore;
  try {
    store = SqliteStateStore.open(o.store, { synchronous: 'FULL' });
  } catch (e) {
    if (e instanceof StateDbError) throw new InputError(`--store: ${e.message}`);
    throw e;
  }
  const s = http.settings.webhook;
  const clock = new SystemClock();
  let shuttingDown = false;
  const app = Fastify({ logger: false, bodyLimit: http.settings.bodyLimit, trustProxy: false, return503OnClosing: true, forceCloseConnections: 'idle', connectionTimeout: 10_000, requestTimeout: 10_000 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      logger.error('intake.error', { reqId: req.id, error: err.message }, 'internal error in the intake');
      return reply.code(500).send({ error: 'INTERNAL', message: `internal error (request ${req.id}; see the operational log)` });
    }
    return reply.code(status).send({ error: status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : (err.code ?? 'BAD_REQUEST'), message: err.message });
  });

  app.post('/webhook', async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const source = sourceOf(req.headers);
    const now = clock.now();
    try {
      const { alert } = authenticatedAlert(raw, req, s, o.pair, now);
      const r = acceptAlert(store, now, s.dedupWindowMs, alert, source, dedupKey(source, raw, alert.id));
      if (r.kind === 'conflict') throw new WebhookError(409, 'ID_REUSED', `field id: already used by another alert (signal ${r.signalId}); use a new id for a new alert`);
      logger.info(r.kind === 'repeated' ? 'webhook.repeated' : 'webhook.accepted', { reqId: req.id, signalId: r.reply.signalId, source, pair: alert.pair, side: alert.side });
      if (r.kind === 'repeated') reply.header('idempotent-replayed', 'true');
      return reply.code(202).send({ ...r.reply, repeated: r.kind === 'repeated' });
    } catch (e) {
      if (!(e instanceof WebhookError)) throw e;
      logger.warn('webhook.refused', { reqId: req.id, source, status: e.status, code: e.code, ip: req.socket.remoteAddress ?? null }, e.message);
      return reply.code(e.status).send({ error: e.code, message: e.message });
    }
  });
  const pending = (): number | null => {
    try {
      return store.pendingIntake().length;
    } catch {
      return null;
    }
  };
  app.get('/health/live', async () => ({ status: 'live', uptimeSeconds: Math.round(process.uptime()) }));
  app.get('/health/ready', async (_req, reply) => {
    const n = shuttingDown ? null : pending();
    return reply.code(n === null ? 503 : 200).send({ status: n === null ? 'not_ready' : 'ready', reasons: shuttingDown ? ['shutting down'] : n === null ? [`cannot read ${o.store}`] : [] });
  });
  app.get('/health', async () => ({ status: pending() === null ? 'unhealthy' : 'healthy', component: 'intake', store: o.store, waitingForBot: pending() }));

  let address: string;
  try {
    address = await app.listen({ host: http.settings.host, port: http.settings.port });
  } catch (e) {
    store.close();
    throw new InputError(`--http ${o.listen}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  logger.info('intake.listening', { address, store: o.store }, `webhook intake on ${address}, writing to ${o.store}`);
  let closing: Promise<void> | null = null;
  return {
    address,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        await app.close(); // requests in flight finish: their rows are written before their 202
        store.close();
        logger.info('intake.closed', {});
        await logger.close();
      })();
      return closing;
    },
  };
}

export function registerIntakeCommand(program: Command, loadConfig: (file: string | undefined) => Config): void {
  program
    .command('intake')
    .description('the webhook intake alone (its own process, not restarted by a bot deploy): checks alerts and keeps them in --store until a bot run with --intake-store takes them')
    .requiredOption('--http <host:port>', 'where to listen, e.g. 127.0.0.1:8081')
    .option('--store <file>', 'the SQLite file the alerts are written to', DEFAULT_INTAKE_STORE)
    .option('--pair <pair>', "the bot's pair (an alert for another pair is refused)", 'BTC/USD')
    .option('--config <file>', "the bot's JSON config (strategy names); default: built-in defaults")
    .option('--logs <dir>', 'directory of the operational log (intake.jsonl)', 'logs')
    .option('--log-level <level>', 'operational log level', 'info')
    .action(async (o: { http: string; store: string; pair: string; config?: string; logs: string; logLevel: string }) => {
      const server = await startIntake({ listen: o.http, store: o.store, pair: o.pair, config: loadConfig(o.config), logs: o.logs, logLevel: o.logLevel });
      process.stderr.write(`intake: listening on ${server.address}\n`);
      process.send?.('ready');
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
