import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, harness, TOKEN, until, type Harness } from './http-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
  await until(() => (h.bot.pipeline?.portfolio.closedTrades.length ?? 0) > 0 || h.bot.status().candles > 200, 'some candles', 20_000);
});
afterAll(async () => {
  await h.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (url: string, headers: Record<string, string> = auth) => h.http.app.inject({ method: 'GET', url, headers });
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  h.http.app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { ...auth, 'content-type': 'application/json', ...headers } });

/** Prometheus text exposition → { 'name{labels}': value } */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}
const sum = (m: Map<string, number>, name: string) => [...m].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((a, [, v]) => a + v, 0);

describe('health', () => {
  it('when the replay runs then live and ready are 200 and /health lists every component healthy', async () => {
    const live = await get('/health/live', {});
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: 'live' });
    const ready = await get('/health/ready', {});
    expect(ready.statusCode).toBe(200);
    const health = await get('/health', {});
    expect(health.json()).toMatchObject({ status: 'healthy', mode: 'replay', state: 'running', components: { engine: { status: 'healthy', reason: null }, venue: { status: 'healthy' }, entries: { status: 'healthy' }, http: { status: 'healthy' } } });
    expect(health.headers['x-request-id']).toBeTruthy();
    expect(health.headers['x-content-type-options']).toBe('nosniff'); // helmet
  });

  it('when entries are paused through the API then ready is 503 with the reason, /health degraded, and resume brings it back', async () => {
    const p = await post('/api/v1/pause', { reason: 'maintenance window' }, { 'x-tollgate-actor': 'alice', 'idempotency-key': 'p-1' });
    expect(p.statusCode).toBe(200);
    expect(p.json()).toMatchObject({ command: 'pause', applied: true, paused: { by: expect.stringMatching(/^http:alice@[0-9a-f]{8}$/), reason: 'maintenance window' } });
    const ready = await get('/health/ready', {});
    expect(ready.statusCode).toBe(503);
    expect(ready.json().reasons).toEqual([expect.stringMatching(/^entries: entries paused by http:alice@[0-9a-f]{8}: maintenance window$/)]);
    expect((await get('/health', {})).json().status).toBe('degraded');
    const locks = await get('/api/v1/locks');
    expect(locks.json().locks[0]).toMatchObject({ kind: 'entries_paused', reason: 'maintenance window' });
    expect((await post('/api/v1/resume', { reason: 'done' })).statusCode).toBe(200);
    expect((await get('/health/ready', {})).statusCode).toBe(200);
    const audit = [...h.store.audit()].map((a) => [a.operation, a.actor, a.reason]);
    expect(audit.slice(-2)).toEqual([['control', expect.stringMatching(/^http:alice@/), 'maintenance window'], ['control', expect.stringMatching(/^http:api@/), 'done']]);
  });
});

describe('/metrics', () => {
  it('when scraped it parses as Prometheus text with tollgate_ names, and counters move with activity', async () => {
    const before = parseProm((await get('/metrics', {})).body);
    expect(before.has('tollgate_process_cpu_user_seconds_total')).toBe(true);
    for (const k of before.keys()) expect(k.startsWith('tollgate_'), k).toBe(true);
    const r = await h.http.app.inject({ method: 'POST', url: '/webhook', payload: alert({ id: 'metrics-1' }, h.clock), headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(202);
    await h.http.app.inject({ method: 'POST', url: '/webhook', payload: alert({ passphrase: 'wrong-but-long-enough' }), headers: { 'content-type': 'application/json' } });
    await until(() => h.store.intake(r.json().signalId)?.decision != null, 'the verdict');
    const candlesBefore = before.get('tollgate_candles')!;
    await until(() => h.bot.status().candles > candlesBefore + 3, 'more candles');
    const after = parseProm((await get('/metrics', {})).body);
    expect(after.get('tollgate_webhook_requests_total{outcome="accepted"}')).toBe((before.get('tollgate_webhook_requests_total{outcome="accepted"}') ?? 0) + 1);
    expect(after.get('tollgate_webhook_requests_total{outcome="AUTH_FAILED"}')).toBe((before.get('tollgate_webhook_requests_total{outcome="AUTH_FAILED"}') ?? 0) + 1);
    expect(sum(after, 'tollgate_signals_total')).toBeGreaterThan(sum(before, 'tollgate_signals_total'));
    expect(after.get('tollgate_signals_total{strategy="ema_cross",pair="BTC/USD",source="webhook"}')).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'tollgate_verdicts_total')).toBeGreaterThan(sum(before, 'tollgate_verdicts_total'));
    expect(after.get('tollgate_decision_latency_seconds_count')).toBeGreaterThan(before.get('tollgate_decision_latency_seconds_count') ?? 0);
    expect(after.get('tollgate_candles')).toBeGreaterThan(candlesBefore);
    expect(after.has('tollgate_equity')).toBe(true);
    expect(after.get('tollgate_component_health{component="engine"}')).toBe(0);
    // low cardinality: no label carries an id
    for (const k of after.keys()) expect(k, k).not.toMatch(/wh-|signalId|[0-9a-f]{8}-[0-9a-f]{4}/);
  });
});

describe('operator API', () => {
  it('when the token is missing or wrong then every route is 401 without saying more, and the token is never logged', async () => {
    for (const url of ['/api/v1/status', '/api/v1/positions', '/api/v1/logs']) {
      const none = await get(url, {});
      expect(none.statusCode).toBe(401);
      expect(none.json().error).toBe('TOKEN_MISSING');
      const wrong = await get(url, { authorization: `Bearer ${TOKEN}x` });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toEqual({ error: 'AUTH_FAILED', message: 'authentication failed' });
      expect((await get(url, { authorization: 'Basic abc' })).statusCode).toBe(401);
    }
    const cmd = await h.http.app.inject({ method: 'POST', url: '/api/v1/buy', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(cmd.statusCode).toBe(401);
    expect(JSON.stringify(h.logger.records)).not.toContain(TOKEN);
  });

  it('when the read routes are asked then each answers 200 with exact decimal strings', async () => {
    const status = (await get('/api/v1/status')).json();
    expect(status.bot).toMatchObject({ mode: 'replay', pair: 'BTC/USD', state: 'running' });
    const balance = (await get('/api/v1/balance')).json();
    expect(balance.cash.USD).toMatch(/^-?\d+(\.\d+)?$/);
    expect(balance.equity).toMatch(/^\d+(\.\d+)?$/);
    expect((await get('/api/v1/positions')).json()).toHaveProperty('positions');
    expect((await get('/api/v1/orders')).json()).toHaveProperty('orders');
    expect((await get('/api/v1/orders?open=true')).json()).toHaveProperty('orders');
    const trades = (await get('/api/v1/trades?limit=5')).json();
    expect(trades.trades.length).toBeLessThanOrEqual(5);
    const signals = (await get('/api/v1/signals?limit=10')).json();
    expect(signals.signals.length).toBeGreaterThan(0);
    expect(signals.signals[0]).toHaveProperty('decision');
    const profit = (await get('/api/v1/profit')).json();
    expect(profit.realizedPnl).toMatch(/^-?\d+(\.\d+)?$/);
    const daily = (await get('/api/v1/daily?days=3')).json();
    expect(daily.days).toHaveLength(3);
    expect((await get('/api/v1/performance')).json()).toHaveProperty('performance');
    const guards = (await get('/api/v1/guards')).json();
    expect(guards.guards.map((g: { code: string }) => g.code)).toContain('COOLDOWN');
    expect((await get('/api/v1/locks')).json()).toHaveProperty('locks');
    expect((await get('/api/v1/logs')).statusCode).toBe(404); // this run has no log file
    expect((await get('/api/v1/signals/nope')).statusCode).toBe(404);
    expect((await get('/api/v1/trades?limit=abc')).json()).toEqual({ error: 'PARAM_VALUE', message: 'query limit: expected a whole number from 1 to 10000' });
    expect((await get('/api/v1/nothing')).statusCode).toBe(404);
  });

  it('when a guard is switched with a reason then the running bot applies it, it is audited, and a bad code or mode is a 422 naming it', async () => {
    const r = await post('/api/v1/guards/COOLDOWN', { mode: 'observe', reason: 'testing' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ applied: true, guard: { code: 'COOLDOWN', to: 'observe' } });
    expect(h.bot.guardModes().find((g) => g.code === 'COOLDOWN')?.mode).toBe('observe');
    const bad = await post('/api/v1/guards/NOPE', { mode: 'off', reason: 'x' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().message).toMatch(/guard NOPE: not a guard code/);
    expect((await post('/api/v1/guards/COOLDOWN', { mode: 'sometimes', reason: 'x' })).json().message).toMatch(/mode sometimes: expected enforce, observe, off/);
    expect((await post('/api/v1/guards/COOLDOWN', { mode: 'off' })).json()).toEqual({ error: 'FIELD_MISSING', message: 'field reason missing' });
    await post('/api/v1/guards/COOLDOWN', { mode: 'enforce', reason: 'back' });
  });

  it('when an operator books trades then an Idempotency-Key is required, a repeat answers the first answer, a reused key for another command is 409, and bad input is a 4xx with nothing written', async () => {
    expect((await post('/api/v1/setcash', { currency: 'USD', amount: '5000', reason: 'deposit' })).json().error).toBe('IDEMPOTENCY_KEY_MISSING');
    const cash = await post('/api/v1/setcash', { currency: 'usd', amount: '5000', reason: 'deposit' }, { 'idempotency-key': 'cash-1' });
    expect(cash.statusCode).toBe(200);
    const buy = await post('/api/v1/buy', { pair: 'BTC/USD', quantity: '0.01', price: '20000.5' }, { 'idempotency-key': 'buy-1' });
    expect(buy.statusCode).toBe(200);
    const again = await post('/api/v1/buy', { pair: 'BTC/USD', quantity: '0.01', price: '20000.5' }, { 'idempotency-key': 'buy-1' });
    expect(again.json()).toMatchObject({ repeated: true, seq: buy.json().seq });
    const conflict = await post('/api/v1/buy', { pair: 'BTC/USD', quantity: '0.02', price: '20000.5' }, { 'idempotency-key': 'buy-1' });
    expect(conflict.statusCode).toBe(409);
    expect(h.store.snapshot().cash.find((c) => c.currency === 'USD')?.amount).toBe('4799.995'); // exact: 5000 − 0.01 × 20000.5
    const seq = h.store.snapshot().sequence;
    const refusals: Array<[unknown, number, RegExp]> = [
      [{ pair: 'BTC/USD', quantity: 'lots', price: '1' }, 422, /"lots" is not a decimal amount/],
      [{ pair: 'BTC/USD', quantity: 5, price: '100000' }, 422, /insufficient USD cash/],
      [{ pair: 'NOPE/USD', quantity: '1', price: '1' }, 422, /unknown pair NOPE\/USD/],
      [{ quantity: '1' }, 400, /field pair missing/],
      [{ pair: ['BTC/USD'], quantity: '1' }, 400, /field pair: expected a string, got object/],
      ['{not json', 400, /body is not valid JSON/],
    ];
    for (const [b, status, msg] of refusals) {
      const r = await post('/api/v1/buy', b, { 'idempotency-key': `bad-${Math.random()}` });
      expect(r.statusCode, JSON.stringify(b)).toBe(status);
      expect(r.json().message).toMatch(msg);
    }
    expect((await post('/api/v1/sell', { pair: 'BTC/USD', quantity: '0.005', price: '21000' }, { 'idempotency-key': 'sell-1' })).statusCode).toBe(200);
    const close = await post('/api/v1/close', { positionId: 'nope' }, { 'idempotency-key': 'close-1' });
    expect(close.statusCode).toBe(422);
    expect(h.store.snapshot().sequence).toBe(seq + 1); // only the sell
    const actors = [...h.store.audit()].filter((a) => a.operation !== 'control').map((a) => a.actor);
    expect(new Set(actors)).toEqual(new Set([expect.stringMatching(/^http:api@[0-9a-f]{8}$/)]));
  });
});
