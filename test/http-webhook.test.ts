import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../src/http/webhook.ts';
import { alert, harness, HMAC_SECRET, PASSPHRASE, until, type Harness } from './http-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.close();
});

const post = (payload: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  h.http.app.inject({ method: 'POST', url: '/webhook', payload, headers });

const intakeRows = () => h.store.recentIntake(10_000).length;

describe('POST /webhook: TradingView body shapes', () => {
  it('when TradingView sends a valid JSON alert as application/json then it is accepted with 202, the signal id and processing ms, written before the reply, and decided by the engine', async () => {
    const r = await post(alert({ id: 'shape-json' }));
    expect(r.statusCode).toBe(202);
    const b = r.json();
    expect(b).toMatchObject({ status: 'accepted', pair: 'BTC/USD', side: 'buy', repeated: false });
    expect(b.signalId).toMatch(/^wh-/);
    expect(typeof b.processingMs).toBe('number');
    expect(h.store.intake(b.signalId)).toBeDefined(); // durable before the reply
    await until(() => h.store.intake(b.signalId)?.decision != null || h.store.intake(b.signalId)?.state === 'failed', 'the verdict');
    const row = h.store.intake(b.signalId)!;
    expect(row.status).toBe('submitted');
    expect(['approved', 'blocked']).toContain(row.decision);
  });

  it('when the message comes as text/plain JSON with a trailing newline then it is read the same and accepted', async () => {
    const r = await post(alert({ id: 'shape-text' }) + '\n', { 'content-type': 'text/plain; charset=utf-8' });
    expect(r.statusCode).toBe(202);
    expect(r.json().pair).toBe('BTC/USD');
  });

  it('when the ticker is BTCUSD, BTC/USD or XXBTZUSD then it maps to BTC/USD through the one pair source', async () => {
    for (const ticker of ['BTCUSD', 'BTC/USD', 'XXBTZUSD', 'BITSTAMP:BTCUSD']) {
      const r = await post(alert({ ticker, id: `t-${ticker}` }));
      expect(r.statusCode, ticker).toBe(202);
      expect(r.json().pair).toBe('BTC/USD');
    }
  });

  it('when a placeholder was left unreplaced then it is 400 naming the field and the placeholder, and nothing is written', async () => {
    const before = intakeRows();
    const r = await post(alert({ ticker: '{{ticker}}' }));
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: 'UNREPLACED_PLACEHOLDER', message: 'field ticker: unreplaced TradingView placeholder {{ticker}} (the alert is mis-set)' });
    const r2 = await post(alert({ price: '{{close}}', note: 'x' }));
    expect(r2.json().message).toMatch(/field price: unreplaced TradingView placeholder \{\{close\}\}/);
    expect(intakeRows()).toBe(before);
  });

  it('when the body is malformed, the wrong shape or has wrong types then each is a precise 400 and nothing is written', async () => {
    const before = intakeRows();
    const cases: Array<[string, RegExp]> = [
      ['{"passphrase": "x", ', /body is not valid JSON/],
      ['', /body is empty/],
      ['[1,2]', /body is JSON array, expected an object/],
      ['"text"', /body is JSON string, expected an object/],
      [alert({ ticker: 5 }), /field ticker: expected a string, got number/],
      [alert({ ticker: undefined }), /field ticker missing/],
      [alert({ ticker: 'KRAKEN:NOPE' }), /field ticker: unknown pair "KRAKEN:NOPE"/],
      [alert({ action: 'hold' }), /field action: expected buy or sell, got hold/],
      [alert({ price: 'abc' }), /field price: expected a positive decimal number, got abc/],
      [alert({ price: '0' }), /field price: must be greater than 0/],
      [alert({ price: -5 }), /field price: expected a positive decimal number/],
      [alert({ time: 'yesterday' }), /field time: expected an ISO 8601 time/],
      [alert({ confidence: 2 }), /field confidence: expected a number from 0 to 1, got 2/],
      [alert({ id: '' }), /field id: expected a non-empty string/],
    ];
    for (const [body, msg] of cases) {
      const r = await post(body);
      expect(r.statusCode, body).toBe(400);
      expect(r.json().message, body).toMatch(msg);
      expect(r.body).not.toContain(PASSPHRASE);
    }
    expect(intakeRows()).toBe(before);
  });

  it('when the pair or strategy is known but not traded or configured then it is a 422 naming it', async () => {
    const r = await post(alert({ ticker: 'KRAKEN:ETHUSD' }));
    expect(r.statusCode).toBe(422);
    expect(r.json().message).toBe('field ticker: ETH/USD is not traded by this bot (it trades BTC/USD)');
    const s = await post(alert({ strategy: 'mystery' }));
    expect(s.statusCode).toBe(422);
    expect(s.json().message).toMatch(/field strategy: mystery is not a configured strategy \(ema_cross, rsi_reversion, donchian_breakout\)/);
  });

  it('when the content type is neither JSON nor text or the body is too large then it is 415 or 413, never a 5xx', async () => {
    const r = await post('a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.statusCode).toBe(415);
    expect(r.json().error).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = await post(alert({ reason: 'x'.repeat(20_000) }));
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: 'BODY_TOO_LARGE', message: 'request body is larger than 16384 bytes' });
  });
});

describe('POST /webhook: authentication', () => {
  it('when the passphrase is missing or wrong then it is 401, the reply never says which part was wrong nor echoes it, and nothing is written', async () => {
    const before = intakeRows();
    const missing = await post(alert({ passphrase: undefined }));
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: 'PASSPHRASE_MISSING', message: 'passphrase missing: put "passphrase" in the alert message' });
    for (const wrong of [PASSPHRASE.slice(0, -1), PASSPHRASE + 'x', 'short', 12345]) {
      const r = await post(alert({ passphrase: wrong }));
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'AUTH_FAILED', message: 'authentication failed' });
    }
    expect(intakeRows()).toBe(before);
    expect(JSON.stringify(h.logger.records)).not.toContain(PASSPHRASE);
  });

  it('when an own script signs timestamp + body with HMAC-SHA256 then it is accepted without a passphrase; a bad signature, a missing or old timestamp is 401', async () => {
    const body = alert({ passphrase: undefined, id: 'signed-1' });
    const ts = h.clock.now();
    const ok = await post(body, { 'content-type': 'application/json', 'x-tollgate-timestamp': String(ts), 'x-tollgate-signature': signBody(HMAC_SECRET, ts, body) });
    expect(ok.statusCode).toBe(202);
    const before = intakeRows();
    const bad = await post(body, { 'content-type': 'application/json', 'x-tollgate-timestamp': String(ts), 'x-tollgate-signature': signBody('another-secret-123456', ts, body) });
    expect(bad.json()).toEqual({ error: 'AUTH_FAILED', message: 'authentication failed' });
    const tampered = await post(body.replace('1000.5', '1000.6'), { 'content-type': 'application/json', 'x-tollgate-timestamp': String(ts), 'x-tollgate-signature': signBody(HMAC_SECRET, ts, body) });
    expect(tampered.statusCode).toBe(401);
    const noTs = await post(body, { 'content-type': 'application/json', 'x-tollgate-signature': signBody(HMAC_SECRET, ts, body) });
    expect(noTs.json().error).toBe('TIMESTAMP_MISSING');
    const old = ts - 301_000;
    const replayed = await post(body, { 'content-type': 'application/json', 'x-tollgate-timestamp': String(old), 'x-tollgate-signature': signBody(HMAC_SECRET, old, body) });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().error).toBe('TIMESTAMP_OUTSIDE_WINDOW');
    const garbage = await post(body, { 'content-type': 'application/json', 'x-tollgate-timestamp': String(ts), 'x-tollgate-signature': 'nothex' });
    expect(garbage.json().error).toBe('AUTH_FAILED');
    expect(intakeRows()).toBe(before);
  });
});

describe('POST /webhook: freshness and idempotency', () => {
  it('when the alert time is older than the window or ahead of our clock then it is 422 and logged, nothing written', async () => {
    const before = intakeRows();
    const stale = await post(alert({ time: new Date(h.clock.now() - 61_000).toISOString() }));
    expect(stale.statusCode).toBe(422);
    expect(stale.json()).toEqual({ error: 'STALE_ALERT', message: 'alert is stale: its time is 61 s old (at most 60 s)' });
    expect(h.logger.records.some((r) => r.event === 'webhook.stale')).toBe(true);
    const future = await post(alert({ time: Math.floor((h.clock.now() + 60_000) / 1000) }));
    expect(future.statusCode).toBe(422);
    expect(future.json().error).toBe('ALERT_IN_FUTURE');
    expect(intakeRows()).toBe(before);
  });

  it('when the same alert id is delivered again then the answer is the first answer and no second signal is made; a reused id with another body is 409', async () => {
    const body = alert({ id: 'dup-1' });
    const first = await post(body);
    expect(first.statusCode).toBe(202);
    const signalsBefore = () => h.bot.status().signals.received;
    await until(() => h.store.intake(first.json().signalId)?.status === 'submitted', 'the first to be submitted');
    const received = signalsBefore();
    const again = await post(body);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({ signalId: first.json().signalId, repeated: true, receivedAt: first.json().receivedAt });
    const text = await post(body + '\n', { 'content-type': 'text/plain' }); // the same alert, as text: same answer
    expect(text.json().signalId).toBe(first.json().signalId);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.store.recentIntake(10_000).filter((r) => r.signalId === first.json().signalId)).toHaveLength(1);
    // strategy signals keep arriving from the replay; none of the new ones is a second webhook signal
    expect(h.bot.status().signals.received).toBeGreaterThanOrEqual(received);
    expect(h.http.activity.recentSignals(1000).filter((s) => s.source === 'webhook' && s.signalId === first.json().signalId)).toHaveLength(1);
    const reused = await post(alert({ id: 'dup-1', price: '999' }));
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error).toBe('ID_REUSED');
  });

  it('when a body without id repeats within the window then it is the same alert; after the window it is a new one', async () => {
    const body = alert({ time: undefined, reason: 'no id' });
    const a = await post(body);
    const b = await post(body);
    expect(b.json().signalId).toBe(a.json().signalId);
    h.clock.advance(600_001);
    const c = await post(body);
    expect(c.statusCode).toBe(202);
    expect(c.json().signalId).not.toBe(a.json().signalId);
    expect(c.json().repeated).toBe(false);
  });

  it('when a webhook signal was decided then GET /api/v1/signals/:id shows its lifecycle state and verdict', async () => {
    const r = await post(alert({ id: 'verdict-1', time: new Date(h.clock.now()).toISOString(), confidence: 0.1 }));
    const id = r.json().signalId as string;
    await until(() => h.store.intake(id)?.decision != null, 'the verdict');
    const v = await h.http.app.inject({ method: 'GET', url: `/api/v1/signals/${id}`, headers: { authorization: `Bearer ${h.settings.token}` } });
    expect(v.statusCode).toBe(200);
    const body = v.json();
    expect(body.webhook).toMatchObject({ signalId: id, source: 'tradingview', status: 'submitted', decision: 'blocked' });
    expect(body.webhook.blockedBy).toContain('MIN_CONFIDENCE'); // confidence 0.1 < 0.5: the same guards as every signal
    expect(body.engine).toMatchObject({ signalId: id, source: 'webhook', decision: 'blocked', terminal: true });
  });
});
