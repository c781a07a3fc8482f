/**
 * Opening the state database. Before anything is written, the file is checked: the SQLite header, the
 * application id, the `meta` table and the schema version. A corrupt file, another program's SQLite
 * database, a file migrated by a newer Tollgate or a read-only file or directory is a StateDbError naming the
 * problem, and the file is left byte for byte as it was.
 *
 * Durability: WAL with synchronous=FULL. In WAL mode NORMAL is already safe against a crash of the process
 * (kill -9), but a commit can be lost if the machine loses power or the OS crashes before the WAL is synced;
 * FULL syncs the WAL at every commit, so an operation that returned (was acknowledged) survives both. It costs
 * ~0.2 ms per commit here, nothing next to the rate of ledger operations a trading bot makes.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { classifySqliteError, StateDbError } from './errors.ts';
import { APP_ID, LATEST_VERSION, MIGRATIONS, readableFrom, SQLITE_APPLICATION_ID } from './migrations.ts';

export interface OpenOptions {
  /** how long a writer waits for another process's transaction, ms (default 10 s) */
  readonly busyTimeoutMs?: number;
  /** 'FULL' (default) or 'NORMAL' */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** refuse to create a missing file (read commands: a mistyped path is an error, not a new empty ledger) */
  readonly mustExist?: boolean;
}

const MAGIC = 'SQLite format 3\u0000';

interface Header {
  readonly size: number;
  readonly applicationId: number;
}

function readHeader(file: string): Header | null {
  const st = statSync(file);
  if (!st.isFile()) throw new StateDbError('foreign', file, 'is not a regular file');
  if (st.size === 0) return null; // an empty file is an empty database
  const buf = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, buf, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 100 || buf.toString('latin1', 0, 16) !== MAGIC) {
    throw new StateDbError('corrupt', file, 'is not a SQLite database (its first bytes are not the SQLite header): a corrupt state file or another kind of file; nothing was changed');
  }
  return { size: st.size, applicationId: buf.readUInt32BE(68) };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Opens (creating if missing) and migrates the state database at `file`. */
export function openStateDb(file: string, o: OpenOptions = {}): { db: Database.Database; migrated: number[] } {
  const path = resolve(file);
  const dir = dirname(path);
  let header: Header | null = null;
  if (existsSync(path)) {
    header = readHeader(path);
    if (header && header.applicationId !== 0 && header.applicationId !== SQLITE_APPLICATION_ID) {
      throw new StateDbError('foreign', file, `is another program's SQLite database (application id 0x${header.applicationId.toString(16)}), not a Tollgate state file; nothing was changed`);
    }
    if (!writable(path)) throw new StateDbError('readonly', file, 'the state file is read-only; nothing was changed (make it writable, or copy it somewhere writable)');
    if (!writable(dir)) throw new StateDbError('readonly', file, `its directory ${dir} is read-only; SQLite needs to create ${file}-wal and ${file}-shm next to it`);
  } else {
    if (o.mustExist) throw new StateDbError('missing', file, 'no state database here (a write command or `tollgate db migrate --state FILE` creates one)');
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StateDbError('readonly', file, `cannot create the directory ${dir} (${(e as Error).message})`);
    }
    if (!writable(dir)) throw new StateDbError('readonly', file, `cannot create the state file: its directory ${dir} is read-only`);
  }

  let db: Database.Database;
  try {
    db = new Database(path, { timeout: o.busyTimeoutMs ?? 10_000 });
  } catch (e) {
    throw classifySqliteError(e, file);
  }
  try {
    inspect(db, file, header);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new StateDbError('io', file, `cannot switch to WAL journal mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${o.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    return { db, migrated: migrate(db, file) };
  } catch (e) {
    db.close();
    throw classifySqliteError(e, file);
  }
}

/** Reads, never writes: refuses a foreign, inconsistent or newer database. */
function inspect(db: Database.Database, file: string, header: Header | null): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  const ours = header?.applicationId === SQLITE_APPLICATION_ID;
  if (!tables.includes('meta')) {
    if (tables.length === 0 && !ours) return; // a new, empty database
    if (ours) throw new StateDbError('corrupt', file, 'is a Tollgate state file without its meta table: damaged; nothing was changed');
    throw new StateDbError('foreign', file, `is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}), not a Tollgate state file; nothing was changed`);
  }
  const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  if (meta.get('app_id') !== APP_ID) {
    throw new StateDbError('foreign', file, `has a meta table but belongs to "${meta.get('app_id') ?? '?'}", not Tollgate; nothing was changed`);
  }
  const v = Number(meta.get('schema_version'));
  if (!Number.isInteger(v) || v < 0) throw new StateDbError('corrupt', file, `has an unreadable schema version "${meta.get('schema_version')}"`);
  if (v > LATEST_VERSION && !readableHere(meta.get('readable_from'))) {
    throw new StateDbError('newer', file, `was migrated by a newer Tollgate (schema version ${v}; this version knows up to ${LATEST_VERSION}); upgrade Tollgate, nothing was changed`);
  }
}

/** A file of a newer schema that records this release can still run on it (only compatible migrations since). */
function readableHere(readableFromValue: string | undefined): boolean {
  const rf = Number(readableFromValue);
  return readableFromValue !== undefined && Number.isInteger(rf) && rf <= LATEST_VERSION;
}

function metaValue(db: Database.Database, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function schemaVersion(db: Database.Database): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/** Applies the missing migrations, each in its own IMMEDIATE transaction (safe against a concurrent start). */
export function migrate(db: Database.Database, file: string): number[] {
  const applied: number[] = [];
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  if (hasMeta && schemaVersion(db) === LATEST_VERSION) return applied; // up to date: opening writes nothing
  if (hasMeta && schemaVersion(db) > LATEST_VERSION && readableHere(metaValue(db, 'readable_from'))) return applied; // a newer, compatible file (a rollback): used as it is
  const step = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('app_id', ?), ('schema_version', '0')").run(APP_ID);
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    const v = schemaVersion(db);
    if (v > LATEST_VERSION) throw new StateDbError('newer', file, `was migrated by a newer Tollgate (schema version ${v}; this version knows up to ${LATEST_VERSION})`);
    const next = MIGRATIONS.find((m) => m.version === v + 1);
    if (!next) return false;
    db.exec(next.sql);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(next.version));
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`migration_${next.version}`, next.name);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('readable_from', ?)").run(String(readableFrom(next.version)));
    applied.push(next.version);
    return true;
  });
  while (step.immediate()) {
    /* one migration per transaction */
  }
  return applied;
}
