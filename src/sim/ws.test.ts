import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import ccxt, { type Exchange, type OHLCV } from 'ccxt';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rejection, within } from '../../test/promise-helpers.ts';
import { testSim } from '../../test/sim-helpers.ts';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { krakenClient } from '../adapters/kraken/client.ts';
import type { KrakenSim } from './server.ts';

const PAIR = 'BTC/USD';
/** the simulator's current candle index when a test starts: enough history for a full 720-candle snapshot */
const START = 800;
const RFC3339_6 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const exchanges: Exchange[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const ex of exchanges.splice(0)) await ex.close();
});

async function started(): Promise<KrakenSim> {
  const { sim } = await testSim({ from: '2019-01-01', to: '2019-03-01' });
  sim.step(START);
  return sim;
}

/** ccxt.pro's kraken built by krakenClient, REST and websocket both on the simulator */
async function proClient(sim: KrakenSim, keepAliveMs?: number): Promise<Exchange> {
  const { exchange } = krakenClient({ baseUrl: sim.url, wsUrl: sim.wsUrl, rateLimit: false, timeoutMs: 2_000, clock: new SystemClock() });
  if (keepAliveMs !== undefined) exchange.streaming = { ...exchange.streaming, keepAlive: keepAliveMs };
  exchanges.push(exchange);
  await exchange.loadMarkets();
  return exchange;
}

/** the data's candles i..j as ccxt's OHLCV rows */
function rows(sim: KrakenSim, from: number, to: number): OHLCV[] {
  return sim.exchange.candles(PAIR, from, to).map((c) => [c.ts, c.open, c.high, c.low, c.close, c.volume]);
}


/** a raw client that records every message */
async function rawSocket(sim: KrakenSim): Promise<{ ws: WebSocket; got: Array<Record<string, any>>; next: (pred: (m: Record<string, any>) => boolean) => Promise<Record<string, any>> }> {
  const ws = new WebSocket(sim.wsUrl);
  sockets.push(ws);
  const got: Array<Record<string, any>> = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (pred: (m: Record<string, any>) => boolean) =>
    vi.waitFor(() => {
      const m = got.find(pred);
      if (!m) throw new Error('not yet');
      got.splice(got.indexOf(m), 1);
      return m;
    }, { timeout: 3_000, interval: 5 });
  return { ws, got, next };
}

describe('kraken-sim websocket v2 with real ccxt.pro', () => {
  it('when watchOHLCV subscribes then the snapshot is the last 720 candles, exactly what REST OHLC shows', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    const snapshot = await ex.watchOHLCV(PAIR, '1h');
    expect(snapshot).toHaveLength(720);
    expect(snapshot).toEqual(rows(sim, START - 719, START));
    expect(snapshot).toEqual(await ex.fetchOHLCV(PAIR, '1h'));
    const cur = sim.exchange.current(PAIR);
    expect(snapshot.at(-1)).toEqual([cur.ts, cur.open, cur.high, cur.low, cur.close, cur.volume]);
  });

  it('when the simulator steps then watchOHLCV returns each new candle with the data’s exact OHLCV', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    await ex.watchOHLCV(PAIR, '1h');
    for (let k = 1; k <= 3; k++) {
      const update = ex.watchOHLCV(PAIR, '1h');
      expect(sim.step(1)).toBe(1);
      const got = await update;
      const cur = sim.exchange.current(PAIR);
      expect(got).toEqual([[cur.ts, cur.open, cur.high, cur.low, cur.close, cur.volume]]);
      expect(got).toEqual(rows(sim, START + k, START + k));
    }
    expect((await ex.fetchOHLCV(PAIR, '1h')).slice(-4)).toEqual(rows(sim, START, START + 3));
  });

  it('when several candles are taken at once then they arrive in one update, oldest first', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    await ex.watchOHLCV(PAIR, '1h');
    const update = ex.watchOHLCV(PAIR, '1h');
    expect(sim.step(4)).toBe(4);
    const got = await update;
    expect(got).toEqual(rows(sim, START + 1, START + 4));
    expect(got.map((c) => c[0])).toEqual([...got.map((c) => c[0])].sort((a, b) => a! - b!));
  });

  it('when watchTicker follows steps then last is the current close and the figures match the REST ticker', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    const first = await ex.watchTicker(PAIR);
    const rest = await ex.fetchTicker(PAIR);
    expect(first.last).toBe(sim.exchange.current(PAIR).close);
    for (const k of ['last', 'bid', 'ask', 'high', 'low', 'vwap', 'baseVolume'] as const) expect(first[k], k).toBe(rest[k]);
    expect(first.ask).toBeCloseTo(first.bid! + 0.1, 6);
    for (let k = 0; k < 2; k++) {
      const update = ex.watchTicker(PAIR);
      sim.step(1);
      const t = await update;
      expect(t.last).toBe(sim.exchange.current(PAIR).close);
      const r = await ex.fetchTicker(PAIR);
      for (const f of ['last', 'bid', 'ask', 'high', 'low', 'vwap', 'baseVolume'] as const) expect(t[f], f).toBe(r[f]);
    }
    const dayOpen = sim.exchange.candles(PAIR, START + 2 - 23, START + 2)[0]!.open;
    const t = ex.tickers[PAIR]!;
    expect(t.change).toBeCloseTo(t.last! - dayOpen, 6);
  });

  it('when a subscription names an unsupported interval or pair then ccxt rejects it with a clear error and the socket serves on', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    const subscribe = (reqId: number, params: Record<string, unknown>) =>
      ex.watch(sim.wsUrl, String(reqId), { method: 'subscribe', params, req_id: reqId }, String(reqId)) as Promise<unknown>;

    const interval = await rejection(subscribe(101, { channel: 'ohlc', symbol: [PAIR], interval: 5 }));
    expect(interval).toBeInstanceOf(ccxt.ExchangeError);
    expect(interval.message).toBe('Interval not supported: 5 for BTC/USD (the simulator serves 60-minute candles)');

    const pair = await rejection(subscribe(102, { channel: 'ohlc', symbol: ['ETH/USD'], interval: 60 }));
    expect(pair).toBeInstanceOf(ccxt.BadSymbol);
    expect(pair.message).toBe('Currency pair not supported ETH/USD');

    const channel = await rejection(subscribe(103, { channel: 'book', symbol: [PAIR] }));
    expect(channel.message).toBe('Channel not supported: book (the simulator serves ohlc and ticker)');

    const snapshot = await ex.watchOHLCV(PAIR, '1h');
    expect(snapshot.at(-1)![0]).toBe(sim.exchange.current(PAIR).ts);
    expect((await ex.watchTicker(PAIR)).last).toBe(sim.exchange.current(PAIR).close);
    expect(sim.socketCount).toBe(1);
  });

  it('when ccxt keeps the connection alive then every ping is answered with a pong', async () => {
    const sim = await started();
    const ex = await proClient(sim, 100);
    await ex.watchOHLCV(PAIR, '1h');
    const client = ex.clients[sim.wsUrl] as unknown as { lastPong?: number; connectionEstablished?: number };
    const firstPong = await vi.waitFor(() => {
      expect(client.lastPong).toBeGreaterThanOrEqual(client.connectionEstablished!);
      return client.lastPong!;
    }, { timeout: 2_000, interval: 20 });
    await vi.waitFor(() => expect(client.lastPong).toBeGreaterThan(firstPong), { timeout: 2_000, interval: 20 });
    const update = ex.watchOHLCV(PAIR, '1h');
    sim.step(1);
    expect((await update)[0]![0]).toBe(sim.exchange.current(PAIR).ts);
  });

  it('when the simulator drops its sockets then a pending watch rejects with a network error and a new watch reconnects', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    await ex.watchOHLCV(PAIR, '1h');
    expect(sim.socketCount).toBe(1);
    const pending = ex.watchOHLCV(PAIR, '1h');
    sim.dropSockets();
    const e = await rejection(pending);
    expect(e).toBeInstanceOf(ccxt.NetworkError);
    expect(e.message).toMatch(/closed by remote server, closing code 1006/);
    await vi.waitFor(() => expect(sim.socketCount).toBe(0));

    sim.step(2);
    const again = await ex.watchOHLCV(PAIR, '1h');
    expect(again.at(-1)).toEqual(rows(sim, START + 2, START + 2)[0]);
    expect(sim.socketCount).toBe(1);
    const update = ex.watchOHLCV(PAIR, '1h');
    sim.step(1);
    expect(await update).toEqual(rows(sim, START + 3, START + 3));
  });

  it('when the sockets are paused then nothing arrives, the candles of the stall are lost, and updates resume after', async () => {
    const sim = await started();
    const ex = await proClient(sim);
    await ex.watchOHLCV(PAIR, '1h');
    const raw = await rawSocket(sim);
    raw.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: [PAIR], snapshot: false }, req_id: 1 }));
    await raw.next((m) => m.method === 'subscribe');
    await raw.next((m) => m.channel === 'heartbeat');

    sim.pauseSockets(true);
    const pending = ex.watchOHLCV(PAIR, '1h');
    sim.step(1);
    raw.ws.send(JSON.stringify({ method: 'ping', req_id: 2 }));
    expect(await within(pending, 1_500)).toBe('pending');
    expect(raw.got.filter((m) => m.channel === 'heartbeat' || m.channel === 'ticker' || m.method === 'pong')).toEqual([]);
    expect(sim.socketCount).toBe(2);

    sim.pauseSockets(false);
    sim.step(1);
    expect(await pending).toEqual(rows(sim, START + 2, START + 2));
    expect((await raw.next((m) => m.channel === 'ticker')).data[0].last).toBe(sim.exchange.current(PAIR).close);
  });

  it('when a paused socket stops answering pings then ccxt gives up with a RequestTimeout', async () => {
    const sim = await started();
    const ex = await proClient(sim, 100);
    await ex.watchOHLCV(PAIR, '1h');
    sim.pauseSockets(true);
    const e = await rejection(ex.watchOHLCV(PAIR, '1h'));
    expect(e).toBeInstanceOf(ccxt.RequestTimeout);
    expect(e.message).toMatch(/ping-pong keepalive/);
  });
});

describe('kraken-sim websocket v2 messages', () => {
  it('when a client connects then a status message says online on v2', async () => {
    const sim = await started();
    const { next } = await rawSocket(sim);
    const status = await next((m) => m.channel === 'status');
    expect(status).toEqual({ channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: expect.any(Number), system: 'online', version: expect.any(String) }] });
  });

  it('when ohlc is subscribed then the ack, updates and heartbeats have Kraken’s shapes, and unsubscribe stops them', async () => {
    const sim = await started();
    const { ws, got, next } = await rawSocket(sim);
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ohlc', symbol: [PAIR], interval: 60, snapshot: false }, req_id: 7 }));
    const ack = await next((m) => m.method === 'subscribe');
    expect(ack).toEqual({ method: 'subscribe', result: { channel: 'ohlc', interval: 60, snapshot: false, symbol: PAIR }, success: true, time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6), req_id: 7 });

    sim.step(1);
    const update = await next((m) => m.channel === 'ohlc');
    const c = sim.exchange.current(PAIR);
    expect(update).toEqual({
      channel: 'ohlc', type: 'update', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/),
      data: [{
        symbol: PAIR, open: c.open, high: c.high, low: c.low, close: c.close, trades: c.trades, volume: c.volume,
        vwap: Number(((c.open + c.high + c.low + c.close) / 4).toFixed(1)),
        interval_begin: new Date(c.ts).toISOString().replace(/\.\d{3}Z$/, '.000000000Z'), interval: 60,
        timestamp: new Date(c.ts + 3_600_000).toISOString().replace(/\.\d{3}Z$/, '.000000Z'),
      }],
    });
    expect(await next((m) => m.channel === 'heartbeat')).toEqual({ channel: 'heartbeat' });

    ws.send(JSON.stringify({ method: 'unsubscribe', params: { channel: 'ohlc', symbol: [PAIR], interval: 60 }, req_id: 8 }));
    expect(await next((m) => m.method === 'unsubscribe')).toEqual({ method: 'unsubscribe', result: { channel: 'ohlc', interval: 60, symbol: PAIR }, success: true, time_in: expect.any(String), time_out: expect.any(String), req_id: 8 });
    got.length = 0;
    sim.step(1);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(got).toEqual([]);
  });

  it('when a request is bad then the answer is a Kraken error with success false and the socket stays open', async () => {
    const sim = await started();
    const { ws, next } = await rawSocket(sim);
    const error = (m: Record<string, any>) => m.success === false;
    const shape = { success: false, time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6) };

    ws.send('{not json');
    expect(await next(error)).toEqual({ error: 'Malformed request: expected a JSON object such as {"method":"ping"}', ...shape });
    ws.send(JSON.stringify({ method: 'add_order', req_id: 1 }));
    expect(await next(error)).toEqual({ error: 'Method not found: add_order (served: subscribe, unsubscribe, ping)', method: 'add_order', req_id: 1, ...shape });
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'trade', symbol: [PAIR] }, req_id: 2 }));
    expect(await next(error)).toEqual({ error: 'Channel not supported: trade (the simulator serves ohlc and ticker)', method: 'subscribe', req_id: 2, ...shape });
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: ['DOGE/EUR', PAIR] }, req_id: 3 }));
    expect(await next(error)).toEqual({ error: 'Currency pair not supported DOGE/EUR', method: 'subscribe', symbol: 'DOGE/EUR', req_id: 3, ...shape });
    expect((await next((m) => m.method === 'subscribe' && m.success)).result).toEqual({ channel: 'ticker', snapshot: true, symbol: PAIR });
    const snap = await next((m) => m.channel === 'ticker');
    expect(snap.type).toBe('snapshot');
    expect(snap.data).toEqual([expect.objectContaining({ symbol: PAIR, last: sim.exchange.current(PAIR).close, bid_qty: 1, ask_qty: 1 })]);
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: [PAIR] }, req_id: 4 }));
    expect(await next(error)).toEqual({ error: 'Already subscribed', method: 'subscribe', symbol: PAIR, req_id: 4, ...shape });
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ohlc', symbol: [PAIR] }, req_id: 5 }));
    expect((await next(error)).error).toBe('Interval not supported: 1 for BTC/USD (the simulator serves 60-minute candles)');

    ws.send(JSON.stringify({ method: 'ping', req_id: 6 }));
    expect(await next((m) => m.method === 'pong')).toEqual({ method: 'pong', req_id: 6, time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6) });
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('when a client asks for another path then the upgrade is refused with 404', async () => {
    const sim = await started();
    const ws = new WebSocket(sim.wsUrl.replace(/\/v2$/, '/v1'));
    const e = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(e.message).toBe('Unexpected server response: 404');
    expect(sim.socketCount).toBe(0);
  });
});

describe('kraken-sim websocket v2 shutdown', () => {
  it('when the simulator stops with clients connected then their sockets close and the process can end', () => {
    const script = `
      import { SystemClock } from './src/adapters/clock/clocks.ts';
      import { krakenClient } from './src/adapters/kraken/client.ts';
      import { startKrakenSim } from './src/sim/index.ts';
      import { bundledSlice } from './test/helpers.ts';
      import { WebSocket } from 'ws';
      const sim = await startKrakenSim({ apiKey: 'k', apiSecret: Buffer.from('s'.repeat(32)).toString('base64'), series: [bundledSlice('2019-01-01', '2019-01-10')] });
      sim.step(5);
      const { exchange } = krakenClient({ baseUrl: sim.url, wsUrl: sim.wsUrl, rateLimit: false, clock: new SystemClock() });
      const candles = await exchange.watchOHLCV('BTC/USD', '1h');
      const raw = new WebSocket(sim.wsUrl);
      await new Promise((r) => raw.once('open', r));
      const pending = exchange.watchOHLCV('BTC/USD', '1h').then(() => 'resolved', (e) => e.constructor.name);
      const sockets = sim.socketCount;
      await sim.stop();
      console.log(JSON.stringify({ candles: candles.length, sockets, after: sim.socketCount, pending: await pending }));
    `;
    const root = join(import.meta.dirname, '..', '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({ candles: 6, sockets: 2, after: 0, pending: 'NetworkError' });
  });
});
