import { describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT, PrivateCallQueue, priorityOf, type CallPriority } from './private-queue.ts';

/** A queue whose calls finish only when the test says so; `started` lists them in the order they were started. */
function harness(orderBurst?: number) {
  const q = new PrivateCallQueue(orderBurst === undefined ? {} : { orderBurst });
  const started: string[] = [];
  const finish = new Map<string, { ok: (v: string) => void; fail: (e: Error) => void }>();
  const results = new Map<string, Promise<string>>();
  const call = (name: string, priority: CallPriority) => {
    const p = q.run(priority, () => {
      started.push(name);
      return new Promise<string>((ok, fail) => finish.set(name, { ok, fail }));
    });
    p.catch(() => undefined);
    results.set(name, p);
    return p;
  };
  /** finishes the call in flight (the last started) and lets the queue start the next */
  const done = async (value = 'ok') => {
    const name = started.at(-1)!;
    finish.get(name)!.ok(`${name}:${value}`);
    await results.get(name);
    await new Promise((r) => setImmediate(r));
  };
  /** queues calls by name: `o…` are orders, the rest reads */
  const calls = (...names: string[]) => {
    for (const name of names) call(name, name.startsWith('o') ? 'order' : 'read');
  };
  const doneTimes = async (n: number) => {
    for (let i = 0; i < n; i++) await done();
  };
  return { q, started, calls, done, doneTimes, results, finish };
}

describe('PrivateCallQueue: one private call at a time, order entry first', () => {
  it('when nothing is in flight then a call starts at once, in the same tick', () => {
    const h = harness();
    h.calls('r1');
    expect(h.started).toEqual(['r1']);
  });

  it('when reads wait behind a read in flight then an order goes next, before every waiting read, and the read in flight is not interrupted', async () => {
    const h = harness();
    h.calls('r1', 'r2', 'r3', 'o1');
    // nothing else starts while r1 is in flight
    expect(h.started).toEqual(['r1']);
    await h.done();
    expect(h.started).toEqual(['r1', 'o1']);
    await h.doneTimes(3);
    expect(h.started).toEqual(['r1', 'o1', 'r2', 'r3']);
    expect(await h.results.get('r3')).toBe('r3:ok');
    expect(h.q.stats).toMatchObject({ sent: { order: 1, read: 3 }, jumped: 1, maxWaiting: 3 });
  });

  it('a call is started (its nonce taken) only when it leaves the queue: the start order is the send order', async () => {
    const h = harness();
    h.calls('r1', 'r2', 'o1', 'o2');
    expect(h.started).toEqual(['r1']);
    await h.doneTimes(3);
    expect(h.started).toEqual(['r1', 'o1', 'o2', 'r2']);
  });

  it('when orders keep coming then after orderBurst orders in a row one waiting read goes (reads are not starved)', async () => {
    const h = harness(2);
    h.calls('r0', 'r1', 'r2', 'o1', 'o2', 'o3', 'o4', 'o5');
    await h.doneTimes(7);
    expect(h.started).toEqual(['r0', 'o1', 'o2', 'r1', 'o3', 'o4', 'r2', 'o5']);
    expect(h.q.stats.readsLetThrough).toBe(2);
  });

  it('when no read waits then orders go one after another without a read in between', async () => {
    const h = harness(1);
    h.calls('o1', 'o2', 'o3');
    await h.doneTimes(2);
    expect(h.started).toEqual(['o1', 'o2', 'o3']);
  });

  it('when a call fails then its caller gets the error and the next call still goes', async () => {
    const h = harness();
    h.calls('o1', 'r1');
    h.finish.get('o1')!.fail(new Error('EService:Unavailable'));
    await expect(h.results.get('o1')).rejects.toThrow('EService:Unavailable');
    await new Promise((r) => setImmediate(r));
    expect(h.started).toEqual(['o1', 'r1']);
    await h.done();
    expect(await h.results.get('r1')).toBe('r1:ok');
  });

  it('when a call throws before returning a promise then its caller gets the error and the queue goes on', async () => {
    const q = new PrivateCallQueue();
    const bad = q.run('order', () => {
      throw new Error('bad arguments');
    });
    await expect(bad).rejects.toThrow('bad arguments');
    await expect(q.run('read', async () => 'after')).resolves.toBe('after');
  });

  it('when orderBurst is not a positive integer then it refuses, naming it', () => {
    expect(() => new PrivateCallQueue({ orderBurst: 0 })).toThrow(/orderBurst must be a positive integer, got 0/);
    expect(() => new PrivateCallQueue({ orderBurst: 1.5 })).toThrow(/orderBurst/);
  });

  it("Kraken's order-entry methods are order priority, everything else is a read", () => {
    expect(['AddOrder', 'CancelOrder', 'EditOrder', 'AddOrderBatch', 'CancelAll'].map(priorityOf)).toEqual(Array(5).fill('order'));
    expect(['Balance', 'BalanceEx', 'OpenOrders', 'ClosedOrders', 'TradesHistory', 'QueryOrders', 'CancelAllOrdersAfter', 'GetWebSocketsToken'].map(priorityOf)).toEqual(Array(8).fill('read'));
  });
});

/** A queue on a key with a nonce window: each call takes the next nonce when it starts (as ccxt signs); the clock is the test's. */
function windowHarness(nonceWindow: number, orderBurst?: number) {
  let now = 1_000;
  let last = 0;
  const nonces = { get current() { return last; }, peek: () => (now > last ? now : last + 1) };
  const q = new PrivateCallQueue({ nonceWindow, nonces, ...(orderBurst === undefined ? {} : { orderBurst }) });
  const started: string[] = [];
  const taken: number[] = [];
  const finish = new Map<string, () => void>();
  const calls = (...names: string[]) => {
    for (const name of names) {
      void q.run(name.startsWith('o') ? 'order' : 'read', () => {
        last = nonces.peek();
        taken.push(last);
        started.push(name);
        return new Promise<void>((ok) => finish.set(name, ok));
      });
    }
  };
  const done = async (...names: string[]) => {
    for (const name of names) finish.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  return { q, started, taken, calls, done, tick: (ms: number) => (now += ms) };
}

describe('PrivateCallQueue with the key’s nonce window: order entry beside the calls in flight', () => {
  it('when a read is in flight then an order starts at once beside it, while the other reads wait until nothing is in flight', async () => {
    const h = windowHarness(5_000);
    h.calls('r1', 'r2', 'o1');
    expect(h.started).toEqual(['r1', 'o1']);
    await h.done('o1');
    expect(h.started).toEqual(['r1', 'o1']); // r2 waits for r1
    await h.done('r1');
    expect(h.started).toEqual(['r1', 'o1', 'r2']);
    expect(h.q.stats).toMatchObject({ overlapped: 1, maxInFlight: 2 });
  });

  it('nonces are taken in start order, strictly increasing, however the calls overlap', async () => {
    const h = windowHarness(5_000);
    h.calls('r1', 'o1', 'o2', 'r2', 'o3');
    await h.done('o1');
    h.calls('o4');
    await h.done('r1'); // o4 beside o2 and o3; r2 waits for all of them
    await h.done('o2', 'o3', 'o4');
    await h.done('r2');
    expect(h.started).toEqual(['r1', 'o1', 'o2', 'o3', 'o4', 'r2']);
    expect(h.taken.every((n, i) => i === 0 || n > h.taken[i - 1]!)).toBe(true);
  });

  it('at most MAX_IN_FLIGHT calls are in flight at once', async () => {
    const h = windowHarness(5_000);
    h.calls('r1', 'o1', 'o2', 'o3', 'o4');
    expect(h.started).toEqual(['r1', 'o1', 'o2']);
    await h.done('o1');
    expect(h.started).toEqual(['r1', 'o1', 'o2', 'o3']);
    expect(h.q.stats.maxInFlight).toBe(MAX_IN_FLIGHT);
  });

  it('when the oldest call in flight is half the window old then an order waits for it, as without a window', async () => {
    const h = windowHarness(1_000);
    h.calls('r1');
    h.tick(499);
    h.calls('o1');
    expect(h.started).toEqual(['r1', 'o1']); // 499 above r1's nonce: beside it
    await h.done('o1');
    h.tick(1);
    h.calls('o2');
    expect(h.started).toEqual(['r1', 'o1']); // 500 above: r1 might arrive too late for Kraken's window
    await h.done('r1');
    expect(h.started).toEqual(['r1', 'o1', 'o2']);
  });

  it('when orderBurst orders went in a row and a read waits then the next order waits for that read', async () => {
    const h = windowHarness(5_000, 2);
    h.calls('r1', 'r2', 'o1', 'o2', 'o3');
    expect(h.started).toEqual(['r1', 'o1', 'o2']);
    await h.done('o1', 'o2');
    expect(h.started).toEqual(['r1', 'o1', 'o2']); // r2's turn: it waits for r1, and o3 waits for r2
    await h.done('r1');
    expect(h.started).toEqual(['r1', 'o1', 'o2', 'r2', 'o3']);
  });

  it('without a window nothing overlaps; a window without the key’s nonces is refused', async () => {
    const h = harness();
    h.calls('r1', 'o1', 'o2');
    expect(h.started).toEqual(['r1']);
    await h.doneTimes(2);
    expect(h.q.stats.maxInFlight).toBe(1);
    expect(() => new PrivateCallQueue({ nonceWindow: 1_000 })).toThrow(/needs the key's nonces/);
    expect(() => new PrivateCallQueue({ nonceWindow: -1 })).toThrow(/nonceWindow must be 0 or more/);
  });
});
