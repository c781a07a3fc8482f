/**
 * Slot deploys under a real pm2 daemon (PM2_HOME in a temp dir, killed at the end), in a temp BASE, with the
 * bot in paper mode on a loopback Kraken simulator and the webhook intake as its own pm2 app:
 *
 *   release r1 → slot A, r2 → slot B while alerts are sent continuously: health answers from the new slot
 *   (pm2 runs it from the slot's real path), every alert is answered 202 and processed exactly once
 *   `tollgate rollback` → slot A; then kill -9 of the bot while alerts flow: pm2 restarts it, all processed once
 *   a broken r3 (never ready) → slot B: marked bad, rolled back to A by itself; a manual rollback to it is refused
 *   the state written before the first deploy is intact at the end (cash, audit)
 *
 * node_modules of each release is a link to this repository's (--reuse-node-modules): npm ci is slow here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, realpathSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LogLines } from '../src/adapters/jsonl/segments.ts';
import { BIN, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';
import { Deployer, BOT_APP, INTAKE_APP, DeployError } from '../src/ops/deploy.ts';
import { Layout, readMeta } from '../src/ops/layout.ts';
import { Pm2, pm2Binary } from '../src/ops/pm2.ts';

const REPO = resolve(import.meta.dirname, '..');
const PASSPHRASE = 'deploy-test-passphrase-123';
const pm2Home = tmp('tollgate-pm2-');
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries({ ...process.env, PM2_HOME: pm2Home, NO_COLOR: '1' }).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
const pm = new Pm2(pm2Binary(), env);

afterAll(() => {
  spawnSync(pm2Binary(), ['kill'], { env, encoding: 'utf8', timeout: 60_000 });
});

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** posts alerts to the intake every ~30 ms until stopped; every answer is kept */
function sender(port: number, prefix: string) {
  const accepted: string[] = [];
  const failed: string[] = [];
  let stop = false;
  let n = 0;
  const done = (async () => {
    while (!stop) {
      const body = JSON.stringify({ passphrase: PASSPHRASE, ticker: 'KRAKEN:XBTUSD', action: n % 2 ? 'sell' : 'buy', price: '3500.5', id: `${prefix}-${n++}` });
      try {
        const r = await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', body, headers: { 'content-type': 'text/plain' }, signal: AbortSignal.timeout(5_000) });
        const j = (await r.json()) as { signalId?: string };
        if (r.status === 202 && j.signalId) accepted.push(j.signalId);
        else failed.push(`${r.status} ${JSON.stringify(j)}`);
      } catch (e) {
        failed.push((e as Error).message);
      }
      await sleep(30);
    }
  })();
  return { accepted, failed, stop: async () => ((stop = true), await done) };
}

function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += String(d)));
    c.stderr.on('data', (d) => (stderr += String(d)));
    c.on('close', (status) => res({ status, stdout, stderr }));
  });
}

function copyRelease(to: string): string {
  cpSync(REPO, to, { recursive: true, filter: (src) => !['node_modules', '.git', 'logs', 'data', 'coverage'].includes(basename(src)) || resolve(src, '..') !== REPO });
  return to;
}

describe('slot deploys under pm2', () => {
  it('when two releases are deployed, a broken third rolls back by itself and a manual rollback works, then health answers from the right slot, every alert is processed once (through a deploy and a kill -9) and the state is intact', async () => {
    const { sim } = await testSim({ from: '2019-01-01', to: '2019-03-01', startIndex: 800 });
    const base = tmp('tollgate-base-');
    const layout = new Layout(base);
    layout.ensure();
    const [botPort, intakePort] = [await freePort(), await freePort()];
    writeFileSync(layout.envFile, [
      '# test installation',
      'TOLLGATE_MODE=paper', `TOLLGATE_URL=${sim.url}`, `TOLLGATE_HTTP=127.0.0.1:${botPort}`, `TOLLGATE_INTAKE_HTTP=127.0.0.1:${intakePort}`,
      `TOLLGATE_WEBHOOK_PASSPHRASE=${PASSPHRASE}`, 'TOLLGATE_LISTEN_TIMEOUT_MS=8000', 'TOLLGATE_KILL_TIMEOUT_MS=15000', '',
    ].join('\n'));
    chmodSync(layout.envFile, 0o600);
    // the state written before any deploy
    const state = layout.shared('data', 'tollgate.db');
    const setcash = spawnSync(process.execPath, [BIN, 'setcash', '4321.5', '--reason', 'before the deploys', '--state', state], { encoding: 'utf8' });
    expect(setcash.status, setcash.stderr).toBe(0);

    const lines: string[] = [];
    const deployer = new Deployer({ layout, pm, say: (l) => lines.push(l), readyTimeoutMs: 40_000 });
    const nm = join(REPO, 'node_modules');
    const readyFrom = async (slot: 'A' | 'B') => {
      expect(readlinkSync(layout.current)).toBe(join('slots', slot));
      const apps = await pm.list();
      expect(apps.find((a) => a.name === BOT_APP)?.cwd).toBe(realpathSync(layout.slot(slot)));
      expect((await fetch(`http://127.0.0.1:${botPort}/health/ready`)).status).toBe(200);
    };
    const intakeDb = join(base, 'shared', 'data', 'intake.db');
    const allProcessedOnce = async (ids: readonly string[]) => {
      const db = new Database(intakeDb, { readonly: true });
      try {
        for (let i = 0; i < 300; i++) {
          const pending = db.prepare("SELECT count(*) FROM webhook_intake WHERE status = 'accepted'").pluck().get() as number;
          if (pending === 0) break;
          await sleep(100);
        }
        expect(db.prepare("SELECT count(*) FROM webhook_intake WHERE status = 'accepted'").pluck().get()).toBe(0);
        const states = db.prepare(`SELECT signal_id AS id, state FROM webhook_intake`).all() as Array<{ id: string; state: string | null }>;
        const byId = new Map(states.map((s) => [s.id, s.state]));
        for (const id of ids) expect(byId.get(id), id).not.toBeNull(); // the engine took it through its lifecycle
      } finally {
        db.close();
      }
      // each submission is one synchronous line of the bot's log (it survives kill -9): one per alert
      const submitted = new Map<string, number>();
      for (const l of new LogLines(layout.shared('logs'), 'bot.jsonl').lines()) { // rotated segments included
        if (!l.includes('"webhook.submitted"')) continue;
        const id = (JSON.parse(l) as { signalId: string }).signalId;
        submitted.set(id, (submitted.get(id) ?? 0) + 1);
      }
      for (const id of ids) expect(submitted.get(id), id).toBe(1);
      expect([...submitted.values()].every((n) => n === 1)).toBe(true);
    };

    // r1 → A (the first deploy also starts the intake, from BASE/intake)
    const r1 = await deployer.deploy({ source: REPO, reuseNodeModules: nm, label: 'r1' });
    expect(r1.slot).toBe('A');
    await readyFrom('A');
    expect((await pm.list()).find((a) => a.name === INTAKE_APP)).toMatchObject({ status: 'online', cwd: realpathSync(layout.intakeDir) });
    const intakePid = (await pm.list()).find((a) => a.name === INTAKE_APP)!.pid;

    // r2 → B with alerts sent all along
    const during = sender(intakePort, 'deploy');
    await sleep(300);
    const r2 = await deployer.deploy({ source: copyRelease(tmp('tollgate-r2-')), reuseNodeModules: nm, label: 'r2' });
    await sleep(300);
    await during.stop();
    expect(r2.slot).toBe('B');
    await readyFrom('B');
    expect(during.failed).toEqual([]);
    expect(during.accepted.length).toBeGreaterThan(20);
    await allProcessedOnce(during.accepted);
    expect(readMeta(layout.slot('B'))).toMatchObject({ id: 'r2', status: 'good' });

    // manual rollback (the CLI) → A
    // (not spawnSync: the simulator the bot reads lives in this process and must keep answering)
    const rb = await runCli(['rollback', '--base', base, '--ready-timeout', '40']);
    expect(rb.status, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('rolled back to r1 (slot A): ready');
    await readyFrom('A');

    // kill -9 of the bot while alerts flow: pm2 restarts it; nothing lost, nothing twice
    const crash = sender(intakePort, 'crash');
    await sleep(400);
    const pid = (await pm.list()).find((a) => a.name === BOT_APP)!.pid!;
    process.kill(pid, 'SIGKILL');
    await sleep(500);
    for (let i = 0; i < 200; i++) {
      const a = (await pm.list()).find((x) => x.name === BOT_APP);
      if (a?.pid && a.pid !== pid && (await fetch(`http://127.0.0.1:${botPort}/health/ready`).then((r) => r.status, () => 0)) === 200) break;
      await sleep(200);
    }
    await sleep(300);
    await crash.stop();
    expect((await pm.list()).find((a) => a.name === BOT_APP)).toMatchObject({ status: 'online', restarts: 1 });
    expect(crash.failed).toEqual([]);
    await allProcessedOnce([...during.accepted, ...crash.accepted]);

    // a broken r3 (its bot never gets ready) → B: rolled back to A by itself
    const r3dir = copyRelease(tmp('tollgate-r3-'));
    const binFile = join(r3dir, 'bin', 'tollgate.js');
    writeFileSync(binFile, readFileSync(binFile, 'utf8').replace("register();", "if (process.argv[2] === 'run') await new Promise(() => setInterval(() => {}, 60_000));\nregister();"));
    const broken = await deployer.deploy({ source: r3dir, reuseNodeModules: nm, label: 'r3' }).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(DeployError);
    expect((broken as Error).message).toMatch(/release r3 was not ready in time .*rolled back to slot A/);
    await readyFrom('A');
    expect(readMeta(layout.slot('B'))).toMatchObject({ id: 'r3', status: 'bad' });
    await expect(deployer.rollback()).rejects.toThrow(/slot B holds release r3, which is bad/);
    const rel = spawnSync(process.execPath, [BIN, 'releases', '--base', base, '--json'], { env, encoding: 'utf8' });
    expect(JSON.parse(rel.stdout)).toMatchObject([{ slot: 'A', current: true, release: { id: 'r1', status: 'good' } }, { slot: 'B', current: false, release: { id: 'r3', status: 'bad' } }]);

    // the intake was never restarted; the state written before is intact; every step is in deploy.jsonl
    expect((await pm.list()).find((a) => a.name === INTAKE_APP)).toMatchObject({ pid: intakePid, restarts: 0 });
    const st = spawnSync(process.execPath, [BIN, 'status', '--json', '--state', state], { encoding: 'utf8' });
    expect((JSON.parse(st.stdout) as { cash: Record<string, string> }).cash.USD).toBe('4321.5');
    expect(spawnSync(process.execPath, [BIN, 'audit', 'verify', '--state', state], { encoding: 'utf8' }).status).toBe(0);
    const steps = readFileSync(layout.deployLog, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: string }).step);
    expect(steps).toEqual(expect.arrayContaining(['start', 'filled', 'install', 'smoke', 'stop', 'switch', 'started', 'ready', 'not_ready', 'rolled_back', 'rollback']));
    mkdirSync(join(base, 'done'));
  }, 240_000);
});
