/** `tollgate doctor`: each check passes on a sound installation and fails (with a fix) on a broken one. */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { checkClock, checkConfig, checkDisk, checkExchange, checkNode, checkPm2, checkSecrets, checkState, runDoctor, type Probes } from '../src/ops/doctor.ts';
import { BIN, tmp } from './helpers.ts';

const NOW = 1_800_000_000_000;
const venue = (o: { status?: number; time?: number; system?: string | null }): Probes => ({
  now: () => NOW,
  freeBytes: () => 50 * 1024 ** 3,
  pm2List: async () => [],
  fetch: async (url) => {
    if (o.status === 0) throw new Error('connect ECONNREFUSED');
    const body = url.endsWith('/Time') ? { error: [], result: { unixtime: Math.floor((o.time ?? NOW) / 1000) } } : o.system === null ? { error: ['EGeneral:Unknown method'] } : { error: [], result: { status: o.system ?? 'online' } };
    return { status: o.status ?? 200, json: async () => body };
  },
});

function stateFile(dir: string): string {
  const f = join(dir, 'state.db');
  const r = spawnSync(process.execPath, [BIN, 'db', 'migrate', '--state', f], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return f;
}

describe('tollgate doctor checks', () => {
  it('when Node is older than 20.19 then node fails and says what to install', () => {
    expect(checkNode('v20.19.0').status).toBe('ok');
    expect(checkNode('v22.1.0').status).toBe('ok');
    const c = checkNode('v18.20.1');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c.fix).toMatch(/Node 20\.19 or newer/);
  });

  it('when the config is missing, not JSON or invalid then config fails naming the problem', () => {
    const dir = tmp('tollgate-doctor-');
    expect(checkConfig(join(dir, 'nope.json'))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/missing/) });
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(checkConfig(join(dir, 'bad.json'))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not valid JSON/) });
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ strategies: 'many' }));
    expect(checkConfig(join(dir, 'wrong.json'))).toMatchObject({ status: 'fail', fix: expect.stringMatching(/tollgate config check/) });
    writeFileSync(join(dir, 'good.json'), '{}');
    expect(checkConfig(join(dir, 'good.json')).status).toBe('ok');
  });

  it('when the state DB is corrupt, newer than this release or behind it then state fails or warns', () => {
    const dir = tmp('tollgate-doctor-');
    const f = stateFile(dir);
    expect(checkState(f)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/integrity ok/) });
    const db = new Database(f);
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    db.close();
    expect(checkState(f)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/newer than this release/) });
    const old = new Database(f);
    old.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
    old.close();
    expect(checkState(f)).toMatchObject({ status: 'warn', fix: expect.stringMatching(/tollgate db migrate/) });
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database at all'.repeat(200));
    expect(checkState(junk).status).toBe('fail');
    expect(checkState(join(dir, 'none.db')).status).toBe('warn');
  });

  it('when a secret file is readable by others or missing then secrets fails with the chmod to run', () => {
    const dir = tmp('tollgate-doctor-');
    const f = join(dir, 'kraken.key');
    writeFileSync(f, 'key\nsecret\n');
    chmodSync(f, 0o644);
    expect(checkSecrets([f])).toMatchObject({ status: 'fail', fix: `chmod 600 ${f}` });
    chmodSync(f, 0o600);
    expect(checkSecrets([f]).status).toBe('ok');
    expect(checkSecrets([join(dir, 'gone')])).toMatchObject({ status: 'fail', detail: expect.stringMatching(/missing/) });
  });

  it('when the clock is off the venue then clock warns (over 1.5 s) or fails (over 5 s)', async () => {
    expect((await checkClock('http://venue', venue({}))).status).toBe('ok');
    expect((await checkClock('http://venue', venue({ time: NOW - 3_000 }))).status).toBe('warn');
    const c = await checkClock('http://venue', venue({ time: NOW + 30_000 }));
    expect(c).toMatchObject({ status: 'fail', fix: expect.stringMatching(/timedatectl/) });
  });

  it('when the disk is nearly full then disk warns under 1 GiB and fails under 200 MiB', () => {
    const dir = tmp('tollgate-doctor-');
    expect(checkDisk([dir], () => 10 * 1024 ** 3).status).toBe('ok');
    expect(checkDisk([dir], () => 500 * 1024 ** 2).status).toBe('warn');
    expect(checkDisk([dir], () => 50 * 1024 ** 2)).toMatchObject({ status: 'fail', fix: expect.stringMatching(/free space/) });
  });

  it('when the exchange cannot be reached or is in maintenance then exchange fails or warns', async () => {
    expect((await checkExchange('http://venue', venue({}))).status).toBe('ok');
    expect((await checkExchange('http://venue', venue({ system: 'maintenance' }))).status).toBe('warn');
    expect((await checkExchange('http://venue', venue({ status: 0 })))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/unreachable/) });
  });

  it('when a pm2 app is not online or pm2 does not answer then pm2 fails with the command to look', async () => {
    const apps = [{ name: 'tollgate-bot', pid: 1, status: 'online', cwd: '/x', restarts: 0 }, { name: 'tollgate-intake', pid: null, status: 'errored', cwd: '/x', restarts: 9 }];
    expect((await checkPm2(['tollgate-bot'], async () => apps)).status).toBe('ok');
    const c = await checkPm2(['tollgate-bot', 'tollgate-intake'], async () => apps);
    expect(c).toMatchObject({ status: 'fail', detail: 'not online: tollgate-intake (errored)', fix: expect.stringMatching(/pm2 logs tollgate-intake/) });
    expect((await checkPm2(['tollgate-bot'], async () => Promise.reject(new Error('no daemon')))).status).toBe('fail');
  });

  it('when run as a command on a sound offline installation then every check passes; a failing check exits non-zero and prints its fix', async () => {
    const dir = tmp('tollgate-doctor-');
    const state = stateFile(dir);
    const all = await runDoctor({ stateFile: state, dirs: [dir], venueUrl: 'http://venue', apps: ['tollgate-bot'], probes: { ...venue({}), pm2List: async () => [{ name: 'tollgate-bot', pid: 1, status: 'online', cwd: dir, restarts: 0 }] } });
    expect(all.map((c) => [c.name, c.status])).toEqual([['node', 'ok'], ['config', 'ok'], ['state', 'ok'], ['secrets', 'ok'], ['clock', 'ok'], ['disk', 'ok'], ['exchange', 'ok'], ['pm2', 'ok']]);
    const env = join(dir, 'tollgate.env');
    writeFileSync(env, `TOLLGATE_STATE=${state}\n`);
    chmodSync(env, 0o644);
    const r = spawnSync(process.execPath, [BIN, 'doctor', '--env-file', env, '--offline', '--no-pm2', '--base', dir], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/FAIL {2}secrets .*mode 644/);
    expect(r.stdout).toContain(`fix: chmod 600 ${env}`);
    chmodSync(env, 0o600);
    const ok = spawnSync(process.execPath, [BIN, 'doctor', '--env-file', env, '--offline', '--no-pm2', '--base', dir], { encoding: 'utf8' });
    expect(ok.stdout).toContain('all checks passed');
    expect(ok.status).toBe(0);
  });
});
