import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, tmp } from './helpers.ts';

describe('tollgate dashboard --state', () => {
  it('when given a PostgreSQL URL then it refuses clearly (SQLite only, read-only), exit 2, never showing the password', () => {
    const r = spawnSync(process.execPath, [BIN, 'dashboard', '--logs', tmp('tollgate-dash-pg-'), '--state', 'postgres://bob:hunter2-secret@127.0.0.1:5/db', '--no-auth'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--state postgres://bob:***@127.0.0.1:5/db: the dashboard reads a SQLite state file only');
    expect(r.stderr + r.stdout).not.toContain('hunter2-secret');
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
