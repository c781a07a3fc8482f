/**
 * A child process of the concurrency test (test/state-concurrency.test.ts), not a test itself.
 *   operator <db> <id> <n>: n buy/sell/setcash commands through the CLI's own entry point (main), in-process
 *   bot <db> <id> <n>:      n/2 signals, each an entry fill then an exit fill, through the Ledger as the bot does
 * Prints one JSON line: every command with its result (seq, repeated) or refusal.
 */
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { main } from '../src/cli/cli.ts';
import { dec } from '../src/domain/money.ts';
import { Ledger } from '../src/portfolio/ledger.ts';

const [role, db, id, nArg] = process.argv.slice(2) as [string, string, string, string];
const n = Number(nArg);
let seed = Number(id) * 7919 + 17;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

export interface Done {
  readonly argv: string[];
  readonly key: string;
  readonly seq: number | null;
  readonly repeated: boolean;
  readonly error: string | null;
}
const done: Done[] = [];

if (role === 'operator') {
  const realWrite = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const pair = rnd() < 0.5 ? 'BTC/USD' : 'ETH/USD';
    const price = pair === 'BTC/USD' ? `${40000 + Math.floor(rnd() * 20000)}.5` : `${2000 + Math.floor(rnd() * 500)}.25`;
    const qty = `0.${String(1 + Math.floor(rnd() * 999)).padStart(3, '0')}`;
    // every 25th command is one of a few keys all workers share, with the same command: exactly one may apply
    const shared = i % 25 === 0;
    const key = shared ? `shared-${i}` : `op${id}-${i}`;
    const argv = shared ? ['setcash', `${1_000_000 + i}`, '--reason', 'shared'] : r < 0.45 ? ['buy', pair, qty, price] : r < 0.9 ? ['sell', pair, qty, price] : ['setcash', `${500_000 + Math.floor(rnd() * 1_000_000)}.${Math.floor(rnd() * 100)}`, '--reason', `worker ${id}`];
    let out = '';
    let err = '';
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    const code = await main([...argv, '--state', db, '--idempotency-key', key, '--json']);
    process.stdout.write = realWrite;
    process.stderr.write = realErr;
    if (code === 0) {
      const res = JSON.parse(out) as { seq: number; repeated: boolean };
      done.push({ argv, key, seq: res.seq, repeated: res.repeated, error: null });
    } else {
      done.push({ argv, key, seq: null, repeated: false, error: err.trim() });
    }
  }
} else {
  const markets = krakenMarkets();
  const store = SqliteStateStore.open(db);
  const ledger = new Ledger(store, new SystemClock(), (p) => markets.get(p));
  for (let i = 0; i < n / 2; i++) {
    const signalId = `bot${id}-sig-${i}`;
    for (const purpose of ['entry', 'exit'] as const) {
      const fill = {
        id: `${signalId}-${purpose}`, orderId: `${signalId}-o-${purpose}`, signalId, pair: 'BTC/USD', side: purpose === 'entry' ? 'buy' as const : 'sell' as const,
        quantity: dec('0.01'), price: dec(purpose === 'entry' ? '50000.1' : '50100.2'), fee: dec('0.2'), liquidity: 'taker' as const, purpose,
        tsEvent: 1_700_000_000_000 + i, tsInit: 1_700_000_000_000 + i,
      };
      const key = `fill:${fill.id}`;
      const res = ledger.applyFill(fill, 'bot-strategy');
      done.push({ argv: ['fill', JSON.stringify({ ...fill, quantity: '0.01', price: fill.price.toFixed(), fee: '0.2' })], key, seq: res.seq, repeated: res.repeated, error: null });
    }
  }
  store.close();
}
process.stdout.write(JSON.stringify(done) + '\n');
