/**
 * The operator service: the commands every front shares — the CLI today, the HTTP operator API, the
 * dashboard (through that API) and Telegram next. Freqtrade's rpc layer is the model: one command layer,
 * many fronts. This is where a command's caller and idempotency key are handled:
 *
 *   - every state-changing command names its caller (`operator:alice`, `http:token-1`, `telegram:12345`),
 *     which goes to the audit log with the command and its reason;
 *   - a command repeated with the same idempotency key changes nothing and answers the first answer;
 *     the same key for a different command is refused (IdempotencyConflictError).
 *
 * Trades (buy, sell, close, setcash) are bookings in the ledger: an operator trade made elsewhere, a
 * deposit, a correction. Controls (pause/resume entries, a guard's mode) act on the running Bot when there
 * is one in this process, and are kept in the state (`operator.controls`), so a bot started later — or
 * running in another process on the same state — follows them.
 */
import { randomUUID } from 'node:crypto';
import type { Bot, BotStatus } from '../engine/bot.ts';
import { CONTROLS_KEY, NO_CONTROLS, type Controls, type ControlsStore } from '../engine/controls.ts';
import { GUARD_CODES, type EntryPause, type GuardCode, type GuardMode } from '../domain/types.ts';
import { LedgerRuleError, type Ledger, type LedgerResult, type OpContext } from '../portfolio/ledger.ts';
import type { Clock } from '../ports/clock.ts';

/** Who asks, and the key that makes a repeat safe (default: a fresh one, i.e. not repeat-safe). */
export interface Caller {
  readonly actor: string;
  readonly idempotencyKey?: string;
}

export class OperatorError extends Error {}

export interface OperatorDeps {
  /** the ledger of the state the commands book into */
  readonly ledger: Ledger;
  readonly clock: Clock;
  /** the controls' home; without one (an in-memory replay) controls live as long as the bot */
  readonly controls?: ControlsStore | null;
  /** the engine running in this process, if any */
  readonly bot?: Bot | null;
  /** the ledger's status in the LOGS.md `tollgate status --json` shape */
  readonly ledgerStatus: () => Record<string, unknown>;
}

export interface TradeCommand {
  readonly pair: string;
  readonly quantity: string;
  readonly price?: string;
  readonly fee?: string;
  readonly positionId?: string;
  readonly reason?: string;
}

export interface ControlResult {
  readonly command: 'pause' | 'resume' | 'guard_mode';
  readonly repeated: boolean;
  readonly seq: number;
  readonly paused: EntryPause | null;
  readonly guard?: { readonly code: GuardCode; readonly from: GuardMode; readonly to: GuardMode };
  /** whether a running bot in this process applied it now (else: at its next start, or its next controls check) */
  readonly applied: boolean;
}

const GUARD_MODES: readonly GuardMode[] = ['enforce', 'observe', 'off'];

export class OperatorService {
  constructor(private readonly d: OperatorDeps) {}

  /** The bot's status (when one runs in this process) and the ledger's. */
  status(): { bot: BotStatus | null; ledger: Record<string, unknown>; controls: Controls } {
    return { bot: this.d.bot?.status() ?? null, ledger: this.d.ledgerStatus(), controls: this.controls() };
  }

  buy(caller: Caller, c: TradeCommand): LedgerResult {
    return this.d.ledger.buy(tradeInput(c), this.ctx(caller, c.reason));
  }

  sell(caller: Caller, c: TradeCommand): LedgerResult {
    return this.d.ledger.sell(tradeInput(c), this.ctx(caller, c.reason));
  }

  close(caller: Caller, c: { positionId: string; price?: string; fee?: string; reason?: string }): LedgerResult {
    return this.d.ledger.close({ positionId: c.positionId, fee: c.fee ?? '0', ...(c.price !== undefined ? { price: c.price } : {}) }, this.ctx(caller, c.reason));
  }

  setCash(caller: Caller, c: { currency: string; amount: string; reason: string }): LedgerResult {
    return this.d.ledger.setCash({ currency: c.currency.toUpperCase(), amount: c.amount }, this.ctx(caller, c.reason));
  }

  /** An existing portfolio (cash and positions) into the ledger, all or nothing. */
  importPortfolio(caller: Caller, input: Parameters<Ledger['importPortfolio']>[0], reason: string): LedgerResult {
    return this.d.ledger.importPortfolio(input, this.ctx(caller, reason));
  }

  /** The guards in evaluation order with their current modes (the running bot's, else the kept ones). */
  guards(): Array<{ code: GuardCode; mode: GuardMode | null }> {
    const running = this.d.bot?.guardModes() ?? [];
    if (running.length) return running;
    const kept = this.controls().guardModes;
    return GUARD_CODES.map((code) => ({ code, mode: kept[code] ?? null }));
  }

  pause(caller: Caller, reason: string): ControlResult {
    requireReason(reason, 'pause');
    const pause: EntryPause = { by: caller.actor, reason, since: this.d.bot?.now() ?? this.d.clock.now() };
    const r = this.d.ledger.recordControl('pause', { reason }, this.ctx(caller, reason));
    if (r.repeated) return { command: 'pause', repeated: true, seq: r.seq, paused: this.controls().paused, applied: false };
    this.saveControls({ ...this.controls(), paused: pause });
    const bot = this.d.bot;
    if (bot) bot.pause(pause.by, pause.reason, pause.since);
    return { command: 'pause', repeated: false, seq: r.seq, paused: pause, applied: Boolean(bot?.pipeline) };
  }

  resume(caller: Caller, reason = 'resumed'): ControlResult {
    const r = this.d.ledger.recordControl('resume', { reason }, this.ctx(caller, reason));
    if (r.repeated) return { command: 'resume', repeated: true, seq: r.seq, paused: this.controls().paused, applied: false };
    this.saveControls({ ...this.controls(), paused: null });
    const bot = this.d.bot;
    if (bot) bot.resume(caller.actor);
    return { command: 'resume', repeated: false, seq: r.seq, paused: null, applied: Boolean(bot?.pipeline) };
  }

  setGuardMode(caller: Caller, code: string, mode: string, reason: string): ControlResult {
    if (!(GUARD_CODES as readonly string[]).includes(code)) throw new OperatorError(`guard ${code}: not a guard code (${GUARD_CODES.join(', ')})`);
    const running = this.d.bot?.pipeline ? this.d.bot.guardModes() : [];
    if (running.length && !running.some((x) => x.code === code)) throw new OperatorError(`guard ${code}: not in the running bot's chain (an opt-in guard: configure guards.${code} to use it)`);
    if (!(GUARD_MODES as readonly string[]).includes(mode)) throw new OperatorError(`mode ${mode}: expected ${GUARD_MODES.join(', ')}`);
    requireReason(reason, 'a guard switch');
    const g = code as GuardCode;
    const to = mode as GuardMode;
    const from = this.guards().find((x) => x.code === g)?.mode ?? to;
    // a repeat is the same switch (code, to) even though the first one changed what it switches from
    const r = this.d.ledger.recordControl('guard_mode', { code: g, from, to }, this.ctx(caller, reason), { code: g, to });
    if (r.repeated) return { command: 'guard_mode', repeated: true, seq: r.seq, paused: this.controls().paused, guard: { code: g, from: String(r.from) as GuardMode, to }, applied: false };
    const kept = this.controls();
    this.saveControls({ ...kept, guardModes: { ...kept.guardModes, [g]: to } });
    const bot = this.d.bot;
    if (bot?.pipeline) bot.setGuardMode(g, to, caller.actor, reason);
    return { command: 'guard_mode', repeated: false, seq: r.seq, paused: kept.paused, guard: { code: g, from, to }, applied: Boolean(bot?.pipeline) };
  }

  controls(): Controls {
    return this.d.controls?.guardState<Controls>(CONTROLS_KEY) ?? this.memory;
  }

  private memory: Controls = NO_CONTROLS;

  private saveControls(c: Controls): void {
    if (this.d.controls) this.d.controls.setGuardState(CONTROLS_KEY, c, this.d.clock.now());
    else this.memory = c;
  }

  private ctx(caller: Caller, reason: string | undefined): OpContext {
    if (!caller.actor) throw new OperatorError('a command needs a caller (actor) for the audit log');
    return { actor: caller.actor, key: caller.idempotencyKey ?? randomUUID(), ...(reason !== undefined ? { reason } : {}) };
  }
}

function requireReason(reason: string, what: string): void {
  if (!reason || !reason.trim()) throw new OperatorError(`${what} needs a reason: it is written to the audit log`);
}

function tradeInput(c: TradeCommand) {
  if (!c.pair) throw new LedgerRuleError('a trade needs a pair');
  return { pair: c.pair, quantity: c.quantity, fee: c.fee ?? '0', ...(c.price !== undefined ? { price: c.price } : {}), ...(c.positionId ? { positionId: c.positionId } : {}) };
}
