import { ExchangeNotAvailable, NetworkError, AuthenticationError } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { ExecutionsWatch, type KrakenExecutionsApi } from './executions-watch.ts';

/** a ccxt.pro-like client whose watches are answered from the test */
function fakeExchange() {
  const waiting: Record<'trades' | 'orders', Array<{ resolve: (v: unknown) => void; reject: (e: unknown) => void }>> = { trades: [], orders: [] };
  const watch = (k: 'trades' | 'orders') => () => new Promise<unknown>((resolve, reject) => waiting[k].push({ resolve, reject }));
  let closed = 0;
  const ex: KrakenExecutionsApi = {
    has: { watchMyTrades: true, watchOrders: true },
    watchMyTrades: watch('trades'),
    watchOrders: watch('orders'),
    close: async () => {
      closed++;
      for (const k of ['trades', 'orders'] as const) for (const w of waiting[k].splice(0)) w.reject(new NetworkError('kraken closedByUser'));
    },
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
  };
  return {
    ex, settle, closed: () => closed,
    send: async (k: 'trades' | 'orders', v: unknown = []) => {
      waiting[k].shift()!.resolve(v);
      await settle();
    },
    fail: async (k: 'trades' | 'orders', e: unknown) => {
      waiting[k].shift()!.reject(e);
      await settle();
    },
    pending: (k: 'trades' | 'orders') => waiting[k].length,
  };
}

describe('ExecutionsWatch', () => {
  it('calls for a poll on every trade or order message, and watches again', async () => {
    const f = fakeExchange();
    const seen: string[] = [];
    const w = new ExecutionsWatch({ exchange: f.ex });
    w.start((what) => seen.push(what));
    await f.settle();
    await f.send('trades');
    await f.send('orders');
    await f.send('trades');
    expect(seen).toEqual(['trade', 'order', 'trade']);
    expect(f.pending('trades')).toBe(1);
    expect(f.pending('orders')).toBe(1);
    await w.stop();
  });

  it('when a socket drops it says so, waits the backoff, reconnects, and says when it is back', async () => {
    const f = fakeExchange();
    const logs: string[] = [];
    const seen: string[] = [];
    const w = new ExecutionsWatch({ exchange: f.ex, onLog: (l, m) => logs.push(`${l} ${m}`), backoff: { baseMs: 5, maxMs: 20 } });
    w.start((what) => seen.push(what));
    await f.settle();
    await f.fail('trades', new NetworkError('connection closed by remote server, closing code 1006'));
    expect(logs).toEqual(['warn executions websocket (trades) lost (NetworkError); orders are still polled; reconnecting in 5 ms']);
    await new Promise((r) => setTimeout(r, 30));
    expect(f.pending('trades')).toBe(1);
    await f.fail('trades', new ExchangeNotAvailable('kraken EService:Unavailable'));
    expect(logs[1]).toBe('warn executions websocket (trades) lost (EService:Unavailable); orders are still polled; reconnecting in 10 ms');
    await new Promise((r) => setTimeout(r, 40));
    await f.send('trades');
    expect(seen).toEqual(['trade']);
    expect(logs[2]).toBe('info executions websocket (trades) is back after 2 failed attempts');
    await w.stop();
  });

  it('when Kraken refuses the subscription itself it says so once and leaves the orders to polling', async () => {
    const f = fakeExchange();
    const logs: string[] = [];
    const w = new ExecutionsWatch({ exchange: f.ex, onLog: (l, m) => logs.push(`${l} ${m}`) });
    w.start(() => {});
    await f.settle();
    await f.fail('orders', new AuthenticationError('kraken EAPI:Invalid key'));
    expect(logs).toEqual([expect.stringMatching(/^error executions websocket \(orders\) refused \(EAPI:Invalid key: .*\); orders are still polled without it$/)]);
    expect(f.pending('orders')).toBe(0);
    expect(f.pending('trades')).toBe(1);
    await w.stop();
  });

  it('stop() closes the sockets, ends both loops, and cuts a backoff wait short', async () => {
    const f = fakeExchange();
    // a timer that never fires: stop() can only resolve if it cuts the backoff wait short
    const w = new ExecutionsWatch({ exchange: f.ex, timer: { set: () => 'never', clear: () => {} } });
    w.start(() => {});
    await f.settle();
    await f.fail('trades', new NetworkError('socket hang up'));
    await w.stop();
    expect(f.closed()).toBe(1);
    expect(w.isRunning).toBe(false);
    expect(f.pending('trades') + f.pending('orders')).toBe(0);
  });

  it('refuses a client without ccxt.pro, saying what it needs', () => {
    expect(() => new ExecutionsWatch({ exchange: { has: {} } })).toThrow(/needs ccxt.pro's kraken \(krakenClient with ws: true\) and API keys/);
  });
});
