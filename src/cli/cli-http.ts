/**
 * `--http HOST:PORT` of `tollgate run` and `tollgate replay --pace N`: the set-up the HTTP face needs and may
 * not build itself (http/ imports no adapters): the intake store (the run's SQLite state, or an in-memory
 * SQLite when the run keeps none, so the same code path runs), the operator service over its ledger, the
 * wall clock, and the graceful shutdown on SIGINT/SIGTERM (ready 503 at once, no new connections, requests in
 * flight drained, accepted alerts handed to the bus or kept in the store for the next start).
 */
import { SystemClock } from '../adapters/clock/clocks.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { isPostgresUrl } from '../adapters/postgres/errors.ts';
import { PgStateStore, type StateStoreSurface } from '../adapters/postgres/state-store.ts';
import type { Config } from '../config/schema.ts';
import type { Bot } from '../engine/bot.ts';
import { InputError } from '../engine/wiring.ts';
import { HttpConfigError, httpSecrets, httpSettingsFromEnv, type HttpSettings } from '../http/config.ts';
import { buildHttpServer, type HttpDeps } from '../http/server.ts';
import { OperatorService } from '../operator/service.ts';
import { Ledger } from '../portfolio/ledger.ts';
import type { MarketMeta } from '../domain/types.ts';
import type { Logger } from '../ports/logger.ts';
import { statusJson } from './cli-state.ts';

/** The settings of `--http`, read (and checked) before anything starts; their secrets go to the log's masking. */
export function httpSettings(listen: string, config: Config, logFile: string | null): { settings: HttpSettings; secrets: string[] } {
  try {
    const settings = httpSettingsFromEnv(listen, process.env, { strategies: config.strategies.map((s) => s.name), logFile });
    return { settings, secrets: httpSecrets(settings) };
  } catch (e) {
    if (e instanceof HttpConfigError) throw new InputError(e.message);
    throw e;
  }
}

export interface RunningHttp {
  readonly address: string;
  /** after the bot stopped: drain, close, and close the store this opened */
  close(): Promise<void>;
}

/**
 * Serves the bot over HTTP until close(). `state`: the run's state file or PostgreSQL URL (a second connection
 * to it; SQLite and the PostgreSQL adapter's write lock serialise the writers), or a store already open (a
 * durable replay's), or null for an in-memory one.
 */
export async function serveHttp(o: {
  settings: HttpSettings; bot: Bot; markets: ReadonlyMap<string, MarketMeta>; logger: Logger;
  state: string | StateStoreSurface | null;
  /**
   * External intake: the SQLite file a separate intake process (`tollgate intake`) writes accepted alerts to.
   * The webhook of this server writes there too, and its rows still `accepted` are polled every `pollMs`
   * (default 200) and handed to the bot: alerts taken while this bot was down are processed once it runs.
   */
  intakeState?: string;
  pollMs?: number;
  /** health the bot does not know of: the leader lease of a PostgreSQL state (a component, and `role` in /health) */
  health?: HttpDeps['health'];
  /**
   * Called just before listening: another server (the lease's health server) closes and says where it listened,
   * and this one listens there instead of the settings' address (so a port 0 stays the port already announced).
   */
  takeOver?: () => Promise<{ host: string; port: number } | null>;
}): Promise<RunningHttp> {
  let store: StateStoreSurface;
  const owned = typeof o.state === 'string' || o.state === null;
  try {
    store = typeof o.state !== 'string' && o.state !== null ? o.state
      : o.state === null ? SqliteStateStore.memory()
      : isPostgresUrl(o.state) ? PgStateStore.open(o.state) : SqliteStateStore.open(o.state);
  } catch (e) {
    if (e instanceof StateDbError) throw new InputError(e.message);
    throw e;
  }
  let external: SqliteStateStore | null = null;
  if (o.intakeState !== undefined) {
    try {
      external = SqliteStateStore.open(o.intakeState, { synchronous: 'FULL' });
    } catch (e) {
      if (owned) store.close();
      if (e instanceof StateDbError) throw new InputError(`--intake-store: ${e.message}`);
      throw e;
    }
  }
  const clock = new SystemClock();
  const ledger = new Ledger(store, clock, (p) => o.markets.get(p));
  const operator = new OperatorService({ ledger, clock, controls: store, bot: o.bot, ledgerStatus: () => statusJson(store) });
  const server = await buildHttpServer({ bot: o.bot, operator, intake: external ?? store, settings: o.settings, clock, logger: o.logger, ...(o.health ? { health: o.health } : {}) });
  let address: string;
  let gapMs: number | null = null; // a handover: how long nothing listened
  try {
    const t0 = performance.now();
    const at = (await o.takeOver?.()) ?? undefined;
    address = await server.listen(at);
    if (at) gapMs = performance.now() - t0;
  } catch (e) {
    await server.close();
    if (owned) store.close();
    external?.close();
    throw new InputError(`--http ${o.settings.host}:${o.settings.port}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // a signal: ready 503 at once, stop accepting and drain while the bot finishes its candle
  const onSignal = () => void server.close();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const poll = external ? setInterval(() => {
    try {
      server.intake.poll();
    } catch (e) {
      o.logger.warn('webhook.poll_failed', {}, `external intake: cannot read ${o.intakeState} (${(e as Error).message}); retrying`);
    }
  }, o.pollMs ?? 200) : null;
  poll?.unref();
  process.stderr.write(`http: listening on ${address}${gapMs !== null ? ` (taken over from the lease's health server: ${gapMs.toFixed(1)} ms without a listener)` : ''}\n`);
  return {
    address,
    async close() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (poll) clearInterval(poll);
      await server.close();
      if (owned) store.close();
      external?.close();
    },
  };
}
