/**
 * Durable-state figures for `npm run bench` (printed, never asserted): ledger operations per second in one
 * process (each its own FULL-synced transaction, as in production, and NORMAL for comparison), an idempotent
 * repeat, and recovery time — open the state file and load cash, positions and open signals — for 10, 1,000
 * and 10,000 open positions plus as many open signals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopwatch } from '../src/adapters/clock/clocks.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { dec } from '../src/domain/money.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { fmt, row } from './bench-util.ts';

const markets = krakenMarkets();
const metaOf = (p: string) => markets.get(p);
const T0 = Date.UTC(2024, 0, 1);

function opsPerSecond(dir: string, sync: 'FULL' | 'NORMAL', n: number): { ops: number; repeatUs: number } {
  const store = SqliteStateStore.open(join(dir, `ops-${sync}.db`), { synchronous: sync });
  const ledger = new Ledger(store, { now: () => T0 }, metaOf);
  const ctx = (k: string) => ({ actor: 'bench', key: k, reason: 'bench' });
  ledger.setCash({ currency: 'USD', amount: '1000000000' }, ctx('seed'));
  const t = stopwatch();
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, ctx(`b${i}`));
    else if (i % 3 === 1) ledger.sell({ pair: 'BTC/USD', quantity: '0.005', price: '50100' }, ctx(`s${i}`));
    else ledger.setCash({ currency: 'EUR', amount: String(i) }, ctx(`c${i}`));
  }
  const ms = t();
  const r = stopwatch();
  for (let i = 0; i < 1000; i++) ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, ctx('b0'));
  const repeatUs = (r() * 1000) / 1000;
  store.close();
  return { ops: (n / ms) * 1000, repeatUs };
}

function recovery(dir: string, n: number): { ms: number; positions: number; signals: number } {
  const file = join(dir, `recover-${n}.db`);
  const store = SqliteStateStore.open(file, { synchronous: 'NORMAL' });
  const ledger = new Ledger(store, { now: () => T0 }, metaOf);
  ledger.batch(() => {
    ledger.setCash({ currency: 'USD', amount: '1000000000' }, { actor: 'bench', key: 'seed', reason: 'bench' });
    for (let i = 0; i < n; i++) {
      const signalId = `ema_cross-BTCUSD-${1_700_000_000 + i}`;
      ledger.applyFill({ id: `f${i}`, orderId: `o${i}`, signalId, pair: 'BTC/USD', side: 'buy', quantity: dec('0.0001'), price: dec('50000'), fee: dec('0.02'), liquidity: 'taker', purpose: 'entry', tsEvent: T0 + i, tsInit: T0 + i }, 'ema_cross');
      store.saveSignal({ id: signalId, strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', state: 'open', terminal: false, signal: `{"id":"${signalId}"}`, snapshot: '{"status":"active","value":"open","context":{}}', deadlineTs: T0 + i + 3_600_000, updatedTs: T0 + i });
    }
  });
  store.close();
  const times: number[] = [];
  let positions = 0;
  let signals = 0;
  for (let k = 0; k < 5; k++) {
    const t = stopwatch();
    const s = SqliteStateStore.open(file);
    positions = s.snapshot().positions.length;
    signals = s.openSignals().length;
    s.close();
    times.push(t());
  }
  times.sort((a, b) => a - b);
  return { ms: times[2]!, positions, signals };
}

export function benchState(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-state-'));
  try {
    console.log('\ndurable state (SQLite, WAL)');
    const full = opsPerSecond(dir, 'FULL', 3000);
    const normal = opsPerSecond(dir, 'NORMAL', 3000);
    row('ledger ops/s, synchronous=FULL (default)', `${fmt(full.ops)} ops/s (buy/sell/setcash, one transaction each)`);
    row('ledger ops/s, synchronous=NORMAL', `${fmt(normal.ops)} ops/s`);
    row('idempotent repeat (same key)', `${fmt(full.repeatUs, 1)} µs`);
    for (const n of [10, 1_000, 10_000]) {
      const r = recovery(dir, n);
      row(`recovery: open + load, ${fmt(n)} open positions`, `${fmt(r.ms, 1)} ms (${fmt(r.positions)} positions + ${fmt(r.signals)} open signals, median of 5)`);
    }
    console.log('  goal (not an assertion): < 100 ms to recover 1,000 open signals + 1,000 positions');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
