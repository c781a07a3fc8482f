/**
 * Fuzz: 10,000 random and mutated webhook requests (bodies, content types, signature headers) through
 * fastify.inject. No crash, no 5xx, and only a valid alert is written (would become a signal): every 202 is a
 * body the oracle calls valid, every other answer wrote nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../src/http/webhook.ts';
import { harness, HMAC_SECRET, PASSPHRASE, type Harness } from './http-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness({ start: false }); // accepted alerts stay in the intake: what would be signals is countable
});
afterAll(async () => {
  await h.close();
});

const seen = new Set<string>();
const rows = () => h.store.recentIntake(1_000_000).length;

async function send(payload: string, headers: Record<string, string>) {
  const before = rows();
  const r = await h.http.app.inject({ method: 'POST', url: '/webhook', payload, headers });
  expect(r.statusCode, `${r.statusCode} ${r.body}`).toBeLessThan(500);
  expect(r.statusCode).toBeGreaterThanOrEqual(200);
  const b = r.json() as { signalId?: string; error?: string; message?: string };
  if (r.statusCode === 202) {
    if (!seen.has(b.signalId!)) {
      seen.add(b.signalId!);
      expect(rows()).toBe(before + 1);
    } else expect(rows()).toBe(before);
  } else {
    expect(rows(), `${r.statusCode} wrote a row: ${r.body}`).toBe(before);
    expect(typeof b.error).toBe('string');
    expect(r.body).not.toContain(PASSPHRASE);
  }
  return r;
}

type Choice = { kind: 'valid' | 'invalid' | 'missing'; value?: unknown };
const valid = (...vs: unknown[]) => fc.constantFrom(...vs).map((value): Choice => ({ kind: 'valid', value }));
const invalid = (...vs: unknown[]) => fc.constantFrom(...vs).map((value): Choice => ({ kind: 'invalid', value }));
const missing = fc.constant<Choice>({ kind: 'missing' });
const junk = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }));
const junkInvalid = junk.filter((v) => v !== null).map((value): Choice => ({ kind: 'invalid', value }));

const fields: Record<string, { arb: fc.Arbitrary<Choice>; required: boolean }> = {
  passphrase: { arb: fc.oneof(valid(PASSPHRASE), invalid('', PASSPHRASE + ' x', PASSPHRASE.toUpperCase(), 'wrong-passphrase-000000', '{{passphrase}}'), junkInvalid), required: true },
  ticker: { arb: fc.oneof(valid('KRAKEN:XBTUSD', 'BTCUSD', 'BTC/USD', 'XXBTZUSD', 'xbtusd', ' BTC-USD '), invalid('{{ticker}}', 'KRAKEN:{{ticker}}', 'KRAKEN:ETHUSD', 'NOPE', '', ':', 'X'.repeat(40)), junkInvalid), required: true },
  action: { arb: fc.oneof(valid('buy', 'sell', 'BUY', ' Sell '), invalid('hold', '{{strategy.order.action}}', ''), junkInvalid), required: true },
  price: { arb: fc.oneof(valid('1000.5', '0.00000001', 42, 1e-3, '30000'), invalid('0', '-1', '1e5', 'abc', '{{close}}', '', 0, -3, 1e21, Number.MAX_VALUE), junkInvalid.filter((c) => typeof c.value !== 'number' || !(c.value > 0 && /^\d{1,20}(\.\d{1,18})?$/.test(String(c.value))))), required: true },
  time: { arb: fc.oneof(missing, valid('NOW_ISO', 'NOW_S', 'NOW_MS'), invalid('{{timenow}}', 'yesterday', '2020-01-01T00:00:00Z', 'FUTURE', 123)), required: false },
  strategy: { arb: fc.oneof(missing, valid('ema_cross', 'rsi_reversion'), invalid('nope', '{{strategy}}', 7)), required: false },
  confidence: { arb: fc.oneof(missing, valid(0, 1, 0.5, '0.7'), invalid(2, -0.1, 'high', '{{x}}', [])), required: false },
  reason: { arb: fc.oneof(missing, valid('because', 'x'.repeat(300)), invalid('{{interval}}', 5, {})), required: false },
  extra: { arb: fc.oneof(missing, valid('note', 'KRAKEN'), invalid('{{exchange}}', 'a {{plot_0}} b')), required: false },
};

function materialize(v: unknown): unknown {
  const now = h.clock.now();
  if (v === 'NOW_ISO') return new Date(now).toISOString();
  if (v === 'NOW_S') return Math.floor(now / 1000);
  if (v === 'NOW_MS') return now;
  if (v === 'FUTURE') return new Date(now + 3_600_000).toISOString();
  return v;
}

const alertArb = fc.record(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.arb])) as Record<string, fc.Arbitrary<Choice>>);
const textHeaders = fc.constantFrom('application/json', 'text/plain', 'text/plain; charset=utf-8', 'application/json; charset=utf-8');

describe('webhook fuzz', () => {
  it('when 5,000 mutated TradingView alerts arrive then exactly the valid ones are accepted (written once), every other is a 4xx that wrote nothing', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(alertArb, textHeaders, fc.constantFrom('', '\n', '\r\n', '  \n'), fc.nat(), async (choice, ct, trail, n) => {
        const body: Record<string, unknown> = { id: `fuzz-${n}-${Math.random()}` };
        let ok = true;
        for (const [k, c] of Object.entries(choice)) {
          if (c.kind === 'missing') {
            if (fields[k]!.required) ok = false;
            continue;
          }
          if (c.kind === 'invalid') ok = false;
          body[k] = materialize(c.value);
        }
        const r = await send(JSON.stringify(body) + trail, { 'content-type': ct });
        if (ok) {
          expect(r.statusCode, r.body).toBe(202);
          accepted++;
        } else expect(r.statusCode, `${JSON.stringify(body)} → ${r.body}`).not.toBe(202);
      }),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(0);
  }, 120_000);

  it('when 5,000 random bodies, content types and signature headers arrive then none crashes, none is a 5xx and none is accepted', async () => {
    const before = rows();
    const headerArb = fc.record({
      'content-type': fc.oneof(textHeaders, fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data', 'text/html', ''), fc.string({ maxLength: 30 })),
      sig: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 }), fc.constant('sha256=' + 'a'.repeat(64))),
      ts: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 20 }), fc.constant(String(h.clock.now()))),
      xff: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 })),
    });
    const bodyArb = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.json({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ passphrase: 'nope-nope-nope', ...(typeof v === 'object' && v && !Array.isArray(v) ? v : { v }) })));
    await fc.assert(
      fc.asyncProperty(bodyArb, headerArb, async (body, hd) => {
        const headers: Record<string, string> = {};
        const ct = hd['content-type'].replace(/[^\x20-\x7e]/g, '');
        if (ct) headers['content-type'] = ct;
        if (hd.sig !== undefined) headers['x-tollgate-signature'] = hd.sig.replace(/[^\x20-\x7e]/g, '') || 'x';
        if (hd.ts !== undefined) headers['x-tollgate-timestamp'] = hd.ts.replace(/[^\x20-\x7e]/g, '') || '0';
        if (hd.xff !== undefined) headers['x-forwarded-for'] = hd.xff.replace(/[^\x20-\x7e]/g, '');
        const r = await send(body, headers);
        expect(r.statusCode).not.toBe(202);
      }),
      { numRuns: 5_000 },
    );
    expect(rows()).toBe(before);
  }, 120_000);

  it('when a valid body is signed then it is accepted, and any one-character mutation of the signed body is refused', async () => {
    const body = JSON.stringify({ ticker: 'XBTUSD', action: 'buy', price: '100', id: 'signed-fuzz' });
    const ts = h.clock.now();
    const sig = signBody(HMAC_SECRET, ts, body);
    expect((await send(body, { 'content-type': 'application/json', 'x-tollgate-signature': sig, 'x-tollgate-timestamp': String(ts) })).statusCode).toBe(202);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: body.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }), async (i, ch) => {
        const mutated = body.slice(0, i) + ch + body.slice(i + 1);
        fc.pre(mutated !== body);
        const r = await send(mutated, { 'content-type': 'application/json', 'x-tollgate-signature': sig, 'x-tollgate-timestamp': String(ts) });
        expect(r.statusCode).toBe(401);
      }),
      { numRuns: 300 },
    );
  });
});
