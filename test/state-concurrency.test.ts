import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { dec } from '../src/domain/money.ts';
import { Ledger, verifyAudit, type SerializedFill } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { BIN, tmp } from './helpers.ts';
import type { Done } from './state-worker.ts';

const WORKER = join(import.meta.dirname, 'state-worker.ts');
const markets = krakenMarkets();
const metaOf = (p: string) => markets.get(p);

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Applies one recorded command to `ledger` exactly as the CLI or the bot built it. */
function reapply(ledger: Ledger, d: Done): void {
  const [cmd, ...a] = d.argv;
  const ctx = { actor: 'replay', key: d.key };
  if (cmd === 'buy' || cmd === 'sell') {
    const input = { pair: a[0]!, quantity: a[1]!, fee: '0', price: a[2]! };
    if (cmd === 'buy') ledger.buy(input, ctx);
    else ledger.sell(input, ctx);
  } else if (cmd === 'setcash') {
    ledger.setCash({ currency: 'USD', amount: a[0]! }, { ...ctx, reason: a[2]! });
  } else if (cmd === 'fill') {
    const f = JSON.parse(a[0]!) as SerializedFill;
    ledger.applyFill({ ...f, side: f.side as 'buy', liquidity: 'taker', purpose: f.purpose as 'entry', quantity: dec(f.quantity), price: dec(f.price), fee: dec(f.fee) }, 'bot-strategy', ctx);
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
}

describe('durable state under concurrent writers', () => {
  it('when 4 operator processes run 1,000 buy/sell/setcash commands, real CLI invocations run at once and the bot writes fills, then the final state equals the serial application of the same commands in sequence order, with no gap and no lost update', async () => {
    const dir = tmp('tollgate-conc-');
    const db = join(dir, 'state.db');
    const seed = SqliteStateStore.open(db);
    new Ledger(seed, { now: () => 1_700_000_000_000 }, metaOf).setCash({ currency: 'USD', amount: '100000000' }, { actor: 'test', reason: 'seed', key: 'seed' });
    seed.close();

    const workers = [
      ...[1, 2, 3, 4].map((id) => run(['--import', 'tsx', WORKER, 'operator', db, String(id), '250'])),
      run(['--import', 'tsx', WORKER, 'bot', db, '9', '120']),
    ];
    const cli = [
      ['buy', 'BTC/USD', '0.5', '50000', '--idempotency-key', 'cli-1'],
      ['buy', 'ETH/USD', '2', '2500.5', '--idempotency-key', 'cli-2'],
      ['setcash', '99000000', '--reason', 'cli', '--idempotency-key', 'cli-3'],
      ['buy', 'BTC/USD', '0.25', '50500', '--idempotency-key', 'cli-4'],
      ['sell', 'BTC/USD', '0.1', '51000', '--idempotency-key', 'cli-5'],
      ['buy', 'BTC/USD', '0.5', '50000', '--idempotency-key', 'cli-1'], // the same key again, concurrently
    ].map((argv) => run([BIN, ...argv, '--state', db, '--json']).then((r) => ({ argv, r })));
    const results = await Promise.all(workers);
    const cliResults = await Promise.all(cli);

    for (const w of results) expect(w.err).toBe('');
    for (const w of results) expect(w.code).toBe(0);
    const done: Done[] = results.flatMap((w) => JSON.parse(w.out.trim().split('\n').at(-1)!) as Done[]);
    for (const { argv, r } of cliResults) {
      if (r.code === 0) {
        const res = JSON.parse(r.out) as { seq: number; repeated: boolean };
        done.push({ argv: argv.slice(0, argv.indexOf('--idempotency-key')), key: argv[argv.indexOf('--idempotency-key') + 1]!, seq: res.seq, repeated: res.repeated, error: null });
      } else {
        expect(r.err).toMatch(/^tollgate: /); // a refusal (e.g. nothing to sell yet) is one clear line
        done.push({ argv, key: '', seq: null, repeated: false, error: r.err });
      }
    }
    expect(done.filter((d) => d.argv[0] !== 'fill').length).toBe(1_000 + cli.length);
    const applied = done.filter((d) => d.seq !== null && !d.repeated);
    const refused = done.filter((d) => d.error !== null);
    // refusals are rule refusals only (selling more than held), never a lock timeout or a crash
    for (const r of refused) expect(r.error).toMatch(/no open position|sells .* > held/);

    const store = SqliteStateStore.open(db);
    try {
      const audit = [...store.audit()];
      const snap = store.snapshot();
      // gapless: 1..N, one row per applied command plus the seed
      expect(audit.map((a) => a.seq)).toEqual(Array.from({ length: audit.length }, (_, i) => i + 1));
      expect(snap.sequence).toBe(audit.length);
      expect(audit.length).toBe(applied.length + 1);
      // every applied command got its own sequence number; every repeat returned the first one
      const seqs = applied.map((d) => d.seq!).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: applied.length }, (_, i) => i + 2));
      const firstSeqOfKey = new Map(applied.map((d) => [d.key, d.seq]));
      for (const d of done.filter((x) => x.repeated)) expect(d.seq).toBe(firstSeqOfKey.get(d.key));
      for (const k of ['shared-0', 'shared-100', 'cli-1']) expect(audit.filter((a) => a.idempotencyKey === k)).toHaveLength(1);
      expect(done.filter((d) => d.argv[0] === 'fill')).toHaveLength(120);

      // the serial application of the same commands, in sequence order, to a fresh ledger gives the stored state
      const byseq = new Map(audit.map((a) => [a.seq, a]));
      let now = 0;
      const serial = new MemoryLedgerStore();
      const ledger = new Ledger(serial, { now: () => now }, metaOf);
      now = byseq.get(1)!.ts;
      ledger.setCash({ currency: 'USD', amount: '100000000' }, { actor: 'test', reason: 'seed', key: 'seed' });
      for (const d of [...applied].sort((a, b) => a.seq! - b.seq!)) {
        now = byseq.get(d.seq!)!.ts;
        reapply(ledger, d);
      }
      const s2 = serial.snapshot();
      expect(s2.cash).toEqual(snap.cash);
      expect(s2.positions).toEqual(snap.positions);
      expect(s2.totals).toEqual(snap.totals);
      expect(s2.closedTrades).toEqual(snap.closedTrades);
      expect(s2.sequence).toBe(snap.sequence);
      // and the audit log replays to the stored state too
      expect(verifyAudit(store, metaOf, () => new MemoryLedgerStore())).toMatchObject({ ok: true, rows: audit.length });
    } finally {
      store.close();
    }
  });
});
