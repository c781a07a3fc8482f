/**
 * The operator API, `/api/v1/...` (Freqtrade's REST API is the checklist). Every command goes through the
 * operator service (idempotency, audit with its caller); reads come from the running engine, the operator
 * service and the webhook intake. Bearer token (constant-time compared), rate limited.
 *
 *   GET  status balance positions orders trades signals signals/:id profit daily performance guards locks logs
 *   POST buy sell setcash close            (Idempotency-Key header required)
 *   POST pause resume guards/:code         (Idempotency-Key optional; a reason is required where the service asks)
 *   GET  holdings; POST manage unmanage    (bot-managed positions vs external holdings; Idempotency-Key required)
 *
 * The caller in the audit log is `http:<name>@<token fingerprint>`: <name> from the X-Tollgate-Actor header
 * (letters, digits, `._-`), else `api`; the fingerprint is the first 8 hex of the token's SHA-256, never the token.
 */
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BotStateError, type Bot } from '../engine/bot.ts';
import { tailLines } from '../engine/reporting.ts';
import { Dec } from '../domain/money.ts';
import { DAY_MS, isoTime, utcDayStart } from '../domain/time.ts';
import type { ClosedTrade, Position } from '../domain/types.ts';
import { OperatorError, type Caller, type OperatorService } from '../operator/service.ts';
import type { Logger } from '../ports/logger.ts';
import type { Activity } from './activity.ts';
import type { HttpSettings } from './config.ts';
import { intakeView, type IntakeStore } from './intake.ts';
import type { Metrics } from './metrics.ts';
import { secretEquals } from './webhook.ts';

export interface OperatorApiDeps {
  readonly bot: Bot;
  readonly operator: OperatorService;
  readonly intake: IntakeStore;
  readonly activity: Activity;
  readonly metrics: Metrics;
  readonly settings: HttpSettings;
  readonly log: Logger;
}

export class ApiError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}

const ACTOR = /^[A-Za-z0-9._-]{1,32}$/;
const KEY = /^[A-Za-z0-9._:-]{1,128}$/;

function body(req: FastifyRequest): Record<string, unknown> {
  const raw = typeof req.body === 'string' ? req.body.trim() : '';
  if (raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'MALFORMED_JSON', 'body is not valid JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'NOT_AN_OBJECT', 'body: expected a JSON object');
  return v as Record<string, unknown>;
}

function str(b: Record<string, unknown>, name: string, o: { required?: boolean; decimal?: boolean } = {}): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) {
    if (o.required) throw new ApiError(400, 'FIELD_MISSING', `field ${name} missing`);
    return undefined;
  }
  const s = typeof v === 'number' && o.decimal && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') throw new ApiError(400, 'FIELD_TYPE', `field ${name}: expected a ${o.decimal ? 'decimal string' : 'string'}, got ${typeof v}`);
  if (s.length > 200) throw new ApiError(400, 'FIELD_VALUE', `field ${name}: longer than 200 characters`);
  return s;
}

function intParam(v: unknown, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v) || n < 1 || n > max) throw new ApiError(400, 'PARAM_VALUE', `query ${name}: expected a whole number from 1 to ${max}`);
  return n;
}

const d = (x: Dec) => x.toFixed();

function positionView(p: Position, mark: number | null) {
  const held = p.quantity;
  const cost = p.entryQuantity.isZero() ? new Dec(0) : p.entryCost.mul(held).div(p.entryQuantity);
  const value = mark === null ? null : held.mul(mark);
  return {
    signalId: p.signalId, strategy: p.strategy, pair: p.pair, quantity: d(held),
    entryPrice: p.entryQuantity.isZero() ? null : d(p.entryCost.div(p.entryQuantity)), entryFees: d(p.entryFees), openedAt: isoTime(p.openedTs),
    markPrice: mark === null ? null : String(mark), value: value === null ? null : d(value), unrealizedPnl: value === null ? null : d(value.minus(cost).minus(p.entryFees)),
  };
}

function tradeView(t: ClosedTrade) {
  return {
    signalId: t.signalId, strategy: t.strategy, pair: t.pair, side: t.side, quantity: d(t.quantity), entryAt: isoTime(t.entryTs), entryPrice: d(t.entryPrice),
    exitAt: isoTime(t.exitTs), exitPrice: d(t.exitPrice), exitReason: t.exitReason, fees: d(t.fees), pnl: d(t.pnl), pnlRatio: t.pnlRatio,
  };
}

/** Maps the operator service's refusals to 4xx by their class (the ledger's classes live in portfolio/, which http does not import). */
function commandError(e: unknown): ApiError | null {
  if (e instanceof ApiError) return e;
  if (e instanceof BotStateError) return new ApiError(409, 'BOT_STATE', e.message);
  if (e instanceof OperatorError) return new ApiError(422, 'REFUSED', e.message);
  const name = e instanceof Error ? e.constructor.name : '';
  if (name === 'IdempotencyConflictError') return new ApiError(409, 'IDEMPOTENCY_CONFLICT', (e as Error).message);
  if (name === 'LedgerRuleError' || name === 'HoldingsError') return new ApiError(422, 'REFUSED', (e as Error).message);
  if (name === 'StateDbError') return new ApiError(503, 'STATE_UNAVAILABLE', (e as Error).message);
  return null;
}

export function registerOperatorApi(app: FastifyInstance, x: OperatorApiDeps): void {
  const { bot, operator, settings } = x;
  const fingerprint = settings.token ? createHash('sha256').update(settings.token).digest('hex').slice(0, 8) : '';

  const caller = (req: FastifyRequest, keyRequired: boolean): Caller => {
    const name = req.headers['x-tollgate-actor'];
    if (name !== undefined && (typeof name !== 'string' || !ACTOR.test(name))) throw new ApiError(400, 'HEADER_VALUE', 'X-Tollgate-Actor: letters, digits, . _ - only, at most 32');
    const key = req.headers['idempotency-key'];
    if (key === undefined && keyRequired) throw new ApiError(400, 'IDEMPOTENCY_KEY_MISSING', 'Idempotency-Key header missing: a retried command must not be booked twice');
    if (key !== undefined && (typeof key !== 'string' || !KEY.test(key))) throw new ApiError(400, 'HEADER_VALUE', 'Idempotency-Key: 1 to 128 of letters, digits, . _ : -');
    return { actor: `http:${(name as string | undefined) ?? 'api'}@${fingerprint}`, ...(key !== undefined ? { idempotencyKey: `http:${key as string}` } : {}) };
  };

  const send = async (reply: FastifyReply, fn: () => unknown, status = 200) => {
    try {
      return reply.code(status).send(fn());
    } catch (e) {
      const a = commandError(e);
      if (!a) throw e;
      return reply.code(a.statusCode).send({ error: a.code, message: a.message });
    }
  };

  void app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        if (settings.token === null) return reply.code(401).send({ error: 'API_DISABLED', message: 'the operator API is off: no token is configured (TOLLGATE_HTTP_TOKEN or TOLLGATE_HTTP_TOKEN_FILE)' });
        const h = req.headers.authorization;
        const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
        if (!m) return reply.code(401).header('www-authenticate', 'Bearer realm="tollgate"').send({ error: 'TOKEN_MISSING', message: 'Authorization: Bearer <token> header missing' });
        if (!secretEquals(m[1]!, settings.token)) {
          x.log.warn('http.auth_failed', { reqId: req.id, ip: req.socket.remoteAddress ?? null });
          return reply.code(401).header('www-authenticate', 'Bearer realm="tollgate", error="invalid_token"').send({ error: 'AUTH_FAILED', message: 'authentication failed' });
        }
      });
      const limit = { config: { rateLimit: { max: settings.rateLimitPerMinute, timeWindow: 60_000 } } };
      const cmdLimit = { config: { rateLimit: { max: Math.max(1, Math.floor(settings.rateLimitPerMinute / 4)), timeWindow: 60_000 } } };
      const parts = () => bot.pipeline;
      const mark = (pair: string): number | null => x.activity.lastClose(pair);

      api.get('/status', limit, async (_req, reply) => send(reply, () => operator.status()));

      api.get('/balance', limit, async (_req, reply) => send(reply, () => {
        const p = parts();
        const cash = p ? Object.fromEntries([...p.portfolio.cashBalances()].map(([c, v]) => [c, d(v)])) : {};
        return { cash, equity: p ? d(p.kernel.equity()) : null, startingBalance: p ? d(p.portfolio.startingBalance) : null, ledger: operator.status().ledger };
      }));

      api.get('/positions', limit, async (_req, reply) => send(reply, () => ({ positions: (parts()?.portfolio.openPositions() ?? []).map((pos) => positionView(pos, mark(pos.pair))) })));

      api.get('/orders', limit, async (req, reply) => send(reply, () => {
        const q = req.query as Record<string, unknown>;
        return { orders: x.activity.recentOrders(intParam(q.limit, 'limit', 100, 1000), q.open === 'true') };
      }));

      api.get('/trades', limit, async (req, reply) => send(reply, () => {
        const n = intParam((req.query as Record<string, unknown>).limit, 'limit', 100, 10_000);
        const all = parts()?.portfolio.closedTrades ?? [];
        return { total: all.length, trades: all.slice(-n).reverse().map(tradeView) };
      }));

      api.get('/signals', limit, async (req, reply) => send(reply, () => {
        const n = intParam((req.query as Record<string, unknown>).limit, 'limit', 100, 1000);
        return { signals: x.activity.recentSignals(n), webhook: x.intake.recentIntake(n).map(intakeView) };
      }));

      api.get('/signals/:id', limit, async (req, reply) => {
        const id = (req.params as { id: string }).id;
        if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) return reply.code(400).send({ error: 'PARAM_VALUE', message: 'signal id: letters, digits, . _ : - only, at most 128' });
        const row = x.intake.intake(id);
        const live = x.activity.signal(id);
        if (!row && !live) return reply.code(404).send({ error: 'NOT_FOUND', message: `no signal ${id} (webhook signals are kept; others only while recent)` });
        return { signalId: id, ...(row ? { webhook: intakeView(row) } : {}), ...(live ? { engine: live } : {}) };
      });

      api.get('/profit', limit, async (_req, reply) => send(reply, () => {
        const p = parts();
        const trades = p?.portfolio.closedTrades ?? [];
        const wins = trades.filter((t) => t.pnl.gt(0)).length;
        const pnls = trades.map((t) => t.pnl);
        const best = pnls.reduce<Dec | null>((a, b) => (a === null || b.gt(a) ? b : a), null);
        const worst = pnls.reduce<Dec | null>((a, b) => (a === null || b.lt(a) ? b : a), null);
        return {
          realizedPnl: p ? d(p.portfolio.realizedPnl) : '0', fees: p ? d(p.portfolio.fees) : '0', equity: p ? d(p.kernel.equity()) : null,
          startingBalance: p ? d(p.portfolio.startingBalance) : null, trades: trades.length, wins, losses: trades.length - wins,
          winRate: trades.length ? wins / trades.length : null, bestTrade: best ? d(best) : null, worstTrade: worst ? d(worst) : null,
          openPositions: p?.portfolio.openCount ?? 0, summary: bot.status().summary,
        };
      }));

      api.get('/daily', limit, async (req, reply) => send(reply, () => {
        const days = intParam((req.query as Record<string, unknown>).days, 'days', 7, 366);
        const today = utcDayStart(bot.now());
        const by = new Map<number, { trades: number; pnl: Dec; fees: Dec }>();
        for (const t of parts()?.portfolio.closedTrades ?? []) {
          const day = utcDayStart(t.exitTs);
          if (day <= today - days * DAY_MS) continue;
          const e = by.get(day) ?? { trades: 0, pnl: new Dec(0), fees: new Dec(0) };
          e.trades++;
          e.pnl = e.pnl.plus(t.pnl);
          e.fees = e.fees.plus(t.fees);
          by.set(day, e);
        }
        const out = [];
        for (let i = 0; i < days; i++) {
          const day = today - i * DAY_MS;
          const e = by.get(day);
          out.push({ date: isoTime(day).slice(0, 10), trades: e?.trades ?? 0, pnl: e ? d(e.pnl) : '0', fees: e ? d(e.fees) : '0' });
        }
        return { days: out };
      }));

      api.get('/performance', limit, async (_req, reply) => send(reply, () => {
        const by = new Map<string, { strategy: string; pair: string; trades: number; wins: number; pnl: Dec; fees: Dec }>();
        for (const t of parts()?.portfolio.closedTrades ?? []) {
          const k = `${t.strategy}|${t.pair}`;
          const e = by.get(k) ?? { strategy: t.strategy, pair: t.pair, trades: 0, wins: 0, pnl: new Dec(0), fees: new Dec(0) };
          e.trades++;
          if (t.pnl.gt(0)) e.wins++;
          e.pnl = e.pnl.plus(t.pnl);
          e.fees = e.fees.plus(t.fees);
          by.set(k, e);
        }
        return { performance: [...by.values()].sort((a, b) => b.pnl.comparedTo(a.pnl)).map((e) => ({ ...e, pnl: d(e.pnl), fees: d(e.fees) })) };
      }));

      api.get('/guards', limit, async (_req, reply) => send(reply, () => ({ guards: operator.guards() })));

      api.post('/guards/:code', cmdLimit, async (req, reply) => send(reply, () => {
        const b = body(req);
        const code = (req.params as { code: string }).code;
        return operator.setGuardMode(caller(req, false), code.slice(0, 40), str(b, 'mode', { required: true })!, str(b, 'reason', { required: true })!);
      }));

      api.get('/locks', limit, async (_req, reply) => send(reply, () => {
        const st = bot.status();
        const locks: Array<{ kind: string; reason: string; by?: string; since?: string }> = [];
        if (st.paused) locks.push({ kind: 'entries_paused', reason: st.paused.reason, by: st.paused.by, since: isoTime(st.paused.since) });
        if (st.venue.halted) locks.push({ kind: 'venue_halted', reason: st.venue.halted });
        if (st.reconciliation?.halted) locks.push({ kind: 'reconciliation_halted', reason: `${st.reconciliation.differences} difference(s)` });
        for (const g of st.guards) if (g.mode !== 'enforce') locks.push({ kind: `guard_${g.mode}`, reason: `${g.code} is ${g.mode}` });
        return { locks };
      }));

      api.post('/pause', cmdLimit, async (req, reply) => send(reply, () => operator.pause(caller(req, false), str(body(req), 'reason', { required: true })!)));
      api.post('/resume', cmdLimit, async (req, reply) => send(reply, () => operator.resume(caller(req, false), str(body(req), 'reason') ?? 'resumed')));

      const trade = (b: Record<string, unknown>) => ({
        pair: str(b, 'pair', { required: true })!, quantity: str(b, 'quantity', { required: true, decimal: true })!,
        ...(b.price !== undefined ? { price: str(b, 'price', { decimal: true })! } : {}), ...(b.fee !== undefined ? { fee: str(b, 'fee', { decimal: true })! } : {}),
        ...(b.positionId !== undefined ? { positionId: str(b, 'positionId')! } : {}), ...(b.reason !== undefined ? { reason: str(b, 'reason')! } : {}),
      });
      api.post('/buy', cmdLimit, async (req, reply) => send(reply, () => operator.buy(caller(req, true), trade(body(req)))));
      api.post('/sell', cmdLimit, async (req, reply) => send(reply, () => operator.sell(caller(req, true), trade(body(req)))));
      api.post('/setcash', cmdLimit, async (req, reply) => send(reply, () => {
        const b = body(req);
        return operator.setCash(caller(req, true), { currency: str(b, 'currency', { required: true })!, amount: str(b, 'amount', { required: true, decimal: true })!, reason: str(b, 'reason', { required: true })! });
      }));
      api.post('/close', cmdLimit, async (req, reply) => send(reply, () => {
        const b = body(req);
        return operator.close(caller(req, true), {
          positionId: str(b, 'positionId', { required: true })!, ...(b.price !== undefined ? { price: str(b, 'price', { decimal: true })! } : {}),
          ...(b.fee !== undefined ? { fee: str(b, 'fee', { decimal: true })! } : {}), ...(b.reason !== undefined ? { reason: str(b, 'reason')! } : {}),
        });
      }));

      // bot-managed positions vs external holdings (the venue's balance the bot did not buy): through the Bot, audited
      api.get('/holdings', limit, async (_req, reply) => send(reply, () => {
        const h = bot.holdings();
        if (!h) throw new ApiError(404, 'NO_HOLDINGS', `a ${bot.mode} run keeps no state of venue holdings (sim and live runs do)`);
        return h;
      }));
      api.post('/manage', cmdLimit, async (req, reply) => send(reply, () => {
        const b = body(req);
        return bot.manage(caller(req, true), {
          pair: str(b, 'pair', { required: true })!, quantity: str(b, 'quantity', { required: true, decimal: true })!,
          ...(b.price !== undefined ? { price: str(b, 'price', { decimal: true })! } : {}), ...(b.reason !== undefined ? { reason: str(b, 'reason')! } : {}),
        });
      }));
      api.post('/unmanage', cmdLimit, async (req, reply) => send(reply, () => {
        const b = body(req);
        return bot.unmanage(caller(req, true), {
          pair: str(b, 'pair', { required: true })!, quantity: str(b, 'quantity', { required: true, decimal: true })!,
          ...(b.positionId !== undefined ? { positionId: str(b, 'positionId')! } : {}), ...(b.reason !== undefined ? { reason: str(b, 'reason')! } : {}),
        });
      }));

      api.get('/logs', limit, async (req, reply) => send(reply, () => {
        const n = intParam((req.query as Record<string, unknown>).lines, 'lines', 100, 1000);
        if (!settings.logFile) throw new ApiError(404, 'NO_LOG_FILE', 'this run writes no operational log file');
        return { file: settings.logFile, lines: tail(settings.logFile, n) };
      }));
    },
    { prefix: '/api/v1' },
  );
}

/** The last `n` lines of a JSONL log (its rotated segments too, at most 1 MiB read), parsed where they are JSON. */
function tail(file: string, n: number): unknown[] {
  return tailLines(dirname(file), basename(file), n, 1024 * 1024).map((l) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      return l;
    }
  });
}
