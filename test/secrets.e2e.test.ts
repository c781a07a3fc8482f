/**
 * The Kraken API secret (and key) never leave the process in any output: a random key and base64 secret
 * go through the simulator's CLI (also with bad secrets), the pipeline in sim mode and the Kraken venue
 * while faults make things fail (invalid signature, 5xx, timeouts, dropped responses, rate limits,
 * nonces), with JSONL logs and a SQLite ledger/audit state on disk — then every output is searched for the
 * key, the secret, and the secret's decoded bytes (as hex and raw): child stdout/stderr, every log file,
 * every audit row, the SQLite files' bytes, error messages and stacks, events and venue stats.
 * Credentials in a group/world-readable file are refused without being quoted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { fault, startKrakenSim, type Fault, type KrakenSim } from '../src/sim/index.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { credentialsFromEnv, credentialsFromFile, ENV_KEY, ENV_SECRET } from '../src/cli/credentials.ts';
import { runSimReplay, startReplaySim } from '../src/cli/sim-replay.ts';
import { clientOrderId } from '../src/domain/ids.ts';
import { Dec } from '../src/domain/money.ts';
import type { Fill, OrderEvent, OrderIntent } from '../src/domain/types.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { BIN, BUNDLED, bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

// ── the credentials, and what would give them away ───────────────────────────────────────────────────

const apiKey = randomBytes(24).toString('base64url');
const secret = randomBytes(64).toString('base64');
/** secrets a client uses by mistake (wrong secret) or a user passes that are not base64 */
const wrongSecret = randomBytes(64).toString('base64');
const notBase64 = `${randomBytes(30).toString('base64url')}!%`;

interface Needle {
  readonly name: string;
  readonly bytes: Buffer;
}

function needlesOf(name: string, text: string, base64 = false): Needle[] {
  const out: Needle[] = [{ name, bytes: Buffer.from(text, 'utf8') }];
  if (base64) {
    const raw = Buffer.from(text, 'base64');
    out.push({ name: `${name} (decoded, hex)`, bytes: Buffer.from(raw.toString('hex'), 'utf8') });
    out.push({ name: `${name} (decoded, HEX)`, bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'utf8') });
    out.push({ name: `${name} (decoded, raw bytes)`, bytes: raw });
    out.push({ name: `${name} (base64url)`, bytes: Buffer.from(raw.toString('base64url'), 'utf8') });
    out.push({ name: `${name} (URL-encoded)`, bytes: Buffer.from(encodeURIComponent(text), 'utf8') });
  }
  return out;
}

const NEEDLES: Needle[] = [
  ...needlesOf('API key', apiKey),
  ...needlesOf('API secret', secret, true),
  ...needlesOf('wrong API secret', wrongSecret, true),
  ...needlesOf('non-base64 secret', notBase64),
];

/** Every output, by where it came from; searched at the end (and where produced, for a precise failure). */
const outputs: Array<{ where: string; data: Buffer }> = [];
function collect(where: string, data: string | Buffer): void {
  outputs.push({ where, data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
}

/** where → needles found in it */
function leaksIn(list: Array<{ where: string; data: Buffer }>): string[] {
  const found: string[] = [];
  for (const o of list) for (const n of NEEDLES) if (o.data.includes(n.bytes)) found.push(`${n.name} in ${o.where}`);
  return found;
}

function expectNoLeak(where: string, data: string | Buffer): void {
  collect(where, data);
  expect(leaksIn([outputs.at(-1)!])).toEqual([]);
}

/** an error as everything a log line or a crash report could print of it */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const own = Object.fromEntries(Object.getOwnPropertyNames(e).map((k) => [k, String((e as unknown as Record<string, unknown>)[k])]));
  return [String(e), e.message, e.stack ?? '', JSON.stringify(own), e.cause ? errorText(e.cause) : ''].join('\n');
}

/** every file under dir, recursively */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const root = tmp('tollgate-secrets-');
afterAll(() => {
  // the final sweep: every output gathered by every test, and every file any of them left on disk
  for (const f of filesUnder(root)) collect(`file ${f}`, readFileSync(f));
  expect(outputs.length).toBeGreaterThan(0);
  expect(leaksIn(outputs)).toEqual([]);
});

// ── the simulator's CLI as a child process ───────────────────────────────────────────────────────────

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  url: string | null;
}

/** Runs `tollgate kraken-sim …`; once it prints its URL, `whileUp(url)` runs, then it is stopped with SIGTERM. */
function runSimCli(args: string[], whileUp: (url: string) => Promise<void> = async () => {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'kraken-sim', ...args], { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Child = { code: null, stdout: '', stderr: '', url: null };
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let up = false;
    child.stdout.on('data', (b: Buffer) => {
      r.stdout += b.toString('utf8');
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(r.stdout);
      if (m && !up) {
        up = true;
        r.url = m[1]!;
        whileUp(r.url).then(() => child.kill('SIGTERM'), (e: unknown) => {
          child.kill('SIGTERM');
          reject(e);
        });
      }
    });
    child.stderr.on('data', (b: Buffer) => (r.stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      r.code = code;
      resolve(r);
    });
  });
}

describe('the simulator CLI', () => {
  it('when it runs with a key and secret and is called with good and bad signatures, its output names neither', async () => {
    const errors: string[] = [];
    const r = await runSimCli(['--port', '0', '--data', BUNDLED, '--api-key', apiKey, '--api-secret', secret], async (url) => {
      const good = krakenClient({ apiKey, secret, baseUrl: url, rateLimit: false, clock: new SystemClock(), timeoutMs: 5_000 }).exchange;
      await good.loadMarkets();
      await good.fetchBalance();
      const o = await good.createOrder('BTC/USD', 'limit', 'buy', 0.01, 100, { clientOrderId: 'secrets-cli-1' });
      await good.cancelOrder(String(o.id), 'BTC/USD');
      // a client with the wrong secret, and one with the wrong key
      for (const [k, s] of [[apiKey, wrongSecret], [`${apiKey}x`, secret]] as const) {
        const bad = krakenClient({ apiKey: k, secret: s, baseUrl: url, rateLimit: false, clock: new SystemClock(), timeoutMs: 5_000 }).exchange;
        await bad.loadMarkets();
        try {
          await bad.createOrder('BTC/USD', 'limit', 'buy', 0.01, 100);
          errors.push('no error');
        } catch (e) {
          errors.push(errorText(e));
        }
      }
    });
    expect(r.url).not.toBeNull();
    expect(errors[0]).toMatch(/EAPI:Invalid signature/);
    expect(errors[1]).toMatch(/EAPI:Invalid key/);
    expectNoLeak('kraken-sim stdout', r.stdout);
    expectNoLeak('kraken-sim stderr', r.stderr);
    errors.forEach((e, i) => expectNoLeak(`ccxt error ${i} from the CLI simulator`, e));
  }, 60_000);

  it.each<[string, string[]]>([
    ['a secret that is not base64', ['--api-secret', notBase64, '--api-key', apiKey]],
    ['a secret with a stray character', ['--api-secret', `${secret}%`, '--api-key', apiKey]],
    ['an empty key', ['--api-secret', secret, '--api-key', ' ']],
    ['a port it cannot use', ['--api-secret', secret, '--api-key', apiKey, '--port', '70000']],
    ['a missing data file', ['--api-secret', secret, '--api-key', apiKey, '--data', 'nowhere/XBTUSD_60.csv']],
  ])('when it is started with %s then it fails without echoing the credentials', async (_name, args) => {
    const base = ['--port', '0', '--data', BUNDLED];
    const r = await runSimCli([...base, ...args]);
    expect(r.url).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).not.toBe('');
    expectNoLeak(`kraken-sim ${_name}: stdout`, r.stdout);
    expectNoLeak(`kraken-sim ${_name}: stderr`, r.stderr);
  }, 30_000);
});

// ── the pipeline in sim mode, with faults, logs and a SQLite ledger ──────────────────────────────────

/** the JSONL line of a fill (LOGS.md: `fill`) back as a Fill */
function fillOf(l: Record<string, any>): Fill {
  const ts = Date.parse(l.ts as string);
  return {
    id: l.fillId, orderId: l.clientOrderId, signalId: l.signalId, pair: l.pair, side: l.side, purpose: l.purpose,
    quantity: new Dec(l.quantity), price: new Dec(l.price), fee: new Dec(l.fee), liquidity: l.liquidity, tsEvent: ts, tsInit: ts,
  };
}

describe('the pipeline in sim mode', () => {
  it('when faults make orders and reads fail and the venue halts on a bad signature, no log, audit row or state byte holds the credentials', async () => {
    const { config, markets } = defaults({
      strategies: [
        { kind: 'ema_cross', fast: 2, slow: 3 },
        { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
        { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
      ],
    });
    const series = bundledSlice('2019-01-01', '2019-03-01');
    // the simulator runSimReplay would start itself, started here to observe it or inject faults
    const { sim } = await startReplaySim(series, config, markets, apiKey, secret);
    const plan: Array<[number, string, Fault, number]> = [
      [0.1, 'AddOrder', fault.http(502, true), 1],
      [0.15, 'AddOrder', fault.http(503, false), 1],
      [0.2, 'AddOrder', fault.unavailable(true), 1],
      [0.25, 'AddOrder', fault.drop('hangup'), 1],
      [0.3, 'AddOrder', fault.rateLimit(), 2],
      [0.35, 'AddOrder', fault.invalidNonce(), 1],
      [0.4, 'TradesHistory', fault.http(500, false), 1],
      [0.45, 'OpenOrders', fault.error('EService:Deadline elapsed'), 1],
      [0.5, 'AddOrder', fault.error('EService:Throttled:1700000000'), 1],
      [0.8, 'AddOrder', fault.error('EAPI:Invalid signature'), 1],
    ];
    const injected = new Set<number>();
    const logsDir = join(root, 'sim-logs');
    let result;
    try {
      result = await runSimReplay({
        config, markets, series, logsDir, runId: 'secrets', sim: { sim, apiKey, secret },
        onProgress: (done, total) => {
          plan.forEach(([at, method, f, times], k) => {
            if (!injected.has(k) && done >= at * total) {
              injected.add(k);
              sim.inject(method, f, times);
            }
          });
        },
      });
    } finally {
      await sim.stop();
    }
    // the faults were met: unknown outcomes looked up, retries, and a halt on the bad signature
    expect(injected.size).toBe(plan.length);
    expect(sim.faults.pending().filter((r) => r.method === 'AddOrder')).toEqual([]);
    expect(result.venueStats.lookups).toBeGreaterThanOrEqual(3);
    expect(result.venueStats.retries).toBeGreaterThanOrEqual(3);
    const lines = readdirSync(logsDir).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readJsonl(join(logsDir, f)));
    const reasons = lines.filter((l) => typeof l.reason === 'string').map((l) => l.reason as string);
    expect(reasons.some((r) => /EAPI:Invalid signature/.test(r))).toBe(true);
    expect(lines.some((l) => l.event === 'order.unknown')).toBe(true);

    // the ledger and audit log in SQLite: starting cash, every fill from the log, every venue error
    const stateDir = join(root, 'sim-state');
    mkdirSync(stateDir);
    const store = SqliteStateStore.open(join(stateDir, 'state.db'));
    const ledger = new Ledger(store, { now: () => series.ts[0]! }, (p) => markets.get(p));
    ledger.setCash({ currency: 'USD', amount: config.startingCash['USD']! }, { actor: 'test', reason: 'start', key: 'start' });
    const bus = readJsonl(join(logsDir, 'signal_bus.jsonl'));
    const intents = new Set<string>();
    for (const l of bus) {
      if (l.event === 'fill') ledger.applyFill(fillOf(l), String(l.signalId).split('-')[0]!);
      if (l.event === 'order.submitted' && !intents.has(l.clientOrderId)) {
        intents.add(l.clientOrderId);
        store.saveOrderIntent({
          id: `${l.signalId}:${l.purpose}:${l.clientOrderId}`, signalId: l.signalId, clientOrderId: l.clientOrderId, pair: l.pair, side: l.side, type: l.type,
          quantity: l.quantity, limitPrice: l.limitPrice ?? null, purpose: l.purpose, exitReason: l.exitReason ?? null, deadlineTs: null, tsEvent: Date.parse(l.ts), tsInit: Date.parse(l.ts),
        });
      }
      if (typeof l.event === 'string' && l.event.startsWith('order.') && intents.has(l.clientOrderId)) {
        store.saveOrder({ clientOrderId: l.clientOrderId, venueOrderId: null, status: l.event.slice(6), filledQuantity: l.filledQuantity ?? '0', detail: l.reason ?? null, updatedTs: Date.parse(l.ts) });
      }
      if ((l.event === 'order.rejected' || l.event === 'order.unknown') && l.reason) {
        ledger.recordReconciliation({ kind: 'venue_error', detail: l.reason, policy: 'flag' }, { actor: 'bot', reason: l.reason, key: `err:${l.clientOrderId}:${l.event}:${l.reason}` });
      }
    }
    expect(ledger.load().cash.get('USD')!.toFixed()).toBe(result.summary.cash['USD']);
    const audit = [...store.audit()];
    expect(audit.some((a) => /EAPI:Invalid signature/.test(JSON.stringify(a)))).toBe(true);
    audit.forEach((a, i) => expectNoLeak(`sim-mode audit row ${i}`, JSON.stringify(a)));
    expectNoLeak('sim-mode SQLite file while open', readFileSync(join(stateDir, 'state.db')));
    store.close();
    for (const f of readdirSync(stateDir)) expectNoLeak(`sim-mode state file ${f}`, readFileSync(join(stateDir, f)));
    for (const f of readdirSync(logsDir)) expectNoLeak(`sim-mode log ${f}`, readFileSync(join(logsDir, f)));
    expectNoLeak('sim-mode venue stats and summary', JSON.stringify({ stats: result.venueStats, summary: result.summary, simBalances: result.simBalances }));
    expectNoLeak('sim-mode closed trades', JSON.stringify(result.portfolio.closedTrades));
  }, 120_000);
});

// ── the Kraken venue alone: timeouts, 5xx, a wrong secret and a wrong key ───────────────────────────────

describe('the Kraken venue', () => {
  it('when calls time out, answer 5xx or are signed with the wrong secret or key, no event, stat, error, log line or audit row holds the credentials', async () => {
    const { markets } = defaults();
    const dir = join(root, 'venue');
    mkdirSync(dir);
    const series = bundledSlice('2019-01-01', '2019-02-01');
    const sim = await startKrakenSim({ apiKey, apiSecret: secret, series: [series], balances: { USD: '10000', XBT: '0' } });
    const store = SqliteStateStore.open(join(dir, 'state.db'));
    const log = new JsonlWriter(join(dir, 'venue.jsonl'));
    const clock = { now: () => 1_546_300_800_000 };
    const ledger = new Ledger(store, clock, (p) => markets.get(p));
    ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
    const errors: string[] = [];
    let seq = 0;
    const venueOf = (key: string, sec: string) => {
      const { exchange } = krakenClient({ apiKey: key, secret: sec, baseUrl: sim.url, rateLimit: false, clock: new SystemClock(), timeoutMs: 300 });
      const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [key, sec], sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) });
      const events: OrderEvent[] = [];
      venue.connect({
        onOrderEvent: (e) => {
          events.push(e);
          const reason = 'reason' in e ? e.reason : null;
          log.append({ event: `order.${e.kind}`, clientOrderId: e.order.clientOrderId, reason });
          store.saveOrder({ clientOrderId: e.order.clientOrderId, venueOrderId: null, status: e.kind, filledQuantity: 'filledQty' in e ? e.filledQty.toFixed() : '0', detail: reason, updatedTs: e.ts });
          if (reason && (e.kind === 'rejected' || e.kind === 'unknown')) ledger.recordReconciliation({ kind: 'venue_error', detail: reason, policy: 'flag' }, { actor: 'bot', reason, key: `err:${++seq}` });
        },
        onFill: (f) => {
          log.append({ event: 'fill', fillId: f.id, clientOrderId: f.orderId, quantity: f.quantity.toFixed(), price: f.price.toFixed() });
          ledger.applyFill(f, 'test');
        },
      });
      return { exchange, venue, events };
    };
    const buy = (quantity: string, over: Partial<OrderIntent> = {}): OrderIntent => {
      const signalId = `secrets-BTCUSD-${++seq}`;
      const o: OrderIntent = { id: `${signalId}:entry`, signalId, clientOrderId: clientOrderId(signalId, 'entry'), pair: 'BTC/USD', side: 'buy', type: 'market', quantity: new Dec(quantity), purpose: 'entry', tsEvent: 0, tsInit: 0, ...over };
      // stored before it is sent, as the gateway does
      store.saveOrderIntent({
        id: o.id, signalId, clientOrderId: o.clientOrderId, pair: o.pair, side: o.side, type: o.type, quantity: o.quantity.toFixed(),
        limitPrice: o.limitPrice?.toFixed() ?? null, purpose: o.purpose, exitReason: null, deadlineTs: null, tsEvent: 0, tsInit: 0,
      });
      return o;
    };
    try {
      const good = venueOf(apiKey, secret);
      await good.exchange.loadMarkets();
      const settle = async () => {
        await good.venue.idle();
        sim.step(1);
        await good.venue.poll();
        await good.venue.idle();
      };
      // a timeout after Kraken accepted (response held), a reset, a 5xx: unknown, looked up, adopted
      for (const f of [fault.drop('hold'), fault.drop('hangup'), fault.http(502, true)]) {
        sim.inject('AddOrder', f);
        good.venue.submit(buy('0.01'));
        await settle();
      }
      // reads that time out (slow) or answer 5xx are retried
      sim.inject('OpenOrders', fault.latency(700));
      sim.inject('TradesHistory', fault.http(504, false));
      await good.venue.poll();
      // a resting order whose cancel first times out, then answers 5xx
      const resting = buy('0.01', { type: 'limit', limitPrice: new Dec('1000') });
      good.venue.submit(resting);
      await good.venue.idle();
      sim.inject('CancelOrder', fault.drop('hold'));
      sim.inject('CancelOrder', fault.http(503, false));
      good.venue.cancel(resting.clientOrderId, 'test cancel');
      await good.venue.idle();
      // raw ccxt errors (before the venue's classification): a timeout and a 5xx
      for (const f of [fault.drop('hold'), fault.http(500, false)]) {
        sim.inject('BalanceEx', f);
        try {
          await good.exchange.fetchBalance();
        } catch (e) {
          errors.push(errorText(e));
        }
      }
      expect(good.venue.stats.lookups).toBeGreaterThanOrEqual(3);
      expect(good.events.some((e) => e.kind === 'unknown')).toBe(true);

      // the wrong secret and the wrong key: Kraken's own auth refuses them; the venue halts
      for (const [key, sec, code] of [[apiKey, wrongSecret, 'EAPI:Invalid signature'], [`${apiKey}x`, secret, 'EAPI:Invalid key']] as const) {
        const bad = venueOf(key, sec);
        await bad.exchange.loadMarkets();
        bad.venue.submit(buy('0.01'));
        await bad.venue.idle();
        bad.venue.submit(buy('0.01'));
        await bad.venue.idle();
        expect(bad.venue.haltReason).toContain(code);
        expect(bad.events.map((e) => e.kind)).toEqual(['rejected', 'rejected']);
        try {
          await bad.exchange.createOrder('BTC/USD', 'market', 'buy', 0.01);
        } catch (e) {
          errors.push(errorText(e));
        }
        expectNoLeak(`venue (${code}) events`, JSON.stringify(bad.events));
        expectNoLeak(`venue (${code}) stats and halt reason`, JSON.stringify({ stats: bad.venue.stats, halt: bad.venue.haltReason }));
      }
      expect(errors).toHaveLength(4);
      expectNoLeak('venue events', JSON.stringify(good.events));
      expectNoLeak('venue stats', JSON.stringify({ stats: good.venue.stats, halt: good.venue.haltReason }));
      errors.forEach((e, i) => expectNoLeak(`raw ccxt error ${i}`, e));
    } finally {
      log.close();
      await sim.stop();
    }
    const audit = [...store.audit()];
    expect(audit.filter((a) => a.operation === 'reconcile').length).toBeGreaterThanOrEqual(3);
    expect(audit.some((a) => a.operation === 'fill')).toBe(true);
    audit.forEach((a, i) => expectNoLeak(`venue audit row ${i}`, JSON.stringify(a)));
    store.close();
    for (const f of readdirSync(dir)) expectNoLeak(`venue file ${f}`, readFileSync(join(dir, f)));
  }, 60_000);
});

// ── credentials files and the environment ────────────────────────────────────────────────────────────

describe('credentials', () => {
  // these files hold the credentials on purpose: kept out of the final sweep of `root`
  const credsDir = tmp('tollgate-secrets-creds-');
  const file = (name: string, text: string, mode: number) => {
    const p = join(credsDir, name);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    return p;
  };
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return errorText(e);
    }
    throw new Error('not refused');
  };

  it.each<[string, string]>([
    ['JSON', JSON.stringify({ apiKey, secret })],
    ['KEY=VALUE lines', `${ENV_KEY}=${apiKey}\n${ENV_SECRET}=${secret}\n`],
  ])('when a %s credentials file is mode 644 then it is refused, and the message quotes neither key nor secret', (kind, text) => {
    const p = file(`creds-${kind === 'JSON' ? 'json' : 'env'}-644`, text, 0o644);
    const msg = refusal(() => credentialsFromFile(p));
    expect(msg).toMatch(/readable by others \(mode 644\)/);
    expectNoLeak(`refusal of a mode-644 ${kind} file`, msg);
    // the same file with mode 600 is accepted
    chmodSync(p, 0o600);
    expect(credentialsFromFile(p)).toMatchObject({ apiKey, secret });
  });

  it('when a mode-600 file or the environment holds malformed credentials then the message quotes neither', () => {
    const msgs = [
      refusal(() => credentialsFromFile(file('creds-broken-json', `{"apiKey": "${apiKey}", "secret": "${secret}"`, 0o600))),
      refusal(() => credentialsFromFile(file('creds-not-base64', JSON.stringify({ apiKey, secret: notBase64 }), 0o600))),
      refusal(() => credentialsFromFile(file('creds-half', `${ENV_KEY}=${apiKey}\n`, 0o600))),
      refusal(() => credentialsFromFile(file('creds-640', JSON.stringify({ apiKey, secret }), 0o640))),
      refusal(() => credentialsFromEnv({ [ENV_KEY]: apiKey, [ENV_SECRET]: notBase64 })),
      refusal(() => credentialsFromEnv({ [ENV_KEY]: apiKey, [ENV_SECRET]: `${secret}%` })),
      refusal(() => credentialsFromEnv({ [ENV_SECRET]: secret })),
    ];
    msgs.forEach((m, i) => expectNoLeak(`credentials refusal ${i}`, m));
  });
});
