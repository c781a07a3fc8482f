/**
 * Crash test (issue 4): a durable replay is killed with SIGKILL 50 times — half at random instants
 * chosen by this test, half from inside the commit transaction itself (fault injection after the
 * ledger rows are written, before COMMIT) — and restarted each time. The end state must equal an
 * uninterrupted run's: same ledger (cash to the last unit, positions, closed trades, the same audit
 * rows in the same order with a gapless sequence), same decisions, same logs, no signal lost or doubled.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { mulberry32 } from '../src/analytics/stats.ts';
import { BIN, BUNDLED, tmp } from './helpers.ts';

const ARGS = ['replay', '--data', BUNDLED, '--pair', 'BTC/USD', '--from', '2017-01-01', '--to', '2018-01-01', '--no-progress', '--json'];
const KILLS = 50;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(dir: string, opts: { killAfterMs?: number; killInCommit?: number } = {}): Promise<Exit> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const env = { ...process.env, ...(opts.killInCommit ? { TOLLGATE_FAULT_KILL_IN_COMMIT: String(opts.killInCommit) } : {}) };
    const child = spawn(process.execPath, [BIN, ...ARGS, '--logs', join(dir, 'logs'), '--state', join(dir, 'state.db')], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = opts.killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function ledgerOf(dir: string) {
  const store = SqliteStateStore.open(join(dir, 'state.db'), { mustExist: true });
  try {
    const snapshot = store.snapshot();
    const audit = [...store.audit()];
    const signals = store.db.prepare('SELECT id, state, terminal FROM signals ORDER BY id').all() as Array<{ id: string; state: string; terminal: number }>;
    const intents = store.db.prepare('SELECT client_order_id FROM order_intents ORDER BY client_order_id').pluck().all() as string[];
    return { snapshot, audit, signals, intents };
  } finally {
    store.close();
  }
}

function logLines(dir: string, file: string): string[] {
  return readFileSync(join(dir, 'logs', file), 'utf8')
    .split('\n')
    .filter((l) => l && !l.includes('"event":"run.resumed"'))
    .map((l) => l.replace(/"runId":"[^"]+"/g, '"runId":"X"').replace(/"elapsedMs":\d+/g, '"elapsedMs":0').replace(/"resumed":\{[^}]*\},?/, ''));
}

const normSummary = (s: string) => {
  const o = JSON.parse(s) as Record<string, unknown>;
  delete o.elapsedMs;
  delete o.runId;
  delete o.resumed;
  return o;
};

describe('crash test: kill -9 a durable replay 50 times, restart each time', () => {
  it('ends in exactly the state of an uninterrupted run', async () => {
    const ref = tmp('tollgate-crash-ref-');
    const clean = await run(ref);
    expect(clean.code, clean.stderr).toBe(0);

    const dir = tmp('tollgate-crash-');
    const rnd = mulberry32(2026);
    let killedFromOutside = 0;
    let killedInCommit = 0;
    let completedEarly = 0;
    // until 50 runs died by SIGKILL (a run the kill did not reach finishes cleanly and is counted apart)
    for (let i = 0; killedFromOutside + killedInCommit < KILLS && i < KILLS + 30; i++) {
      const inCommit = i % 2 === 1;
      // from inside: a commit a little further on each time; from outside: a random instant of the run
      // (the outside window is a quarter of the clean run: a clean run timed on a loaded machine is long, and a
      // wider window lets the killed runs finish the replay before 50 kills, after which none can land)
      const r = inCommit ? await run(dir, { killInCommit: 1 + Math.floor(rnd() * 30) }) : await run(dir, { killAfterMs: 150 + rnd() * clean.ms * 0.25 });
      if (r.signal === 'SIGKILL') {
        if (inCommit) killedInCommit++;
        else killedFromOutside++;
      } else {
        expect(r.code, r.stderr).toBe(0); // a run that was not killed finished cleanly
        completedEarly++;
      }
      expect(r.stderr).not.toMatch(/degraded|internal error/);
    }
    console.log(`crash test: ${killedFromOutside} kills from outside, ${killedInCommit} inside a commit, ${completedEarly} runs finished; clean run ${Math.round(clean.ms)} ms`);
    const last = await run(dir);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/^recovery: loaded \d+ positions, \d+ signals in [\d.]+ ms/m);
    // the kills really happened, most of them while the replay was working
    expect(killedFromOutside + killedInCommit).toBeGreaterThanOrEqual(KILLS);
    expect(killedInCommit).toBeGreaterThanOrEqual(20);
    expect(killedFromOutside).toBeGreaterThanOrEqual(10);

    // same summary
    expect(normSummary(last.stdout)).toEqual(normSummary(clean.stdout));

    // same ledger: cash to the last unit, positions, totals, closed trades, and the same operations in the same order
    const a = ledgerOf(ref);
    const b = ledgerOf(dir);
    expect(b.snapshot).toEqual(a.snapshot);
    expect(b.audit.map((r) => r.seq)).toEqual(Array.from({ length: b.audit.length }, (_, k) => k + 1)); // gapless
    expect(b.audit.map(({ seq, ts, operation, actor, idempotencyKey, input, before, after }) => ({ seq, ts, operation, actor, idempotencyKey, input, before, after })))
      .toEqual(a.audit.map(({ seq, ts, operation, actor, idempotencyKey, input, before, after }) => ({ seq, ts, operation, actor, idempotencyKey, input, before, after })));
    expect(b.signals).toEqual(a.signals);
    expect(b.intents).toEqual(a.intents);

    // same decisions and logs; every signal exactly once
    for (const f of ['signal_decisions.jsonl', 'signal_bus.jsonl', 'shadow_trade_outcomes.jsonl', 'signal_outcomes.jsonl']) {
      expect(logLines(dir, f), f).toEqual(logLines(ref, f));
    }
    const ids = logLines(dir, 'signal_decisions.jsonl').map((l) => (JSON.parse(l) as { signalId: string }).signalId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(b.signals.length).toBe(ids.length);
  }, 300_000);
});
