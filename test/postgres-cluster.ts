/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp directory, pg_ctl start on a free 127.0.0.1 port,
 * stopped and removed at the end. PostgreSQL refuses to run as root, so as root the cluster is created and run
 * by the `postgres` user (runuser) in a directory it owns. Without server binaries the tests skip, saying why,
 * unless TOLLGATE_REQUIRE_POSTGRES=1 (CI), where that is a failure.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** the directory of initdb/pg_ctl: TOLLGATE_PG_BIN, else Debian's newest /usr/lib/postgresql/N/bin, else null */
export function pgBinDir(): string | null {
  const env = process.env.TOLLGATE_PG_BIN;
  if (env) return existsSync(join(env, 'pg_ctl')) ? env : null;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

/** Why the PostgreSQL tests cannot run here (null: they can); throws under TOLLGATE_REQUIRE_POSTGRES=1. */
export function postgresMissing(): string | null {
  if (pgBinDir()) return null;
  const why = 'no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/N/bin or TOLLGATE_PG_BIN: the PostgreSQL tests are skipped (apt-get install postgresql)';
  if (process.env.TOLLGATE_REQUIRE_POSTGRES === '1') throw new Error(`TOLLGATE_REQUIRE_POSTGRES=1 but ${why}`);
  process.stderr.write(`${why}\n`);
  return why;
}

export interface PgCluster {
  readonly port: number;
  /** a connection URL to database `db` (default: postgres) */
  url(db?: string): string;
  /** creates a new empty database and returns its URL */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function uidOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  if (root) {
    const { uid, gid } = uidOf('postgres');
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(root ? 'runuser' : join(bin, cmd), root ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, encoding: 'utf8' });
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'tollgate', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
      break;
    } catch (e) {
      if (attempt >= 2) throw e; // the port was taken between the probe and the start
    }
  }
  const url = (db = 'postgres') => `postgres://tollgate@127.0.0.1:${port}/${db}`;
  let stopped = false;
  return {
    port,
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
