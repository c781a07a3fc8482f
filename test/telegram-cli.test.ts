/**
 * `tollgate telegram --state FILE` as a process against the fake Bot API on 127.0.0.1: token from a 600-mode
 * file (a readable one refused), chats required, /status answered from the state, the token in no output
 * or log line, SIGTERM stops it cleanly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { FakeBotApi } from './telegram-fake-api.ts';
import { BIN, tmp } from './helpers.ts';

const TOKEN = '7777:cli-TEST-token-never-printed-CCCCCCCC';

describe('tollgate telegram (process)', () => {
  const api = new FakeBotApi(TOKEN);
  const dir = tmp('tollgate-tg-cli-');
  const state = join(dir, 'state.db');
  const tokenFile = join(dir, 'token');

  beforeAll(async () => {
    await api.start();
    SqliteStateStore.open(state).close();
    writeFileSync(tokenFile, TOKEN + '\n');
  });
  afterAll(() => api.close());

  it('when the token file is readable by others, or no chats are given, then it refuses with one clear message (exit 2)', () => {
    chmodSync(tokenFile, 0o644);
    const base = { ...process.env } as NodeJS.ProcessEnv;
    delete base.TOLLGATE_TELEGRAM_TOKEN;
    const r1 = spawnSync(process.execPath, [BIN, 'telegram', '--state', state, '--chats', '1', '--api-root', api.root], { env: { ...base, TOLLGATE_TELEGRAM_TOKEN_FILE: tokenFile }, encoding: 'utf8' });
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/TOLLGATE_TELEGRAM_TOKEN_FILE .*readable by others \(mode 644\); chmod 600 it/);
    chmodSync(tokenFile, 0o600);
    const r2 = spawnSync(process.execPath, [BIN, 'telegram', '--state', state, '--api-root', api.root], { env: { ...base, TOLLGATE_TELEGRAM_TOKEN_FILE: tokenFile, TOLLGATE_TELEGRAM_CHATS: '' }, encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('no allowed chats');
    expect(r1.stderr + r2.stderr).not.toContain(TOKEN);
  });

  it('when it runs then /status is answered from the state, SIGTERM stops it with exit 0, and the token is in no output or log line', async () => {
    const base = { ...process.env } as NodeJS.ProcessEnv;
    delete base.TOLLGATE_TELEGRAM_TOKEN;
    const child = spawn(process.execPath, [BIN, 'telegram', '--state', state, '--chats', '42', '--api-root', api.root, '--logs', dir], { env: { ...base, TOLLGATE_TELEGRAM_TOKEN_FILE: tokenFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const until = Date.now() + 15_000;
    while (!out.includes('telegram: polling') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    api.text(42, '/status');
    const r = await api.waitSent(42, 1, 10_000);
    expect(r.body.text).toContain('positions: none');
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const log = readFileSync(join(dir, 'telegram.jsonl'), 'utf8');
    expect(log).toContain('telegram.command');
    expect(log + out).not.toContain(TOKEN);
    expect(log + out).not.toContain('cli-TEST-token');
  }, 30_000);
});
