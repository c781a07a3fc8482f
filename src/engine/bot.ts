/**
 * The Bot: one running engine that every front (CLI, HTTP server, dashboard through the operator API,
 * tests) starts, queries and commands. It is built by the one composition function (`composeBot` in
 * compose.ts) for every mode — replay, paper, sim, live — which differ only in the injected clock, market
 * data feed, venue and store; the Bot itself never asks which mode it is in beyond reporting it.
 *
 *   start()   runs the engine in the background; resolves once the pipeline exists (state recovered and
 *             reconciled in sim/live, restored signals and positions in place), so a caller can report ready
 *   stop()    asks the engine to stop after the current candle; resolves with the run's result
 *   done      the run's result when it ends by itself (end of data, --max-candles, the simulator stopping)
 *   status()  what is running, how far it got, what is paused, halted or unhealthy, and why
 *
 * Commands (pause/resume entries, guard modes) are methods here, but fronts call them through the operator
 * service (src/operator/), which adds idempotency and the audit trail.
 */
import type { BlockCode, EntryPause, GuardCode, GuardMode, Signal } from '../domain/types.ts';
import { isoTime } from '../domain/time.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { PipelineParts, ReplayResult, ReplaySummary } from './compose.ts';
import { applyControls, CONTROLS_KEY, type Controls, type ControlsStore } from './controls.ts';
import type { HoldingsCaller, HoldingsResult, HoldingsView, ManageCommand, UnmanageCommand } from '../execution/holdings.ts';

/** What `manage` / `unmanage` act on: the state's bot positions and external holdings (src/execution/holdings.ts). */
export interface HoldingsCommands {
  view(): HoldingsView;
  manage(caller: HoldingsCaller, c: ManageCommand): HoldingsResult;
  unmanage(caller: HoldingsCaller, c: UnmanageCommand): HoldingsResult;
}

export const BOT_MODES = ['replay', 'paper', 'sim', 'live'] as const;
export type BotMode = (typeof BOT_MODES)[number];
export type BotState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** The component health that /health and `tollgate status` show (seed format). */
export type Health = 'healthy' | 'degraded' | 'unhealthy';

export interface ComponentHealth {
  readonly status: Health;
  readonly reason: string | null;
}

export interface BotStatus {
  readonly mode: BotMode;
  readonly state: BotState;
  readonly pair: string;
  readonly intervalMinutes: number;
  readonly startedAt: string | null;
  /** candles the engine has traded on (history warm-up not counted) and the newest one's open time */
  readonly candles: number;
  readonly lastCandleTs: string | null;
  readonly signals: { readonly received: number; readonly inFlight: number };
  readonly paused: EntryPause | null;
  readonly guards: ReadonlyArray<{ readonly code: GuardCode; readonly mode: GuardMode }>;
  readonly venue: { readonly name: string; readonly halted: string | null };
  readonly reconciliation: { readonly ts: string; readonly differences: number; readonly halted: boolean } | null;
  readonly components: Readonly<Record<string, ComponentHealth>>;
  readonly error: string | null;
  readonly summary: ReplaySummary | null;
}

/** What a mode supplies to the Bot: the run itself and the few facts only the mode's parts know. */
export interface BotRun {
  readonly mode: BotMode;
  readonly pair: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Runs the engine until the data ends or `until` resolves; calls `onPipeline` once the pipeline exists,
   * before the first candle.
   */
  run(until: Promise<void>, onPipeline: (parts: PipelineParts) => void): Promise<ReplayResult>;
  /** the venue's name and, when it has halted trading, why */
  readonly venue: () => { name: string; halted: string | null };
  /** the last reconciliation with the venue (sim/live) */
  readonly reconciliation?: () => { ts: number; differences: number; halted: boolean } | null;
  /** the market data feed's state: fresh, or stale/down and why */
  readonly marketData?: () => ComponentHealth;
  /** where operator controls are kept (sim/live state): applied at start and re-read every few seconds */
  readonly controls?: ControlsStore;
  readonly controlsEveryMs?: number;
  /** bot-managed positions and external holdings of the state (sim/live): manage / unmanage */
  readonly holdings?: HoldingsCommands;
  /** closes what the mode opened (state store, clients), after the run */
  readonly close?: () => void | Promise<void>;
}

export class BotStateError extends Error {}

export class Bot {
  private state: BotState = 'created';
  private parts: PipelineParts | null = null;
  private startedAt: number | null = null;
  private candles = 0;
  private lastCandle: number | null = null;
  private received = 0;
  private error: string | null = null;
  private result: ReplayResult | null = null;
  private stopNow!: () => void;
  private readonly until = new Promise<void>((r) => (this.stopNow = r));
  private running: Promise<ReplayResult> | null = null;
  private pauseBeforeStart: EntryPause | null = null;

  constructor(private readonly r: BotRun) {}

  get mode(): BotMode {
    return this.r.mode;
  }

  get pair(): string {
    return this.r.pair;
  }

  /** The engine's event time (a replay's: the data's). */
  now(): number {
    return this.r.clock.now();
  }

  get logger(): Logger {
    return this.r.logger;
  }

  /** The pipeline's parts (bus, registry, portfolio, kernel) once started; the operator service reads them. */
  get pipeline(): PipelineParts | null {
    return this.parts;
  }

  /** Starts the engine; resolves when its pipeline exists (recovered, ready for candles and signals). */
  start(): Promise<void> {
    if (this.state !== 'created') throw new BotStateError(`the bot was started already (it is ${this.state})`);
    this.state = 'starting';
    this.startedAt = this.r.clock.now();
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    const started = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
    this.running = this.r
      .run(this.until, (parts) => {
        this.parts = parts;
        parts.bus.subscribe('signal', 'bot.status', () => this.received++);
        parts.bus.subscribe('candle', 'bot.status', (c) => {
          this.candles++;
          this.lastCandle = c.ts;
        });
        if (this.pauseBeforeStart) parts.kernel.setPause(this.pauseBeforeStart);
        this.followControls();
        this.state = 'running';
        this.r.logger.info('bot.started', { mode: this.r.mode, pair: this.r.pair, intervalMinutes: this.r.intervalMs / 60_000, venue: this.r.venue().name });
        ready();
      })
      .then(
        async (result) => {
          if (this.controlsTimer) clearInterval(this.controlsTimer);
          this.result = result;
          this.state = 'stopped';
          await this.r.close?.();
          this.r.logger.info('bot.stopped', { mode: this.r.mode, candles: result.summary.candles, signals: result.summary.signals, trades: result.summary.trades, realizedPnl: result.summary.realizedPnl });
          ready(); // a run that ended before its pipeline existed (no data) still counts as started
          return result;
        },
        async (e: unknown) => {
          if (this.controlsTimer) clearInterval(this.controlsTimer);
          this.error = e instanceof Error ? e.message : String(e);
          this.state = 'failed';
          await this.r.close?.();
          this.r.logger.error('bot.failed', { mode: this.r.mode }, this.error);
          failed(e);
          throw e;
        },
      );
    this.running.catch(() => {}); // awaited through done/stop; never an unhandled rejection
    return started;
  }

  private controlsTimer: NodeJS.Timeout | null = null;

  /** Kept operator controls: applied now, then re-read (another process may change them). */
  private followControls(): void {
    const store = this.r.controls;
    if (!store) return;
    const sync = () => {
      try {
        const c = store.guardState<Controls>(CONTROLS_KEY);
        if (c) applyControls(this, c);
      } catch (e) {
        this.r.logger.warn('controls.unreadable', {}, `operator controls: cannot read them (${(e as Error).message}); keeping the current ones`);
      }
    };
    sync();
    this.controlsTimer = setInterval(sync, this.r.controlsEveryMs ?? 5_000);
    this.controlsTimer.unref();
  }

  /** The run's result, when it ends (by itself or after stop()). */
  get done(): Promise<ReplayResult> {
    if (!this.running) throw new BotStateError('the bot has not been started');
    return this.running;
  }

  /** Stops after the current candle; the pipeline finishes (open signals reported, logs flushed). */
  async stop(reason = 'stop requested'): Promise<ReplayResult> {
    if (!this.running) throw new BotStateError('the bot has not been started');
    if (this.state === 'running' || this.state === 'starting') {
      this.state = 'stopping';
      this.r.logger.info('bot.stopping', { reason });
    }
    this.stopNow();
    return this.running;
  }

  get stopping(): boolean {
    return this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed';
  }

  /**
   * A signal from outside the strategies (a webhook): published on the bus topic `signal`, the one path every
   * signal takes (validation, guards, shadow engine). Throws BotStateError until the pipeline exists or once
   * the bot is stopping.
   */
  submitSignal(signal: Signal): void {
    if (!this.parts || this.state !== 'running') throw new BotStateError(`the bot is ${this.state}: it takes signals only while running`);
    // the pipeline's clock stands at the last candle's close; an outside signal is decided at the run's now
    const now = this.r.clock.now();
    if (now > this.parts.clock.now()) this.parts.clock.set(now);
    this.parts.bus.publish('signal', signal);
  }

  /** New entries blocked (ENTRIES_PAUSED) until resume(); exits and working orders carry on. */
  pause(by: string, reason: string, since = this.r.clock.now()): EntryPause {
    const p: EntryPause = { by, reason, since };
    if (this.parts) this.parts.kernel.setPause(p);
    else this.pauseBeforeStart = p;
    this.r.logger.warn('entries.paused', { by, reason });
    return p;
  }

  resume(by: string): EntryPause | null {
    const was = this.paused;
    if (this.parts) this.parts.kernel.setPause(null);
    this.pauseBeforeStart = null;
    if (was) this.r.logger.info('entries.resumed', { by });
    return was;
  }

  get paused(): EntryPause | null {
    return this.parts ? this.parts.kernel.paused : this.pauseBeforeStart;
  }

  guardModes(): Array<{ code: GuardCode; mode: GuardMode }> {
    return this.parts ? this.parts.kernel.guards.modes() : [];
  }

  setGuardMode(code: GuardCode, mode: GuardMode, by: string, reason: string): GuardMode {
    if (!this.parts) throw new BotStateError('the bot is not running yet: start it before switching guards');
    const was = this.parts.kernel.guards.setMode(code, mode);
    this.r.logger.warn('guard.mode_switched', { code, from: was, to: mode, by, reason });
    return was;
  }

  /** The bot's own positions and the external holdings apart (null: this mode keeps no state, e.g. a replay or paper run). */
  holdings(): HoldingsView | null {
    return this.r.holdings?.view() ?? null;
  }

  /**
   * Adopts external quantity into a bot-managed position (entry price given, or the pair's current mark, said
   * in the result); audited in the ledger with the caller. Refused (HoldingsError) when the quantity is not there.
   */
  manage(caller: HoldingsCaller, c: ManageCommand): HoldingsResult {
    const r = this.holdingsOrThrow('manage').manage(caller, c);
    if (!r.repeated) this.r.logger.warn('holdings.managed', { by: caller.actor, pair: r.pair, quantity: r.quantity, price: r.price ?? null, priceSource: r.priceSource ?? null, seq: r.seq });
    return r;
  }

  /** Releases bot-managed quantity to external holdings (never sold by the bot from then on); audited. */
  unmanage(caller: HoldingsCaller, c: UnmanageCommand): HoldingsResult {
    const r = this.holdingsOrThrow('unmanage').unmanage(caller, c);
    if (!r.repeated) this.r.logger.warn('holdings.unmanaged', { by: caller.actor, pair: r.pair, quantity: r.quantity, positions: r.positions, seq: r.seq });
    return r;
  }

  private holdingsOrThrow(what: string): HoldingsCommands {
    if (!this.r.holdings) throw new BotStateError(`${what}: a ${this.r.mode} run keeps no state of venue holdings (sim and live runs do; offline: tollgate ${what} --state FILE)`);
    return this.r.holdings;
  }

  status(): BotStatus {
    const venue = this.r.venue();
    const rec = this.r.reconciliation?.() ?? null;
    const components: Record<string, ComponentHealth> = {};
    components.engine = this.state === 'running'
      ? { status: 'healthy', reason: null }
      : this.state === 'failed'
        ? { status: 'unhealthy', reason: this.error }
        : { status: this.state === 'stopped' ? 'degraded' : 'degraded', reason: `engine ${this.state}` };
    components.venue = venue.halted ? { status: 'unhealthy', reason: `trading halted: ${venue.halted}` } : { status: 'healthy', reason: null };
    if (this.r.reconciliation) {
      components.reconciliation = rec === null
        ? { status: 'degraded', reason: 'not reconciled with the venue yet' }
        : rec.halted ? { status: 'unhealthy', reason: `${rec.differences} difference(s) that halt trading` } : { status: 'healthy', reason: null };
    }
    if (this.r.marketData) components.marketData = this.r.marketData();
    const paused = this.paused;
    components.entries = paused ? { status: 'degraded', reason: `entries paused by ${paused.by}: ${paused.reason}` } : { status: 'healthy', reason: null };
    return {
      mode: this.r.mode,
      state: this.state,
      pair: this.r.pair,
      intervalMinutes: this.r.intervalMs / 60_000,
      startedAt: this.startedAt === null ? null : isoTime(this.startedAt),
      candles: this.candles,
      lastCandleTs: this.lastCandle === null ? null : isoTime(this.lastCandle),
      signals: { received: this.received, inFlight: this.parts ? this.parts.registry.inFlight().size : 0 },
      paused,
      guards: this.guardModes(),
      venue,
      reconciliation: rec ? { ts: isoTime(rec.ts), differences: rec.differences, halted: rec.halted } : null,
      components,
      error: this.error,
      summary: this.result?.summary ?? null,
    };
  }
}

/** Worst of the components: what /health reports overall. */
export function overallHealth(components: Readonly<Record<string, ComponentHealth>>): Health {
  const all = Object.values(components).map((c) => c.status);
  return all.includes('unhealthy') ? 'unhealthy' : all.includes('degraded') ? 'degraded' : 'healthy';
}

export type { BlockCode };
