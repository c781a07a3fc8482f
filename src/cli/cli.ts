/**
 * The `tollgate` command line. Input (config, CSV, pair) is validated completely before anything is
 * written; a problem is one clear message on stderr and a non-zero exit.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stopwatch, SystemClock } from '../adapters/clock/clocks.ts';
import { isoTime } from '../domain/time.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { loadLedger } from '../portfolio/ledger.ts';
import { DegradedError } from '../engine/durable-replay.ts';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { CsvError, loadKrakenOhlcvt } from '../adapters/csv/kraken-ohlcvt.ts';
import { ConfigError, parseConfig, type Config } from '../config/schema.ts';
import { renderFidelity } from '../analytics/counterfactual.ts';
import { runCounterfactual } from '../engine/counterfactual.ts';
import { REPORT_FORMATS, renderFromLogs } from '../engine/reporting.ts';
import { validateReplayInputs, type ReplaySummary } from '../engine/compose.ts';
import { composeBot } from '../engine/compose-bot.ts';
import type { Bot } from '../engine/bot.ts';
import { assertSimReplayable, runSimReplay } from './sim-replay.ts';
import { registerRunCommand, runUntilSignalled } from './cli-run.ts';
import { httpSettings, serveHttp } from './cli-http.ts';
import { createPinoLogger } from '../adapters/log/pino-logger.ts';
import { rotationOf } from '../adapters/jsonl/rotating-file.ts';
import { join } from 'node:path';
import { buildMarkets, InputError, pairFromName } from '../engine/wiring.ts';
import { registerStateCommands } from './cli-state.ts';
import { registerSimCommand } from './cli-sim.ts';
import { registerDigestCommand } from './cli-digest.ts';
import { registerTelegramCommand } from './cli-telegram.ts';
import { registerIntakeCommand } from './cli-intake.ts';
import { registerDeployCommands } from './cli-deploy.ts';
import { registerDoctorCommand } from './cli-doctor.ts';
import { registerDashboardCommand } from './cli-dashboard.ts';

export const EXIT_INPUT = 2;
/** the state does not match what it should be: the bot refuses to go on instead of guessing */
export const EXIT_DEGRADED = 3;

function loadConfig(file: string | undefined): Config {
  if (!file) return parseConfig({}, 'default config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot read config file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(raw, file);
}

function parseDate(v: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/.test(v) ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v.endsWith('Z') ? v : `${v}Z`) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`"${v}" is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)`);
  return ms;
}

function reportFormat_(v: string): (typeof REPORT_FORMATS)[number] {
  if (!(REPORT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`"${v}" is not a report format (${REPORT_FORMATS.join(', ')})`);
  return v as (typeof REPORT_FORMATS)[number];
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number`);
  return n;
}

function money(v: string): string {
  return v.startsWith('-') ? v : `+${v}`;
}

export function formatSummary(s: ReplaySummary): string {
  const lines = [
    `replay ${s.from ?? '-'} → ${s.to ?? '-'}`,
    `  candles        ${s.candles}${s.skippedRows ? ` (${s.skippedRows} bad rows skipped)` : ''}`,
    `  signals        ${s.signals}  (approved ${s.approved}, blocked ${s.blocked}, failed ${s.failed})`,
  ];
  const codes = Object.entries(s.blockedByCode);
  if (codes.length) lines.push(`  blocked by     ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  const observed = Object.entries(s.observedByCode);
  if (observed.length) lines.push(`  observe-only   ${observed.map(([c, n]) => `${c} ${n}`).join(', ')} (would have blocked)`);
  lines.push(
    `  orders         rejected ${s.rejected}, expired unfilled ${s.expired}`,
    `  trades         ${s.trades} closed (${s.wins} won), ${s.openAtEnd} open at end`,
    `  realized PnL   ${money(s.realizedPnl)}  (fees ${s.fees})`,
    `  shadow trades  ${s.shadow.outcomes} outcomes of blocked signals (closed ${s.shadow.closed}, open at end ${s.shadow.openAtEnd}, expired ${s.shadow.expired}, refused ${s.shadow.rejected}); net ${money(s.shadow.pnl)}, without overlaps ${money(s.shadow.headlinePnl)}`,
    `  equity         ${s.equity}  cash ${Object.entries(s.cash).map(([c, v]) => `${v} ${c}`).join(', ')}`,
    `  time           ${(s.elapsedMs / 1000).toFixed(2)} s (${Math.round(s.candles / Math.max(s.elapsedMs, 1) * 1000)} candles/s)`,
  );
  if (s.busErrors) lines.push(`  WARNING        ${s.busErrors} subscriber errors (see bus.error lines in signal_bus.jsonl)`);
  return lines.join('\n');
}

export const DEFAULT_REPLAY_STATE = 'data/replay.db';

/** Runs a bot to its end (a replay: the end of the data). */
async function runBot(bot: Bot) {
  await bot.start();
  return bot.done;
}

function ensureLogsDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`--logs ${dir}: cannot write logs there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Open (or start over) a replay's state file and say what recovery found. */
function openReplayState(file: string, fresh: boolean) {
  if (fresh && existsSync(file)) {
    // nothing is deleted: the old state (with its WAL, if a crash left one) is moved aside
    const aside = `${file}.replaced-${isoTime(new SystemClock().now()).replace(/[:.]/g, '-')}`;
    for (const ext of ['', '-wal', '-shm']) if (existsSync(file + ext)) renameSync(file + ext, aside + ext);
    process.stderr.write(`state: moved ${file} aside to ${aside}\n`);
  }
  const dir = dirname(file);
  if (!existsSync(dir)) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new InputError(`--state ${file}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const elapsed = stopwatch();
  let store: SqliteStateStore;
  try {
    store = SqliteStateStore.open(file, { synchronous: 'NORMAL' });
  } catch (e) {
    if (e instanceof StateDbError) throw new InputError(e.message);
    throw e;
  }
  const cp = store.replayCheckpoint();
  if (cp) {
    const ledger = loadLedger(store);
    const signals = store.signalCounts();
    process.stderr.write(`recovery: loaded ${ledger.positions.size} positions, ${signals.open} signals in ${elapsed().toFixed(1)} ms (${signals.total} signals in the state; ${cp.candlesDone} candles done${cp.finished ? ', finished' : ''})\n`);
  }
  const kill = process.env.TOLLGATE_FAULT_KILL_IN_COMMIT;
  return { store, file, killInCommit: kill ? Number(kill) : undefined };
}

interface InputOptions {
  data: string;
  pair?: string;
  config?: string;
  from?: number;
  to?: number;
  skipBadRows: boolean;
}

/** The input options every replay-like command takes (data, pair, config, logs, window). */
function withInputOptions(cmd: Command, logsHelp: string): Command {
  return cmd
    .requiredOption('--data <file>', 'Kraken OHLCVT export, e.g. XBTUSD_60.csv or .csv.gz')
    .option('--pair <pair>', 'pair as BTC/USD or any Kraken spelling (XBTUSD, XXBTZUSD); default: from the file name (STORJUSD_60.csv → STORJ/USD)')
    .option('--config <file>', 'JSON config (see config.example.json); default: built-in defaults')
    .option('--logs <dir>', logsHelp, 'logs')
    .option('--from <date>', 'first candle time, UTC (YYYY-MM-DD[THH:MM:SSZ])', parseDate)
    .option('--to <date>', 'replay candles before this time, UTC', parseDate)
    .option('--skip-bad-rows', 'skip and count malformed CSV rows instead of stopping', false);
}

/** Config, markets and candles of a replay-like command, validated before anything is written. */
function loadInputs(o: InputOptions) {
  const config = loadConfig(o.config);
  const markets = buildMarkets(config);
  // the pair as written (--pair, any spelling) or from the file name (STORJUSD_60.csv)
  const pair = pairFromName(o.pair ?? o.data);
  if (!markets.has(pair)) throw new InputError(`pair ${pair}: not a market of this config`);
  if (o.from !== undefined && o.to !== undefined && o.from >= o.to) throw new InputError(`--from must be before --to`);
  const series = loadKrakenOhlcvt(o.data, { pair, skipBadRows: o.skipBadRows, fromMs: o.from, toMs: o.to });
  if (series.length === 0) throw new InputError(`${o.data}: no candles between --from and --to`);
  return { config, markets, series };
}

export function buildCli(): Command {
  const program = new Command();
  program.name('tollgate').description('Kraken trading bot: signal bus, lifecycle machine, guards, paper venue, replay').exitOverride();

  withInputOptions(program.command('replay').description('replay a Kraken OHLCVT CSV (plain or .gz) through the full pipeline: paper venue, or the Kraken simulator with --venue sim'), 'directory for the JSONL logs')
    .option('--json', 'print the summary as JSON', false)
    .option('--no-progress', 'no progress output')
    .option('--report [format]', `after the summary, print the report of this run (${REPORT_FORMATS.join('|')}; default text)`)
    .option('--venue <venue>', 'paper (simulated fills), or sim: trade through ccxt with signed requests against a Kraken simulator started on 127.0.0.1 with the same data', 'paper')
    .option('--state [file]', `keep the state in this SQLite file and resume from it after an interruption (default ${DEFAULT_REPLAY_STATE})`)
    .option('--fresh', 'with --state: move an existing state file aside and start over', false)
    .option('--pace <candlesPerSecond>', 'replay this many candles per second of real time (to watch it, or to call its --http face)', positiveNumber)
    .option('--http <host:port>', 'with --pace: serve the webhook, health, /metrics and the operator API here (e.g. 127.0.0.1:8080)')
    .action(async (o: { data: string; pair?: string; config?: string; logs: string; from?: number; to?: number; skipBadRows: boolean; json: boolean; progress: boolean; report?: string | boolean; state?: string | boolean; fresh: boolean; venue: string; pace?: number; http?: string }) => {
      if (o.venue !== 'paper' && o.venue !== 'sim') throw new InputError(`--venue ${o.venue}: expected paper or sim`);
      if (o.venue === 'sim' && o.state !== undefined) throw new InputError('--venue sim keeps no --state (yet): the simulator is started fresh for the run');
      if (o.http !== undefined && o.pace === undefined) throw new InputError('--http goes with --pace: an unpaced replay ends before anything can call it');
      if ((o.http !== undefined || o.pace !== undefined) && o.venue === 'sim') throw new InputError('--pace and --http are for the paper venue replay');
      const reportFormat = o.report === undefined || o.report === false ? null : o.report === true ? 'text' : reportFormat_(o.report);
      const { config, markets, series } = loadInputs(o);
      const tty = process.stderr.isTTY && o.progress;
      let bar: cliProgress.SingleBar | null = null;
      let lastPct = -1;
      const onProgress = !o.progress
        ? undefined
        : tty
          ? (done: number, total: number) => {
              if (!bar) {
                bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'replay [{bar}] {percentage}% | {value}/{total} candles | eta {eta}s' }, cliProgress.Presets.shades_classic);
                bar.start(total, 0);
              }
              bar.update(done);
            }
          : (done: number, total: number) => {
              const pct = Math.floor((done / total) * 10) * 10;
              if (pct !== lastPct) {
                lastPct = pct;
                process.stderr.write(`replay: ${pct}% (${done}/${total} candles)\n`);
              }
            };
      if (o.fresh && o.state === undefined) throw new InputError('--fresh goes with --state');
      validateReplayInputs({ config, markets, series }); // bad input writes nothing: no logs directory, no state file
      if (o.venue === 'sim') assertSimReplayable(series.pair);
      ensureLogsDir(o.logs); // before any state file is created: a bad --logs must leave nothing behind
      const durable = o.state === undefined ? undefined : openReplayState(o.state === true ? DEFAULT_REPLAY_STATE : String(o.state), o.fresh);
      const http = o.http !== undefined ? httpSettings(o.http, config, join(o.logs, 'bot.jsonl')) : null;
      let result;
      try {
        if (o.venue === 'sim') result = await runSimReplay({ config, markets, series, logsDir: o.logs, onProgress, mode: 'replay-sim' });
        else {
          const logger = http ? createPinoLogger({ file: join(o.logs, 'bot.jsonl'), pretty: false, secrets: http.secrets, rotate: rotationOf(config.logs?.rotate) }) : undefined;
          const bot = await composeBot({ mode: 'replay', config, markets, series, logsDir: o.logs, onProgress, ...(durable ? { durable } : {}), ...(o.pace !== undefined ? { pace: o.pace } : {}), ...(logger ? { logger } : {}) });
          const served = http && logger ? await serveHttp({ settings: http.settings, bot, markets, logger, state: durable?.store ?? null }) : null;
          try {
            // served: SIGINT/SIGTERM stop the replay after its candle (the HTTP face drains first)
            result = served ? await runUntilSignalled(bot) : await runBot(bot);
          } finally {
            await served?.close();
            await logger?.close();
          }
        }
      } finally {
        durable?.store.close();
      }
      const { summary } = result;
      (bar as cliProgress.SingleBar | null)?.stop();
      process.stdout.write((o.json ? JSON.stringify(summary) : formatSummary(summary)) + '\n');
      if (reportFormat) process.stdout.write('\n' + renderFromLogs(o.logs, reportFormat, { run: summary.runId }) + '\n');
    });

  program
    .command('report')
    .description('blocked-opportunity cost, guard effectiveness, recommendations, strategy leaderboard and pipeline health, from the JSONL logs')
    .option('--logs <dir>', 'directory holding the JSONL logs', 'logs')
    .option('--format <format>', `${REPORT_FORMATS.join(' | ')}`, reportFormat_, 'text' as (typeof REPORT_FORMATS)[number])
    .option('--since <date>', 'only signals decided at or after this time, UTC (YYYY-MM-DD[THH:MM:SSZ])', parseDate)
    .option('--run <id>', 'run id, "latest" (the last run started in the logs) or "all"', 'latest')
    .option('--stuck-after <minutes>', 'a non-terminal signal older than this is stuck', positiveNumber, 360)
    .option('--min-sample <n>', 'fewest trades behind a recommendation', positiveNumber, 30)
    .option('--out <file>', 'write the report to this file instead of stdout')
    .action((o: { logs: string; format: (typeof REPORT_FORMATS)[number]; since?: number; run: string; stuckAfter: number; minSample: number; out?: string }) => {
      const text = renderFromLogs(o.logs, o.format, { run: o.run, since: o.since ?? null }, { stuckAfterMs: o.stuckAfter * 60_000, minSample: Math.ceil(o.minSample) });
      if (o.out) {
        try {
          writeFileSync(o.out, text + '\n');
        } catch (e) {
          throw new InputError(`--out ${o.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        process.stderr.write(`report written to ${o.out}\n`);
      } else process.stdout.write(text + '\n');
    });

  withInputOptions(program.command('counterfactual').description('fidelity check of the shadow engine: replay twice (GUARD enforcing, then observing) and compare shadow with realized outcomes').requiredOption('--guard <code>', 'guard code, e.g. COOLDOWN'), 'logs of both runs go under DIR/counterfactual-GUARD/')
    .option('--json', 'print the comparison as JSON', false)
    .action((o: InputOptions & { guard: string; logs: string; json: boolean }) => {
      const { config, markets, series } = loadInputs(o);
      const { result } = runCounterfactual(o.guard, config, markets, series, o.logs);
      process.stdout.write((o.json ? JSON.stringify(result, null, 2) : renderFidelity(result)) + '\n');
    });

  const cfg = program.command('config').description('configuration tools');
  cfg
    .command('check')
    .argument('<file>', 'JSON config file')
    .description('validate a config file and name the first bad field')
    .action((file: string) => {
      const c = loadConfig(file);
      buildMarkets(c);
      process.stdout.write(`${file}: ok (${c.strategies.length} strategies, ${Object.values(c.guards).filter((g) => g.mode === 'enforce').length} guards enforcing)\n`);
    });

  registerStateCommands(program);
  registerSimCommand(program);
  registerRunCommand(program, loadConfig);
  registerDigestCommand(program);
  registerTelegramCommand(program);
  registerIntakeCommand(program, loadConfig);
  registerDeployCommands(program);
  registerDoctorCommand(program);
  registerDashboardCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or the help)
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : EXIT_INPUT;
    }
    if (e instanceof DegradedError) {
      process.stderr.write(`tollgate: health: degraded — ${e.message}\n`);
      return EXIT_DEGRADED;
    }
    if (e instanceof ConfigError || e instanceof CsvError || e instanceof InputError) {
      process.stderr.write(`tollgate: ${e.message}\n`);
      return EXIT_INPUT;
    }
    process.stderr.write(`tollgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
