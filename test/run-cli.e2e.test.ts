/**
 * `tollgate run` (`npm start`): paper mode by default, refusals that protect real money, and no crash
 * without network — it says so and retries with backoff until stopped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, tmp } from './helpers.ts';

const KEY = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrst';
const SECRET = 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==';
const clean = { ...process.env, TOLLGATE_KRAKEN_API_KEY: undefined, TOLLGATE_KRAKEN_API_SECRET: undefined } as NodeJS.ProcessEnv;
const withKeys = { ...process.env, TOLLGATE_KRAKEN_API_KEY: KEY, TOLLGATE_KRAKEN_API_SECRET: SECRET };

function refused(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [BIN, 'run', '--logs', tmp(), ...args], { encoding: 'utf8', env, timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stderr + r.stdout).not.toContain(SECRET);
  return r.stderr;
}

describe('tollgate run', () => {
  it('with API keys but no --mode it refuses to guess', () => {
    expect(refused([], withKeys)).toMatch(/API keys are configured \(environment\): say which mode/);
  });

  it('--mode live without --confirm-live is refused: orders would be real', () => {
    expect(refused(['--mode', 'live'], withKeys)).toMatch(/real orders with real money: add --confirm-live/);
  });

  it('--mode sim needs the simulator’s URL and keys', () => {
    expect(refused(['--mode', 'sim'], withKeys)).toMatch(/--mode sim needs --url/);
    expect(refused(['--mode', 'sim', '--url', 'http://127.0.0.1:9'], clean)).toMatch(/needs API keys/);
  });

  it('a credentials file others can read is refused, without quoting it', () => {
    const f = join(tmp(), 'kraken.env');
    writeFileSync(f, `TOLLGATE_KRAKEN_API_KEY=${KEY}\nTOLLGATE_KRAKEN_API_SECRET=${SECRET}\n`);
    chmodSync(f, 0o644);
    expect(refused(['--mode', 'sim', '--url', 'http://127.0.0.1:9', '--credentials', f], clean)).toMatch(/readable by others \(mode 644\); run: chmod 600/);
  });

  it('in paper mode with no network it says so plainly, backs off, and stops cleanly on SIGTERM', async () => {
    // nothing listens on port 9 of loopback: the same as no network, without touching the internet
    const c = spawn(process.execPath, [BIN, 'run', '--logs', tmp(), '--url', 'http://127.0.0.1:9'], { env: clean });
    let err = '';
    let out = '';
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 200 && !/retrying in/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/tollgate run: mode paper/);
    expect(err).toMatch(/market data: cannot reach Kraken \(ECONNREFUSED\); retrying in [\d.]+ s/);
    c.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => c.on('exit', (x) => r(x)));
    expect(code).toBe(0);
    expect(out).toMatch(/run finished: 0 candles/);
    expect(err).not.toMatch(/internal error|\n\s+at /);
  }, 30_000);
});
