/**
 * The layout of an installation on a droplet (BASE, e.g. /opt/tollgate):
 *
 *   BASE/slots/A, BASE/slots/B      two releases; a deploy fills the one not running
 *   BASE/current -> slots/X         the running release (switched atomically: symlink to a temp name, rename)
 *   BASE/intake                     the release the webhook intake runs from (not touched by a bot deploy)
 *   BASE/shared/config              config.json (linked into each release as ./config)
 *   BASE/shared/data                state databases (./data): the bot's state, the intake's alerts
 *   BASE/shared/logs                every log (./logs)
 *   BASE/shared/env/tollgate.env    the environment of every app (KEY=VALUE, mode 600), outside any release
 *   BASE/shared/backups             database backups taken before a migrating deploy
 *   BASE/deploy.jsonl               every deploy step, one JSON line each
 *
 * State and logs never live in a slot: each slot's ./config, ./data and ./logs are symlinks into shared/.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const SLOTS = ['A', 'B'] as const;
export type Slot = (typeof SLOTS)[number];
export const SHARED_DIRS = ['config', 'data', 'logs'] as const;
export const RELEASE_FILE = '.tollgate-release.json';

export interface ReleaseMeta {
  readonly id: string;
  readonly source: string;
  readonly deployedAt: string;
  /** pending: being deployed; good: was ready; bad: failed its health gate (never switched to again) */
  readonly status: 'pending' | 'good' | 'bad';
  /** the bot state's schema version this release left (a rollback to a release with an older one needs the backup) */
  readonly schemaVersion: number | null;
  /** a migrating deploy: the backup taken before, and the version it migrated from */
  readonly backup?: { readonly file: string; readonly fromVersion: number } | null;
  /** releases found at the deploy to open the schema this one migrated to (compatible migrations): a rollback to them needs no backup */
  readonly openableBy?: readonly string[];
  readonly reason?: string;
}

export class Layout {
  constructor(readonly base: string) {}

  get slotsDir(): string {
    return join(this.base, 'slots');
  }

  slot(s: Slot): string {
    return join(this.slotsDir, s);
  }

  get current(): string {
    return join(this.base, 'current');
  }

  get intakeDir(): string {
    return join(this.base, 'intake');
  }

  shared(...p: string[]): string {
    return join(this.base, 'shared', ...p);
  }

  get envFile(): string {
    return this.shared('env', 'tollgate.env');
  }

  get deployLog(): string {
    return join(this.base, 'deploy.jsonl');
  }

  /** creates the folders (idempotent) */
  ensure(): void {
    for (const d of [this.slotsDir, ...SHARED_DIRS.map((n) => this.shared(n)), this.shared('env'), this.shared('backups')]) mkdirSync(d, { recursive: true });
  }

  /** the slot `current` points at, or null before the first deploy */
  active(): Slot | null {
    let target: string;
    try {
      target = readlinkSync(this.current);
    } catch {
      return null;
    }
    const s = basename(target);
    return (SLOTS as readonly string[]).includes(s) ? (s as Slot) : null;
  }

  other(s: Slot | null): Slot {
    return s === 'A' ? 'B' : 'A';
  }

  /** Points `current` at `s` atomically: a new symlink under a temp name, renamed over the old one. */
  switchTo(s: Slot): void {
    const tmp = join(this.base, `.current-${process.pid}-${s}`);
    rmSync(tmp, { force: true });
    symlinkSync(join('slots', s), tmp);
    renameSync(tmp, this.current); // rename(2) replaces the link in one step: never a moment without `current`
  }

  /** the real path of a slot (pm2 must be given it, not the `current` link) */
  realSlot(s: Slot): string {
    return realpathSync(this.slot(s));
  }

  /** Links ./config, ./data, ./logs of a release directory to shared/ (relative links: BASE may move). */
  linkShared(dir: string, depth: 1 | 2): void {
    const up = depth === 2 ? join('..', '..') : '..';
    for (const n of SHARED_DIRS) {
      rmSync(join(dir, n), { recursive: true, force: true });
      symlinkSync(join(up, 'shared', n), join(dir, n));
    }
  }

  meta(s: Slot): ReleaseMeta | null {
    return readMeta(this.slot(s));
  }

  writeMeta(s: Slot, m: ReleaseMeta): void {
    writeMeta(this.slot(s), m);
  }
}

export function readMeta(dir: string): ReleaseMeta | null {
  const f = join(dir, RELEASE_FILE);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as ReleaseMeta;
  } catch {
    return null;
  }
}

export function writeMeta(dir: string, m: ReleaseMeta): void {
  const f = join(dir, RELEASE_FILE);
  writeFileSync(`${f}.tmp`, JSON.stringify(m, null, 2) + '\n');
  renameSync(`${f}.tmp`, f);
}

/** KEY=VALUE lines (comments, blank lines, optional `export `, optional quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

export function readEnvFile(file: string): Record<string, string> {
  return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
}
