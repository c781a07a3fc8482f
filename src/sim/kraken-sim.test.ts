import ccxt, { type Exchange } from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CandleSeries } from '../adapters/csv/kraken-ohlcvt.ts';
import { krakenMarkets } from '../kraken/pairs.ts';
import { quoteFill } from '../domain/fill-model.ts';
import { Dec } from '../domain/money.ts';
import { rejection } from '../../test/promise-helpers.ts';
import { fault, krakenSignature, startKrakenSim, TXID, type KrakenSim } from './index.ts';

const KEY = 'sim-key';
const SECRET = Buffer.from('kraken-sim test secret, 32 bytes!').toString('base64');
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/** hourly BTC/USD: open 50000, a dip to 48000 on candle 3, volume 1 BTC a candle */
function series(): CandleSeries {
  const rows = Array.from({ length: 20 }, (_, i) => (i === 3 ? { o: 50000, h: 50200, l: 48000, c: 49000 } : { o: 50000, h: 50500, l: 49500, c: 50000 }));
  const n = rows.length;
  const col = (k: 'o' | 'h' | 'l' | 'c') => Float64Array.from(rows.map((r) => r[k]));
  return new CandleSeries('BTC/USD', HOUR, Float64Array.from({ length: n }, (_, i) => T0 + i * HOUR), col('o'), col('h'), col('l'), col('c'), new Float64Array(n).fill(1), new Float64Array(n).fill(3), [], 'synthetic');
}

/** ccxt's Balance typed loosely: balance[kind][currency] */
function amount(b: unknown, kind: 'total' | 'used' | 'free', code: string): number | undefined {
  return ((b as Record<string, Record<string, number> | undefined>)[kind] ?? {})[code];
}

let nonce = 0;
function client(sim: KrakenSim, secret = SECRET, key = KEY): Exchange {
  const ex = new ccxt.kraken({ apiKey: key, secret, enableRateLimit: false, timeout: 2_000 });
  ex.urls['api'] = { ...(ex.urls['api'] as Record<string, string>), public: sim.url, private: sim.url };
  ex.nonce = () => ++nonce;
  return ex;
}

describe('kraken-sim with real ccxt', () => {
  let sim: KrakenSim;
  let ex: Exchange;

  beforeEach(async () => {
    nonce = Date.now() * 1000;
    sim = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series()], balances: { USD: 10_000, XBT: 0.5 }, control: true });
    ex = client(sim);
    await ex.loadMarkets();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it("when ccxt loads markets then BTC/USD has Kraken's limits, precision and fees", () => {
    const m = ex.market('BTC/USD');
    expect(m.id).toBe('XXBTZUSD');
    expect(m.active).toBe(true);
    expect(m.limits.amount?.min).toBe(0.00005);
    expect(m.limits.cost?.min).toBe(0.5);
    expect(m.precision).toEqual({ amount: 1e-8, price: 0.1 });
    expect(m.taker).toBe(0.004);
    expect(m.maker).toBe(0.0025);
  });

  it('when balances are fetched then totals and funds held for open orders show', async () => {
    let b = await ex.fetchBalance();
    expect(amount(b, 'total', 'USD')).toBe(10_000);
    expect(amount(b, 'total', 'BTC')).toBe(0.5);
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.1, 40_000);
    b = await ex.fetchBalance();
    expect(amount(b, 'used', 'USD')).toBeCloseTo(0.1 * 40_000 * 1.004, 8);
    expect(amount(b, 'free', 'USD')).toBeCloseTo(10_000 - 0.1 * 40_000 * 1.004, 8);
  });

  it('when a market buy is placed then it fills at the next open with slippage, as the paper fill model says', async () => {
    const o = await ex.createOrder('BTC/USD', 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-1' });
    expect(o.id!).toMatch(TXID);
    expect((await ex.fetchOpenOrders('BTC/USD', undefined, undefined, { clientOrderId: 'mkt-1' })).map((x) => x.id)).toEqual([o.id]);
    sim.step(1);
    const [closed] = await ex.fetchClosedOrders('BTC/USD', undefined, undefined, { clientOrderId: 'mkt-1' });
    const meta = krakenMarkets().get('BTC/USD')!;
    const q = quoteFill({ slippageBps: 5, maxVolumeShare: 0.25 }, meta, { side: 'buy', type: 'market', remaining: new Dec('0.01') }, series().at(1), new Dec(0))!;
    expect(closed!.status).toBe('closed');
    expect(closed!.filled).toBe(0.01);
    expect(closed!.average).toBe(q.price.toNumber());
    const trades = await ex.fetchMyTrades('BTC/USD');
    expect(trades).toHaveLength(1);
    expect(trades[0]!.order).toBe(o.id!);
    expect(trades[0]!.id).toMatch(TXID);
    expect(trades[0]!.price).toBe(q.price.toNumber());
    expect(trades[0]!.fee?.cost).toBe(q.fee.toNumber());
    expect(trades[0]!.takerOrMaker).toBe('taker');
    const b = await ex.fetchBalance();
    expect(amount(b, 'total', 'BTC')).toBeCloseTo(0.51, 10);
    expect(new Dec(sim.exchange.balanceOf('USD')).eq(new Dec(10_000).minus(q.price.mul('0.01')).minus(q.fee))).toBe(true);
    expect((await ex.fetchOrder(o.id!)).status).toBe('closed');
  });

  it('when a limit buy is below the market then it rests until a candle touches it, in parts limited by volume', async () => {
    sim.setBalance('USD', 100_000);
    const o = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.4, 48_500, { clientOrderId: 'lim-1' });
    sim.step(2);
    expect((await ex.fetchOpenOrders('BTC/USD', undefined, undefined, { clientOrderId: 'lim-1' }))[0]!.filled).toBe(0);
    sim.step(1); // candle 3 dips to 48000: 25 % of 1 BTC fills
    const [open] = await ex.fetchOpenOrders('BTC/USD', undefined, undefined, { clientOrderId: 'lim-1' });
    expect(open!.filled).toBe(0.25);
    expect(open!.status).toBe('open');
    expect(sim.trades()[0]!.maker).toBe(true);
    await ex.cancelOrder(o.id!);
    const [closed] = await ex.fetchClosedOrders('BTC/USD', undefined, undefined, { clientOrderId: 'lim-1' });
    expect(closed!.status).toBe('canceled');
    expect(closed!.filled).toBe(0.25);
    expect(await rejection(ex.cancelOrder(o.id!))).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('when a cl_ord_id is open then it cannot be reused, and once cancelled it can (unique among open orders only)', async () => {
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'dup-1' });
    const e = await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'dup-1' }));
    expect(e.message).toContain('EOrder:Duplicate cl_ord_id');
    await ex.cancelOrder('', undefined, { clientOrderId: 'dup-1' });
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'dup-1' });
    expect(sim.orders().filter((o) => o.clOrdId === 'dup-1').map((o) => o.status)).toEqual(['canceled', 'open']);
  });

  it("when a request is badly signed, reuses a nonce, or the order is unaffordable or too small then ccxt raises Kraken's error classes", async () => {
    expect(await rejection(client(sim, Buffer.from('another secret').toString('base64')).fetchBalance())).toBeInstanceOf(ccxt.ExchangeError);
    expect((await rejection(client(sim, Buffer.from('another secret').toString('base64')).fetchBalance())).message).toContain('EAPI:Invalid signature');
    expect(await rejection(client(sim, SECRET, 'wrong-key').fetchBalance())).toBeInstanceOf(ccxt.AuthenticationError);
    await ex.fetchBalance();
    const fixed = client(sim);
    fixed.nonce = () => 42;
    expect(await rejection(fixed.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce); // below the last nonce
    const e1 = await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 1, 50_000));
    expect(e1).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(await rejection(ex.createOrder('BTC/USD', 'market', 'sell', 0.6))).toBeInstanceOf(ccxt.InsufficientFunds);
    const e2 = await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.00001, 40_000));
    expect(e2).toBeInstanceOf(ccxt.InvalidOrder);
    expect(e2.message).toContain('EOrder:Order minimum not met');
    expect(sim.orders()).toHaveLength(0);
  });

  it('when ccxt reuses the last nonce then the sim answers EAPI:Invalid nonce (strictly increasing per key)', async () => {
    let n = nonce + 1_000;
    ex.nonce = () => n;
    await ex.fetchBalance();
    expect(await rejection(ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
    n++;
    await ex.fetchBalance();
  });

  it('when a validate order is sent then nothing is placed', async () => {
    const r = (await ex.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', volume: '0.01', price: '40000', validate: 'true' })) as { result: { descr: { order: string }; txid?: string[] } };
    expect(r.result.descr.order).toBe('buy 0.01000000 XBTUSD @ limit 40000.0');
    expect(r.result.txid).toBeUndefined();
    expect(sim.orders()).toHaveLength(0);
  });

  it('when a post-only limit would cross then Kraken accepts and cancels it', async () => {
    const o = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 51_000, { postOnly: true });
    expect((await ex.fetchOrder(o.id!)).status).toBe('canceled');
  });

  it('when ticker, candles, order book and time are asked for then they come from the replayed candles', async () => {
    sim.step(3);
    const t = await ex.fetchTicker('BTC/USD');
    expect(t.last).toBe(49_000);
    const c = await ex.fetchOHLCV('BTC/USD', '1h');
    expect(c).toHaveLength(4);
    expect(c[3]).toEqual([T0 + 3 * HOUR, 50000, 50200, 48000, 49000, 1]);
    const ob = await ex.fetchOrderBook('BTC/USD', 5);
    expect(ob.bids[0]![0]).toBe(49_000);
    expect(ob.asks[0]![0]).toBe(49_000.1);
    expect(typeof (await ex.fetchTime())).toBe('number');
  });

  describe('faults', () => {
    it('when the response is dropped after accepting then ccxt sees a NetworkError and the order exists', async () => {
      sim.inject('AddOrder', fault.drop('hangup'));
      const e = await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'drop-1' }));
      expect(e).toBeInstanceOf(ccxt.NetworkError);
      expect((await ex.fetchOpenOrders('BTC/USD', undefined, undefined, { clientOrderId: 'drop-1' })).length).toBe(1);
    });

    it('when the response is held after accepting then ccxt times out (RequestTimeout) and the order exists', async () => {
      ex.timeout = 300;
      sim.inject('AddOrder', fault.drop('hold'));
      const e = await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'hold-1' }));
      expect(e).toBeInstanceOf(ccxt.RequestTimeout);
      expect(sim.order('hold-1')?.status).toBe('open');
    });

    it('when a 5xx comes before processing then nothing is placed; after accepting, the order exists', async () => {
      sim.inject('AddOrder', fault.http(502));
      expect(await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000))).toBeInstanceOf(ccxt.ExchangeNotAvailable);
      expect(sim.orders()).toHaveLength(0);
      sim.inject('AddOrder', fault.http(503, true));
      expect(await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000))).toBeInstanceOf(ccxt.NetworkError);
      expect(sim.orders()).toHaveLength(1);
      expect(sim.calls['AddOrder']).toBe(2);
    });

    it('when rate limit, nonce or unavailable faults are injected then ccxt raises DDoSProtection, InvalidNonce, ExchangeNotAvailable', async () => {
      sim.inject('AddOrder', fault.rateLimit());
      expect(await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000))).toBeInstanceOf(ccxt.DDoSProtection);
      sim.inject('AddOrder', fault.invalidNonce());
      expect(await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000))).toBeInstanceOf(ccxt.InvalidNonce);
      expect(sim.orders()).toHaveLength(0);
      sim.inject('AddOrder', fault.unavailable());
      expect(await rejection(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000, { clientOrderId: 'unav-1' }))).toBeInstanceOf(ccxt.ExchangeNotAvailable);
      expect(sim.order('unav-1')?.status).toBe('open');
    });

    it('when latency is injected for the next 2 calls then they are slow and the third is not', async () => {
      sim.inject('BalanceEx', fault.latency(150), 2);
      for (const slow of [true, true, false]) {
        const t = performance.now();
        await ex.fetchBalance();
        expect(performance.now() - t >= 140).toBe(slow);
      }
    });

    it('when a partial fill is forced then the order stops at that share and stays open', async () => {
      sim.inject('AddOrder', fault.partialFill(0.4));
      const o = await ex.createOrder('BTC/USD', 'market', 'buy', 0.1, undefined, { clientOrderId: 'part-1' });
      sim.step(3);
      const got = await ex.fetchOrder(o.id!);
      expect(got.status).toBe('open');
      expect(got.filled).toBe(0.04);
    });

    it('when a cancel races a fill then the cancel answers Unknown order and the order is closed, filled', async () => {
      const o = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 49_900, { clientOrderId: 'race-1' });
      sim.inject('CancelOrder', fault.cancelRace());
      expect(await rejection(ex.cancelOrder(o.id!))).toBeInstanceOf(ccxt.OrderNotFound);
      const [closed] = await ex.fetchClosedOrders('BTC/USD', undefined, undefined, { clientOrderId: 'race-1' });
      expect(closed!.status).toBe('closed');
      expect(closed!.filled).toBe(0.01);
      expect((await ex.fetchMyTrades('BTC/USD')).map((t) => t.order)).toEqual([o.id]);
    });

    it('when the control endpoint injects a fault then it applies; without the control flag the endpoint does not exist', async () => {
      const r = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ method: 'BalanceEx', fault: { kind: 'error', error: 'EService:Unavailable' } }) });
      expect(r.status).toBe(200);
      expect(await rejection(ex.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
      await ex.fetchBalance();
      await fetch(`${sim.url}/__sim/step`, { method: 'POST', body: JSON.stringify({ n: 2 }) });
      expect(sim.exchange.cursor('BTC/USD')).toBe(2);
      const bad = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ fault: { kind: 'nope' } }) });
      expect(bad.status).toBe(400);
      const plain = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series()] });
      try {
        expect((await fetch(`${plain.url}/__sim/faults`, { method: 'POST', body: '{}' })).status).toBe(404);
      } finally {
        await plain.stop();
      }
    });
  });

  it("when the rate counter is on then calls beyond Kraken's maximum answer EAPI:Rate limit exceeded, while AddOrder is not counted", async () => {
    sim.setRateLimit({ max: 3, decayPerSec: 0 });
    await ex.fetchBalance();
    await ex.fetchOpenOrders();
    await ex.fetchBalance();
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000);
    expect(await rejection(ex.fetchBalance())).toBeInstanceOf(ccxt.DDoSProtection);
  });

  it("when the dead man's switch runs out then open orders are cancelled", async () => {
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 40_000);
    const r = (await ex.cancelAllOrdersAfter(1_000)) as { result: { triggerTime: string } };
    expect(r.result.triggerTime).toMatch(/Z$/);
    await new Promise((res) => setTimeout(res, 1_200));
    expect(sim.orders()[0]!.status).toBe('canceled');
  });
});

describe('kraken-sim nonces', () => {
  it('when a nonce window is set then late nonces within it are accepted once, older ones refused', async () => {
    const sim = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series()], nonceWindow: 10 });
    try {
      const ex = client(sim);
      let n = 1_000;
      ex.nonce = () => n;
      await ex.fetchBalance();
      n = 1_005;
      await ex.fetchBalance();
      n = 1_001; // late but inside the window
      await ex.fetchBalance();
      expect(await rejection(ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce); // 1001 again
      n = 990; // outside the window
      expect(await rejection(ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
    } finally {
      await sim.stop();
    }
  });
});

describe('kraken-sim signing', () => {
  it("when signing then the signature is Kraken's documented example", () => {
    // Kraken's REST authentication guide example
    const secret = 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==';
    const body = 'nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25';
    expect(krakenSignature('/0/private/AddOrder', '1616492376594', body, secret)).toBe('4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==');
  });

  it('when the secret is not base64 then the sim refuses to start', async () => {
    await expect(startKrakenSim({ apiKey: KEY, apiSecret: 'not base64!', series: [series()] })).rejects.toThrow(/base64/);
  });
});
