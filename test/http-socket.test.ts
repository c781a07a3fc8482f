import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { TRADINGVIEW_IPS } from '../src/http/config.ts';
import { alert, harness, TOKEN, until, type Harness } from './http-harness.ts';
import { tmp } from './helpers.ts';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function served(o: Parameters<typeof harness>[0] = {}) {
  const h = await harness(o);
  open.push(h);
  const base = await h.http.listen();
  return { h, base };
}

const postTo = (base: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } });

describe('HTTP over a real socket on 127.0.0.1', () => {
  it('when served then the webhook, health, metrics and the operator API answer over TCP, with request ids and helmet headers', async () => {
    const { h, base } = await served();
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await postTo(base, alert({ id: 'sock-1' }, h.clock) + '\n');
    expect(r.status).toBe(202);
    const b = (await r.json()) as { signalId: string };
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(r.headers.get('x-frame-options')).toBeTruthy();
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
    const s = await fetch(`${base}/api/v1/signals/${b.signalId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(s.status).toBe(200);
    expect((await fetch(`${base}/api/v1/status`)).status).toBe(401);
    const given = await fetch(`${base}/health`, { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
  });

  it('when an allowlist is set then the real socket address is checked: loopback is refused 403, a forged X-Forwarded-For does not help', async () => {
    const { h, base } = await served({ start: false, settings: { webhook: { allowIps: TRADINGVIEW_IPS } } });
    const r = await postTo(base, alert({}, h.clock), { 'x-forwarded-for': TRADINGVIEW_IPS[0]! });
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ error: 'ADDRESS_NOT_ALLOWED', message: 'source address 127.0.0.1 is not on the webhook allowlist' });
    expect(h.store.recentIntake(10)).toHaveLength(0);
  });

  it('when the socket is a trusted proxy then its X-Forwarded-For names the client: a TradingView address passes, another is refused', async () => {
    const { h, base } = await served({ start: false, settings: { webhook: { allowIps: TRADINGVIEW_IPS, trustedProxies: ['127.0.0.1'] } } });
    expect((await postTo(base, alert({ id: 'tv-1' }, h.clock), { 'x-forwarded-for': `10.0.0.1, ${TRADINGVIEW_IPS[1]}` })).status).toBe(202);
    const other = await postTo(base, alert({ id: 'tv-2' }, h.clock), { 'x-forwarded-for': `${TRADINGVIEW_IPS[1]}, 10.9.9.9` });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { message: string }).message).toMatch(/10\.9\.9\.9 is not on the webhook allowlist/);
  });

  it('when the server shuts down then ready turns 503 first, requests in flight finish, accepted alerts reach the bus, and new connections are refused', async () => {
    const { h, base } = await served();
    const accepted = (await (await postTo(base, alert({ id: 'before-close' }, h.clock))).json()) as { signalId: string };
    h.http.beginShutdown();
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons).toContain('shutting down');
    const inFlight = postTo(base, alert({ id: 'during-close' }, h.clock));
    await new Promise((r) => setTimeout(r, 5));
    await h.http.close();
    const last = await inFlight.then((r) => r.status, () => 'refused');
    expect([202, 503, 'refused']).toContain(last); // either answered before the close or refused: never lost half-way
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
    await until(() => h.store.intake(accepted.signalId)?.status === 'submitted', 'the accepted alert on the bus');
  });
});

describe('durable intake across restarts', () => {
  it('when alerts were accepted while the engine was not running then the next start processes each exactly once, and a redelivery still answers the first answer', async () => {
    const file = join(tmp('tollgate-intake-'), 'state.db');
    const storeA = SqliteStateStore.open(file);
    const a = await harness({ start: false, store: storeA });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await a.http.app.inject({ method: 'POST', url: '/webhook', payload: alert({ id: `restart-${i}` }, a.clock), headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBe(202);
      ids.push(r.json().signalId);
    }
    await a.http.close();
    storeA.close(); // the process ends here without the engine ever seeing them (as after a kill)
    expect(SqliteStateStore.open(file).pendingIntake().map((r) => r.signalId).sort()).toEqual([...ids].sort());

    const storeB = SqliteStateStore.open(file);
    const b = await harness({ store: storeB });
    open.push(b);
    await until(() => ids.every((id) => storeB.intake(id)?.status === 'submitted' && storeB.intake(id)?.decision !== null), 'the recovered alerts decided');
    const webhookSignals = b.http.activity.recentSignals(1000).filter((s) => s.source === 'webhook');
    expect(webhookSignals.map((s) => s.signalId).sort()).toEqual([...ids].sort()); // each once
    expect(storeB.pendingIntake()).toEqual([]);
    const again = await b.http.app.inject({ method: 'POST', url: '/webhook', payload: alert({ id: 'restart-0', time: undefined }), headers: { 'content-type': 'application/json' } });
    expect(again.statusCode).toBe(409); // same id, another body (no time): not the same alert
    const row = storeB.intake(ids[0]!)!;
    const sameBody = JSON.parse(row.signal) as { alertTs: number };
    const redelivered = await b.http.app.inject({ method: 'POST', url: '/webhook', payload: alert({ id: 'restart-0', time: new Date(sameBody.alertTs).toISOString() }, b.clock), headers: { 'content-type': 'application/json' } });
    expect(redelivered.json()).toMatchObject({ signalId: ids[0], repeated: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(b.http.activity.recentSignals(1000).filter((s) => s.source === 'webhook')).toHaveLength(5);
  });
});
