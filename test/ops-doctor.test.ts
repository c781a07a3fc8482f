/** `tollgate doctor`: each check passes on a sound installation and fails (with a fix) on a broken one. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { DOCTOR_FAILED, doctorCommand, type DoctorCommandOptions } from '../src/cli/cli-doctor.ts';
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
    // a compatible newer schema (readable_from within this release) is a rollback, not a failure
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('readable_from', '1')").run();
    expect(checkState(f)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/newer, compatible/) });
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'readable_from'").run();
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
    expect(r.status).toBe(DOCTOR_FAILED);
    expect(r.stdout).toMatch(/FAIL {2}secrets .*mode 644/);
    expect(r.stdout).toContain(`fix: chmod 600 ${env}`);
    chmodSync(env, 0o600);
    const ok = spawnSync(process.execPath, [BIN, 'doctor', '--env-file', env, '--offline', '--no-pm2', '--base', dir], { encoding: 'utf8' });
    expect(ok.stdout).toContain('all checks passed');
    expect(ok.status).toBe(0);
  });
});

/**
 * The command over an installation (env file, config, state, secret) where everything passes, then one thing
 * broken at a time: exactly that check fails, its fix is printed, and the command exits 2. In process with
 * the probes injected (each of the eight checks), and as a real process for every check a process can be
 * made to fail without touching the machine (config, state, secrets, clock and exchange against a venue on
 * 127.0.0.1, pm2 through a stand-in binary).
 */
describe('tollgate doctor exits 2 for each failing check', () => {
  function installation(): { dir: string; env: string; opts: DoctorCommandOptions; write(extra?: string): void } {
    const dir = tmp('tollgate-doctor-cmd-');
    const state = join(dir, 'state.db');
    SqliteStateStore.open(state).close(); // created and migrated, as the bot does at its first start
    writeFileSync(join(dir, 'config.json'), '{}');
    const env = join(dir, 'tollgate.env');
    const write = (extra = '') => {
      writeFileSync(env, `TOLLGATE_STATE=${state}\nTOLLGATE_CONFIG=${join(dir, 'config.json')}\nTOLLGATE_LOGS=${dir}\n${extra}`);
      chmodSync(env, 0o600);
    };
    write();
    return { dir, env, write, opts: { base: dir, envFile: env, url: 'http://venue', offline: false, pm2: true, json: false } };
  }
  const sound: Probes = { ...venue({}), pm2List: async () => [{ name: 'tollgate-bot', pid: 1, status: 'online', cwd: '/x', restarts: 0 }] };
  const failing = (checks: ReadonlyArray<{ name: string; status: string }>) => checks.filter((c) => c.status === 'fail').map((c) => c.name);

  it('when nothing is broken then every check passes and it exits 0', async () => {
    const { opts } = installation();
    const r = await doctorCommand(opts, { probes: sound });
    expect(r.checks.map((c) => c.status)).toEqual(Array(8).fill('ok'));
    expect(r.exitCode).toBe(0);
  });

  it('when the env file turns the intake and the dashboard on then pm2 fails while either is not online, naming it', async () => {
    const i = installation();
    i.write('TOLLGATE_INTAKE_HTTP=127.0.0.1:8081\nTOLLGATE_DASHBOARD_HTTP=127.0.0.1:8501\n');
    const r = await doctorCommand(i.opts, { probes: { ...sound, pm2List: async () => [{ name: 'tollgate-bot', pid: 1, status: 'online', cwd: '/x', restarts: 0 }, { name: 'tollgate-intake', pid: 2, status: 'online', cwd: '/x', restarts: 0 }] } });
    expect(failing(r.checks)).toEqual(['pm2']);
    expect(r.checks.find((c) => c.name === 'pm2')!.detail).toBe('not online: tollgate-dashboard (not started)');
    expect(r.exitCode).toBe(DOCTOR_FAILED);
  });

  const breakages: Array<[string, (i: ReturnType<typeof installation>) => Parameters<typeof doctorCommand>[1]]> = [
    ['node', () => ({ nodeVersion: 'v18.20.1', probes: sound })],
    ['config', (i) => (writeFileSync(join(i.dir, 'config.json'), '{"sizing":{"mode":"all_in"}}'), { probes: sound })],
    ['state', (i) => (writeFileSync(join(i.dir, 'state.db'), 'not a database'.repeat(500)), { probes: sound })],
    ['secrets', (i) => (chmodSync(i.env, 0o640), { probes: sound })],
    ['clock', () => ({ probes: { ...sound, ...venue({ time: NOW - 60_000 }), pm2List: sound.pm2List } })],
    ['disk', () => ({ probes: { ...sound, freeBytes: () => 10 * 1024 ** 2 } })],
    ['exchange', () => ({ probes: { ...sound, ...venue({ status: 0 }), pm2List: sound.pm2List } })],
    ['pm2', () => ({ probes: { ...sound, pm2List: async () => [{ name: 'tollgate-bot', pid: null, status: 'stopped', cwd: '/x', restarts: 3 }] } })],
  ];
  for (const [name, breakIt] of breakages) {
    it(`when ${name} fails then only ${name} fails, its fix is printed and the command exits 2`, async () => {
      const i = installation();
      const r = await doctorCommand(i.opts, breakIt(i));
      expect(failing(r.checks)).toEqual([name]);
      expect(r.text).toMatch(new RegExp(`FAIL  ${name} .*\\n      fix: \\S`));
      expect(r.exitCode).toBe(DOCTOR_FAILED);
    });
  }

  describe('as a process', () => {
    let venueServer: Server;
    let origin = '';
    let offset = 0;
    beforeAll(async () => {
      venueServer = createServer((req, res) => {
        const body = req.url === '/0/public/Time' ? { error: [], result: { unixtime: Math.floor((Date.now() + offset) / 1000) } } : { error: [], result: { status: 'online' } };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      });
      await new Promise<void>((r) => venueServer.listen(0, '127.0.0.1', r));
      origin = `http://127.0.0.1:${(venueServer.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => venueServer.close(() => r())));

    /** async: the venue server answers from this process while the command runs */
    function doctor(i: ReturnType<typeof installation>, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string }> {
      return new Promise((resolve) => {
        const p = spawn(process.execPath, [BIN, 'doctor', '--base', i.dir, '--env-file', i.env, ...args], { env: { ...process.env, ...env } });
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.on('close', (status) => resolve({ status, stdout }));
      });
    }
    const fakePm2 = (dir: string, json: string): string => {
      const bin = join(dir, 'pm2');
      writeFileSync(bin, `#!/bin/sh\necho '${json}'\n`);
      chmodSync(bin, 0o755);
      return bin;
    };
    const online = '[{"name":"tollgate-bot","pid":1,"pm2_env":{"status":"online"}}]';

    it('a sound installation (venue on loopback, pm2 answering) exits 0; then each of config, state, secrets, clock, exchange, pm2 broken exits 2 naming it', async () => {
      const i = installation();
      const good = await doctor(i, ['--url', origin], { TOLLGATE_PM2: fakePm2(i.dir, online) });
      expect(good.stdout).toContain('all checks passed');
      expect(good.status).toBe(0);
      const failed = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const r = await doctor(i, args, env);
        expect(r.status).toBe(DOCTOR_FAILED);
        return [...r.stdout.matchAll(/^FAIL {2}(\w+)/gm)].map((m) => m[1]);
      };
      const offline = ['--offline', '--no-pm2'];

      writeFileSync(join(i.dir, 'config.json'), '{"guards":{"COOLDOWN":{"mode":"sometimes"}}}');
      expect(await failed(offline)).toEqual(['config']);
      writeFileSync(join(i.dir, 'config.json'), '{}');

      const schema = (v?: string): string => {
        const db = new Database(join(i.dir, 'state.db'));
        const was = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
        if (v !== undefined) db.prepare("UPDATE meta SET value = ? WHERE key IN ('schema_version', 'readable_from')").run(v);
        db.close();
        return was;
      };
      const current = schema('999');
      expect(await failed(offline)).toEqual(['state']);
      schema(current);

      chmodSync(i.env, 0o644);
      expect(await failed(offline)).toEqual(['secrets']);
      chmodSync(i.env, 0o600);

      offset = -60_000;
      expect(await failed(['--url', origin, '--no-pm2'])).toEqual(['clock']);
      offset = 0;

      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      expect(await failed(['--url', `http://127.0.0.1:${port}`, '--no-pm2'])).toEqual(['exchange']);

      expect(await failed(['--offline'], { TOLLGATE_PM2: fakePm2(i.dir, '[]') })).toEqual(['pm2']);
      expect(await failed(['--offline'], { TOLLGATE_PM2: join(i.dir, 'no-such-pm2') })).toEqual(['pm2']);

      const again = await doctor(i, offline);
      expect(again.status).toBe(0);
    }, 300_000);
  });
});
