/**
 * Durable replay (`--state`): resuming, refusing what it must refuse, starting over without losing
 * anything. The kill -9 crash test is test/crash.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, BUNDLED, tmp } from './helpers.ts';

const SLICE = ['--data', BUNDLED, '--pair', 'BTC/USD', '--from', '2019-01-01', '--to', '2019-04-01', '--no-progress', '--json'];

function tollgate(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const sizes = (dir: string) => Object.fromEntries(readdirSync(join(dir, 'logs')).map((f) => [f, statSync(join(dir, 'logs', f)).size]));

describe('durable replay', () => {
  const dir = tmp('tollgate-durable-');
  const first = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], dir);

  it('when a replay keeps its state then the ledger it leaves equals the summary and verifies from the audit log', () => {
    expect(first.code, first.err).toBe(0);
    const summary = JSON.parse(first.out);
    expect(summary.resumed).toEqual({ candlesDone: 0, rederiveMs: null });
    const status = JSON.parse(tollgate(['status', '--state', 'state.db', '--json'], dir).out);
    expect(status.cash).toEqual(summary.cash);
    expect(status.positions).toHaveLength(summary.openAtEnd);
    const verify = tollgate(['audit', 'verify', '--state', 'state.db'], dir);
    expect(verify.code, verify.err).toBe(0);
    expect(verify.out).toMatch(/audit verify: ok/);
  });

  it('when a finished replay is run again then it reports the same result and writes nothing', () => {
    const before = sizes(dir);
    const again = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], dir);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/^recovery: loaded \d+ positions, \d+ signals in [\d.]+ ms .*finished/m);
    const a = JSON.parse(first.out);
    const b = JSON.parse(again.out);
    for (const k of ['elapsedMs', 'resumed']) {
      delete a[k];
      delete b[k];
    }
    expect(b).toEqual(a);
    expect(sizes(dir)).toEqual(before);
  });

  it('when the same state is given other data then it refuses, names the problem and changes nothing', () => {
    const before = readFileSync(join(dir, 'state.db'));
    const r = tollgate(['replay', ...SLICE.map((a) => (a === '2019-04-01' ? '2019-05-01' : a)), '--logs', 'logs', '--state', 'state.db'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--state state.db belongs to another replay \(different data or config\)/);
    expect(readFileSync(join(dir, 'state.db')).equals(before)).toBe(true);
  });

  it('when someone changed the ledger behind the replay’s back then it refuses to go on: health degraded, exit 3', () => {
    const d = tmp('tollgate-durable-tamper-');
    expect(tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], d).code).toBe(0);
    expect(tollgate(['setcash', '1', '--reason', 'test', '--state', 'state.db'], d).code).toBe(0);
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], d);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/health: degraded — state state.db after \d+ candles does not match .*ledger sequence/);
  });

  it('--fresh moves the old state aside (nothing deleted) and starts over; --fresh without --state is refused', () => {
    const d = tmp('tollgate-durable-fresh-');
    expect(tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], d).code).toBe(0);
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db', '--fresh'], d);
    expect(r.code, r.err).toBe(0);
    const aside = readdirSync(d).filter((f) => f.startsWith('state.db.replaced-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
    expect(aside).toHaveLength(1);
    expect(r.err).toContain(`moved state.db aside to ${aside[0]}`);
    expect(JSON.parse(r.out).resumed.candlesDone).toBe(0);
    expect(tollgate(['replay', ...SLICE, '--fresh'], d).code).toBe(2);
  });

  it('--state without a file keeps the state under data/', () => {
    const d = tmp('tollgate-durable-default-');
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state'], d);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(d, 'data', 'replay.db'))).toBe(true);
  });
});

describe('durable replay: logs shared with other runs', () => {
  it('when another run appended to the logs after the interruption then the resume refuses instead of cutting its lines', () => {
    const d = tmp('tollgate-durable-shared-');
    const killed = spawnSync(process.execPath, [BIN, 'replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], { cwd: d, encoding: 'utf8', env: { ...process.env, TOLLGATE_FAULT_KILL_IN_COMMIT: '20' } });
    expect(killed.signal).toBe('SIGKILL');
    const other = tollgate(['replay', ...SLICE.map((a) => (a === '2019-01-01' ? '2019-02-01' : a)), '--logs', 'logs'], d);
    expect(other.code, other.err).toBe(0);
    const before = sizes(d);
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs', '--state', 'state.db'], d);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/line\(s\) of another run were appended after this replay was interrupted; refusing to cut them/);
    expect(sizes(d)).toEqual(before); // nothing cut
  });

  it('when the resume names another --logs then it is refused: the logs of one run stay in one place', () => {
    const d = tmp('tollgate-durable-move-');
    const killed = spawnSync(process.execPath, [BIN, 'replay', ...SLICE, '--logs', 'logs1', '--state', 'state.db'], { cwd: d, encoding: 'utf8', env: { ...process.env, TOLLGATE_FAULT_KILL_IN_COMMIT: '20' } });
    expect(killed.signal).toBe('SIGKILL');
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs2', '--state', 'state.db'], d);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/this replay wrote its logs to .*logs1.*; resume it with the same --logs/);
  });

  it('a --logs that cannot be written is refused before any state file is created', () => {
    const d = tmp('tollgate-durable-badlogs-');
    tollgate(['replay', ...SLICE, '--logs', 'logs'], d);
    const r = tollgate(['replay', ...SLICE, '--logs', 'logs/signal_bus.jsonl', '--state', 'fresh.db'], d);
    expect(r.code).toBe(2);
    expect(existsSync(join(d, 'fresh.db'))).toBe(false);
  });
});
