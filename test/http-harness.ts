/** A paced replay bot with its HTTP face, for the HTTP tests: offline, in-memory state, a manual wall clock. */
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { parseConfig } from '../src/config/schema.ts';
import type { Bot } from '../src/engine/bot.ts';
import { composeBot } from '../src/engine/compose-bot.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import type { HttpSettings } from '../src/http/config.ts';
import { buildHttpServer, type HttpServer } from '../src/http/server.ts';
import { OperatorService } from '../src/operator/service.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { memoryLogger, type MemoryLogger } from '../src/ports/logger.ts';
import { bundledSlice } from './helpers.ts';

export const PASSPHRASE = 'tv-passphrase-0123456789';
export const HMAC_SECRET = 'hmac-secret-abcdefghijklmnop';
export const TOKEN = 'operator-token-zyxwvutsrqponm';
export const WALL_START = Date.UTC(2025, 4, 1, 12, 0, 0);

export interface Harness {
  readonly bot: Bot;
  readonly http: HttpServer;
  readonly store: SqliteStateStore;
  readonly clock: ManualClock;
  readonly logger: MemoryLogger;
  readonly settings: HttpSettings;
  close(): Promise<void>;
}

export function settingsOf(over: Omit<Partial<HttpSettings>, 'webhook'> & { webhook?: Partial<HttpSettings['webhook']> } = {}): HttpSettings {
  const { webhook, ...rest } = over;
  return {
    host: '127.0.0.1', port: 0, token: TOKEN, bodyLimit: 16 * 1024, rateLimitPerMinute: 10_000, logFile: null,
    ...rest,
    webhook: {
      passphrase: PASSPHRASE, hmacSecret: HMAC_SECRET, allowIps: [], trustedProxies: [],
      maxAgeMs: 60_000, maxSkewMs: 10_000, hmacWindowMs: 300_000, dedupWindowMs: 600_000,
      defaultStrategy: 'ema_cross', strategies: ['ema_cross', 'rsi_reversion', 'donchian_breakout'],
      ...webhook,
    },
  };
}

/**
 * @param o.pace candles per second of the replay (default 40: runs for a minute on the default slice)
 * @param o.start false: the bot is built but not started
 */
export async function harness(o: { pace?: number; from?: string; to?: string; start?: boolean; store?: SqliteStateStore; settings?: Parameters<typeof settingsOf>[0] } = {}): Promise<Harness> {
  const config = parseConfig({});
  const markets = buildMarkets(config);
  const series = bundledSlice(o.from ?? '2017-01-01', o.to ?? '2017-03-01');
  const logger = memoryLogger();
  const bot = await composeBot({ mode: 'replay', config, markets, series, logsDir: null, pace: o.pace ?? 40, logger });
  const store = o.store ?? SqliteStateStore.memory();
  const clock = new ManualClock(WALL_START);
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  const operator = new OperatorService({ ledger, clock, controls: store, bot, ledgerStatus: () => ({ sequence: store.snapshot().sequence }) });
  const settings = settingsOf(o.settings);
  const http = await buildHttpServer({ bot, operator, intake: store, settings, clock, logger });
  if (o.start !== false) await bot.start();
  return {
    bot, http, store, clock, logger, settings,
    async close() {
      await http.close();
      if (bot.pipeline || bot.status().state !== 'created') await bot.stop('test over').catch(() => {});
      if (!o.store) store.close();
    },
  };
}

/** A TradingView alert body (JSON text), with overrides; `undefined` removes a field. */
export function alert(over: Record<string, unknown> = {}, clock?: ManualClock): string {
  const b: Record<string, unknown> = {
    passphrase: PASSPHRASE, ticker: 'KRAKEN:XBTUSD', action: 'buy', price: '1000.5', time: new Date(clock?.now() ?? WALL_START).toISOString(), strategy: 'ema_cross',
    ...over,
  };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return JSON.stringify(b);
}

/** Waits (polling) until `check` holds; fails after `ms` of real time with `what`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
