import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ccxt, { type Exchange, type Order, type Trade } from 'ccxt';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundledSlice } from '../../test/helpers.ts';
import { Dec } from '../domain/money.ts';
import { rejection, within } from '../../test/promise-helpers.ts';
import { testSim } from '../../test/sim-helpers.ts';
import { ManualClock, SystemClock } from '../adapters/clock/clocks.ts';
import { krakenClient } from '../adapters/kraken/client.ts';
import { krakenMarkets } from '../kraken/pairs.ts';
import { SimExchange } from './exchange.ts';
import { fault } from './faults.ts';
import { DEFAULT_FILL, type KrakenSim } from './server.ts';
import { attachKrakenWs, TOKEN_TTL_SECONDS, WS_AUTH_PATH, type KrakenWs } from './ws.ts';

const PAIR = 'BTC/USD';
/** the simulator's current candle index when a test starts (the next candles trade 82.2, 451.1, 99.5 … BTC) */
const START = 51;
const RFC3339_6 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

type Msg = Record<string, any>;

const exchanges: Exchange[] = [];
const sockets: WebSocket[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const ex of exchanges.splice(0)) await ex.close();
  for (const c of cleanups.splice(0)) await c();
});

async function started(): Promise<{ sim: KrakenSim; apiKey: string; secret: string }> {
  const s = await testSim({ from: '2019-01-01', to: '2019-03-01' });
  s.sim.step(START);
  s.sim.setBalance('USD', '1000000');
  return s;
}

/** ccxt.pro's kraken built by krakenClient: REST, public and private websocket all on the simulator */
async function proClient(sim: KrakenSim, apiKey: string, secret: string): Promise<Exchange> {
  const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, wsUrl: sim.wsUrl, wsAuthUrl: sim.wsAuthUrl, rateLimit: false, timeoutMs: 2_000, clock: new SystemClock() });
  exchanges.push(exchange);
  await exchange.loadMarkets();
  return exchange;
}


/** a raw client that records every message (parsed, and its text) */
async function rawSocket(url: string): Promise<{ ws: WebSocket; got: Msg[]; texts: string[]; send: (m: Msg) => void; next: (pred: (m: Msg) => boolean) => Promise<Msg> }> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const got: Msg[] = [];
  const texts: string[] = [];
  ws.on('message', (d) => {
    texts.push(d.toString());
    got.push(JSON.parse(d.toString()));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (pred: (m: Msg) => boolean) =>
    vi.waitFor(() => {
      const m = got.find(pred);
      if (!m) throw new Error('not yet');
      got.splice(got.indexOf(m), 1);
      return m;
    }, { timeout: 3_000, interval: 5 });
  return { ws, got, texts, send: (m) => ws.send(JSON.stringify(m)), next };
}

const executions = (m: Msg) => m.channel === 'executions';

/** REST GetWebSocketsToken through ccxt's signed call */
async function token(ex: Exchange): Promise<string> {
  const r = (await (ex as any).privatePostGetWebSocketsToken()) as { result: { token: string; expires: number } };
  return r.result.token;
}

type Placed = Order & { id: string };
/** createOrder over REST; the order's id is Kraken's txid */
async function place(ex: Exchange, ...args: Parameters<Exchange['createOrder']>): Promise<Placed> {
  return (await ex.createOrder(...args)) as Placed;
}

/** the fields a ccxt trade from watchMyTrades and one from fetchMyTrades share */
function tradeFigures(t: Trade): Record<string, unknown> {
  return { id: t.id, order: t.order, symbol: t.symbol, side: t.side, type: t.type, takerOrMaker: t.takerOrMaker, price: t.price, amount: t.amount, cost: t.cost, fee: { cost: t.fee?.cost, currency: t.fee?.currency }, timestamp: t.timestamp };
}

describe('kraken-sim private websocket v2 with real ccxt.pro', () => {
  it('when a market order fills over several candles then watchMyTrades delivers each fill once, exactly as REST fetchMyTrades shows it', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const order = await place(ex, PAIR, 'market', 'buy', 150);
    // the open market order in the snapshot: the executions subscription is live
    expect((await ex.watchOrders(PAIR)).map((o) => [o.id, o.status, o.amount])).toEqual([[order.id, 'open', 150]]);

    const got: Trade[] = [];
    while (sim.order(order.id)!.status === 'open') {
      const next = ex.watchMyTrades(PAIR);
      expect(sim.step(1)).toBe(1);
      got.push(...(await next));
    }
    const simTrades = sim.trades();
    // 25 % of each candle's volume at most: 20.54 + 112.77 BTC, then the 16.69 left, one trade per candle
    expect(got.map((t) => t.amount)).toEqual([20.54022874, 112.76619255, 16.69357871]);
    expect(got.map((t) => t.id)).toEqual(simTrades.map((t) => t.id));
    expect(got.map((t) => t.amount)).toEqual(simTrades.map((t) => t.vol.toNumber()));
    expect(simTrades.reduce((s, t) => s.plus(t.vol), new Dec(0)).toFixed()).toBe('150');

    const rest = await ex.fetchMyTrades(PAIR);
    expect(rest).toHaveLength(3);
    const byId = new Map(rest.map((t) => [t.id, t]));
    for (const t of got) expect(tradeFigures(t)).toEqual(tradeFigures(byId.get(t.id)!));
    expect(got[0]).toMatchObject({ order: order.id, side: 'buy', type: 'market', takerOrMaker: 'taker', fee: { currency: 'USD' } });
    expect(got[0]!.fee!.cost).toBe(simTrades[0]!.fee.toNumber());
    // ccxt's cache holds each fill once
    expect((ex as any).myTrades.map((t: Trade) => t.id)).toEqual(simTrades.map((t) => t.id));
  });

  it('when a limit order is placed, partly filled, filled and another cancelled then watchOrders shows new → filled and canceled', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const a = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    expect((await ex.watchOrders(PAIR)).map((o) => [o.id, o.status])).toEqual([[a.id, 'open']]);

    let next = ex.watchOrders(PAIR);
    const b = await place(ex, PAIR, 'limit', 'buy', 0.2, 3500, { clientOrderId: 'tg-b-1' });
    const accepted = (await next).find((o) => o.id === b.id)!;
    expect(accepted).toMatchObject({ id: b.id, status: 'open', symbol: PAIR, side: 'buy', type: 'limit', price: 3500, amount: 0.2, timeInForce: 'GTC' });
    expect(accepted.info).toMatchObject({ cl_ord_id: 'tg-b-1', order_qty: 0.2, limit_price: 3500 });
    expect(['pending_new', 'new']).toContain(accepted.info.exec_type);

    // a partial fill is a trade (watchMyTrades), not an order status change
    let fills = ex.watchMyTrades(PAIR);
    sim.exchange.forceFill(b.id, '0.05');
    const first = await fills;
    expect(first.map((t) => [t.order, t.amount, t.price, t.takerOrMaker])).toEqual([[b.id, 0.05, 3500, 'maker']]);

    next = ex.watchOrders(PAIR);
    fills = ex.watchMyTrades(PAIR);
    sim.exchange.forceFill(b.id);
    const second = await fills;
    expect(second.map((t) => [t.order, t.amount])).toEqual([[b.id, 0.15]]);
    const filled = (await next).find((o) => o.id === b.id)!;
    expect(filled.info.exec_type).toBe('filled');
    const rest = await ex.fetchOrder(b.id);
    expect(rest.status).toBe('closed');
    expect(filled).toMatchObject({ status: 'closed', amount: 0.2, price: 3500, cost: rest.cost, average: rest.average });
    expect(filled.cost).toBe(700);

    next = ex.watchOrders(PAIR);
    await ex.cancelOrder(a.id);
    const cancelled = (await next).find((o) => o.id === a.id)!;
    expect(cancelled).toMatchObject({ status: 'canceled', amount: 0.1, price: 3000 });
    expect(cancelled.info).toMatchObject({ exec_type: 'canceled', reason: 'User requested', cancel_reason: 'User requested', cum_qty: 0 });
    const cached = (ex as any).orders.map((o: Order) => [o.id, o.status]);
    expect(cached).toHaveLength(2);
    expect(cached).toEqual(expect.arrayContaining([[a.id, 'canceled'], [b.id, 'closed']]));
  });

  it('when the subscription carries a bad token then ccxt rejects it with an AuthenticationError and the socket serves on', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const bad = await rejection(ex.watch(sim.wsAuthUrl, '9', { method: 'subscribe', params: { channel: 'executions', token: 'not-a-token' }, req_id: 9 }, '9') as Promise<unknown>);
    expect(bad).toBeInstanceOf(ccxt.AuthenticationError);
    expect(bad.message).toBe('ESession:Invalid session');
    expect(sim.socketCount).toBe(1);

    const b = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    expect((await ex.watchOrders(PAIR)).map((o) => o.id)).toEqual([b.id]);
    expect(sim.socketCount).toBe(1);
    expect(sim.calls.GetWebSocketsToken).toBe(1);
  });

  it('when GetWebSocketsToken is signed with the wrong secret then it is refused with EAPI:Invalid signature and no socket opens', async () => {
    const { sim, apiKey } = await started();
    const ex = await proClient(sim, apiKey, randomBytes(64).toString('base64'));
    const direct = await rejection(token(ex));
    expect(direct.message).toMatch(/EAPI:Invalid signature/);
    const watched = await rejection(ex.watchMyTrades(PAIR));
    expect(watched.message).toMatch(/EAPI:Invalid signature/);
    expect(sim.calls.GetWebSocketsToken).toBe(2);
    expect(sim.socketCount).toBe(0);
  });

  it('when GetWebSocketsToken meets an injected fault then the watch fails with its error and the next one authenticates', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    sim.inject('GetWebSocketsToken', fault.error('EService:Unavailable', false));
    const e = await rejection(ex.watchOrders(PAIR));
    expect(e).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    const b = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    expect((await ex.watchOrders(PAIR)).map((o) => o.id)).toEqual([b.id]);
    expect(sim.calls.GetWebSocketsToken).toBe(2);
  });

  it('when the simulator drops its sockets then a pending private watch rejects with a network error and a new watch reconnects with a valid token', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const a = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    await ex.watchOrders(PAIR);
    expect(sim.socketCount).toBe(1);

    const pending = ex.watchMyTrades(PAIR);
    sim.dropSockets();
    const e = await rejection(pending);
    expect(e).toBeInstanceOf(ccxt.NetworkError);
    expect(e.message).toMatch(/closed by remote server, closing code 1006/);
    await vi.waitFor(() => expect(sim.socketCount).toBe(0));

    // while disconnected a fill happens: the open-orders snapshot of the new subscription shows what is left
    sim.exchange.forceFill(a.id, '0.04');
    const again = await ex.watchOrders(PAIR);
    expect(again.find((o) => o.id === a.id)!.info).toMatchObject({ exec_type: 'new', order_status: 'partially_filled', cum_qty: 0.04 });
    expect(sim.socketCount).toBe(1);
    const fills = ex.watchMyTrades(PAIR);
    sim.exchange.forceFill(a.id);
    expect((await fills).map((t) => [t.id, t.amount])).toEqual([[sim.trades().at(-1)!.id, 0.06]]);
    // ccxt keeps the token on the connection's client, which the cut discarded: it fetched a fresh one
    expect(sim.calls.GetWebSocketsToken).toBe(2);
  });
});

describe('kraken-sim private websocket v2 messages', () => {
  it('when executions is subscribed then the ack, snapshots and updates have Kraken’s shapes with REST’s exact figures', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    // history: one filled order, one resting order
    const done = await place(ex, PAIR, 'limit', 'buy', 0.25, 3500);
    sim.exchange.forceFill(done.id);
    const rest1 = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);

    const raw = await rawSocket(sim.wsAuthUrl);
    expect(await raw.next((m) => m.channel === 'status')).toEqual({ channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: expect.any(Number), system: 'online', version: expect.any(String) }] });
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: await token(ex), snap_trades: true }, req_id: 1 });
    expect(await raw.next((m) => m.method === 'subscribe')).toEqual({
      method: 'subscribe', result: { channel: 'executions', maxratecount: 125, snap_orders: true, snap_trades: true }, success: true,
      time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6), req_id: 1,
    });
    const [t0] = sim.trades();
    const restTrades = ((await (ex as any).privatePostTradesHistory()) as { result: { trades: Record<string, Record<string, any>> } }).result.trades;
    const r0 = restTrades[t0!.id]!;
    const trades = await raw.next(executions);
    expect(trades).toEqual({
      channel: 'executions', type: 'snapshot', sequence: 1,
      data: [{
        order_id: done.id, order_userref: 0, symbol: PAIR, exec_type: 'trade', exec_id: t0!.id, trade_id: r0.trade_id, side: 'buy', order_type: 'limit',
        last_qty: Number(r0.vol), last_price: Number(r0.price), cost: Number(r0.cost), liquidity_ind: 'm', fees: [{ asset: 'USD', qty: Number(r0.fee) }],
        fee_usd_equiv: Number(r0.fee), order_status: 'filled', timestamp: new Date(Math.trunc(r0.time * 1000)).toISOString().replace('Z', '000Z'),
      }],
    });
    expect(r0).toMatchObject({ ordertxid: done.id, vol: '0.25000000', price: '3500.0', cost: '875', fee: '2.1875' });
    const orders = await raw.next(executions);
    expect(orders).toEqual({
      channel: 'executions', type: 'snapshot', sequence: 2,
      data: [{
        order_id: rest1.id, order_userref: 0, symbol: PAIR, exec_type: 'new', order_status: 'new', side: 'buy', order_type: 'limit', order_qty: 0.1,
        limit_price: 3000, limit_price_type: 'static', time_in_force: 'GTC', fee_ccy_pref: 'fciq', cum_qty: 0, cum_cost: 0, avg_price: 0, fee_usd_equiv: 0,
        timestamp: expect.stringMatching(RFC3339_6),
      }],
    });

    // a new order: pending_new with its terms, then new
    const o = await place(ex, PAIR, 'limit', 'buy', 0.3, 3600.5, { clientOrderId: 'tg-raw-1' });
    const opened = sim.order(o.id)!;
    const ts = new Date(Math.trunc(opened.openTm * 1000)).toISOString().replace('Z', '000Z');
    expect(await raw.next(executions)).toEqual({
      channel: 'executions', type: 'update', sequence: 3,
      data: [{
        order_id: o.id, cl_ord_id: 'tg-raw-1', order_userref: 0, symbol: PAIR, exec_type: 'pending_new', order_status: 'pending_new', side: 'buy', order_type: 'limit',
        order_qty: 0.3, limit_price: 3600.5, limit_price_type: 'static', time_in_force: 'GTC', fee_ccy_pref: 'fciq', cum_qty: 0, cum_cost: 0, avg_price: 0, fee_usd_equiv: 0, timestamp: ts,
      }],
    });
    expect(await raw.next(executions)).toEqual({
      channel: 'executions', type: 'update', sequence: 4,
      data: [{ order_id: o.id, cl_ord_id: 'tg-raw-1', order_userref: 0, symbol: PAIR, exec_type: 'new', order_status: 'new', timestamp: ts }],
    });

    // two fills, then filled: each fill's figures are REST TradesHistory's, digit for digit
    sim.exchange.forceFill(o.id, '0.1');
    sim.exchange.forceFill(o.id);
    const fill1 = await raw.next(executions);
    const fill2 = await raw.next(executions);
    const fin = await raw.next(executions);
    expect([fill1.sequence, fill2.sequence, fin.sequence]).toEqual([5, 6, 7]);
    const hist = ((await (ex as any).privatePostTradesHistory()) as { result: { trades: Record<string, Record<string, any>> } }).result.trades;
    for (const [m, status] of [[fill1, 'partially_filled'], [fill2, 'filled']] as const) {
      const d = m.data[0];
      const r = hist[d.exec_id]!;
      expect(r.ordertxid).toBe(o.id);
      expect(d).toEqual({
        order_id: o.id, cl_ord_id: 'tg-raw-1', order_userref: 0, symbol: PAIR, exec_type: 'trade', exec_id: expect.stringMatching(/^T/), trade_id: r.trade_id, side: 'buy', order_type: 'limit',
        last_qty: Number(r.vol), last_price: Number(r.price), cost: Number(r.cost), liquidity_ind: 'm', fees: [{ asset: 'USD', qty: Number(r.fee) }], fee_usd_equiv: Number(r.fee),
        order_status: status, timestamp: expect.stringMatching(RFC3339_6),
      });
      const text = raw.texts.find((x) => x.includes(`"exec_id":"${d.exec_id}"`))!;
      expect(text).toContain(`"last_qty":${r.vol},"last_price":${r.price},"cost":${r.cost}`);
      expect(text).toContain(`"qty":${r.fee}}`);
    }
    expect([fill1.data[0].last_qty, fill2.data[0].last_qty]).toEqual([0.1, 0.2]);
    const q = ((await (ex as any).privatePostQueryOrders({ txid: o.id })) as { result: Record<string, Record<string, any>> }).result[o.id]!;
    expect(fin).toEqual({
      channel: 'executions', type: 'update', sequence: 7,
      data: [{
        order_id: o.id, cl_ord_id: 'tg-raw-1', order_userref: 0, symbol: PAIR, exec_type: 'filled', order_status: 'filled',
        cum_qty: Number(q.vol_exec), cum_cost: Number(q.cost), avg_price: Number(q.price), fee_usd_equiv: Number(q.fee), timestamp: expect.stringMatching(RFC3339_6),
      }],
    });
    expect(q).toMatchObject({ vol_exec: '0.30000000', cost: '1080.15', price: '3600.5' });
    expect(raw.texts.at(-1)).toContain(`"cum_qty":${q.vol_exec},"cum_cost":${q.cost}`);

    // keep-alive as on /v2
    expect(await raw.next((m) => m.channel === 'heartbeat')).toEqual({ channel: 'heartbeat' });
    raw.send({ method: 'ping', req_id: 2 });
    expect(await raw.next((m) => m.method === 'pong')).toEqual({ method: 'pong', req_id: 2, time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6) });

    // unsubscribe: acknowledged, then nothing more
    raw.send({ method: 'unsubscribe', params: { channel: 'executions', token: await token(ex) }, req_id: 3 });
    expect(await raw.next((m) => m.method === 'unsubscribe')).toEqual({ method: 'unsubscribe', result: { channel: 'executions' }, success: true, time_in: expect.any(String), time_out: expect.any(String), req_id: 3 });
    raw.got.length = 0;
    await ex.cancelOrder(rest1.id);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(raw.got).toEqual([]);
  });

  it('when orders are cancelled by cancel-all, by the dead man’s switch or expire then each is reported with its reason', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const raw = await rawSocket(sim.wsAuthUrl);
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: await token(ex), order_status: false }, req_id: 1 });
    expect((await raw.next((m) => m.method === 'subscribe')).result).toEqual({ channel: 'executions', maxratecount: 125, snap_orders: true, snap_trades: false });
    expect(await raw.next(executions)).toEqual({ channel: 'executions', type: 'snapshot', sequence: 1, data: [] });
    const entry = async () => (await raw.next(executions)).data[0] as Msg;

    const a = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    const b = await place(ex, PAIR, 'limit', 'buy', 0.2, 3100);
    // order_status false: only open/close transitions, so `new` carries the order's terms and no pending_new comes
    expect(await entry()).toMatchObject({ order_id: a.id, exec_type: 'new', order_status: 'new', order_qty: 0.1, limit_price: 3000 });
    expect(await entry()).toMatchObject({ order_id: b.id, exec_type: 'new', order_qty: 0.2 });
    await ex.cancelAllOrders();
    for (const id of [a.id, b.id]) {
      expect(await entry()).toEqual({
        order_id: id, order_userref: 0, symbol: PAIR, exec_type: 'canceled', order_status: 'canceled', cum_qty: 0, cum_cost: 0, avg_price: 0, fee_usd_equiv: 0,
        cancel_reason: 'User requested', reason: 'User requested', timestamp: expect.stringMatching(RFC3339_6),
      });
    }

    const c = await place(ex, PAIR, 'limit', 'buy', 0.1, 3000);
    expect(await entry()).toMatchObject({ order_id: c.id, exec_type: 'new' });
    await (ex as any).privatePostCancelAllOrdersAfter({ timeout: 1 });
    expect(await raw.next(executions)).toMatchObject({ type: 'update', data: [{ order_id: c.id, exec_type: 'canceled', order_status: 'canceled', reason: 'Dead man switch' }] });
    expect(sim.order(c.id)!.status).toBe('canceled');

    const d = sim.placeOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'limit', volume: '0.1', price: '3000', timeinforce: 'GTD', expiretm: '+1' });
    expect(await entry()).toMatchObject({ order_id: d, exec_type: 'new', time_in_force: 'GTD', expire_time: expect.stringMatching(RFC3339_6) });
    await new Promise((r) => setTimeout(r, 1_100));
    sim.step(1);
    expect(await entry()).toEqual({
      order_id: d, order_userref: 0, symbol: PAIR, exec_type: 'expired', order_status: 'expired', cum_qty: 0, cum_cost: 0, avg_price: 0, fee_usd_equiv: 0,
      timestamp: expect.stringMatching(RFC3339_6),
    });
    expect(sim.order(d)!.status).toBe('expired');
  });

  it('when a request is bad then the private endpoint answers a Kraken error and the socket stays open', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const error = (m: Msg) => m.success === false;
    const shape = { success: false, time_in: expect.stringMatching(RFC3339_6), time_out: expect.stringMatching(RFC3339_6) };

    const pub = await rawSocket(sim.wsUrl);
    pub.send({ method: 'subscribe', params: { channel: 'executions', token: await token(ex) }, req_id: 1 });
    expect(await pub.next(error)).toEqual({ error: 'Channel not supported: executions on /v2 (a private channel: subscribe on /v2/auth with a token from GetWebSocketsToken)', method: 'subscribe', req_id: 1, ...shape });

    const raw = await rawSocket(sim.wsAuthUrl);
    raw.send({ method: 'subscribe', params: { channel: 'executions' }, req_id: 2 });
    expect(await raw.next(error)).toEqual({ error: 'Malformed request: params.token is required (a token from REST GetWebSocketsToken)', method: 'subscribe', req_id: 2, ...shape });
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: 'WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu' }, req_id: 3 });
    expect(await raw.next(error)).toEqual({ error: 'ESession:Invalid session', method: 'subscribe', req_id: 3, ...shape });
    const good = await token(ex);
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: good, snap_orders: 'yes' }, req_id: 4 });
    expect((await raw.next(error)).error).toBe('Malformed request: params.snap_orders must be true or false');
    raw.send({ method: 'unsubscribe', params: { channel: 'executions', token: good }, req_id: 5 });
    expect((await raw.next(error)).error).toBe('Subscription Not Found');
    raw.send({ method: 'subscribe', params: { channel: 'balances', token: good }, req_id: 6 });
    expect((await raw.next(error)).error).toBe('Channel not supported: balances (the simulator serves ohlc, ticker and executions)');
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: good, snap_orders: false }, req_id: 7 });
    expect((await raw.next((m) => m.method === 'subscribe' && m.success)).result).toEqual({ channel: 'executions', maxratecount: 125, snap_orders: false, snap_trades: false });
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: good }, req_id: 8 });
    expect((await raw.next(error)).error).toBe('Already subscribed');
    // the same token serves a second connection too, and public channels are served here as well
    const other = await rawSocket(sim.wsAuthUrl);
    other.send({ method: 'subscribe', params: { channel: 'executions', token: good, snap_orders: false }, req_id: 9 });
    expect((await other.next((m) => m.method === 'subscribe')).success).toBe(true);
    other.send({ method: 'subscribe', params: { channel: 'ticker', symbol: [PAIR] }, req_id: 10 });
    expect((await other.next((m) => m.channel === 'ticker')).data[0].last).toBe(sim.exchange.current(PAIR).close);
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    expect(sim.socketCount).toBe(3);
  });

  it('when the sockets are paused then executions are lost (the sequence skips them) and updates resume after', async () => {
    const { sim, apiKey, secret } = await started();
    const ex = await proClient(sim, apiKey, secret);
    const a = await place(ex, PAIR, 'limit', 'buy', 0.3, 3000);
    const raw = await rawSocket(sim.wsAuthUrl);
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: await token(ex) }, req_id: 1 });
    expect((await raw.next(executions)).data.map((d: Msg) => d.order_id)).toEqual([a.id]);

    sim.pauseSockets(true);
    sim.exchange.forceFill(a.id, '0.1');
    raw.send({ method: 'ping', req_id: 2 });
    await new Promise((r) => setTimeout(r, 1_300));
    expect(raw.got.filter((m) => m.channel === 'executions' || m.channel === 'heartbeat' || m.method === 'pong')).toEqual([]);

    sim.pauseSockets(false);
    sim.exchange.forceFill(a.id, '0.1');
    const m = await raw.next(executions);
    expect(m.sequence).toBe(3);
    expect(m.data[0]).toMatchObject({ exec_type: 'trade', exec_id: sim.trades().at(-1)!.id, last_qty: 0.1, order_status: 'partially_filled' });
  });

  it('when a token is older than 15 minutes of real time then subscribing with it is refused, while the simulator’s own clock does not age it', async () => {
    const real = new ManualClock(Date.UTC(2024, 0, 1));
    const simClock = new ManualClock(Date.UTC(2019, 0, 1));
    const exchange = new SimExchange({ markets: krakenMarkets(), series: [bundledSlice('2019-01-01', '2019-01-05')], clock: simClock, fill: DEFAULT_FILL });
    const server: Server = createServer((_req, res) => res.end());
    const unused = () => {
      throw new Error('not used');
    };
    const endpoint: KrakenWs = attachKrakenWs(server, { exchange, clock: simClock, candleFigures: unused, tickerFigures: unused, tokenClock: real });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      await endpoint.close();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${WS_AUTH_PATH}`;

    const issued = endpoint.issueToken('key');
    expect(issued.expires).toBe(TOKEN_TTL_SECONDS);
    expect(issued.token).toMatch(/^[A-Za-z0-9+/]{43}$/);
    const raw = await rawSocket(url);
    simClock.advance(86_400_000);
    real.advance(TOKEN_TTL_SECONDS * 1000 - 1);
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: issued.token }, req_id: 1 });
    expect((await raw.next((m) => m.method === 'subscribe')).success).toBe(true);
    // the subscription outlives the token: unsubscribing with it still works
    real.advance(1);
    raw.send({ method: 'unsubscribe', params: { channel: 'executions', token: issued.token }, req_id: 2 });
    expect((await raw.next((m) => m.method === 'unsubscribe')).success).toBe(true);
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: issued.token }, req_id: 3 });
    expect(await raw.next((m) => m.req_id === 3)).toMatchObject({ error: 'ESession:Invalid session', success: false });
    raw.send({ method: 'subscribe', params: { channel: 'executions', token: endpoint.issueToken('key').token }, req_id: 4 });
    expect((await raw.next((m) => m.req_id === 4)).success).toBe(true);
  });
});

describe('SimExchange execution listeners', () => {
  it('when orders are accepted, filled or cancelled by the engine then each event is reported once, after the state change', () => {
    const ex = new SimExchange({
      markets: krakenMarkets(), series: [bundledSlice('2019-01-01', '2019-01-10')], clock: new ManualClock(Date.UTC(2019, 0, 3)), fill: DEFAULT_FILL,
      balances: { USD: '100000' }, startIndex: START,
    });
    const seen: string[] = [];
    const stop = ex.onExecution((e) => {
      const trade = e.type === 'trade' ? ` ${e.trade.vol.toFixed()} booked ${ex.trades().includes(e.trade) && e.order.trades.includes(e.trade.id)}` : '';
      seen.push(`${e.type} ${e.order.txid} ${e.order.status}${e.order.reason ? ` (${e.order.reason})` : ''}${trade}`);
    });
    const add = (p: Record<string, string>) => ex.addOrder({ pair: 'XBTUSD', type: 'buy', volume: '1', ordertype: 'limit', ...p }).txid![0]!;
    const post = add({ price: '9000', oflags: 'post' });
    const ioc = add({ price: '1000', timeinforce: 'IOC' });
    const market = add({ ordertype: 'market' });
    ex.addOrder({ pair: 'XBTUSD', type: 'buy', volume: '1', ordertype: 'market', validate: true });
    ex.step(1);
    expect(seen).toEqual([
      `new ${post} open`, `canceled ${post} canceled (Post only order)`, `new ${ioc} open`, `new ${market} open`,
      `canceled ${ioc} canceled (Unfilled IOC)`, `trade ${market} closed 1 booked true`, `filled ${market} closed`,
    ]);
    stop();
    ex.cancelAll();
    add({ price: '1000' });
    expect(seen).toHaveLength(7);
  });
});

describe('kraken-sim private websocket v2 shutdown', () => {
  it('when the simulator stops with a private watch pending then its socket closes at once and the process can end', () => {
    const script = `
      import { SystemClock } from './src/adapters/clock/clocks.ts';
      import { krakenClient } from './src/adapters/kraken/client.ts';
      import { startKrakenSim } from './src/sim/index.ts';
      import { bundledSlice } from './test/helpers.ts';
      const secret = Buffer.from('s'.repeat(32)).toString('base64');
      const sim = await startKrakenSim({ apiKey: 'k', apiSecret: secret, series: [bundledSlice('2019-01-01', '2019-01-10')], balances: { USD: '10000' } });
      sim.step(5);
      const { exchange } = krakenClient({ apiKey: 'k', secret, baseUrl: sim.url, wsAuthUrl: sim.wsAuthUrl, rateLimit: false, clock: new SystemClock() });
      await exchange.createOrder('BTC/USD', 'limit', 'buy', 0.1, 3000);
      const orders = await exchange.watchOrders('BTC/USD');
      const pending = exchange.watchMyTrades('BTC/USD').then(() => 'resolved', (e) => e.constructor.name);
      const sockets = sim.socketCount;
      const t0 = performance.now();
      await sim.stop();
      const stopMs = performance.now() - t0;
      console.log(JSON.stringify({ orders: orders.length, sockets, after: sim.socketCount, pending: await pending, quick: stopMs < 1000 }));
    `;
    const root = join(import.meta.dirname, '..', '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({ orders: 1, sockets: 1, after: 0, pending: 'NetworkError', quick: true });
  });
});
