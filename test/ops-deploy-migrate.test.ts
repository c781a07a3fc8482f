/**
 * A deploy whose release migrates the state schema (issue 14): refused without --allow-irreversible (nothing
 * stopped, nothing switched, nothing backed up); with it, the state is backed up with the SQLite backup API
 * after the old bot stopped and before the migration; a release that is then not ready gets the backup put
 * back; a rollback over the migrated schema is refused, naming the backup.
 *
 * The releases are real (copies of this repository, their own CLI runs the smoke check and the migration);
 * the process manager is a stand-in that records what it is asked, and /health/ready is a loopback server, so
 * the order of stop, backup, migrate and start can be seen. The pm2 side is test/ops-deploy.test.ts.
 */
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION } from '../src/adapters/sqlite/migrations.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { BOT_APP, DASHBOARD_APP, Deployer, DeployError, stateVersion } from '../src/ops/deploy.ts';
import { Layout, readMeta } from '../src/ops/layout.ts';
import type { ManagedApp, ProcessManager } from '../src/ops/pm2.ts';
import { tmp } from './helpers.ts';

const REPO = resolve(import.meta.dirname, '..');

function copyRelease(to: string, extraMigration?: string, compatible = false): string {
  cpSync(REPO, to, { recursive: true, filter: (src) => !['node_modules', '.git', 'logs', 'data', 'coverage'].includes(basename(src)) || resolve(src, '..') !== REPO });
  if (extraMigration) {
    const f = join(to, 'src', 'adapters', 'sqlite', 'migrations.ts');
    const text = readFileSync(f, 'utf8');
    const end = '\n];\n\nexport const LATEST_VERSION';
    expect(text).toContain(end);
    writeFileSync(f, text.replace(end, `\n  { version: ${LATEST_VERSION + 1}, name: 'deploy test', sql: ${JSON.stringify(extraMigration)}${compatible ? ', compatible: true' : ''} },${end}`));
  }
  return to;
}

/** Records every call; "stopping the bot" writes one last row into the state, as a bot does on its way down. */
class RecordingPm implements ProcessManager {
  readonly calls: string[] = [];
  /** what else the stopping bot writes (a test of a migration that fails on the real state) */
  onStop: ((db: Database.Database) => void) | null = null;
  private readonly running = new Map<string, string>();
  constructor(private readonly state: string) {}
  async start(ecosystem: string, app: string): Promise<void> {
    this.running.set(app, resolve(ecosystem, '..'));
    this.calls.push(`start ${app} ${basename(resolve(ecosystem, '..'))}`);
  }
  async delete(app: string): Promise<void> {
    if (!this.running.has(app)) return;
    this.running.delete(app);
    if (app === BOT_APP) {
      const db = new Database(this.state);
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('written_while_stopping', ?)").run(String(this.calls.length));
      this.onStop?.(db);
      db.close();
    }
    this.calls.push(`delete ${app}`);
  }
  async list(): Promise<ManagedApp[]> {
    return [...this.running].map(([name, cwd]) => ({ name, pid: 1, status: 'online', cwd, restarts: 0 }));
  }
}

describe('a deploy that migrates the state', () => {
  let health: Server;
  let ready = true;
  let url = '';
  beforeAll(async () => {
    health = createServer((_req, res) => {
      res.statusCode = ready ? 200 : 503;
      res.end(ready ? '{"ready":true}' : '{"ready":false}');
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health/ready`;
  });
  afterAll(() => new Promise<void>((r) => health.close(() => r())));

  it('is refused without --allow-irreversible; with it the state is backed up after the stop and before the migration; not ready: the backup is put back', async () => {
    const base = tmp('tollgate-migrate-base-');
    const layout = new Layout(base);
    layout.ensure();
    writeFileSync(layout.envFile, 'TOLLGATE_MODE=paper\nTOLLGATE_DASHBOARD_HTTP=127.0.0.1:8501\n'); // the dashboard follows the bot's slot
    const state = layout.shared('data', 'tollgate.db');
    const store = SqliteStateStore.open(state);
    store.close();
    const marker = (file: string): string | undefined => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare("SELECT value FROM meta WHERE key = 'written_while_stopping'").get() as { value: string } | undefined)?.value;
      } finally {
        db.close();
      }
    };
    const pm = new RecordingPm(state);
    const lines: string[] = [];
    const deployer = new Deployer({ layout, pm, say: (l) => lines.push(l), readyTimeoutMs: 3_000, healthUrl: url });
    const nm = join(REPO, 'node_modules');
    const backups = () => readdirSync(layout.shared('backups')).filter((n) => !n.startsWith('.'));

    // r1: the running release, same schema
    await deployer.deploy({ source: copyRelease(tmp('tollgate-m1-')), reuseNodeModules: nm, label: 'r1' });
    expect(pm.calls).toEqual([`start ${BOT_APP} A`, `start ${DASHBOARD_APP} A`]);
    expect(stateVersion(state)).toBe(LATEST_VERSION);

    // r2 adds a migration: refused without allowIrreversible, before anything is stopped
    const r2 = copyRelease(tmp('tollgate-m2-'), 'CREATE TABLE deploy_test_marker (x INTEGER);');
    const refused = await deployer.deploy({ source: r2, reuseNodeModules: nm, label: 'r2' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeployError);
    expect((refused as Error).message).toMatch(new RegExp(`migrates the state schema ${LATEST_VERSION} → ${LATEST_VERSION + 1}.*--allow-irreversible`));
    expect(pm.calls).toEqual([`start ${BOT_APP} A`, `start ${DASHBOARD_APP} A`]); // the running bot was never touched
    expect(layout.active()).toBe('A');
    expect(stateVersion(state)).toBe(LATEST_VERSION);
    expect(backups()).toEqual([]);

    // with it, but the migration fails on the real state (the dry run on the copy passed): the backup is put
    // back, the release is marked bad and the old bot started again; the state is as the stopped bot left it
    pm.onStop = (db) => db.exec('CREATE TABLE deploy_test_marker (y TEXT)');
    const failed = await deployer.deploy({ source: r2, reuseNodeModules: nm, label: 'r2-fails', allowIrreversible: true }).catch((e: unknown) => e);
    pm.onStop = null;
    expect(failed).toBeInstanceOf(DeployError);
    expect((failed as Error).message).toMatch(/migration failed: .*deploy_test_marker/);
    expect(pm.calls.slice(2)).toEqual([`delete ${BOT_APP}`, `start ${BOT_APP} A`]); // the dashboard kept running
    expect(layout.active()).toBe('A');
    expect(stateVersion(state)).toBe(LATEST_VERSION);
    expect(readMeta(layout.slot('B'))).toMatchObject({ id: 'r2-fails', status: 'bad', reason: expect.stringMatching(/migration failed/) });
    expect(lines.join('\n')).toMatch(/state restored from .*tollgate-r2-fails-v\d+\.db[^]*slot A started again: ready/);
    const undo = new Database(state);
    undo.exec('DROP TABLE deploy_test_marker');
    undo.close();
    pm.calls.splice(2);

    // with it, but the new bot never gets ready: stopped, backed up, migrated, started, not ready → backup back, A again
    ready = false;
    const notReady = await deployer.deploy({ source: r2, reuseNodeModules: nm, label: 'r2', allowIrreversible: true }).catch((e: unknown) => e);
    ready = true;
    expect((notReady as Error).message).toMatch(/release r2 was not ready in time.*rolled back to slot A/);
    expect(pm.calls.slice(2)).toEqual([`delete ${BOT_APP}`, `start ${BOT_APP} B`, `delete ${BOT_APP}`, `start ${BOT_APP} A`, `start ${DASHBOARD_APP} A`]);
    expect(stateVersion(state)).toBe(LATEST_VERSION); // restored from the backup
    expect(readMeta(layout.slot('B'))).toMatchObject({ id: 'r2', status: 'bad', backup: { fromVersion: LATEST_VERSION } });
    expect(lines.join('\n')).toMatch(/state backed up to .*\n.*state migrated.*\n[^]*state restored from/);

    // with it, ready: the backup holds what the stopping bot wrote last, at the old schema; the state is migrated
    const before = pm.calls.length;
    const ok = await deployer.deploy({ source: r2, reuseNodeModules: nm, label: 'r2b', allowIrreversible: true });
    expect(ok.slot).toBe('B');
    expect(pm.calls.slice(before)).toEqual([`delete ${BOT_APP}`, `start ${BOT_APP} B`, `start ${DASHBOARD_APP} B`]);
    const meta = readMeta(layout.slot('B'))!;
    expect(meta).toMatchObject({ id: 'r2b', status: 'good', schemaVersion: LATEST_VERSION + 1, backup: { fromVersion: LATEST_VERSION } });
    const backup = meta.backup!.file;
    expect(existsSync(backup)).toBe(true);
    expect(stateVersion(backup)).toBe(LATEST_VERSION);
    expect(marker(backup)).toBe(String(before)); // written by the stop, so the backup was taken after it
    expect(new Database(backup, { readonly: true }).pragma('integrity_check', { simple: true })).toBe('ok');
    expect(stateVersion(state)).toBe(LATEST_VERSION + 1);
    const steps = readFileSync(layout.deployLog, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: string }).step);
    const last = steps.slice(steps.lastIndexOf('start'));
    expect(last.indexOf('stop')).toBeLessThan(last.indexOf('backup'));
    expect(last.indexOf('backup')).toBeLessThan(last.indexOf('migrate'));
    expect(last.indexOf('migrate')).toBeLessThan(last.indexOf('switch'));

    // a rollback to r1 would run it on a schema it refuses: refused, naming the backup
    await expect(deployer.rollback()).rejects.toThrow(new RegExp(`schema ${LATEST_VERSION + 1}, release r1 knows ${LATEST_VERSION}.*${backup.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  }, 600_000);

  it('when the new release migrates compatibly (additive, marked so) then the running release is asked to open the migrated copy; it does: the deploy needs no --allow-irreversible, a backup is still taken, and a rollback runs the old release on the migrated state', async () => {
    const base = tmp('tollgate-compat-base-');
    const layout = new Layout(base);
    layout.ensure();
    writeFileSync(layout.envFile, 'TOLLGATE_MODE=paper\n');
    const state = layout.shared('data', 'tollgate.db');
    SqliteStateStore.open(state).close();
    const pm = new RecordingPm(state);
    const lines: string[] = [];
    const deployer = new Deployer({ layout, pm, say: (l) => lines.push(l), readyTimeoutMs: 3_000, healthUrl: url });
    const nm = join(REPO, 'node_modules');
    await deployer.deploy({ source: copyRelease(tmp('tollgate-c1-')), reuseNodeModules: nm, label: 'c1' });
    const r2 = copyRelease(tmp('tollgate-c2-'), 'CREATE TABLE IF NOT EXISTS deploy_test_additive (x INTEGER);', true);
    const ok = await deployer.deploy({ source: r2, reuseNodeModules: nm, label: 'c2' });
    expect(ok.slot).toBe('B');
    expect(lines.join('\n')).toMatch(new RegExp(`the running release opens the migrated schema ${LATEST_VERSION + 1}: a rollback needs no backup`));
    const meta = readMeta(layout.slot('B'))!;
    expect(meta).toMatchObject({ id: 'c2', status: 'good', schemaVersion: LATEST_VERSION + 1, openableBy: ['c1'], backup: { fromVersion: LATEST_VERSION } });
    expect(stateVersion(state)).toBe(LATEST_VERSION + 1);
    const back = await deployer.rollback();
    expect(back).toMatchObject({ slot: 'A', release: { id: 'c1' } });
    expect(stateVersion(state)).toBe(LATEST_VERSION + 1); // the old release runs on the migrated file as it is
    expect(pm.calls.at(-1)).toBe(`start ${BOT_APP} A`);
  }, 600_000);
});
