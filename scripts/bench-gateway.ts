/**
 * Kraken gateway figures for `npm run bench` (printed, never asserted), all through REAL ccxt with signed
 * requests against the loopback Kraken simulator:
 *
 * - order round trip: `createOrder` → response, and the same for `cancelOrder`, p50/p99 over 500 orders;
 * - signal → AddOrder on the wire: the whole pipeline in sim mode (src/cli/sim-replay.ts) on a bundled
 *   slice with the signal-dense config, from the moment the kernel receives a signal (`signal` bus topic)
 *   to the moment the simulator's HTTP server has the AddOrder request (its per-method `calls` counter is
 *   bumped once the body is read), split into its parts:
 *     signal → venue.submit      the kernel: queued until the candle is done, guards, lifecycle, sizing
 *     submit → signed            the venue building the AddOrder request, waiting for its turn among the
 *                                key's private calls (split by what was in flight at the submit: nothing,
 *                                an order call, a read), and ccxt's fetch2 up to signing
 *     signed → to HTTP           ccxt: nonce, HMAC-SHA512 signature, headers, and whatever synchronous work
 *                                runs on the event loop before ccxt's fetch resumes (it awaits before sending)
 *     to HTTP → simulator has it the network (loopback HTTP through undici)
 *   and, independent of the machine's speed, how many private calls were sent between the submit and the
 *   AddOrder (the reads it waited for, and calls of the order's own signal placed just before it).
 *   "sent" = signal → handed to the HTTP client (queueing included, the network not).
 *   It is measured three times: quiet (only the run's own calls); under a read-heavy background load: READERS
 *   loops, each sending one private read after another (BalanceEx, OpenOrders, TradesHistory in turn)
 *   through the venue's private-call order for the whole run, so READERS reads are always in flight or
 *   waiting when an order comes, as a bot polling balances, open orders and trades hard would have; and
 *   the same load on a key with a nonce window (NONCE_WINDOW, simulator and client), where an order goes
 *   beside the read in flight instead of after it (PrivateCallQueue).
 *
 * The timestamps are process.hrtime, taken by wrapping prototypes from here (SignalBus.publish,
 * KrakenVenue.submit, ccxt kraken's request, fetch2, sign and undiciRequest) and an accessor on the simulator's
 * `calls.AddOrder` counter; nothing in src/ is edited, and every wrapper is removed afterwards.
 * AddOrder requests are matched to their signal by cl_ord_id when handed to HTTP, and are taken to arrive in
 * that order (exact one call at a time; with the nonce window two AddOrders in flight could swap, which only
 * moves time between the last two parts, never the "sent" figure).
 *
 * Run alone: `npx tsx scripts/bench-gateway.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ccxt from 'ccxt';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { loadKrakenOhlcvt } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue } from '../src/adapters/kraken/kraken-venue.ts';
import { priorityOf } from '../src/adapters/kraken/private-queue.ts';
import { startKrakenSim, type KrakenSim } from '../src/sim/index.ts';
import { runSimReplay, startReplaySim } from '../src/cli/sim-replay.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import { SignalBus } from '../src/bus/bus.ts';
import { parseConfig } from '../src/config/schema.ts';
import { clientOrderId } from '../src/domain/ids.ts';
import type { OrderIntent, Signal } from '../src/domain/types.ts';
import { fileURLToPath } from 'node:url';
import { fmt, pct, row, type Figure } from './bench-util.ts';

const DATA = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
const hr = () => process.hrtime.bigint();
const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
const p5099 = (xs: number[], unit: 'ms' | 'µs' = 'ms') => {
  const k = unit === 'µs' ? 1000 : 1;
  const d = unit === 'µs' ? 0 : 3;
  return `${fmt(pct(xs, 50) * k, d)} ${unit} / ${fmt(pct(xs, 99) * k, d)} ${unit}  (n=${xs.length})`;
};
const creds = () => ({ apiKey: randomBytes(24).toString('base64url'), secret: randomBytes(64).toString('base64') });

/** createOrder → response and cancelOrder → response, one at a time, against a simulator on loopback. */
async function roundTrips(n: number): Promise<{ create: number[]; cancel: number[] }> {
  const { apiKey, secret } = creds();
  const series = loadKrakenOhlcvt(DATA, { pair: 'BTC/USD', fromMs: Date.parse('2019-01-01'), toMs: Date.parse('2019-02-01') });
  const sim = await startKrakenSim({ apiKey, apiSecret: secret, series: [series], balances: { USD: '100000000', XBT: '0' } });
  try {
    const { exchange } = krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock: new SystemClock() });
    await exchange.loadMarkets();
    // limit buys far below the market rest on the book, so each can be cancelled after
    const place = (i: number) => exchange.createOrder('BTC/USD', 'limit', 'buy', 0.01, 1000, { clientOrderId: `bench${i}` });
    const warm = 30;
    for (let i = 0; i < warm; i++) await exchange.cancelOrder(String((await place(-1 - i)).id), 'BTC/USD');
    const ids: string[] = [];
    const create: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = hr();
      const o = await place(i);
      create.push(ms(t, hr()));
      ids.push(String(o.id));
    }
    const cancel: number[] = [];
    for (const id of ids) {
      const t = hr();
      await exchange.cancelOrder(id, 'BTC/USD');
      cancel.push(ms(t, hr()));
    }
    return { create, cancel };
  } finally {
    await sim.stop();
  }
}

interface Trace {
  signal?: bigint;
  submit?: bigint;
  /** private calls signed (sent) before this order's submit, then before its AddOrder was signed */
  signsAtSubmit?: number;
  ahead?: number;
  /** the private call in flight when it was submitted (its path), if any */
  busyAtSubmit?: string;
  /** the AddOrder request built (ccxt's request() entered: it joins the key's private-call order) */
  built?: bigint;
  /** its turn came: ccxt's fetch2 entered (it left the private-call order) */
  turn?: bigint;
  signed?: bigint;
  wire?: bigint;
  arrived?: bigint;
}

/** background reader loops of the read-heavy load */
const READERS = 4;
/** the key's nonce window in the third measurement (ms nonces; Kraken's default is 0) */
const NONCE_WINDOW = 5_000;

/** Wraps a method on a prototype for the duration of the measurement; returns the undo. */
function wrap<T extends object>(proto: T, name: string, make: (orig: (...a: any[]) => any) => (this: any, ...a: any[]) => any): () => void {
  const p = proto as Record<string, any>;
  const own = Object.prototype.hasOwnProperty.call(p, name);
  const orig = p[name] as (...a: any[]) => any;
  p[name] = make(orig);
  return () => {
    if (own) p[name] = orig;
    else delete p[name];
  };
}

/** signal → AddOrder on the wire, through the pipeline in sim mode on a bundled slice. */
export async function signalToWire(from: string, to: string, readers = 0, nonceWindow = 0): Promise<{ traces: Trace[]; signals: number; candles: number; wallMs: number; unmatched: number; createRtt: number[]; reads: number }> {
  const config = parseConfig({
    strategies: [
      { kind: 'ema_cross', fast: 2, slow: 3 },
      { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
      { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
    ],
  });
  const markets = buildMarkets(config);
  const series = loadKrakenOhlcvt(DATA, { pair: 'BTC/USD', fromMs: Date.parse(from), toMs: Date.parse(to) });
  const { apiKey, secret } = creds();
  // the simulator runSimReplay would start itself, started here to observe it or inject faults
  const { sim } = await startReplaySim(series, config, markets, apiKey, secret, nonceWindow);

  const byOrder = new Map<string, Trace>();
  const onWire: Trace[] = []; // AddOrders handed to the HTTP client, not yet seen by the simulator
  const traces: Trace[] = [];
  const createRtt: number[] = [];
  let unmatched = 0;
  const trace = (id: string) => {
    let t = byOrder.get(id);
    if (!t) byOrder.set(id, (t = {}));
    return t;
  };
  const undo: Array<() => void> = [];
  // (a) the kernel receives a signal: the `signal` topic is published (before any subscriber runs)
  undo.push(wrap(SignalBus.prototype, 'publish', (orig) => function (this: unknown, topic: string, message: unknown) {
    if (topic === 'signal') trace(clientOrderId((message as Signal).id, 'entry')).signal = hr();
    return orig.call(this, topic, message);
  }));
  let signs = 0;
  undo.push(wrap(KrakenVenue.prototype, 'submit', (orig) => function (this: unknown, order: OrderIntent) {
    const t = trace(order.clientOrderId);
    t.submit = hr();
    t.signsAtSubmit = signs;
    // what it may wait for: a read in flight if there is one, else an order call
    const busy = inFlight.find((path) => priorityOf(path) === 'read') ?? inFlight[0];
    if (busy !== undefined) t.busyAtSubmit = busy;
    return orig.call(this, order);
  }));
  const krakenProto = ccxt.kraken.prototype as object;
  // AddOrder built: ccxt's request() (what createOrder and privatePostAddOrder both call), timed to its response
  undo.push(wrap(krakenProto, 'request', (orig) => async function (this: unknown, path: string, api: string, method: string, params: Record<string, unknown>, ...rest: unknown[]) {
    if (path !== 'AddOrder') return orig.call(this, path, api, method, params, ...rest);
    const t0 = hr();
    if (typeof params?.['cl_ord_id'] === 'string') trace(params['cl_ord_id']).built = t0;
    try {
      return await orig.call(this, path, api, method, params, ...rest);
    } finally {
      createRtt.push(ms(t0, hr()));
    }
  }));
  // a private call's turn: ccxt's fetch2 (krakenClient binds it when the client is built, after this wrap)
  // runs when the call leaves the key's private-call order; in flight until it settles
  const inFlight: string[] = [];
  undo.push(wrap(krakenProto, 'fetch2', (orig) => function (this: unknown, path: string, api: string, ...rest: unknown[]) {
    if (api !== 'private') return orig.call(this, path, api, ...rest);
    if (path === 'AddOrder') {
      const id = (rest[1] as Record<string, unknown> | undefined)?.['cl_ord_id'];
      if (typeof id === 'string') trace(id).turn = hr();
    }
    inFlight.push(path);
    const p = orig.call(this, path, api, ...rest) as Promise<unknown>;
    const done = () => void inFlight.splice(inFlight.indexOf(path), 1);
    p.then(done, done);
    return p;
  }));
  // ccxt builds and signs the request (the nonce is taken here) when the call's turn has come
  undo.push(wrap(krakenProto, 'sign', (orig) => function (this: unknown, path: string, api: string, method: string, params: Record<string, unknown>, ...rest: unknown[]) {
    if (path === 'AddOrder' && typeof params?.['cl_ord_id'] === 'string') {
      const t = trace(params['cl_ord_id']);
      t.signed = hr();
      if (t.signsAtSubmit !== undefined) t.ahead = signs - t.signsAtSubmit;
    }
    if (api === 'private') signs++;
    return orig.call(this, path, api, method, params, ...rest);
  }));
  // the read-heavy load: the run's exchange (sim-replay loads its markets first) and venue (connected by the kernel)
  let exchange: any = null;
  let stopLoad = false;
  let reads = 0;
  const loops: Promise<void>[] = [];
  undo.push(wrap(krakenProto, 'loadMarkets', (orig) => function (this: unknown, ...a: any[]) {
    exchange ??= this;
    return orig.apply(this, a);
  }));
  const reader = async (venue: any, k: number) => {
    const calls = [() => exchange.fetchBalance(), () => exchange.fetchOpenOrders('BTC/USD'), () => exchange.fetchMyTrades('BTC/USD')];
    for (let i = k; !stopLoad; i++) {
      await venue.read(calls[i % calls.length]);
      reads++;
    }
  };
  undo.push(wrap(KrakenVenue.prototype, 'connect', (orig) => function (this: unknown, ...a: any[]) {
    if (readers > 0 && exchange && loops.length === 0) for (let k = 0; k < readers; k++) loops.push(reader(this, k));
    return orig.apply(this, a);
  }));
  // the request handed to undici (ccxt's transport), after signing
  undo.push(wrap(krakenProto, 'undiciRequest', (orig) => function (this: unknown, url: string, params: { body?: unknown }) {
    if (url.endsWith('/0/private/AddOrder')) {
      const id = new URLSearchParams(String(params.body ?? '')).get('cl_ord_id');
      const t = id ? trace(id) : {};
      t.wire = hr();
      onWire.push(t);
    }
    return orig.call(this, url, params);
  }));
  // (b) the simulator has the AddOrder request: it bumps calls.AddOrder once the body is read
  let addOrders = 0;
  Object.defineProperty(sim.calls, 'AddOrder', {
    configurable: true, enumerable: true,
    get: () => addOrders,
    set: (v: number) => {
      addOrders = v;
      const t = onWire.shift();
      if (!t) return void unmatched++;
      t.arrived = hr();
      traces.push(t);
    },
  });

  const logsDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-gw-'));
  try {
    const t = hr();
    let r: Awaited<ReturnType<typeof runSimReplay>>;
    try {
      r = await runSimReplay({ config, markets, series, logsDir, runId: 'bench-gateway', sim: { sim, apiKey, secret }, nonceWindow });
    } finally {
      stopLoad = true;
      await Promise.allSettled(loops);
    }
    if (readers > 0 && loops.length !== readers) throw new Error('the read load did not start (no exchange or venue seen)');
    return { traces, signals: r.summary.signals, candles: r.summary.candles, wallMs: ms(t, hr()), unmatched, createRtt, reads };
  } finally {
    for (const u of undo.reverse()) u();
    await sim.stop();
    rmSync(logsDir, { recursive: true, force: true });
  }
}

interface WireFigures {
  /** private calls sent between an order's submit and its AddOrder */
  readonly ahead: number[];
  /** signal → AddOrder handed to the HTTP client (queueing included), ms */
  readonly sent: number[];
  /** signal → the simulator has the AddOrder, ms */
  readonly total: number[];
}

/** Prints one signal → AddOrder measurement, split into its parts. */
export function printWire(label: string, s: Awaited<ReturnType<typeof signalToWire>>): WireFigures {
  const entries = s.traces.filter((t) => t.signal !== undefined && t.submit !== undefined && t.signed !== undefined && t.wire !== undefined && t.arrived !== undefined);
  const d = (f: (t: Required<Trace>) => number) => entries.map((t) => f(t as Required<Trace>));
  const total = d((t) => ms(t.signal, t.arrived));
  const sent = d((t) => ms(t.signal, t.wire));
  console.log(`\n${label}: ${fmt(s.candles)} candles, ${fmt(s.signals)} signals, ${fmt(s.wallMs)} ms${s.reads ? `, ${fmt(s.reads)} background reads (${fmt(s.reads / (s.wallMs / 1000))}/s)` : ''}`);
  row('signal → AddOrder sent (incl. queueing) p50 / p99', p5099(sent));
  row('signal → sim has AddOrder p50 / p99', p5099(total));
  row('  signal → venue.submit (kernel)', p5099(d((t) => ms(t.signal, t.submit)), 'µs'));
  row('  submit → signed (its turn; ccxt request)', p5099(d((t) => ms(t.submit, t.signed)), 'µs'));
  const part = (label: string, f: (t: Required<Trace>) => number, of: Trace[] = entries) => {
    if (of.length) row(label, p5099(of.map((t) => f(t as Required<Trace>)), 'µs'));
  };
  const built = entries.filter((t) => t.built !== undefined && t.turn !== undefined);
  part('    submit → request built (ccxt/venue layer)', (t) => ms(t.submit, t.built), built);
  part('    built → its turn, nothing in flight', (t) => ms(t.built, t.turn), built.filter((t) => t.busyAtSubmit === undefined));
  part('    built → its turn, an order call in flight', (t) => ms(t.built, t.turn), built.filter((t) => t.busyAtSubmit !== undefined && priorityOf(t.busyAtSubmit) === 'order'));
  part('    built → its turn, a read in flight', (t) => ms(t.built, t.turn), built.filter((t) => t.busyAtSubmit !== undefined && priorityOf(t.busyAtSubmit) === 'read'));
  part('    its turn → signed', (t) => ms(t.turn, t.signed), built);
  row('  signed → to HTTP (HMAC, ccxt fetch setup)', p5099(d((t) => ms(t.signed, t.wire)), 'µs'));
  row('  to HTTP → sim has it (loopback network)', p5099(d((t) => ms(t.wire, t.arrived)), 'µs'));
  row('AddOrder round trip in the run p50 / p99', p5099(s.createRtt));
  const ahead = entries.map((t) => t.ahead ?? 0);
  row('private calls sent between submit and AddOrder', `p50 ${pct(ahead, 50)} / p99 ${pct(ahead, 99)} / max ${Math.max(0, ...ahead)}  (its own earlier calls included)`);
  if (s.unmatched || entries.length !== s.traces.length) row('note', `${s.traces.length - entries.length} exit orders not counted, ${s.unmatched} unmatched AddOrder requests`);
  return { ahead, sent, total };
}

/** The gateway figures; the JSON summary's entries (latencies as µs per order: the ratio is to the bare loop's µs per candle). */
export async function benchGateway(): Promise<Figure[]> {
  console.log('\nKraken gateway (real ccxt, signed requests, loopback simulator)');
  const figures: Figure[] = [];
  try {
    const rt = await roundTrips(500);
    row('createOrder → response p50 / p99', p5099(rt.create));
    row('cancelOrder → response p50 / p99', p5099(rt.cancel));

    await signalToWire('2018-01-01', '2018-02-01', READERS); // warm-up (JIT), not counted
    const quiet = printWire('signal → AddOrder, sim mode, signal-dense config, no background load', await signalToWire('2019-01-01', '2019-10-01'));
    const loaded = printWire(`signal → AddOrder under a read-heavy load (${READERS} reader loops through the key's private-call order)`, await signalToWire('2019-01-01', '2019-10-01', READERS));
    const windowed = printWire(`the same read-heavy load, key with a nonce window of ${fmt(NONCE_WINDOW)} (orders beside the read in flight)`, await signalToWire('2019-01-01', '2019-10-01', READERS, NONCE_WINDOW));
    const fig = (name: string, xs: number[]): Figure => ({ name, value: pct(xs, 99), unit: 'ms', usPerUnit: pct(xs, 99) * 1000, per: 'order' });
    figures.push(
      fig('signal_to_addorder_sent_p99_ms', quiet.sent),
      fig('signal_to_addorder_sent_p99_ms_read_load', loaded.sent),
      fig('signal_to_addorder_at_sim_p99_ms_read_load', loaded.total),
      { name: 'private_calls_before_addorder_p99_read_load', value: pct(loaded.ahead, 99), unit: 'calls', usPerUnit: null },
      fig('signal_to_addorder_sent_p99_ms_read_load_nonce_window', windowed.sent),
      fig('signal_to_addorder_at_sim_p99_ms_read_load_nonce_window', windowed.total),
    );
    console.log('\ngoal (not an assertion): p99 signal → AddOrder sent < 2 ms including queueing, under the read load');
  } catch (e) {
    // a bench never fails the run: say what went wrong and go on
    console.log(`  gateway bench failed: ${(e as Error).message}`);
  }
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchGateway();
