/**
 * `tollgate dashboard`: the web dashboard over a finished (or running) bot's logs and, optionally, its state
 * opened read-only. The password comes from TOLLGATE_DASHBOARD_PASSWORD or a file only its owner can read;
 * it is hashed with scrypt at start and the plain text is dropped (the variable is removed from the env).
 */
import { readFileSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { parseConfig } from '../config/schema.ts';
import { InputError } from '../engine/wiring.ts';
import { hashPassword } from '../dashboard/auth.ts';
import { createDashboard, DEFAULT_HOST, DEFAULT_PORT } from '../dashboard/server.ts';

export const ENV_PASSWORD = 'TOLLGATE_DASHBOARD_PASSWORD';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${v}" is not a port`);
  return n;
}

function minutes(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number of minutes`);
  return n;
}

/** The password from the env or a 600-mode file (one line); null when neither is given. */
export function dashboardPassword(env: NodeJS.ProcessEnv, file: string | undefined): string | null {
  if (file) {
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      throw new InputError(`--password-file ${file}: cannot read it`);
    }
    if ((mode & 0o077) !== 0) throw new InputError(`--password-file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    const pw = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (!pw) throw new InputError(`--password-file ${file} is empty`);
    return pw;
  }
  const pw = env[ENV_PASSWORD];
  if (pw === undefined) return null;
  if (!pw) throw new InputError(`${ENV_PASSWORD} is set but empty`);
  return pw;
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description(`the web dashboard (analytics, performance, system) over a logs directory and optionally a state file, read-only; password from ${ENV_PASSWORD} or --password-file`)
    .option('--logs <dir>', 'directory holding the JSONL logs', 'logs')
    .option('--state <file>', 'the SQLite state, opened read-only')
    .option('--config <file>', 'the bot config to summarize (secrets masked)')
    .option('--host <host>', 'address to bind', DEFAULT_HOST)
    .option('--port <port>', 'port', port, DEFAULT_PORT)
    .option('--password-file <file>', 'file (mode 600) holding the dashboard password')
    .option('--no-auth', 'no login (refused unless bound to 127.0.0.1)')
    .option('--behind-tls', 'served through a TLS proxy on this host: Secure cookies, X-Forwarded-* from loopback trusted', false)
    .option('--idle-minutes <n>', 'log a session out after this long without a request', minutes, 30)
    .action(async (o: { logs: string; state?: string; config?: string; host: string; port: number; passwordFile?: string; auth: boolean; behindTls: boolean; idleMinutes: number }) => {
      let config: unknown;
      if (o.config) {
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(o.config, 'utf8'));
        } catch (e) {
          throw new InputError(`--config ${o.config}: cannot read it as JSON (${(e as Error).message})`);
        }
        config = parseConfig(raw, o.config);
      }
      const password = o.auth ? dashboardPassword(process.env, o.passwordFile) : null;
      delete process.env[ENV_PASSWORD];
      if (o.auth && password === null) throw new InputError(`no dashboard password: set ${ENV_PASSWORD} or --password-file FILE (mode 600); or, on 127.0.0.1 only, --no-auth`);
      const passwordHash = password === null ? null : await hashPassword(password);
      const app = await createDashboard({ logsDir: o.logs, stateFile: o.state ?? null, config, passwordHash, noAuth: !o.auth, host: o.host, port: o.port, behindTls: o.behindTls, clock: new SystemClock(), sessions: { idleMs: o.idleMinutes * 60_000 } }).catch((e: Error) => {
        throw e.name === 'DashboardConfigError' ? new InputError(e.message) : e;
      });
      await app.listen({ host: o.host, port: o.port });
      const addr = app.server.address();
      const shown = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/` : String(addr);
      process.stdout.write(`dashboard on ${shown}${o.auth ? '' : ' (no auth)'}\n`);
      process.send?.('ready');
      await new Promise<void>((resolve) => {
        const stop = () => void app.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
