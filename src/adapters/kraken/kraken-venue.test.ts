/**
 * The Kraken venue against a scripted fake of ccxt's kraken: idempotent placement under every kind of
 * failure, fills exactly once, cancel races, one private call at a time. The same behaviours are
 * exercised through real ccxt against the Kraken simulator in test/kraken-gateway.e2e.test.ts.
 */
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../../kraken/pairs.ts';
import { Dec } from '../../domain/money.ts';
import type { Fill, OrderEvent, OrderIntent } from '../../domain/types.ts';
import { KrakenVenue, type AddOrderResponse, type ApiOrder, type ApiTrade, type KrakenApi } from './kraken-venue.ts';

type Fault = 'timeout_after_accept' | 'timeout_before' | '5xx_after_accept' | 'no_txid' | 'nonce' | 'ratelimit' | 'insufficient' | 'bad_signature';

class FakeKraken implements KrakenApi {
  readonly orders: Array<ApiOrder & { clientOrderId: string; status: string; amount: number }> = [];
  readonly trades: ApiTrade[] = [];
  readonly createFaults: Fault[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** the calls in the order they started */
  readonly started: string[] = [];
  cancelRace = false;
  private seq = 0;

  private async call<T>(fn: () => T, name = 'read'): Promise<T> {
    this.started.push(name);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 1));
    try {
      return fn();
    } finally {
      this.inFlight--;
    }
  }

  /** the AddOrder parameters of every create, in order */
  readonly addOrders: Array<Record<string, string>> = [];

  privatePostAddOrder(params: Record<string, string>): Promise<AddOrderResponse> {
    this.addOrders.push(params);
    const amount = Number(params.volume);
    return this.call(() => {
      const fault = this.createFaults.shift();
      const err = (cls: new (m: string) => Error, body: string) => new cls(`kraken {"error":["${body}"]}`);
      if (fault === 'timeout_before') throw new ccxt.RequestTimeout('kraken POST /0/private/AddOrder request timed out');
      if (fault === 'nonce') throw err(ccxt.InvalidNonce, 'EAPI:Invalid nonce');
      if (fault === 'ratelimit') throw err(ccxt.DDoSProtection, 'EAPI:Rate limit exceeded');
      if (fault === 'insufficient') throw err(ccxt.InsufficientFunds, 'EOrder:Insufficient funds');
      if (fault === 'bad_signature') throw err(ccxt.ExchangeError, 'EAPI:Invalid signature');
      const clientOrderId = String(params.cl_ord_id);
      if (this.orders.some((o) => o.clientOrderId === clientOrderId && o.status === 'open')) throw err(ccxt.InvalidOrder, 'EOrder:Duplicate order');
      const o = { id: `O${++this.seq}`, clientOrderId, status: 'open', amount };
      this.orders.push(o);
      if (fault === 'timeout_after_accept') throw new ccxt.RequestTimeout('kraken POST /0/private/AddOrder request timed out');
      if (fault === '5xx_after_accept') throw err(ccxt.ExchangeNotAvailable, 'EService:Unavailable');
      if (fault === 'no_txid') return { result: { descr: { order: 'placed' } } };
      return { result: { descr: { order: `${params.type} ${params.volume} ${params.pair} @ ${params.ordertype}` }, txid: [o.id] } };
    }, 'create');
  }

  cancelOrder(id: string): Promise<unknown> {
    return this.call(() => {
      const o = this.orders.find((x) => x.id === id);
      if (this.cancelRace && o) this.fillOrder(id, o.amount - this.filledOf(id), 50_000);
      if (!o || o.status !== 'open') throw new ccxt.InvalidOrder('kraken {"error":["EOrder:Unknown order"]}');
      o.status = 'canceled';
      return { count: 1 };
    }, 'cancel');
  }

  /** runs right after an open-orders read is answered (a fill landing between two reads) */
  afterOpenRead: (() => void) | null = null;

  fetchOpenOrders(_s?: string, _since?: number, _l?: number, params: Record<string, unknown> = {}): Promise<ApiOrder[]> {
    return this.call(() => {
      const out = this.orders.filter((o) => o.status === 'open' && (!params.clientOrderId || o.clientOrderId === params.clientOrderId));
      const hook = this.afterOpenRead;
      this.afterOpenRead = null;
      hook?.();
      return out;
    });
  }

  fetchClosedOrders(_s?: string, _since?: number, _l?: number, params: Record<string, unknown> = {}): Promise<ApiOrder[]> {
    return this.call(() => this.orders.filter((o) => o.status !== 'open' && (!params.clientOrderId || o.clientOrderId === params.clientOrderId)));
  }

  /** pages of 50, newest first, like Kraken's TradesHistory */
  fetchMyTrades(_s?: string, _since?: number, _l?: number, params: Record<string, unknown> = {}): Promise<ApiTrade[]> {
    const ofs = Number(params.ofs ?? 0);
    return this.call(() => [...this.trades].reverse().slice(ofs, ofs + 50));
  }

  filledOf(id: string): number {
    return this.trades.filter((t) => t.order === id).reduce((a, t) => a + t.amount, 0);
  }

  /** the exchange fills (part of) an order */
  fillOrder(id: string, amount: number, price: number): void {
    const o = this.orders.find((x) => x.id === id)!;
    const n = this.trades.length + 1;
    this.trades.push({ id: `T${n}`, order: id, timestamp: 1_700_000_000_000 + n, price, amount, fee: { cost: 0 }, takerOrMaker: 'taker', info: { vol: amount.toFixed(8), price: price.toFixed(1), fee: (amount * price * 0.004).toFixed(5), ordertxid: id } });
    if (this.filledOf(id) >= o.amount - 1e-12) o.status = 'closed';
  }
}

function setup(options = {}) {
  const api = new FakeKraken();
  const markets = krakenMarkets();
  const venue = new KrakenVenue({ api, clock: { now: () => 1_700_000_000_000 }, meta: (p) => markets.get(p)!, secrets: ['sekret-key-123'], sleep: async () => {}, lastPrice: () => 50_000 }, options);
  const events: OrderEvent[] = [];
  const fills: Fill[] = [];
  venue.connect({ onOrderEvent: (e) => events.push(e), onFill: (f) => fills.push(f) });
  return { api, venue, events, fills, kinds: () => events.map((e) => e.kind) };
}

let n = 0;
function intent(over: Partial<OrderIntent> = {}): OrderIntent {
  n++;
  return { id: `s${n}:entry`, signalId: `s${n}`, clientOrderId: `tg${String(n).padStart(16, '0')}`, pair: 'BTC/USD', side: 'buy', type: 'market', quantity: new Dec('0.01'), purpose: 'entry', tsEvent: 0, tsInit: 0, ...over };
}

describe('Kraken venue: placing an order exactly once', () => {
  it('when an order is placed then AddOrder gets Kraken’s parameters from the intent’s exact decimals', async () => {
    const s = setup();
    const a = intent({ quantity: new Dec('0.12345678') });
    const b = intent({ side: 'sell', type: 'limit', quantity: new Dec('0.0100'), limitPrice: new Dec('50000.50') });
    s.venue.submit(a);
    s.venue.submit(b);
    await s.venue.idle();
    expect(s.api.addOrders).toEqual([
      { pair: 'XXBTZUSD', type: 'buy', ordertype: 'market', volume: '0.12345678', cl_ord_id: a.clientOrderId },
      { pair: 'XXBTZUSD', type: 'sell', ordertype: 'limit', volume: '0.01', cl_ord_id: b.clientOrderId, price: '50000.5' },
    ]);
  });

  it('when the venue accepts then the order is accepted once, and its fills arrive once however often it is polled', async () => {
    const s = setup();
    const o = intent();
    s.venue.submit(o);
    await s.venue.idle();
    expect(s.kinds()).toEqual(['accepted']);
    s.api.fillOrder('O1', 0.004, 50_000.1);
    await s.venue.poll();
    s.api.fillOrder('O1', 0.006, 50_000.2);
    await s.venue.poll();
    await s.venue.poll();
    expect(s.fills.map((f) => [f.id, f.quantity.toFixed(), f.price.toFixed(), f.fee.toFixed()])).toEqual([
      ['T1', '0.004', '50000.1', '0.8'],
      ['T2', '0.006', '50000.2', '1.2'],
    ]);
    expect(s.kinds()).toEqual(['accepted', 'filled']);
    expect(s.api.orders).toHaveLength(1);
  });

  it.each(['timeout_after_accept', '5xx_after_accept', 'no_txid'] as const)('when the response is lost after Kraken accepted (%s) then the order is looked up and adopted, never sent twice', async (fault) => {
    const s = setup();
    s.api.createFaults.push(fault);
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.kinds()).toEqual(['unknown', 'resolved', 'accepted']);
    expect((s.events[1] as { how: string }).how).toBe('found');
    expect(s.api.orders).toHaveLength(1);
    expect(s.venue.stats).toMatchObject({ creates: 1, lookups: 1, resends: 0 });
  });

  it('when the request timed out before reaching Kraken then the lookup finds nothing and the order is sent again, once', async () => {
    const s = setup();
    s.api.createFaults.push('timeout_before');
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.kinds()).toEqual(['unknown', 'resolved', 'accepted']);
    expect((s.events[1] as { how: string }).how).toBe('resent');
    expect(s.api.orders).toHaveLength(1);
    expect(s.venue.stats).toMatchObject({ creates: 2, lookups: 1, resends: 1 });
  });

  it('when every send times out before reaching Kraken then it gives up after the send budget, with nothing on the venue', async () => {
    const s = setup({ maxSends: 3 });
    s.api.createFaults.push('timeout_before', 'timeout_before', 'timeout_before');
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.kinds()).toEqual(['unknown', 'resolved', 'unknown', 'resolved', 'unknown', 'rejected']);
    expect(s.api.orders).toHaveLength(0);
  });

  it.each(['nonce', 'ratelimit'] as const)('when Kraken answers %s then nothing was placed: it backs off and sends again', async (fault) => {
    const s = setup();
    s.api.createFaults.push(fault, fault);
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.kinds()).toEqual(['accepted']);
    expect(s.api.orders).toHaveLength(1);
    expect(s.venue.stats.retries).toBe(2);
  });

  it('when funds are insufficient then the order is rejected with Kraken’s string and not retried', async () => {
    const s = setup();
    s.api.createFaults.push('insufficient');
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.events).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Insufficient funds' }]);
    expect(s.venue.stats.creates).toBe(1);
  });

  it('when the signature is refused then the venue halts: this order and every later one are rejected, nothing is sent', async () => {
    const s = setup();
    s.api.createFaults.push('bad_signature');
    s.venue.submit(intent());
    await s.venue.idle();
    s.venue.submit(intent());
    await s.venue.idle();
    expect(s.events.map((e) => (e as { reason?: string }).reason)).toEqual(['EAPI:Invalid signature', expect.stringMatching(/^venue halted: EAPI:Invalid signature/)]);
    expect(s.venue.haltReason).toMatch(/EAPI:Invalid signature/);
    expect(s.venue.stats.creates).toBe(1);
    expect(JSON.stringify(s.events)).not.toContain('sekret-key-123');
  });

  it('a limit entry below Kraken’s minimum is refused before anything is sent', async () => {
    const s = setup();
    s.venue.submit(intent({ type: 'limit', limitPrice: new Dec('50000'), quantity: new Dec('0.00001') }));
    await s.venue.idle();
    expect(s.events).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Order minimum not met' }]);
    expect(s.venue.stats.creates).toBe(0);
  });

  it('a market sell below Kraken’s cost minimum at the last price is refused before anything is sent (minimums apply to sells)', async () => {
    const s = setup();
    s.venue.submit(intent({ side: 'sell', purpose: 'exit', quantity: new Dec('0.000009') })); // 0.000009 × 50,000 = $0.45 < $0.5
    await s.venue.idle();
    expect(s.events).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Order minimum not met' }]);
    expect(s.venue.stats.creates).toBe(0);
  });
});

describe('Kraken venue: cancels and races', () => {
  it('when the rest of an order fills between the poll’s reads then no fill is lost and it ends filled, not cancelled', async () => {
    const s = setup();
    const o = intent({ quantity: new Dec('0.01') });
    s.venue.submit(o);
    await s.venue.idle();
    s.api.fillOrder('O1', 0.005, 50_000);
    await s.venue.poll();
    s.api.afterOpenRead = () => s.api.fillOrder('O1', 0.005, 50_001); // lands after "still open" was read
    await s.venue.poll();
    await s.venue.poll();
    expect(s.fills.map((f) => f.id)).toEqual(['T1', 'T2']);
    expect(s.events.at(-1)).toMatchObject({ kind: 'filled' });
    expect(s.kinds().filter((k) => k === 'cancelled')).toHaveLength(0);
  });

  it('when an order whose send timed out is cancelled during the lookup and is nowhere on the venue then it is not sent again', async () => {
    const s = setup();
    s.api.createFaults.push('timeout_before');
    const o = intent();
    s.venue.submit(o);
    s.venue.cancel(o.clientOrderId, 'entry timeout');
    await s.venue.idle();
    expect(s.kinds()).toEqual(['unknown', 'cancelled']);
    expect(s.api.orders).toHaveLength(0);
  });

  it('when a partly filled order is cancelled then its fills are reported and it ends cancelled with what filled', async () => {
    const s = setup();
    const o = intent({ quantity: new Dec('0.01') });
    s.venue.submit(o);
    await s.venue.idle();
    s.api.fillOrder('O1', 0.004, 50_000);
    s.venue.cancel(o.clientOrderId, 'entry timeout');
    await s.venue.idle();
    expect(s.fills.map((f) => f.quantity.toFixed())).toEqual(['0.004']);
    expect(s.events.at(-1)).toMatchObject({ kind: 'cancelled', reason: 'entry timeout' });
    expect((s.events.at(-1) as { filledQty: Dec }).filledQty.toFixed()).toBe('0.004');
  });

  it('when the order fills while the cancel is in flight then the fills are reported and it ends filled', async () => {
    const s = setup();
    const o = intent();
    s.venue.submit(o);
    await s.venue.idle();
    s.api.cancelRace = true;
    s.venue.cancel(o.clientOrderId, 'entry timeout');
    await s.venue.idle();
    expect(s.fills.map((f) => f.quantity.toFixed())).toEqual(['0.01']);
    expect(s.kinds()).toEqual(['accepted', 'filled']);
  });
});

describe('Kraken venue: one private call at a time', () => {
  it('when 200 orders are placed at once then the calls reach the venue one after another, and each order exactly once', async () => {
    const s = setup();
    const intents = Array.from({ length: 200 }, () => intent());
    for (const o of intents) s.venue.submit(o);
    await s.venue.idle();
    expect(s.api.maxInFlight).toBe(1);
    expect(s.api.orders).toHaveLength(200);
    expect(new Set(s.api.orders.map((o) => o.clientOrderId)).size).toBe(200);
    expect(s.kinds().filter((k) => k === 'accepted')).toHaveLength(200);
  });

  it('when reads wait behind a read in flight then a create goes next, before every waiting read (the venue’s own queue around a client without one)', async () => {
    const s = setup();
    s.venue.submit(intent());
    await s.venue.idle();
    s.api.started.length = 0;
    const polls = Array.from({ length: 5 }, () => s.venue.poll());
    s.venue.submit(intent());
    await Promise.all(polls);
    await s.venue.idle();
    expect(s.api.started.slice(0, 2)).toEqual(['read', 'create']);
    expect(s.api.started.filter((c) => c === 'create')).toHaveLength(1);
    expect(s.api.maxInFlight).toBe(1);
    expect(s.kinds().filter((k) => k === 'accepted')).toHaveLength(2);
  });
});

describe('Kraken venue: memory over a long run', () => {
  it('when orders finish then they are forgotten (venue ids, trade ids): only working orders are held, and a finished id is still refused', async () => {
    const s = setup({ rememberFinished: 5 });
    const intents = Array.from({ length: 12 }, () => intent());
    for (const o of intents) s.venue.submit(o);
    await s.venue.idle();
    for (const o of s.api.orders.slice(0, 10)) s.api.fillOrder(o.id, o.amount, 50_000);
    s.venue.cancel(intents[10]!.clientOrderId, 'entry timeout');
    await s.venue.idle();
    await s.venue.poll();
    expect(s.kinds().filter((k) => k === 'filled')).toHaveLength(10);
    expect(s.kinds().filter((k) => k === 'cancelled')).toHaveLength(1);
    // one order still working: it alone is held; of the finished, the 5 most recent ids are remembered
    expect(s.venue.held).toEqual({ orders: 1, venueIds: 1, trades: 0, finished: 5 });
    expect(s.venue.workingCount()).toBe(1);
    // the fills of a forgotten order are not reported again, however often it is polled
    await s.venue.poll();
    expect(s.fills).toHaveLength(10);
    // a recent finished id (the last filled) is refused as a duplicate without a call; the working one too
    const calls = s.api.started.length;
    s.venue.submit(intents[9]!);
    s.venue.submit(intents[11]!);
    await s.venue.idle();
    expect(s.events.slice(-2)).toMatchObject([{ kind: 'rejected', reason: 'EOrder:Duplicate cl_ord_id' }, { kind: 'rejected', reason: 'EOrder:Duplicate cl_ord_id' }]);
    expect(s.api.started.length).toBe(calls);
    // the last one fills: nothing is held any more
    s.api.fillOrder(s.api.orders[11]!.id, s.api.orders[11]!.amount, 50_000);
    await s.venue.poll();
    expect(s.venue.held).toMatchObject({ orders: 0, venueIds: 0, trades: 0 });
  });
});
