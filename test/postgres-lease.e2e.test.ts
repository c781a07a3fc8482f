/**
 * `tollgate run --mode sim --state postgres://…` end to end against the Kraken simulator and a throwaway
 * PostgreSQL cluster: the run trades on the PostgreSQL state and the ledger equals the venue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStateStore } from '../src/adapters/postgres/state-store.ts';
import { Ledger, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { Dec } from '../src/domain/money.ts';
import { BIN, defaults, tmp } from './helpers.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';
import { testSim } from './sim-helpers.ts';

const DENSE = {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
};

interface Running {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}
function startBot(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { env });
  const r: Running = { child, out: '', err: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (d) => (r.out += d));
  child.stderr!.on('data', (d) => (r.err += d));
  return r;
}

const d = postgresMissing() ? describe.skip : describe;
let cluster: PgCluster;
let n = 0;

d('tollgate run on a PostgreSQL state', () => {
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(() => cluster?.stop());

  it('with --state postgres://… a sim run trades, nothing is sent twice, the password is never shown, and the ledger equals the venue', async () => {
    const { markets } = defaults();
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-03-01', pace: 20, startIndex: 800 });
    const url = (await cluster.createDatabase(`run_${process.pid}_${++n}`)).replace('tollgate@', 'tollgate:db-pw-xyz@');
    const dir = tmp('tollgate-pg-run-');
    const config = join(dir, 'dense.json');
    writeFileSync(config, JSON.stringify(DENSE));
    const env = { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret };
    const bot = startBot(['--mode', 'sim', '--url', sim.url, '--pace', '20', '--max-candles', '40', '--config', config, '--state', url, '--logs', join(dir, 'logs'), '--json', '--dead-mans-switch', '0'], env);
    const code = await bot.exited;
    sim.setPace(0);
    expect(bot.err).not.toMatch(/internal error|\n\s+at /);
    expect(code).toBe(0);
    expect(bot.out + bot.err).not.toContain('db-pw-xyz');
    expect(bot.err).toContain('state postgres://tollgate:***@127.0.0.1');
    const store = PgStateStore.open(url);
    try {
      expect(store.invariantViolation()).toBeNull();
      const intents = store.orderIntentsWithStatus().map((i) => i.clientOrderId);
      expect(intents.length).toBeGreaterThan(0);
      expect(sim.calls['AddOrder']).toBe(intents.length);
      const venueIds = sim.orders().map((o) => o.clOrdId);
      expect(new Set(venueIds).size).toBe(venueIds.length);
      expect([...venueIds].sort()).toEqual([...intents].sort());
      const ledger = new Ledger(store, new SystemClock(), (p) => markets.get(p)).load();
      const summary = JSON.parse(bot.out.trim().split('\n').at(-1)!) as { cash: Record<string, string> };
      expect(summary.cash['USD']).toBe(ledger.cash.get('USD')!.toFixed());
      expect(verifyAudit(store, (p) => markets.get(p), () => new MemoryLedgerStore())).toMatchObject({ ok: true });
      void Dec;
    } finally {
      store.close();
    }
  }, 90_000);
});
