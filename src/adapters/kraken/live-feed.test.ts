import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundledSlice } from '../../../test/helpers.ts';
import type { Candle } from '../../domain/types.ts';
import { ManualClock } from '../clock/clocks.ts';
import { fault, startKrakenSim, type KrakenSim } from '../../sim/index.ts';
import { krakenClient } from './client.ts';
import { LiveCandleFeed, type FeedGap, type FeedStatus, type FeedTicker, type FeedTimer, type LiveFeedOptions } from './live-feed.ts';

const H = 3_600_000;
const START = 800; // the simulator's current (forming) candle index at start
const series = bundledSlice('2019-01-01', '2019-03-01');
const KEY = randomBytes(16).toString('hex');
const SECRET = randomBytes(32).toString('base64');

/** one minute into candle i: the candles before i are closed, i is forming (as in the simulator) */
const inside = (i: number) => series.at(i).ts + 60_000;

/** a timer the test fires by hand; it records every delay asked for */
class FakeTimer implements FeedTimer {
  readonly delays: number[] = [];
  private next: (() => unknown) | null = null;
  set(fn: () => unknown, ms: number): unknown {
    this.delays.push(ms);
    this.next = fn;
    return this.delays.length;
  }
  clear(): void {
    this.next = null;
  }
  get armed(): boolean {
    return this.next !== null;
  }
  async fire(): Promise<void> {
    const fn = this.next;
    if (!fn) throw new Error('nothing scheduled');
    this.next = null;
    await fn();
  }
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('LiveCandleFeed against the Kraken simulator through real ccxt', () => {
  let sim: KrakenSim;
  let clock: ManualClock;
  let candles: Candle[];
  let statuses: FeedStatus[];
  let logs: string[];
  let feeds: LiveCandleFeed[];

  function feed(o: Partial<LiveFeedOptions> = {}, baseUrl = sim.url): LiveCandleFeed {
    const { exchange } = krakenClient({ clock, baseUrl, timeoutMs: 2_000 });
    const f = new LiveCandleFeed({
      exchange, clock, pairs: [{ pair: 'BTC/USD', intervalMs: H }],
      onCandle: (c) => void candles.push(c), onStatus: (s) => statuses.push(s), onLog: (l, m) => logs.push(`${l} ${m}`),
      random: () => 0, ...o,
    });
    feeds.push(f);
    return f;
  }

  beforeEach(async () => {
    sim = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series], startIndex: START });
    clock = new ManualClock(inside(START));
    candles = [];
    statuses = [];
    logs = [];
    feeds = [];
  });
  afterEach(async () => {
    for (const f of feeds) await f.stop();
    await sim.stop();
  });

  it('when it first polls then every closed candle Kraken returns is emitted once, in order, and the forming one never', async () => {
    const f = feed();
    const r = await f.pollOnce();
    expect(r.error).toBeNull();
    expect(r.emitted).toBe(719); // Kraken's 720 rows minus the forming candle
    expect(candles[0]).toEqual(series.at(START - 719));
    expect(candles.at(-1)).toEqual(series.at(START - 1));
    for (let k = 1; k < candles.length; k++) expect(candles[k]!.ts).toBeGreaterThan(candles[k - 1]!.ts);
    expect(candles.some((c) => c.ts === series.at(START).ts)).toBe(false);
    expect(f.lastCandleTs('BTC/USD')).toBe(series.at(START - 1).ts);
    expect(f.lastDataTs('BTC/USD')).toBe(series.at(START - 1).ts + H);
    expect((await f.pollOnce()).emitted).toBe(0);
    expect(candles).toHaveLength(719);
    expect(f.status('BTC/USD').state).toBe('ok');
  });

  it('when the simulator steps k candles and the clock follows then the next poll emits exactly those k', async () => {
    const f = feed({ backfill: 3 });
    await f.pollOnce();
    expect(candles.map((c) => c.ts)).toEqual([START - 3, START - 2, START - 1].map((i) => series.at(i).ts));
    candles.length = 0;
    sim.step(4);
    clock.set(inside(START + 4));
    expect((await f.pollOnce()).emitted).toBe(4);
    expect(candles).toEqual([0, 1, 2, 3].map((k) => series.at(START + k)));
    expect((await f.pollOnce()).emitted).toBe(0);
  });

  it('when the venue has moved on but the clock says the candles are still open then nothing is emitted until the clock agrees', async () => {
    const f = feed({ backfill: 0 });
    await f.pollOnce();
    sim.step(2);
    expect((await f.pollOnce()).emitted).toBe(0); // clock still inside candle START
    clock.set(inside(START + 1));
    expect((await f.pollOnce()).emitted).toBe(1);
    clock.set(inside(START + 2));
    expect((await f.pollOnce()).emitted).toBe(1);
    expect(candles).toEqual([series.at(START), series.at(START + 1)]);
  });

  it('when restarted with the last emitted candle time then it continues after it, no duplicate and no gap', async () => {
    const first = feed();
    await first.pollOnce();
    const last = series.at(START - 5).ts; // the first process emitted up to here and died
    candles.length = 0;
    sim.step(2);
    clock.set(inside(START + 2));
    const second = feed({ pairs: [{ pair: 'BTC/USD', intervalMs: H, lastTs: last }] });
    expect(second.lastDataTs('BTC/USD')).toBe(last + H);
    const r = await second.pollOnce();
    expect(candles).toEqual([-4, -3, -2, -1, 0, 1].map((k) => series.at(START + k)));
    expect(r.emitted).toBe(6);
    expect(logs.filter((l) => l.includes('missed'))).toEqual([]);
  });

  it('when restarted after more than 720 candles of downtime then it emits what Kraken still has and says how much was missed', async () => {
    const gaps: FeedGap[] = [];
    const last = series.at(10).ts;
    const f = feed({ pairs: [{ pair: 'BTC/USD', intervalMs: H, lastTs: last }], onGap: (g) => gaps.push(g) });
    expect((await f.pollOnce()).emitted).toBe(719);
    const oldest = series.at(START - 719).ts;
    expect(gaps).toEqual([{ pair: 'BTC/USD', fromTs: last + H, toTs: oldest - H, missed: (oldest - last) / H - 1 }]);
    expect(logs.find((l) => l.includes('missed'))).toMatch(/^warn market data: BTC\/USD missed \d+ candles from 2019-01-01T11:00:00\.000Z to .*720-candle OHLC window/);
    await f.pollOnce();
    expect(gaps).toHaveLength(1);
  });

  it('when no new closed candle arrives for longer than the allowed age then the pair turns stale, and ok again when one arrives', async () => {
    const f = feed({ backfill: 1 });
    await f.pollOnce();
    expect(f.status('BTC/USD').state).toBe('ok');
    const lastData = f.lastDataTs('BTC/USD')!;
    clock.set(lastData + 2 * H); // default: two intervals
    expect((await f.pollOnce()).emitted).toBe(0); // candle START is past by the clock but Kraken still forms it
    expect(f.status('BTC/USD').state).toBe('ok');
    clock.set(lastData + 2 * H + 1);
    await f.pollOnce();
    const stale = f.status('BTC/USD');
    expect(stale).toMatchObject({ state: 'stale', since: lastData + 2 * H + 1 });
    expect(stale.reason).toMatch(/no new BTC\/USD candle for 7200 s \(last closed at .*; allowed 7200 s\)/);
    sim.step(3);
    await f.pollOnce();
    expect(f.status('BTC/USD').state).toBe('ok');
    expect(statuses.map((s) => s.state)).toEqual(['ok', 'stale', 'ok']);
  });

  it('when the age is configured then staleness follows it, and status() notices it between polls', async () => {
    const f = feed({ backfill: 1, staleAfterMs: 5 * 60_000 });
    clock.set(series.at(START).ts + 4 * 60_000);
    await f.pollOnce();
    expect(f.status('BTC/USD').state).toBe('ok');
    clock.advance(60_001);
    expect(f.status('BTC/USD').state).toBe('stale'); // no poll needed
    expect(statuses.map((s) => s.state)).toEqual(['ok', 'stale']);
  });

  it('when Kraken answers 502 then the feed is offline, backs off exponentially with jitter, and recovers', async () => {
    const f = feed({ backfill: 1, random: () => 0.5, backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 } });
    await f.pollOnce();
    sim.inject('OHLC', fault.http(502), 2);
    const a = await f.pollOnce();
    expect(a.error?.kind).toBe('ambiguous');
    expect(a.nextPollMs).toBe(900); // 1 s minus 10 % jitter
    expect(f.status('BTC/USD')).toMatchObject({ state: 'offline', since: clock.now() });
    expect(f.status('BTC/USD').reason).toMatch(/cannot reach Kraken \(HTTP 502 Bad Gateway\)/);
    clock.advance(900);
    expect((await f.pollOnce()).nextPollMs).toBe(1_800);
    sim.step(1);
    clock.set(inside(START + 1));
    const ok = await f.pollOnce();
    expect(ok).toMatchObject({ error: null, emitted: 1 });
    expect(statuses.map((s) => s.state)).toEqual(['ok', 'offline', 'ok']);
    expect(logs).toContain('warn market data: cannot reach Kraken (HTTP 502 Bad Gateway); retrying in 0.9 s');
    expect(logs).toContain('info market data: Kraken answers again after 2 failed attempts');
  });

  it('when Kraken answers a rate-limit error then it backs off like a network error and says what Kraken said', async () => {
    const f = feed({ backfill: 0 });
    await f.pollOnce();
    sim.inject('OHLC', fault.rateLimit());
    expect((await f.pollOnce()).error?.kind).toBe('retryable');
    expect(logs).toContain('warn market data: Kraken answers EAPI:Rate limit exceeded; retrying in 1 s');
  });

  it('when nothing listens on the port then the loop keeps retrying with backoff up to the cap, never throws, and recovers when Kraken comes up', async () => {
    const port = await closedPort();
    const timer = new FakeTimer();
    const f = feed({ timer }, `http://127.0.0.1:${port}`);
    await f.start();
    expect(f.status('BTC/USD').state).toBe('offline');
    for (let k = 0; k < 7; k++) await timer.fire();
    expect(timer.delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(logs).toContain('warn market data: cannot reach Kraken (ECONNREFUSED); retrying in 8 s');
    expect(f.isRunning).toBe(true);
    const up = await startKrakenSim({ apiKey: KEY, apiSecret: SECRET, series: [series], startIndex: START, port });
    try {
      await timer.fire();
      expect(f.status('BTC/USD').state).toBe('ok');
      expect(candles).toHaveLength(719);
      expect(timer.armed).toBe(true);
      expect(logs).toContain('info market data: Kraken answers again after 8 failed attempts');
    } finally {
      await f.stop();
      await up.stop();
    }
    expect(timer.armed).toBe(false);
  });

  it('when healthy then the loop wakes just after the forming candle closes, or after pollMs if sooner', async () => {
    const timer = new FakeTimer();
    const f = feed({ timer, pollMs: 2 * H, closeLagMs: 2_000, backfill: 0 });
    await f.start();
    const candleOpen = Math.floor(clock.now() / H) * H;
    expect(timer.delays).toEqual([candleOpen + H + 2_000 - clock.now()]);
    const gTimer = new FakeTimer();
    const g = feed({ timer: gTimer, pollMs: 30_000 });
    await g.start();
    expect(gTimer.delays).toEqual([30_000]);
    await f.stop();
    await g.stop();
    expect(timer.armed).toBe(false);
  });

  it('when Kraken refuses the request itself then that pair stops with a clear status and the loop ends', async () => {
    const timer = new FakeTimer();
    const f = feed({ timer, pairs: [{ pair: 'BTC/USD', intervalMs: 15 * 60_000 }] }); // the simulator serves 60 min only
    await f.start();
    const s = f.status('BTC/USD');
    expect(s.state).toBe('stopped');
    expect(s.reason).toMatch(/^stopped: Kraken refused the BTC\/USD market data request \(EGeneral:Invalid arguments/);
    expect(f.isRunning).toBe(false);
    expect(timer.armed).toBe(false);
    expect(logs.at(-1)).toBe('error market data: every pair is stopped; the feed loop ends');
  });

  it('when one pair is unknown then it stops and the other pairs go on', async () => {
    const f = feed({ backfill: 2, pairs: [{ pair: 'DOGE/XYZ', intervalMs: H }, { pair: 'BTC/USD', intervalMs: H }] });
    const r = await f.pollOnce();
    expect(r.emitted).toBe(2);
    expect(f.status('DOGE/XYZ').state).toBe('stopped');
    expect(f.status('BTC/USD').state).toBe('ok');
    expect(r.nextPollMs).not.toBeNull();
  });

  it('when tickers are on then the last price is polled for marks, with the same error handling', async () => {
    const ticks: FeedTicker[] = [];
    const f = feed({ backfill: 0, ticker: true, onTicker: (t) => ticks.push(t) });
    await f.pollOnce();
    expect(ticks).toEqual([{ pair: 'BTC/USD', price: series.at(START).close, ts: clock.now() }]);
    expect(f.lastPrice('BTC/USD')).toEqual(ticks[0]);
    sim.inject('Ticker', fault.http(503));
    expect((await f.pollOnce()).error?.kind).toBe('ambiguous');
    expect(f.status('BTC/USD').state).toBe('offline');
    sim.step(1);
    clock.set(inside(START + 1));
    await f.pollOnce();
    expect(f.lastPrice('BTC/USD')?.price).toBe(series.at(START + 1).close);
    expect(f.status('BTC/USD').state).toBe('ok');
  });

  it('when a subscriber throws then the error is logged, the other candles still arrive, and none comes twice', async () => {
    const seen: number[] = [];
    const f = feed({
      backfill: 3,
      onCandle: (c) => {
        seen.push(c.ts);
        if (c.ts === series.at(START - 2).ts) throw new Error('boom');
      },
    });
    expect((await f.pollOnce()).emitted).toBe(3);
    await f.pollOnce();
    expect(seen).toEqual([START - 3, START - 2, START - 1].map((i) => series.at(i).ts));
    expect(logs.some((l) => l.startsWith('error market data: the BTC/USD candle at') && l.endsWith('failed in its subscriber: boom'))).toBe(true);
  });

  it('when polled concurrently then both callers share one poll', async () => {
    const f = feed();
    const [a, b] = await Promise.all([f.pollOnce(), f.pollOnce()]);
    expect(a).toBe(b);
    expect(candles).toHaveLength(719);
  });
});

describe('LiveCandleFeed options', () => {
  const exchange = krakenClient({ clock: new ManualClock(0), baseUrl: 'http://127.0.0.1:9' }).exchange;
  const base = { exchange, clock: new ManualClock(0), pairs: [{ pair: 'BTC/USD', intervalMs: H }], onCandle: () => {} };

  it('when a transport is unknown, or ws is asked of a client without websockets, then it is refused at construction', () => {
    expect(() => new LiveCandleFeed({ ...base, transport: 'fix' as 'ws' })).toThrow(/transport 'fix' is not one of rest, ws/);
    expect(() => new LiveCandleFeed({ ...base, transport: 'ws' })).toThrow(/transport 'ws' needs ccxt.pro's kraken/);
    expect(() => new LiveCandleFeed({ ...base, transport: 'rest' })).not.toThrow();
  });

  it('when an interval is not one of Kraken\'s then it is refused at construction', () => {
    expect(() => new LiveCandleFeed({ ...base, pairs: [{ pair: 'BTC/USD', intervalMs: 2 * H }] })).toThrow(/not one of Kraken's/);
  });

  it('when backing off then delays double from the base to the cap, less up to the jitter share', () => {
    const none = new LiveCandleFeed({ ...base, random: () => 0 });
    expect([1, 2, 3, 4, 6, 7, 8, 50].map((n) => none.backoffDelay(n))).toEqual([1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000, 60_000]);
    const half = new LiveCandleFeed({ ...base, random: () => 0.5, backoff: { baseMs: 500, maxMs: 10_000, jitter: 0.2 } });
    expect([1, 2, 5, 6].map((n) => half.backoffDelay(n))).toEqual([450, 900, 7_200, 9_000]);
  });
});
