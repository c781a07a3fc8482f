/**
 * The process manager a deploy drives: pm2 through its command line (the `pm2` of this install, a devDependency
 * pinned in package.json; `TOLLGATE_PM2` names another). `PM2_HOME` is inherited: tests point it at a temp dir.
 *
 * pm2 resolves a symlinked cwd/script once, when an app starts: a `pm2 reload` after `current` moved keeps
 * running the old release (pm2 issues #1663, #2963). So an app is always deleted and started again from the
 * slot's real path (ecosystem.config.cjs sets `cwd` to its own realpath).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ManagedApp {
  readonly name: string;
  readonly pid: number | null;
  readonly status: string;
  readonly cwd: string | null;
  readonly restarts: number;
}

export interface ProcessManager {
  /** starts `app` of `ecosystem` (an absolute path inside a slot); a running app of that name is replaced */
  start(ecosystem: string, app: string, env?: NodeJS.ProcessEnv): Promise<void>;
  /** stops and forgets `app` (graceful: SIGINT, then SIGKILL after the app's kill_timeout); absent: nothing */
  delete(app: string): Promise<void>;
  list(): Promise<ManagedApp[]>;
}

export class Pm2Error extends Error {}

/** The pm2 command line: TOLLGATE_PM2, else this install's node_modules/.bin/pm2, else `pm2` on the PATH. */
export function pm2Binary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOLLGATE_PM2) return env.TOLLGATE_PM2;
  const local = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'pm2');
  return existsSync(local) ? local : 'pm2';
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 180_000, ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      if (err) reject(new Pm2Error(`pm2 ${args.join(' ')}: ${(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(stdout);
    });
  });
}

export class Pm2 implements ProcessManager {
  constructor(private readonly bin = pm2Binary(), private readonly env: NodeJS.ProcessEnv = process.env) {}

  async start(ecosystem: string, app: string, env?: NodeJS.ProcessEnv): Promise<void> {
    await this.delete(app);
    await run(this.bin, ['start', ecosystem, '--only', app], { ...this.env, ...env }, join(ecosystem, '..'));
  }

  async delete(app: string): Promise<void> {
    if (!(await this.list()).some((a) => a.name === app)) return;
    await run(this.bin, ['delete', app], this.env);
  }

  async list(): Promise<ManagedApp[]> {
    const out = await run(this.bin, ['jlist'], this.env);
    // pm2 prints a banner before the JSON when it starts its daemon: the JSON is the last line that is an array
    const json = out.split('\n').reverse().find((l) => l.trim().startsWith('[') && l.trim().endsWith(']')) ?? out;
    let apps: Array<{ name: string; pid: number; pm2_env?: { status?: string; pm_cwd?: string; restart_time?: number } }>;
    try {
      apps = JSON.parse(json) as typeof apps;
    } catch {
      throw new Pm2Error(`pm2 jlist: not JSON (${out.slice(0, 120)})`);
    }
    return apps.map((a) => ({ name: a.name, pid: a.pid || null, status: a.pm2_env?.status ?? 'unknown', cwd: a.pm2_env?.pm_cwd ?? null, restarts: a.pm2_env?.restart_time ?? 0 }));
  }
}
