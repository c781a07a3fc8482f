/**
 * Operator controls kept in the state (`operator.controls`): whether entries are paused and the guards'
 * modes switched by an operator. The operator service writes them; a bot applies them at its start and
 * re-reads them on a schedule, so a command given to the state from another process (the CLI while the bot
 * runs under pm2) reaches the running bot within seconds.
 */
import type { EntryPause, GuardCode, GuardMode } from '../domain/types.ts';
/** What controls act on: the running Bot (only these of its methods). */
export interface Controllable {
  readonly paused: EntryPause | null;
  pause(by: string, reason: string, since?: number): EntryPause;
  resume(by: string): EntryPause | null;
  guardModes(): Array<{ code: GuardCode; mode: GuardMode }>;
  setGuardMode(code: GuardCode, mode: GuardMode, by: string, reason: string): GuardMode;
}

/** What operators switched, kept in the state so a restart (or another process) follows it. */
export interface Controls {
  readonly paused: EntryPause | null;
  readonly guardModes: Readonly<Partial<Record<GuardCode, GuardMode>>>;
}

export const CONTROLS_KEY = 'operator.controls';
export const NO_CONTROLS: Controls = { paused: null, guardModes: {} };

/** Where the controls are kept (the state's key-value table). */
export interface ControlsStore {
  guardState<T>(key: string): T | undefined;
  setGuardState(key: string, value: unknown, ts: number): void;
}

/** Applies kept controls to a bot (at its start, and when another process changed them). */
export function applyControls(bot: Controllable, c: Controls): void {
  const paused = bot.paused;
  if (c.paused && (!paused || paused.since !== c.paused.since)) bot.pause(c.paused.by, c.paused.reason, c.paused.since);
  if (!c.paused && paused) bot.resume(paused.by);
  const now = new Map(bot.guardModes().map((g) => [g.code, g.mode]));
  for (const [code, mode] of Object.entries(c.guardModes) as Array<[GuardCode, GuardMode]>) {
    // a kept switch of an opt-in guard this bot's config leaves out has nothing to switch
    if (now.has(code) && now.get(code) !== mode) bot.setGuardMode(code, mode, 'operator.controls', 'kept by the operator');
  }
}

