/**
 * `tollgate telegram --state FILE|URL`: the Telegram front over the operator service of a state (a SQLite file or a
 * PostgreSQL URL), beside a bot running on the same state (pm2): trades are bookings in its ledger,
 * pause/resume/guard switches are kept controls the bot follows at its next controls check.
 *
 *   TOLLGATE_TELEGRAM_TOKEN / TOLLGATE_TELEGRAM_TOKEN_FILE   the bot token (the file must be mode 600)
 *   TOLLGATE_TELEGRAM_CHATS or --chats 123,456                 the chat ids that may command (required)
 *
 * The token is masked in the log and never printed; the process stops on SIGINT/SIGTERM.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { createPinoLogger } from '../adapters/log/pino-logger.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { openStateStore, shownPlace, type OpenedState } from '../adapters/state-open.ts';
import { InputError } from '../engine/wiring.ts';
import { HttpConfigError, secretFrom } from '../http/config.ts';
import { krakenMarkets } from '../kraken/pairs.ts';
import { OperatorService } from '../operator/service.ts';
import { Ledger } from '../portfolio/ledger.ts';
import { createTelegramFront } from '../telegram/bot.ts';
import { DEFAULT_STATE, statusJson } from './cli-state.ts';

export const TOKEN_ENV = 'TOLLGATE_TELEGRAM_TOKEN';
export const CHATS_ENV = 'TOLLGATE_TELEGRAM_CHATS';

export function telegramToken(env: NodeJS.ProcessEnv): string {
  let token: string | null;
  try {
    token = secretFrom(env, TOKEN_ENV);
  } catch (e) {
    if (e instanceof HttpConfigError) throw new InputError(e.message);
    throw e;
  }
  if (!token) throw new InputError(`telegram: no bot token: set ${TOKEN_ENV} or ${TOKEN_ENV}_FILE (a file of mode 600)`);
  if (!/^\d+:[\w-]{20,}$/.test(token)) throw new InputError(`telegram: ${TOKEN_ENV}: not a bot token (expected the form 123456:ABC…, as @BotFather gives it)`);
  return token;
}

export function allowedChats(list: string | undefined): Set<number> {
  const parts = (list ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) throw new InputError(`telegram: no allowed chats: give --chats 123,456 or ${CHATS_ENV} (only these chat ids may command)`);
  const ids = parts.map((p) => {
    if (!/^-?\d{1,20}$/.test(p)) throw new InputError(`telegram: chat id "${p}" is not a number (see the chat's id with @userinfobot)`);
    return Number(p);
  });
  return new Set(ids);
}

export function registerTelegramCommand(program: Command): void {
  program
    .command('telegram')
    .description('the Telegram front: /status /buy /sell /close /setcash /pause /resume over the operator service of a state file; orders ask for confirmation')
    .option('--state <file|url>', 'the state the commands book into: a SQLite file, or postgres://…', DEFAULT_STATE)
    .option('--chats <ids>', `chat ids that may command, comma-separated (default: ${CHATS_ENV})`)
    .option('--logs <dir>', 'directory for telegram.jsonl (the operational log)', 'logs')
    .option('--api-root <url>', 'Bot API server (default Telegram\'s; a self-hosted Bot API server, or a test double)')
    .option('--confirm-seconds <n>', 'how long a Confirm button stays valid', '120')
    .action(async (o: { state: string; chats?: string; logs: string; apiRoot?: string; confirmSeconds: string }) => {
      const token = telegramToken(process.env);
      const chats = allowedChats(o.chats ?? process.env[CHATS_ENV]);
      const confirmSeconds = Number(o.confirmSeconds);
      if (!Number.isFinite(confirmSeconds) || confirmSeconds <= 0) throw new InputError(`--confirm-seconds ${o.confirmSeconds}: expected a positive number`);
      if (o.apiRoot !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(o.apiRoot)) throw new InputError(`--api-root ${o.apiRoot}: expected an origin such as http://127.0.0.1:8081`);
      let store: OpenedState;
      try {
        store = openStateStore(o.state, { mustExist: true });
      } catch (e) {
        if (e instanceof StateDbError) throw new InputError(e.message);
        throw e;
      }
      const clock = new SystemClock();
      const markets = krakenMarkets();
      const ledger = new Ledger(store, clock, (p) => markets.get(p));
      const operator = new OperatorService({ ledger, clock, controls: store, ledgerStatus: () => statusJson(store) });
      const logger = createPinoLogger({ file: join(o.logs, 'telegram.jsonl'), secrets: [token], stderr: true, pretty: false });
      const front = createTelegramFront({ token, ...(o.apiRoot ? { apiRoot: o.apiRoot.replace(/\/$/, '') } : {}), operator, clock, allowedChats: chats, logger, confirmWindowMs: confirmSeconds * 1000 });
      try {
        await front.start();
        process.stderr.write(`telegram: polling; ${chats.size} allowed chat(s); state ${shownPlace(o.state)}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      } catch (e) {
        throw new InputError((e as Error).message);
      } finally {
        await front.stop();
        logger.info('telegram.shutdown', {});
        await logger.close();
        store.close();
      }
    });
}
