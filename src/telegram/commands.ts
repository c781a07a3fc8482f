/**
 * Telegram's commands over the operator service (the seed's /status /buy /sell /setcash, and close, pause,
 * resume): parsing, the confirmation of money-moving commands, and the replies. No Telegram library here:
 * the grammY bot (./bot.ts) hands in the chat, the text and the button presses.
 *
 * - Only configured chat ids may command; any other chat gets one refusal and nothing runs.
 * - buy, sell, close and setcash are never run on the message: the reply restates the command with a
 *   Confirm / Cancel keyboard; it runs on Confirm, within the confirmation window, once. The confirmation's
 *   id is the operator service's idempotency key, so a double tap (or Telegram re-delivering the press)
 *   books nothing twice.
 * - The caller in the audit log is `telegram:<chat id>`.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { Caller, OperatorService } from '../operator/service.ts';

/** what a booking answers (the ledger's result, through the operator service) */
type LedgerResult = ReturnType<OperatorService['buy']>;

export interface Reply {
  readonly text: string;
  /** a Confirm / Cancel keyboard for this pending command */
  readonly confirm?: { readonly id: string };
}

type Pending =
  | { readonly kind: 'buy' | 'sell'; readonly pair: string; readonly quantity: string; readonly price?: string; readonly fee?: string; readonly reason?: string }
  | { readonly kind: 'close'; readonly positionId: string; readonly price?: string; readonly fee?: string; readonly reason?: string }
  | { readonly kind: 'setcash'; readonly currency: string; readonly amount: string; readonly reason: string };

interface Waiting {
  readonly chatId: number;
  readonly command: Pending;
  readonly expires: number;
}

export interface TelegramCommandsOptions {
  readonly operator: OperatorService;
  readonly clock: Clock;
  readonly allowedChats: ReadonlySet<number>;
  /** how long a confirmation stays valid, ms (default 2 minutes) */
  readonly confirmWindowMs?: number;
  /** confirmation ids (tests); default random */
  readonly newId?: () => string;
}

export const CONFIRM_PREFIX = 'ok:';
export const CANCEL_PREFIX = 'no:';

const DECIMAL = /^\d+(\.\d+)?$/;

export const HELP = [
  'Tollgate commands:',
  '/status — bot, cash, positions, pause',
  '/buy PAIR QTY [PRICE] [FEE] — book a buy (asks to confirm)',
  '/sell PAIR QTY [PRICE] [FEE] — book a sell (asks to confirm)',
  '/close POSITION [PRICE] [FEE] — close a position (asks to confirm)',
  '/setcash CCY AMOUNT REASON… — set a cash balance (asks to confirm)',
  '/pause REASON… — pause new entries',
  '/resume — resume entries',
].join('\n');

class Usage extends Error {}

function decimal(v: string | undefined, what: string): string {
  if (v === undefined || !DECIMAL.test(v)) throw new Usage(`${what}: expected a decimal number such as 0.01 (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
  return v;
}

function optionalDecimal(v: string | undefined, what: string): string | undefined {
  return v === undefined ? undefined : decimal(v, what);
}

function describe(c: Pending): string {
  switch (c.kind) {
    case 'buy':
    case 'sell':
      return `${c.kind.toUpperCase()} ${c.quantity} ${c.pair}${c.price ? ` @ ${c.price}` : ' @ last mark'}${c.fee ? `, fee ${c.fee}` : ''}`;
    case 'close':
      return `CLOSE position ${c.positionId}${c.price ? ` @ ${c.price}` : ' @ last mark'}${c.fee ? `, fee ${c.fee}` : ''}`;
    case 'setcash':
      return `SET CASH ${c.currency} to ${c.amount} (${c.reason})`;
  }
}

function booked(r: LedgerResult): string {
  const cash = r.cash && typeof r.cash === 'object'
    ? Object.entries(r.cash as Record<string, string>).map(([c, v]) => `${c} ${v}`).join(', ')
    : typeof r.currency === 'string' && r.after !== undefined ? `${r.currency} ${String(r.after)} (was ${String(r.before)})` : '';
  const closed = r.closed as { pnl?: string } | null | undefined;
  const pos = r.positionId ? ` position ${String(r.positionId)}${closed?.pnl !== undefined ? ` closed, PnL ${closed.pnl}` : r.quantity !== undefined ? ` holds ${String(r.quantity)}` : ''}` : '';
  return `done: sequence ${r.seq}, ${r.operation}${pos}${cash ? `; cash ${cash}` : ''}${r.repeated ? ' (already booked: nothing changed)' : ''}`;
}

export class TelegramCommands {
  private readonly waiting = new Map<string, Waiting>();
  private readonly refused = new Set<number>();
  private readonly windowMs: number;
  private readonly newId: () => string;

  constructor(private readonly o: TelegramCommandsOptions) {
    this.windowMs = o.confirmWindowMs ?? 120_000;
    this.newId = o.newId ?? (() => randomUUID().slice(0, 12));
  }

  allowed(chatId: number): boolean {
    return this.o.allowedChats.has(chatId);
  }

  private caller(chatId: number, key?: string): Caller {
    return { actor: `telegram:${chatId}`, ...(key !== undefined ? { idempotencyKey: key } : {}) };
  }

  /** A text message from a chat. null: say nothing (an unauthorised chat that was told once already). */
  message(chatId: number, text: string): Reply | null {
    if (!this.allowed(chatId)) {
      if (this.refused.has(chatId)) return null;
      this.refused.add(chatId);
      return { text: `not authorised: chat ${chatId} is not in this bot's allowed chats` };
    }
    const [head = '', ...args] = text.trim().split(/\s+/);
    const cmd = head.replace(/@\w+$/, '').toLowerCase();
    try {
      switch (cmd) {
        case '/start':
        case '/help':
          return { text: HELP };
        case '/status':
          return { text: this.status() };
        case '/buy':
        case '/sell': {
          const [pair, qty, price, fee] = args;
          if (!pair) throw new Usage(`usage: ${cmd} PAIR QTY [PRICE] [FEE]`);
          return this.ask(chatId, { kind: cmd === '/buy' ? 'buy' : 'sell', pair: pair.toUpperCase(), quantity: decimal(qty, 'QTY'), ...opt('price', optionalDecimal(price, 'PRICE')), ...opt('fee', optionalDecimal(fee, 'FEE')) });
        }
        case '/close': {
          const [positionId, price, fee] = args;
          if (!positionId) throw new Usage('usage: /close POSITION [PRICE] [FEE] (ids in /status)');
          return this.ask(chatId, { kind: 'close', positionId, ...opt('price', optionalDecimal(price, 'PRICE')), ...opt('fee', optionalDecimal(fee, 'FEE')) });
        }
        case '/setcash': {
          const [currency, amount, ...why] = args;
          if (!currency || !/^[A-Za-z]{2,6}$/.test(currency)) throw new Usage('usage: /setcash CCY AMOUNT REASON…');
          if (!why.length) throw new Usage('/setcash needs a reason: it is written to the audit log');
          return this.ask(chatId, { kind: 'setcash', currency: currency.toUpperCase(), amount: decimal(amount, 'AMOUNT'), reason: why.join(' ') });
        }
        case '/pause': {
          const reason = args.join(' ');
          if (!reason) throw new Usage('/pause needs a reason: it is written to the audit log');
          const r = this.o.operator.pause(this.caller(chatId), reason);
          return { text: `entries paused (sequence ${r.seq})${r.applied ? '' : ': the bot follows at its next controls check'}` };
        }
        case '/resume': {
          const r = this.o.operator.resume(this.caller(chatId), args.join(' ') || 'resumed from Telegram');
          return { text: `entries resumed (sequence ${r.seq})${r.applied ? '' : ': the bot follows at its next controls check'}` };
        }
        default:
          return { text: `unknown command ${JSON.stringify(head)}\n\n${HELP}` };
      }
    } catch (e) {
      return { text: e instanceof Usage ? e.message : `refused: ${(e as Error).message}` };
    }
  }

  /** A press of a Confirm / Cancel button. */
  press(chatId: number, data: string): Reply {
    if (!this.allowed(chatId)) return { text: `not authorised: chat ${chatId} is not in this bot's allowed chats` };
    const confirm = data.startsWith(CONFIRM_PREFIX);
    if (!confirm && !data.startsWith(CANCEL_PREFIX)) return { text: 'unknown button' };
    const id = data.slice(CONFIRM_PREFIX.length);
    const w = this.waiting.get(id);
    if (!w || w.chatId !== chatId) return { text: 'nothing to confirm: it was done, cancelled, or asked in another chat' };
    this.waiting.delete(id);
    if (!confirm) return { text: `cancelled: ${describe(w.command)}` };
    if (this.o.clock.now() > w.expires) return { text: `expired: ${describe(w.command)} was not confirmed within ${Math.round(this.windowMs / 1000)} s; send it again` };
    try {
      return { text: `${describe(w.command)}\n${booked(this.run(this.caller(chatId, `telegram:${id}`), w.command))}` };
    } catch (e) {
      return { text: `${describe(w.command)}\nrefused: ${(e as Error).message}` };
    }
  }

  private ask(chatId: number, command: Pending): Reply {
    const now = this.o.clock.now();
    for (const [k, w] of this.waiting) if (now > w.expires) this.waiting.delete(k);
    const id = this.newId();
    this.waiting.set(id, { chatId, command, expires: now + this.windowMs });
    return { text: `confirm: ${describe(command)}?`, confirm: { id } };
  }

  private run(caller: Caller, c: Pending): LedgerResult {
    const op = this.o.operator;
    switch (c.kind) {
      case 'buy':
        return op.buy(caller, { pair: c.pair, quantity: c.quantity, ...opt('price', c.price), ...opt('fee', c.fee), reason: c.reason ?? 'telegram' });
      case 'sell':
        return op.sell(caller, { pair: c.pair, quantity: c.quantity, ...opt('price', c.price), ...opt('fee', c.fee), reason: c.reason ?? 'telegram' });
      case 'close':
        return op.close(caller, { positionId: c.positionId, ...opt('price', c.price), ...opt('fee', c.fee), reason: c.reason ?? 'telegram' });
      case 'setcash':
        return op.setCash(caller, { currency: c.currency, amount: c.amount, reason: c.reason });
    }
  }

  private status(): string {
    const s = this.o.operator.status();
    const l = s.ledger as { sequence?: number; cash?: Record<string, string>; positions?: Array<{ id?: string; pair: string; quantity: string; entryPrice: string; unrealizedPnl: string }>; realizedPnl?: string };
    const lines = [
      s.bot ? `bot: ${s.bot.mode} ${s.bot.state} on ${s.bot.pair}, ${s.bot.candles} candles, ${s.bot.signals.received} signals` : 'bot: not running in this process',
      `entries: ${s.controls.paused ? `PAUSED by ${s.controls.paused.by}: ${s.controls.paused.reason}` : 'open'}`,
      `cash: ${Object.entries(l.cash ?? {}).map(([c, v]) => `${v} ${c}`).join(', ') || '-'}`,
      `realized PnL: ${l.realizedPnl ?? '0'} (sequence ${l.sequence ?? 0})`,
    ];
    const ps = l.positions ?? [];
    lines.push(ps.length ? `positions (${ps.length}):` : 'positions: none');
    for (const p of ps) lines.push(`  ${p.id ?? '?'} ${p.pair} ${p.quantity} @ ${p.entryPrice}, unrealized ${p.unrealizedPnl}`);
    return lines.join('\n');
  }
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}
