/**
 * `tollgate doctor`: the checks an operator runs on a droplet, each with what to fix. A check is `ok`, `warn`
 * or `fail`; the probes (Node version, disk, the venue's clock, pm2) are injected so each failure is testable.
 *
 *   node         Node >= 20.19 (package.json engines)
 *   config       the config file parses and validates
 *   state        the state DB: opens, quick_check ok, schema up to date (read-only: doctor migrates nothing)
 *   secrets      credential and secret files (and the env file) readable by their owner only
 *   clock        offset of this machine's clock to the venue's (Kraken /0/public/Time): > 1 s warns, > 5 s fails
 *   disk         free space where the state and logs live: < 1 GiB warns, < 200 MiB fails
 *   exchange     the venue answers (/0/public/SystemStatus, else Time)
 *   pm2          the apps are online (when pm2 manages them)
 */
import { existsSync, readFileSync, statSync, statfsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { LATEST_VERSION } from '../adapters/sqlite/migrations.ts';
import { parseConfig } from '../config/schema.ts';
import type { ManagedApp } from './pm2.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** what to do about it (null when ok) */
  readonly fix: string | null;
}

export interface DoctorInput {
  readonly nodeVersion?: string;
  readonly configFile?: string | null;
  readonly stateFile?: string | null;
  /** files holding secrets: credentials, *_FILE secrets, the env file */
  readonly secretFiles?: readonly string[];
  /** the venue's origin (Kraken: https://api.kraken.com); null skips clock and exchange */
  readonly venueUrl?: string | null;
  /** directories whose free space counts (state, logs) */
  readonly dirs?: readonly string[];
  /** pm2 apps expected online; empty skips the check */
  readonly apps?: readonly string[];
  readonly probes?: Partial<Probes>;
}

export interface Probes {
  now(): number;
  fetch(url: string): Promise<{ status: number; json(): Promise<unknown> }>;
  freeBytes(dir: string): number;
  pm2List(): Promise<ManagedApp[]>;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail, fix: null });
const bad = (name: string, status: 'warn' | 'fail', detail: string, fix: string): Check => ({ name, status, detail, fix });

export function checkNode(version: string): Check {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  const [maj, min] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  return maj > 20 || (maj === 20 && min >= 19) ? ok('node', `Node ${version}`) : bad('node', 'fail', `Node ${version} is older than 20.19`, 'install Node 20.19 or newer (e.g. NodeSource 22.x), then npm ci');
}

export function checkConfig(file: string | null | undefined): Check {
  if (!file) return ok('config', 'no config file: built-in defaults');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return bad('config', 'fail', `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(e as Error).message})`}`, `fix ${file} (see config.example.json), then: tollgate config check ${file}`);
  }
  try {
    const c = parseConfig(raw, file);
    return ok('config', `${file}: ${c.strategies.length} strategies`);
  } catch (e) {
    return bad('config', 'fail', (e as Error).message, `fix the named field in ${file}, then: tollgate config check ${file}`);
  }
}

export function checkState(file: string | null | undefined): Check {
  if (!file) return ok('state', 'no state file configured');
  if (!existsSync(file)) return bad('state', 'warn', `${file}: no state yet`, `a sim/live run creates it; or: tollgate db migrate --state ${file}`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    return bad('state', 'fail', `${file}: cannot open (${(e as Error).message})`, 'restore the newest backup (runbook: restore a backup)');
  }
  try {
    const integrity = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check).join('; ');
    if (integrity !== 'ok') return bad('state', 'fail', `${file}: integrity check failed: ${integrity}`, 'stop the bot and restore the newest backup (runbook: restore a backup)');
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    const v = row ? Number(row.value) : 0;
    if (v < LATEST_VERSION) return bad('state', 'warn', `${file}: schema ${v}, this release knows ${LATEST_VERSION}`, `the bot migrates it at its next start; or: tollgate db migrate --state ${file}`);
    const rf = Number((db.prepare("SELECT value FROM meta WHERE key = 'readable_from'").get() as { value: string } | undefined)?.value);
    if (v > LATEST_VERSION && Number.isInteger(rf) && rf <= LATEST_VERSION) return ok('state', `${file}: integrity ok, schema ${v} (newer, compatible with this release's ${LATEST_VERSION}: a rollback)`);
    if (v > LATEST_VERSION) return bad('state', 'fail', `${file}: schema ${v} is newer than this release (${LATEST_VERSION})`, 'deploy the release that migrated it, or restore the backup taken before that deploy');
    return ok('state', `${file}: integrity ok, schema ${v}`);
  } catch (e) {
    return bad('state', 'fail', `${file}: not a readable Tollgate state (${(e as Error).message})`, 'check the path (TOLLGATE_STATE), or restore a backup');
  } finally {
    db.close();
  }
}

export function checkSecrets(files: readonly string[]): Check {
  const open: string[] = [];
  const missing: string[] = [];
  for (const f of files) {
    try {
      const mode = statSync(f).mode & 0o777;
      if (mode & 0o077) open.push(`${f} (mode ${mode.toString(8)})`);
    } catch {
      missing.push(f);
    }
  }
  if (open.length) return bad('secrets', 'fail', `readable by group or others: ${open.join(', ')}`, `chmod 600 ${open.map((o) => o.split(' ')[0]).join(' ')}`);
  if (missing.length) return bad('secrets', 'fail', `missing: ${missing.join(', ')}`, 'create them (mode 600) or fix the *_FILE settings in the env file');
  return ok('secrets', files.length ? `${files.length} secret file(s), owner-only` : 'no secret files configured');
}

export function checkDisk(dirs: readonly string[], free: (dir: string) => number): Check {
  let worst: { dir: string; bytes: number } | null = null;
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    const bytes = free(d);
    if (!worst || bytes < worst.bytes) worst = { dir: d, bytes };
  }
  if (!worst) return ok('disk', 'no directory to check');
  const gib = (worst.bytes / GiB).toFixed(2);
  if (worst.bytes < 200 * MiB) return bad('disk', 'fail', `${worst.dir}: only ${gib} GiB free`, 'free space now (old backups in shared/backups, rotated logs): SQLite stops writing when the disk is full');
  if (worst.bytes < GiB) return bad('disk', 'warn', `${worst.dir}: ${gib} GiB free`, 'free space (old backups, rotated logs) or grow the volume');
  return ok('disk', `${worst.dir}: ${gib} GiB free`);
}

async function venueTime(url: string, p: Probes): Promise<{ serverMs: number; rttMs: number }> {
  const t0 = p.now();
  const r = await p.fetch(`${url.replace(/\/$/, '')}/0/public/Time`);
  const t1 = p.now();
  const body = (await r.json()) as { error?: string[]; result?: { unixtime?: number } };
  if (r.status !== 200 || !body.result?.unixtime) throw new Error(`Time answered ${r.status} ${JSON.stringify(body.error ?? body).slice(0, 100)}`);
  return { serverMs: body.result.unixtime * 1000, rttMs: t1 - t0 };
}

export async function checkClock(url: string, p: Probes): Promise<Check> {
  try {
    const { serverMs, rttMs } = await venueTime(url, p);
    // Kraken's unixtime is whole seconds: an offset under ~1 s cannot be seen
    const offset = p.now() - rttMs / 2 - serverMs;
    const s = Math.abs(offset) / 1000;
    if (s > 5) return bad('clock', 'fail', `this clock is ${(offset / 1000).toFixed(1)} s off the venue's`, 'enable time sync: timedatectl set-ntp true (systemd-timesyncd or chrony)');
    if (s > 1.5) return bad('clock', 'warn', `this clock is ${(offset / 1000).toFixed(1)} s off the venue's`, 'check time sync: timedatectl status');
    return ok('clock', `offset to the venue under ${Math.max(1, Math.ceil(s))} s`);
  } catch (e) {
    return bad('clock', 'warn', `cannot read the venue's time (${(e as Error).message})`, 'see the exchange check');
  }
}

export async function checkExchange(url: string, p: Probes): Promise<Check> {
  try {
    const r = await p.fetch(`${url.replace(/\/$/, '')}/0/public/SystemStatus`);
    const body = (await r.json()) as { result?: { status?: string } };
    if (r.status === 200 && body.result?.status) {
      return body.result.status === 'online' ? ok('exchange', `${url}: online`) : bad('exchange', 'warn', `${url}: ${body.result.status}`, 'the venue is in maintenance or limited mode: wait; the bot halts entries it refuses');
    }
    await venueTime(url, p);
    return ok('exchange', `${url}: answers`);
  } catch (e) {
    return bad('exchange', 'fail', `${url}: unreachable (${(e as Error).message})`, 'check DNS, the firewall (outbound 443) and https://status.kraken.com');
  }
}

export async function checkPm2(apps: readonly string[], list: () => Promise<ManagedApp[]>): Promise<Check> {
  let running: ManagedApp[];
  try {
    running = await list();
  } catch (e) {
    return bad('pm2', 'fail', `pm2 does not answer (${(e as Error).message})`, 'pm2 resurrect (or: pm2 start ecosystem.config.cjs from BASE/current), and pm2 startup so it survives a reboot');
  }
  const down = apps.filter((a) => running.find((r) => r.name === a)?.status !== 'online');
  if (down.length) return bad('pm2', 'fail', `not online: ${down.map((a) => `${a} (${running.find((r) => r.name === a)?.status ?? 'not started'})`).join(', ')}`, `pm2 logs ${down[0]} --lines 50, fix, then: pm2 start BASE/current/ecosystem.config.cjs --only ${down[0]}`);
  return ok('pm2', `online: ${apps.join(', ')}`);
}

function defaultProbes(): Probes {
  const clock = new SystemClock();
  return {
    now: () => clock.now(),
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(5_000) }),
    freeBytes: (dir) => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    pm2List: () => Promise.reject(new Error('no pm2 probe')),
  };
}

export async function runDoctor(i: DoctorInput): Promise<Check[]> {
  const p: Probes = { ...defaultProbes(), ...i.probes };
  const checks: Check[] = [
    checkNode(i.nodeVersion ?? process.version),
    checkConfig(i.configFile),
    checkState(i.stateFile),
    checkSecrets(i.secretFiles ?? []),
  ];
  if (i.venueUrl) checks.push(await checkClock(i.venueUrl, p));
  checks.push(checkDisk(i.dirs ?? [], p.freeBytes));
  if (i.venueUrl) checks.push(await checkExchange(i.venueUrl, p));
  if (i.apps?.length) checks.push(await checkPm2(i.apps, p.pm2List));
  return checks;
}

export function renderChecks(checks: readonly Check[]): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const lines = checks.map((c) => `${mark[c.status]}  ${c.name.padEnd(9)} ${c.detail}${c.fix ? `\n      fix: ${c.fix}` : ''}`);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push(failed || warned ? `${failed} failing, ${warned} warning(s)` : 'all checks passed');
  return lines.join('\n');
}
