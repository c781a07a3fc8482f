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
import { isPostgresUrl } from '../adapters/postgres/errors.ts';
import { shownPlace } from '../adapters/state-open.ts';
import { loadKrakenOhlcvt } from '../adapters/csv/kraken-ohlcvt.ts';
import { hashPassword } from '../dashboard/auth.ts';
import type { BotLink } from '../dashboard/bot-client.ts';
import { createDashboard, DEFAULT_HOST, DEFAULT_PORT } from '../dashboard/server.ts';
import { HttpConfigError, parseListen, secretFrom } from '../http/config.ts';

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

/**
 * The bot's operator API: `--bot` (an origin, or HOST:PORT) else TOLLGATE_HTTP (the bot's own --http setting,
 * so one env file serves both processes), with the bot's token from TOLLGATE_HTTP_TOKEN or TOLLGATE_HTTP_TOKEN_FILE.
 * Null (read-only dashboard) when neither address is set, or TOLLGATE_HTTP is set without a token (the bot's
 * operator API is off); `--bot` without a token is an input error.
 */
export function botLinkFrom(env: NodeJS.ProcessEnv, flag: string | undefined): BotLink | null {
  const given = flag ?? env.TOLLGATE_HTTP;
  if (!given) return null;
  let url: string;
  if (/^https?:\/\//.test(given)) url = given.replace(/\/+$/, '');
  else {
    let l: { host: string; port: number };
    try {
      l = parseListen(given);
    } catch (e) {
      throw new InputError(`${flag ? '--bot' : 'TOLLGATE_HTTP'} ${given}: expected http://HOST:PORT or HOST:PORT`, { cause: e });
    }
    // a bot bound to every address is reached on loopback
    const host = l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '[::1]' : l.host.includes(':') ? `[${l.host}]` : l.host;
    url = `http://${host}:${l.port}`;
  }
  let token: string | null;
  try {
    token = secretFrom(env, 'TOLLGATE_HTTP_TOKEN');
  } catch (e) {
    throw new InputError((e as HttpConfigError).message);
  }
  if (!token) {
    // TOLLGATE_HTTP alone (a bot whose operator API is off): read-only, as before; an explicit --bot must work
    if (!flag) return null;
    throw new InputError(`the bot at ${url} needs its operator token: set TOLLGATE_HTTP_TOKEN or TOLLGATE_HTTP_TOKEN_FILE (or leave out --bot for a read-only dashboard)`);
  }
  return { url, token };
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
    .option('--bot <url>', "the bot's HTTP face for pause/resume and guard switches (default: TOLLGATE_HTTP); token from TOLLGATE_HTTP_TOKEN or _FILE")
    .option('--data <file>', 'the Kraken OHLCVT candle file of a replay: the price chart draws its closes (else the prices in the logs)')
    .option('--pair <pair>', 'with --data: the pair of the candles', 'BTC/USD')
    .action(async (o: { logs: string; state?: string; config?: string; host: string; port: number; passwordFile?: string; auth: boolean; behindTls: boolean; idleMinutes: number; bot?: string; data?: string; pair: string }) => {
      if (o.state !== undefined && isPostgresUrl(o.state)) {
        throw new InputError(`--state ${shownPlace(o.state)}: the dashboard reads a SQLite state file only (read-only); a PostgreSQL state is not supported here: run it without --state, or on a SQLite copy`);
      }
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
      const bot = botLinkFrom(process.env, o.bot);
      delete process.env.TOLLGATE_HTTP_TOKEN;
      let candles: Array<[number, number]> | null = null;
      if (o.data) {
        const series = loadKrakenOhlcvt(o.data, { pair: o.pair, skipBadRows: true });
        candles = Array.from(series.ts, (t, i) => [t, series.close[i]!]);
      }
      const passwordHash = password === null ? null : await hashPassword(password);
      const app = await createDashboard({ logsDir: o.logs, stateFile: o.state ?? null, config, passwordHash, noAuth: !o.auth, host: o.host, port: o.port, behindTls: o.behindTls, clock: new SystemClock(), sessions: { idleMs: o.idleMinutes * 60_000 }, bot, candles }).catch((e: Error) => {
        throw e.name === 'DashboardConfigError' ? new InputError(e.message) : e;
      });
      await app.listen({ host: o.host, port: o.port }).catch(async (e: NodeJS.ErrnoException) => {
        await app.close();
        throw e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES' ? new InputError(`--host ${o.host} --port ${o.port}: cannot listen there (${e.code})`) : e;
      });
      const addr = app.server.address();
      const shown = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/` : String(addr);
      process.stdout.write(`dashboard on ${shown}${o.auth ? '' : ' (no auth)'}${bot ? `; commands through the bot at ${bot.url}` : '; read-only (no --bot)'}\n`);
      process.send?.('ready');
      await new Promise<void>((resolve) => {
        const stop = () => void app.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
