/**
 * The Telegram front: a grammY bot (long polling) over TelegramCommands, i.e. over the operator service.
 * `apiRoot` points it at another Bot API server (the tests' fake one on 127.0.0.1). The token is never
 * logged: every error message is scrubbed of it before it reaches the logger (a failed request's message
 * names its URL, and the URL holds the token).
 */
import { Bot, GrammyError, HttpError, InlineKeyboard } from 'grammy';
import type { Logger } from '../ports/logger.ts';
import { CANCEL_PREFIX, CONFIRM_PREFIX, TelegramCommands, type Reply, type TelegramCommandsOptions } from './commands.ts';

export interface TelegramBotOptions extends TelegramCommandsOptions {
  readonly token: string;
  /** the Bot API root (default Telegram's: https://api.telegram.org) */
  readonly apiRoot?: string;
  readonly logger: Logger;
  /** long-polling timeout, seconds (default 30) */
  readonly pollTimeoutSeconds?: number;
}

export interface TelegramFront {
  readonly commands: TelegramCommands;
  /** resolves once polling has started (getMe answered); rejects when the token is refused */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function scrub(text: string, token: string): string {
  return token ? text.split(token).join('<token>') : text;
}

function keyboard(r: Reply): { reply_markup?: InlineKeyboard } {
  return r.confirm ? { reply_markup: new InlineKeyboard().text('Confirm', CONFIRM_PREFIX + r.confirm.id).text('Cancel', CANCEL_PREFIX + r.confirm.id) } : {};
}

export function createTelegramFront(o: TelegramBotOptions): TelegramFront {
  const commands = new TelegramCommands(o);
  const log = o.logger.child({ component: 'telegram' });
  const bot = new Bot(o.token, { client: { ...(o.apiRoot ? { apiRoot: o.apiRoot } : {}) } });

  bot.on('message:text', async (ctx) => {
    const chatId = ctx.chat.id;
    const reply = commands.message(chatId, ctx.message.text);
    const cmd = ctx.message.text.split(/\s+/)[0] ?? '';
    log.info(commands.allowed(chatId) ? 'telegram.command' : 'telegram.refused', { chatId, command: cmd.slice(0, 32) });
    if (reply) await ctx.reply(reply.text, keyboard(reply));
  });

  bot.on('callback_query:data', async (ctx) => {
    const chatId = ctx.chat?.id ?? ctx.from.id;
    const reply = commands.press(chatId, ctx.callbackQuery.data);
    log.info(commands.allowed(chatId) ? 'telegram.confirmation' : 'telegram.refused', { chatId, button: ctx.callbackQuery.data.slice(0, 3) });
    await ctx.answerCallbackQuery();
    // the question is replaced by the outcome, so the buttons cannot be pressed again
    if (ctx.callbackQuery.message) await ctx.editMessageText(reply.text);
    else await ctx.reply(reply.text);
  });

  bot.catch((err) => {
    const e = err.error;
    const what = e instanceof GrammyError ? `Bot API: ${e.description}` : e instanceof HttpError ? `network: ${String(e.error)}` : String((e as Error)?.message ?? e);
    log.error('telegram.error', { error: scrub(what, o.token) });
  });

  let running: Promise<void> | null = null;
  return {
    commands,
    start: async () => {
      try {
        await bot.init();
      } catch (e) {
        throw new Error(scrub(`telegram: the Bot API refused to start: ${(e as Error).message}`, o.token));
      }
      log.info('telegram.started', { username: bot.botInfo.username, allowedChats: [...o.allowedChats] });
      await new Promise<void>((resolve) => {
        running = bot.start({ drop_pending_updates: false, timeout: o.pollTimeoutSeconds ?? 30, onStart: () => resolve() }).catch((e: unknown) => {
          log.error('telegram.stopped', { error: scrub(String((e as Error)?.message ?? e), o.token) });
        });
      });
    },
    stop: async () => {
      if (bot.isRunning()) await bot.stop();
      await running;
    },
  };
}
