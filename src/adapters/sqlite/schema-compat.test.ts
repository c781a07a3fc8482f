import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, readableFrom, type Migration } from './migrations.ts';
import { openStateDb } from './open.ts';
import { StateDbError } from './errors.ts';

const file = () => join(mkdtempSync(join(tmpdir(), 'tollgate-compat-')), 'state.db');

/** what a newer release leaves behind: its schema version and the oldest version that can still run on it */
function asNewer(path: string, version: number, readableFromValue: string | null): void {
  const { db } = openStateDb(path);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(version));
  if (readableFromValue === null) db.prepare("DELETE FROM meta WHERE key = 'readable_from'").run();
  else db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('readable_from', ?)").run(readableFromValue);
  db.close();
}

describe('schema compatibility across a rollback', () => {
  it('readableFrom chains down through compatible migrations only', () => {
    const m = (version: number, compatible?: true): Migration => ({ version, name: `m${version}`, sql: '', ...(compatible ? { compatible } : {}) });
    const list = [m(1), m(2), m(3, true), m(4, true), m(5), m(6, true)];
    expect(readableFrom(6, list)).toBe(5);
    expect(readableFrom(5, list)).toBe(5);
    expect(readableFrom(4, list)).toBe(2);
    expect(readableFrom(2, list)).toBe(2);
    // external holdings (5) is additive: a file at 5 is one release 4 can run on
    expect(MIGRATIONS.find((x) => x.version === 5)?.compatible).toBe(true);
    expect(readableFrom(5)).toBe(4);
  });

  it('a migrated file records readable_from', () => {
    const path = file();
    const { db } = openStateDb(path);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'readable_from'").get()).toEqual({ value: String(readableFrom(LATEST_VERSION)) });
    db.close();
  });

  it('when a newer release migrated the file compatibly then this release opens it as it is, writing nothing', () => {
    const path = file();
    asNewer(path, LATEST_VERSION + 1, String(LATEST_VERSION));
    const before = readFileSync(path);
    const { db, migrated } = openStateDb(path);
    expect(migrated).toEqual([]);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: String(LATEST_VERSION + 1) });
    db.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it.each([
    ['an incompatible migration', String(LATEST_VERSION + 1)],
    ['no readable_from at all', null],
    ['an unreadable readable_from', 'soon'],
  ])('when a newer release migrated the file with %s then it is refused as newer, unchanged', (_what, rf) => {
    const path = file();
    asNewer(path, LATEST_VERSION + 1, rf);
    const before = readFileSync(path);
    let err: unknown;
    try {
      openStateDb(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDbError);
    expect((err as StateDbError).problem).toBe('newer');
    expect((err as Error).message).toContain(`schema version ${LATEST_VERSION + 1}`);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
