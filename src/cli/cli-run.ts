/**
 * `tollgate run` (`npm start`): the bot on live data.
 *
 *   paper  live Kraken candles (public data, no keys), simulated fills: the default with no API keys.
 *   sim    the Kraken simulator (`--url`), with its keys: the live code path against a loopback Kraken.
 *   live   Kraken with real money: needs API keys AND `--confirm-live`.
 *
 * With API keys configured and no --mode, it refuses to guess: say which mode. History fetched at
 * start only warms the indicators up. Without network it says so and retries with backoff.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createPinoLogger } from '../adapters/log/pino-logger.ts';
import type { Config } from '../config/schema.ts';
import type { Bot } from '../engine/bot.ts';
import type { ReplayResult } from '../engine/compose.ts';
import { composeBot } from '../engine/compose-bot.ts';
import { buildMarkets, InputError } from '../engine/wiring.ts';
import type { Logger } from '../ports/logger.ts';
import { credentialsFromEnv, credentialsFromFile, type Credentials } from './credentials.ts';
import { httpSettings, serveHttp, type RunningHttp } from './cli-http.ts';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { isPostgresUrl } from '../adapters/postgres/errors.ts';
import { LeaseError, PgLease } from '../adapters/postgres/lease.ts';
import { leaseHealth, serveLeaseHealth, type LeaseHealthServer } from '../http/lease-health.ts';
import { rotationOf } from '../adapters/jsonl/rotating-file.ts';
import type { RotateOptions } from '../ports/line-source.ts';

/**
 * The operational log of a process: `LOGS/bot.jsonl` (JSONL, pino) and readable lines on stderr (pino-pretty,
 * coloured on a terminal). The API key and secret are masked wherever they would appear.
 */
export function operationalLogger(logsDir: string, level: string, secrets: readonly string[], rotate: RotateOptions | null = rotationOf(undefined)): Logger {
  try {
    return createPinoLogger({ file: join(logsDir, 'bot.jsonl'), level, pretty: true, secrets, rotate });
  } catch (e) {
    throw new InputError(`operational log: ${(e as Error).message}`);
  }
}

interface RunOptions {
  mode?: string;
  pair: string;
  interval: number;
  config?: string;
  logs: string;
  credentials?: string;
  url?: string;
  confirmLive: boolean;
  poll: number;
  deadMansSwitch: number;
  maxCandles?: number;
  json: boolean;
  state: string;
  reconcile: number;
  pace?: number;
  ws: boolean;
  http?: string;
  intakeStore?: string;
  account?: string;
}

const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number`);
  return n;
};

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive whole number`);
  return n;
};

export function registerRunCommand(program: Command, loadConfig: (file: string | undefined) => Config): void {
  program
    .command('run')
    .description('run the bot on live data: paper (default without API keys), sim (Kraken simulator) or live (Kraken, real money)')
    .option('--mode <mode>', 'paper | sim | live')
    .option('--pair <pair>', 'pair as BTC/USD', 'BTC/USD')
    .option('--interval <minutes>', 'candle interval in minutes (Kraken: 1, 5, 15, 30, 60, 240, 1440, …)', positiveInt, 60)
    .option('--config <file>', 'JSON config; default: built-in defaults')
    .option('--logs <dir>', 'directory for the JSONL logs', 'logs')
    .option('--credentials <file>', `Kraken API key and secret, mode 600 (or set the environment variables)`)
    .option('--url <origin>', 'a Kraken-compatible API origin: the simulator (sim mode), or market data for paper mode')
    .option('--confirm-live', 'required with --mode live: orders are real and cost real money', false)
    .option('--poll <seconds>', 'how often working orders are polled', positiveInt, 5)
    .option('--dead-mans-switch <seconds>', "CancelAllOrdersAfter timeout, refreshed while healthy (0 = off)", (v) => (v === '0' ? 0 : positiveInt(v)), 60)
    .option('--max-candles <n>', 'stop after this many live candles (tests)', positiveInt)
    .option('--state <file|url>', 'sim and live: the state (ledger, orders, audit): a SQLite file, or a PostgreSQL database as postgres://user:password@host:port/db', 'data/tollgate.db')
    .option('--reconcile <minutes>', 'sim and live: reconcile the ledger with the venue this often (and at start)', positiveInt, 15)
    .option('--pace <candlesPerSecond>', "sim mode: the simulator's --pace; the bot's clock then runs as fast as the simulator's", positiveNumber)
    .option('--ws', "use Kraken's websockets: candle closes and the last price, and in sim/live your executions (a fill is polled the moment it happens); REST stays the fallback", false)
    .option('--json', 'print the final summary as JSON', false)
    .option('--http <host:port>', 'serve the webhook, health, /metrics and the operator API here (e.g. 127.0.0.1:8080); off unless given. Behind a lease (postgres:// --state): health only while standing by, all of it once leader')
    .option('--intake-store <file>', 'with --http: take webhook alerts from this SQLite file too, where a separate `tollgate intake` process writes them (alerts survive a bot deploy or crash)')
    .option('--account <name>', 'with a postgres:// --state: the Kraken account the leader lease is taken for (default: the API key id, hashed); instances of one account share it, one trades, the others stand by')
    .option('--log-level <level>', 'operational log level (trace, debug, info, warn, error, fatal, silent)', 'info')
    .action(async (o: RunOptions & { logLevel: string }) => {
      const config = loadConfig(o.config);
      const markets = buildMarkets(config);
      if (!markets.has(o.pair)) throw new InputError(`unknown pair ${o.pair} (known: ${[...markets.keys()].join(', ')})`);
      let creds: Credentials | null = o.credentials ? credentialsFromFile(o.credentials) : credentialsFromEnv(process.env);
      const mode = o.mode ?? (creds ? null : 'paper');
      if (mode === null) throw new InputError(`API keys are configured (${creds!.source}): say which mode to run in — --mode paper, --mode sim --url …, or --mode live --confirm-live`);
      if (mode !== 'paper' && mode !== 'sim' && mode !== 'live') throw new InputError(`--mode ${mode}: expected paper, sim or live`);
      if (mode === 'live' && !o.confirmLive) throw new InputError('--mode live places real orders with real money: add --confirm-live to go ahead');
      if (mode === 'live' && o.url) throw new InputError('--mode live talks to Kraken itself; --url is for sim and paper');
      if (mode === 'sim' && !o.url) throw new InputError('--mode sim needs --url (the simulator, e.g. http://127.0.0.1:8899)');
      if (mode !== 'paper' && !creds) throw new InputError(`--mode ${mode} needs API keys: --credentials FILE (mode 600) or TOLLGATE_KRAKEN_API_KEY and TOLLGATE_KRAKEN_API_SECRET`);
      if (mode === 'paper') creds = null; // paper mode sends nothing private
      if (o.pace !== undefined && mode !== 'sim') throw new InputError(`--pace is for --mode sim (the simulator's pace); ${mode} mode runs on real time`);
      const http = o.http ? httpSettings(o.http, config, join(o.logs, 'bot.jsonl')) : null;
      if (o.intakeStore !== undefined && !http) throw new InputError('--intake-store goes with --http (the bot polls it beside its own webhook)');
      const logger = operationalLogger(o.logs, o.logLevel, [...(creds ? [creds.apiKey, creds.secret] : []), ...(http?.secrets ?? [])], rotationOf(config.logs?.rotate));
      // a SIGINT/SIGTERM during start-up (recovery, reconciliation) is kept and honoured once the bot exists
      const early = signalsUntilStarted();
      // a PostgreSQL state may be shared by several instances: only the holder of the account's lease trades
      const leased = mode !== 'paper' && isPostgresUrl(o.state);
      const held = leased ? await holdLease(o, creds!, http?.settings ?? null, logger, early) : null;
      if (held === 'stopped') {
        early.release();
        process.stdout.write('run stopped while standing by: this instance never held the lease, nothing was traded\n');
        await logger.close();
        return;
      }
      const bot = await composeBot({
        mode, config, markets, pair: o.pair, intervalMs: o.interval * 60_000, logsDir: o.logs, logger,
        credentials: creds, ...(o.url ? { url: o.url } : {}), stateFile: o.state,
        pollMs: o.poll * 1000, deadMansSwitchMs: o.deadMansSwitch * 1000, reconcileMs: o.reconcile * 60_000,
        ...(o.pace !== undefined ? { pace: o.pace } : {}), ws: o.ws, ...(o.maxCandles !== undefined ? { maxCandles: o.maxCandles } : {}),
      }).catch(async (e: unknown) => {
        early.release();
        await held?.release();
        throw e;
      });
      let served: RunningHttp | null = null;
      if (http) {
        try {
          // paper keeps no state: the webhook intake is an in-memory SQLite there; behind the lease, the lease's
          // health server hands its address (the port it really took) to the whole face, the moment it listens
          served = await serveHttp({
            settings: http.settings, bot, markets, logger, state: mode === 'paper' ? null : o.state,
            ...(o.intakeStore !== undefined ? { intakeState: o.intakeStore } : {}), ...(held ? { health: held.health, takeOver: held.handover } : {}),
          });
        } catch (e) {
          early.release();
          await held?.release();
          throw e;
        }
      }
      let result: ReplayResult;
      try {
        result = await runUntilSignalled(bot, early);
      } finally {
        await served?.close();
        await held?.release();
      }
      process.stdout.write((o.json ? JSON.stringify(result.summary) : `run finished: ${result.summary.candles} candles (history included), ${result.summary.signals} signals, ${result.summary.trades} trades, realized ${result.summary.realizedPnl}`) + '\n');
      await logger.close();
    });
}

/**
 * Waits for the account's leader lease on the PostgreSQL state (src/adapters/postgres/lease.ts), trying every
 * second; meanwhile, with --http, health says standby. 'stopped' when a SIGINT/SIGTERM came first. Once held,
 * the run starts as any run does (recovery, then reconciliation), then `handover()` closes the lease's health
 * server and gives its address to the bot's whole HTTP face, where `health` keeps the lease as a component.
 * If the lease is lost the process exits (3) at once.
 */
async function holdLease(o: RunOptions, creds: Credentials, listen: { host: string; port: number } | null, logger: Logger, early: { asked(): string | null }):
  Promise<'stopped' | { handover(): Promise<{ host: string; port: number } | null>; health: () => ReturnType<typeof leaseHealth>; release(): Promise<void> }> {
  const clock = new SystemClock();
  const lease = new PgLease({ url: o.state, account: o.account !== undefined ? `name:${o.account}` : `api-key:${creds.apiKey}`, ...(o.account !== undefined ? { label: o.account } : {}), now: () => clock.now() });
  let health: LeaseHealthServer | null = null;
  if (listen) {
    try {
      health = await serveLeaseHealth({ ...listen, lease: () => lease.status() });
    } catch (e) {
      throw new InputError(`--http ${listen.host}:${listen.port}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    process.stderr.write(`http: health on ${health.address} (this instance is behind the account's leader lease: webhook, operator API and metrics once it holds it)\n`);
  }
  let said: string | null = null;
  let got: boolean;
  try {
    got = await lease.acquire(() => early.asked() !== null, (s) => {
      if (s.reason !== said) logger.warn('lease.standby', { account: s.account, holder: s.holder }, (said = s.reason) ?? 'standing by');
    }, { failFast: true });
  } catch (e) {
    await health?.close();
    if (e instanceof LeaseError) throw new InputError(`--state: ${e.message}`);
    throw e;
  }
  if (!got) {
    await lease.release();
    await health?.close();
    return 'stopped';
  }
  logger.info('lease.acquired', { account: lease.status().account }, `leader lease of account ${lease.status().account} taken: this instance trades (recovery and reconciliation first)`);
  // a lost lease is a fence: another instance may be trading a moment later, so this one ends at once, as a crash
  // would (every acknowledged write is durable; the next holder recovers and reconciles), exit 3 (degraded)
  lease.onLost((reason) => {
    logger.error('lease.lost', { account: lease.status().account }, `${reason}; exiting now`);
    setTimeout(() => process.exit(3), 1000).unref();
    void logger.close().finally(() => process.exit(3));
  });
  return {
    handover: async () => {
      const h = health;
      health = null;
      await h?.close();
      return h ? h.listen : null;
    },
    health: () => leaseHealth(lease.status()),
    release: async () => {
      await lease.release();
      await health?.close();
    },
  };
}

/** Catches SIGINT/SIGTERM while the bot is being composed (its recovery runs then): `asked()` is the first one. */
export function signalsUntilStarted(): { asked(): string | null; release(): void } {
  let first: string | null = null;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => void (first ??= sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return { asked: () => first, release: () => handlers.forEach(([sig, h]) => process.removeListener(sig, h)) };
}

/** Starts the bot and stops it gracefully on SIGINT/SIGTERM (after the current candle); resolves with its result. */
export async function runUntilSignalled(bot: Bot, early?: { asked(): string | null; release(): void }): Promise<ReplayResult> {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => void bot.stop(sig);
    process.once(sig, h);
    return [sig, h] as const;
  });
  early?.release();
  try {
    await bot.start();
    const asked = early?.asked();
    if (asked) void bot.stop(asked);
    // under pm2 (wait_ready): ready once recovered and listening
    process.send?.('ready');
    return await bot.done;
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  }
}
