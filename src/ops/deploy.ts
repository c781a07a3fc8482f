/**
 * Slot deploys with a health-gated switch and rollback (layout.ts for the folders).
 *
 * deploy(REF|DIR):
 *   1. fill the inactive slot (a copy of DIR, or `git archive REF` of a repository), link shared/ into it
 *   2. `npm ci` in it (or, with reuseNodeModules, a symlink to an existing node_modules)
 *   3. smoke-check it with its own code: `--help` (every module loads), `config check`, and a migration dry run
 *      on a backup copy of the bot's state. A release that migrates the schema is refused without
 *      allowIrreversible (the previous release refuses a newer schema, so a rollback would need the backup);
 *      with it, the state is backed up (SQLite backup API) to shared/backups before it is migrated (step 5).
 *   4. make sure the intake runs (first deploy: from BASE/intake, a copy of this release), so no alert is lost
 *   5. stop the old bot gracefully, back the state up and migrate it (if so; a failure there restores the backup
 *      and starts the old bot again), switch `current` atomically, start the bot from the slot's
 *      real path, wait for /health/ready
 *   6. not ready in time: mark the release bad, stop it, restore the backup if it migrated, switch back, start
 *      the old release and wait for it
 *   7. (TOLLGATE_DASHBOARD_HTTP) start the dashboard from the slot that runs the bot
 * Every step is one line in BASE/deploy.jsonl. A step that fails before 5 leaves the running slot untouched.
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { isoTime } from '../domain/time.ts';
import { Layout, readEnvFile, readMeta, type ReleaseMeta, type Slot } from './layout.ts';
import type { ProcessManager } from './pm2.ts';

export const BOT_APP = 'tollgate-bot';
export const INTAKE_APP = 'tollgate-intake';
export const DASHBOARD_APP = 'tollgate-dashboard';
const ECOSYSTEM = 'ecosystem.config.cjs';
/** not copied from a DIR source: installs, history, local state and logs */
const SKIP = new Set(['node_modules', '.git', 'logs', 'data', 'coverage', '.tollgate-release.json']);

export class DeployError extends Error {}

export interface DeployDeps {
  readonly layout: Layout;
  readonly pm: ProcessManager;
  /** each step, also written to BASE/deploy.jsonl */
  readonly say?: (line: string) => void;
  /** how long a started bot may take to answer 200 on /health/ready (default 120 s) */
  readonly readyTimeoutMs?: number;
  /** the readiness URL; default from TOLLGATE_HTTP of the env file */
  readonly healthUrl?: string;
}

export interface DeployOptions {
  /** a directory (copied) or a git ref of `repo` (archived) */
  readonly source: string;
  readonly repo?: string;
  /** a node_modules directory to link instead of `npm ci` (tests, or a droplet with the same lockfile) */
  readonly reuseNodeModules?: string;
  readonly allowIrreversible?: boolean;
  /** also put this release into BASE/intake and restart the intake (its only restart) */
  readonly restartIntake?: boolean;
  readonly label?: string;
}

const clock = new SystemClock();
const now = () => isoTime(clock.now());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    c.stdout.on('data', (d) => (out += String(d)));
    c.stderr.on('data', (d) => (out += String(d)));
    c.on('error', (e) => res({ code: 127, out: out + e.message }));
    c.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

function git(repo: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => execFile('git', ['-C', repo, ...args], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' }, (e, out, err) => (e ? rej(new DeployError(`git ${args.join(' ')}: ${String(err).trim() || e.message}`)) : res(String(out).trim()))));
}

/** The schema version of a state file, read without migrating it (null: no file). */
export function stateVersion(file: string): number | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Online backup of a state file (SQLite backup API; the bot may be writing). */
export async function backupState(file: string, dest: string): Promise<void> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
}

/** Puts a backup back in place of a state file (the bot is stopped); the old WAL and SHM go with it. */
export function restoreState(backup: string, file: string): void {
  for (const ext of ['-wal', '-shm']) rmSync(file + ext, { force: true });
  copyFileSync(backup, `${file}.restoring`);
  rmSync(file, { force: true });
  copyFileSync(`${file}.restoring`, file);
  rmSync(`${file}.restoring`, { force: true });
}

/** `127.0.0.1:8080` (TOLLGATE_HTTP) → its readiness URL */
export function readyUrlOf(listen: string | undefined): string | null {
  if (!listen) return null;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) return null;
  let host = m[1] ?? m[2] ?? '';
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${m[3]}/health/ready`;
}

export class Deployer {
  private readonly layout: Layout;
  private readonly pm: ProcessManager;

  constructor(private readonly d: DeployDeps) {
    this.layout = d.layout;
    this.pm = d.pm;
  }

  private step(step: string, fields: Record<string, unknown> = {}, line?: string): void {
    const rec = { ts: now(), step, ...fields };
    try {
      appendFileSync(this.layout.deployLog, JSON.stringify(rec) + '\n');
    } catch {
      /* BASE not writable: the error surfaces at the next write that matters */
    }
    this.d.say?.(`deploy: ${line ?? step}`);
  }

  private env(): Record<string, string> {
    return readEnvFile(this.layout.envFile);
  }

  private stateFile(): string {
    const f = this.env().TOLLGATE_STATE ?? 'data/tollgate.db';
    // relative to a release, whose ./data is shared/data
    return isAbsolute(f) ? f : f.startsWith('data/') ? this.layout.shared(f) : this.layout.shared('data', basename(f));
  }

  private healthUrl(): string {
    const u = this.d.healthUrl ?? readyUrlOf(this.env().TOLLGATE_HTTP);
    if (!u) throw new DeployError(`no health URL: set TOLLGATE_HTTP (e.g. 127.0.0.1:8080) in ${this.layout.envFile}; a deploy is gated on /health/ready`);
    return u;
  }

  /** exclusive for one deploy/rollback at a time */
  private lock<T>(fn: () => Promise<T>): Promise<T> {
    this.layout.ensure();
    const f = join(this.layout.base, 'deploy.lock');
    let fd: number;
    try {
      fd = openSync(f, 'wx');
    } catch {
      throw new DeployError(`another deploy or rollback is running (${f} exists; remove it if no deploy runs)`);
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return fn().finally(() => rmSync(f, { force: true }));
  }

  async waitReady(timeoutMs = this.d.readyTimeoutMs ?? 120_000): Promise<{ ready: boolean; last: string }> {
    const url = this.healthUrl();
    const t0 = clock.now();
    let last = 'no answer';
    while (clock.now() - t0 < timeoutMs) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        const body = await r.text();
        if (r.status === 200) return { ready: true, last: body };
        last = `${r.status} ${body.slice(0, 200)}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(250);
    }
    return { ready: false, last };
  }

  private async fill(slot: Slot, o: DeployOptions): Promise<string> {
    const dir = this.layout.slot(slot);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let source: string;
    if (existsSync(o.source) && statSync(o.source).isDirectory()) {
      const from = resolve(o.source);
      cpSync(from, dir, { recursive: true, filter: (src) => src === from || !SKIP.has(basename(src)) || resolve(src, '..') !== from });
      source = from;
    } else {
      const repo = resolve(o.repo ?? '.');
      const commit = await git(repo, ['rev-parse', '--verify', `${o.source}^{commit}`]);
      const tar = await run('sh', ['-c', `git -C '${repo.replace(/'/g, "'\\''")}' archive --format=tar ${commit} | tar -x -C '${dir.replace(/'/g, "'\\''")}'`], repo);
      if (tar.code !== 0) throw new DeployError(`git archive ${o.source}: ${tar.out.trim()}`);
      source = `${o.source} (${commit.slice(0, 12)})`;
    }
    this.layout.linkShared(dir, 2);
    return source;
  }

  private async install(dir: string, reuse: string | undefined): Promise<void> {
    if (reuse) {
      const nm = resolve(reuse);
      if (!existsSync(join(nm, '.bin'))) throw new DeployError(`--reuse-node-modules ${reuse}: not a node_modules directory`);
      rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
      symlinkSync(nm, join(dir, 'node_modules'));
      this.step('install', { dir, nodeModules: nm }, `node_modules linked to ${nm} (no npm ci)`);
      return;
    }
    this.step('install', { dir }, `npm ci in ${dir}`);
    const r = await run('npm', ['ci', '--no-audit', '--no-fund'], dir);
    if (r.code !== 0) throw new DeployError(`npm ci failed in ${dir}: ${r.out.trim().split('\n').slice(-5).join(' | ')}`);
  }

  /** the release's own CLI: loads, the config checks, the migration dry run on a copy of the state */
  private async smoke(dir: string, runningDir: string | null): Promise<{ migrates: { from: number; to: number; rollbackSafe: boolean } | null }> {
    const bin = join(dir, 'bin', 'tollgate.js');
    const env = { ...process.env, ...this.env() };
    const help = await run(process.execPath, [bin, '--help'], dir, env, 120_000);
    if (help.code !== 0) throw new DeployError(`smoke check: the release's CLI does not start: ${help.out.trim().split('\n').slice(-3).join(' | ')}`);
    const config = env.TOLLGATE_CONFIG;
    if (config) {
      const c = await run(process.execPath, [bin, 'config', 'check', config], dir, env, 120_000);
      if (c.code !== 0) throw new DeployError(`smoke check: config ${config}: ${c.out.trim()}`);
    }
    const state = this.stateFile();
    const before = stateVersion(state);
    if (before === null) {
      this.step('smoke', { dir, migrations: 'no state yet' }, 'smoke check passed (no state file yet: nothing to migrate)');
      return { migrates: null };
    }
    const copy = join(this.layout.shared('backups'), `.dry-run-${process.pid}.db`);
    rmSync(copy, { force: true });
    await backupState(state, copy);
    try {
      const m = await run(process.execPath, [bin, 'db', 'migrate', '--state', copy], dir, env, 120_000);
      if (m.code !== 0) throw new DeployError(`smoke check: migration dry run failed: ${m.out.trim()}`);
      const after = stateVersion(copy)!;
      this.step('smoke', { dir, schemaBefore: before, schemaAfter: after }, `smoke check passed; migration dry run: schema ${before} → ${after}`);
      if (after <= before) return { migrates: null };
      // a rollback without the backup works only if the running release opens the migrated file: asked, not assumed
      // (its migrations were all marked compatible and it honours meta.readable_from)
      let rollbackSafe = false;
      if (runningDir) {
        const r = await run(process.execPath, [join(runningDir, 'bin', 'tollgate.js'), 'db', 'status', '--state', copy], runningDir, env, 120_000);
        rollbackSafe = r.code === 0;
        this.step('smoke', { dir: runningDir, rollbackSafe }, rollbackSafe
          ? `the running release opens the migrated schema ${after}: a rollback needs no backup`
          : `the running release refuses the migrated schema ${after}: a rollback would need the backup`);
      }
      return { migrates: { from: before, to: after, rollbackSafe } };
    } finally {
      for (const ext of ['', '-wal', '-shm']) rmSync(copy + ext, { force: true });
    }
  }

  private async ensureIntake(o: DeployOptions, fromSlot: Slot): Promise<void> {
    const running = (await this.pm.list()).find((a) => a.name === INTAKE_APP && a.status === 'online');
    if (running && !o.restartIntake) return;
    if (!this.env().TOLLGATE_INTAKE_HTTP) {
      this.step('intake', { skipped: true }, 'no TOLLGATE_INTAKE_HTTP in the env file: no separate intake (alerts reach only the bot)');
      return;
    }
    // the intake gets its own copy of the release: a later deploy refills slots, never this folder
    const dir = this.layout.intakeDir;
    const src = this.layout.slot(fromSlot);
    rmSync(dir, { recursive: true, force: true });
    cpSync(src, dir, { recursive: true, verbatimSymlinks: true, filter: (p) => !(resolve(p, '..') === resolve(src) && ['config', 'data', 'logs'].includes(basename(p))) });
    this.layout.linkShared(dir, 1);
    await this.pm.start(join(this.layoutReal(dir), ECOSYSTEM), INTAKE_APP);
    this.step('intake', { dir }, `intake started from ${dir}`);
  }

  private layoutReal(dir: string): string {
    return resolve(dir);
  }

  private async startBot(slot: Slot): Promise<void> {
    await this.pm.start(join(this.layout.realSlot(slot), ECOSYSTEM), BOT_APP);
  }

  /**
   * The dashboard (TOLLGATE_DASHBOARD_HTTP in the env file) from the slot that now runs the bot, after it is
   * ready. It only reads logs and state: a dashboard that does not start is reported, never a failed deploy.
   */
  private async startDashboard(slot: Slot): Promise<void> {
    if (!this.env().TOLLGATE_DASHBOARD_HTTP) return;
    try {
      await this.pm.start(join(this.layout.realSlot(slot), ECOSYSTEM), DASHBOARD_APP);
      this.step('dashboard', { slot }, `dashboard started from slot ${slot} (${this.env().TOLLGATE_DASHBOARD_HTTP})`);
    } catch (e) {
      this.step('dashboard', { slot, error: (e as Error).message }, `the dashboard did not start (trading is not affected): ${(e as Error).message}`);
    }
  }

  async deploy(o: DeployOptions): Promise<{ slot: Slot; release: ReleaseMeta }> {
    return this.lock(async () => {
      const active = this.layout.active();
      const target = this.layout.other(active);
      const id = o.label ?? `${isoTime(clock.now()).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
      this.step('start', { id, source: o.source, active, target }, `release ${id} from ${o.source} into slot ${target} (running: ${active ?? 'nothing'})`);
      this.healthUrl(); // refused before anything changes when there is no health gate
      let meta: ReleaseMeta;
      let migrates: { from: number; to: number; rollbackSafe: boolean } | null;
      try {
        const source = await this.fill(target, o);
        this.step('filled', { slot: target, source }, `slot ${target} filled from ${source}`);
        await this.install(this.layout.slot(target), o.reuseNodeModules);
        ({ migrates } = await this.smoke(this.layout.slot(target), active ? this.layout.realSlot(active) : null));
        if (migrates && !migrates.rollbackSafe && !o.allowIrreversible) {
          throw new DeployError(`release ${id} migrates the state schema ${migrates.from} → ${migrates.to}; the running release refuses a newer schema, so a rollback would need the backup. Run again with --allow-irreversible (a backup is taken first)`);
        }
        meta = { id, source, deployedAt: now(), status: 'pending', schemaVersion: migrates?.to ?? stateVersion(this.stateFile()), backup: null,
          ...(migrates?.rollbackSafe && active ? { openableBy: [this.layout.meta(active)?.id ?? active] } : {}) };
        this.layout.writeMeta(target, meta);
        await this.ensureIntake(o, active ?? target);
      } catch (e) {
        this.step('failed', { slot: target, error: (e as Error).message }, `failed before the switch; the running release (${active ?? 'none'}) is untouched: ${(e as Error).message}`);
        throw e instanceof DeployError ? e : new DeployError((e as Error).message);
      }

      // from here the running bot is replaced
      this.step('stop', { slot: active }, `stopping the bot${active ? ` (slot ${active})` : ''} gracefully`);
      await this.pm.delete(BOT_APP);
      if (migrates) meta = await this.backupAndMigrate(target, active, meta, migrates);
      this.layout.switchTo(target);
      this.step('switch', { current: target }, `current -> slots/${target}`);
      let ready = { ready: false, last: '' };
      try {
        await this.startBot(target);
        this.step('started', { slot: target, cwd: this.layout.realSlot(target) }, `bot started from ${this.layout.realSlot(target)}; waiting for /health/ready`);
        ready = await this.waitReady();
      } catch (e) {
        ready = { ready: false, last: (e as Error).message };
      }
      if (ready.ready) {
        meta = { ...meta, status: 'good' };
        this.layout.writeMeta(target, meta);
        this.step('ready', { slot: target, id }, `release ${id} is ready (slot ${target})`);
        await this.startDashboard(target);
        return { slot: target, release: meta };
      }
      // the health gate failed: back to what ran before
      meta = { ...meta, status: 'bad', reason: `not ready: ${ready.last}` };
      this.layout.writeMeta(target, meta);
      this.step('not_ready', { slot: target, last: ready.last }, `release ${id} was not ready in time (${ready.last.slice(0, 200)}); rolling back`);
      await this.pm.delete(BOT_APP);
      if (meta.backup) {
        restoreState(meta.backup.file, this.stateFile());
        this.step('restore', { file: meta.backup.file }, `state restored from ${meta.backup.file} (schema ${meta.backup.fromVersion})`);
      }
      if (!active) throw new DeployError(`release ${id} was not ready and there is no previous release to go back to; the bot is stopped`);
      this.layout.switchTo(active);
      await this.startBot(active);
      const back = await this.waitReady();
      await this.startDashboard(active);
      this.step('rolled_back', { slot: active, ready: back.ready }, `rolled back to slot ${active} (${readMeta(this.layout.slot(active))?.id ?? '?'}): ${back.ready ? 'ready' : `NOT READY: ${back.last}`}`);
      throw new DeployError(`release ${id} was not ready in time (${ready.last.slice(0, 200)}); rolled back to slot ${active}${back.ready ? '' : ', which is not ready either: see the runbook'}`);
    });
  }

  /**
   * With the old bot stopped (so nothing is written after the copy): back the state up (SQLite backup API) to
   * shared/backups, then migrate it with the new release's CLI. A failed backup or migration puts the backup
   * back (if there is one), marks the release bad and starts the old release again: the running slot and its
   * state are as they were.
   */
  private async backupAndMigrate(target: Slot, active: Slot | null, meta: ReleaseMeta, migrates: { from: number; to: number }): Promise<ReleaseMeta> {
    const file = this.layout.shared('backups', `tollgate-${meta.id}-v${migrates.from}.db`);
    let backedUp = false;
    try {
      rmSync(file, { force: true });
      await backupState(this.stateFile(), file);
      backedUp = true;
      meta = { ...meta, backup: { file, fromVersion: migrates.from } };
      this.layout.writeMeta(target, meta);
      this.step('backup', { file, fromVersion: migrates.from }, `state backed up to ${file} (schema ${migrates.from}), the bot stopped`);
      const m = await run(process.execPath, [join(this.layout.slot(target), 'bin', 'tollgate.js'), 'db', 'migrate', '--state', this.stateFile()], this.layout.slot(target));
      if (m.code !== 0) throw new DeployError(`migration failed: ${m.out.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-3).join(' | ')}`);
      this.step('migrate', { code: m.code, from: migrates.from, to: stateVersion(this.stateFile()) }, `state migrated: ${m.out.trim()}`);
      return meta;
    } catch (e) {
      const why = (e as Error).message;
      if (backedUp) {
        restoreState(file, this.stateFile());
        this.step('restore', { file }, `state restored from ${file} (schema ${migrates.from})`);
      }
      this.layout.writeMeta(target, { ...meta, status: 'bad', reason: why });
      if (active) {
        await this.startBot(active);
        const back = await this.waitReady();
        this.step('failed', { slot: target, error: why, restarted: active, ready: back.ready }, `${why}; slot ${active} started again: ${back.ready ? 'ready' : `NOT READY: ${back.last}`}`);
      } else this.step('failed', { slot: target, error: why }, `${why}; there is no previous release: the bot is stopped`);
      throw e instanceof DeployError ? e : new DeployError(why);
    }
  }

  /** Back to the other slot's release, when it was good; health-gated like a deploy. */
  async rollback(): Promise<{ slot: Slot; release: ReleaseMeta }> {
    return this.lock(async () => {
      const active = this.layout.active();
      if (!active) throw new DeployError('nothing is deployed: no release to roll back from');
      const target = this.layout.other(active);
      const meta = this.layout.meta(target);
      if (!meta) throw new DeployError(`slot ${target} holds no release: nothing to roll back to`);
      if (meta.status !== 'good') throw new DeployError(`slot ${target} holds release ${meta.id}, which is ${meta.status}${meta.reason ? ` (${meta.reason})` : ''}: not rolling back to it`);
      const current = this.layout.meta(active);
      const dbVersion = stateVersion(this.stateFile());
      const opens = current?.openableBy?.includes(meta.id) ?? false; // checked at the deploy: it runs on the migrated file
      if (dbVersion !== null && meta.schemaVersion !== null && dbVersion > meta.schemaVersion && !opens) {
        throw new DeployError(`the state is at schema ${dbVersion}, release ${meta.id} knows ${meta.schemaVersion}: it would refuse it. Restore the backup taken before the migrating deploy (${current?.backup?.file ?? 'shared/backups'}) as the runbook says, then roll back`);
      }
      this.step('rollback', { from: active, to: target, id: meta.id }, `rolling back from slot ${active} to slot ${target} (${meta.id})`);
      await this.pm.delete(BOT_APP);
      this.layout.switchTo(target);
      await this.startBot(target);
      const r = await this.waitReady();
      if (r.ready) {
        this.step('ready', { slot: target, id: meta.id }, `release ${meta.id} is ready (slot ${target})`);
        await this.startDashboard(target);
        return { slot: target, release: meta };
      }
      this.step('not_ready', { slot: target, last: r.last }, `release ${meta.id} was not ready; going back to slot ${active}`);
      await this.pm.delete(BOT_APP);
      this.layout.switchTo(active);
      await this.startBot(active);
      await this.waitReady();
      throw new DeployError(`rollback: release ${meta.id} was not ready (${r.last.slice(0, 200)}); slot ${active} runs again`);
    });
  }

  releases(): Array<{ slot: Slot; current: boolean; release: ReleaseMeta | null }> {
    const active = this.layout.active();
    return (['A', 'B'] as const).map((s) => ({ slot: s, current: s === active, release: this.layout.meta(s) }));
  }
}

/** The env file of BASE, for callers that print it. */
export function envOf(layout: Layout): Record<string, string> {
  return readEnvFile(layout.envFile);
}

