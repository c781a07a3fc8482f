/**
 * The configuration: one zod schema per component, every field with a documented default, unknown
 * fields refused. `parseConfig` returns a frozen object or throws ConfigError naming the first bad field.
 */
import { z } from 'zod';
import { GUARD_CODES, type BlockCode } from '../domain/types.ts';

const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal string such as "1000" or "0.5"');
const fraction = z.number().gt(0).lte(1);
const mode = z.enum(['enforce', 'observe', 'off']);
const duration = z
  .object({ candles: z.number().int().positive().optional(), minutes: z.number().positive().optional() })
  .strict()
  .refine((d) => (d.candles === undefined) !== (d.minutes === undefined), 'give exactly one of candles or minutes');
const pctOrNull = z.number().gt(0).lt(1).nullable();
const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected a time of day HH:MM (00:00 to 24:00)');
const localStamp = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d)?$/, 'expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (wall-clock time of the time zone)');
const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
/** TRADING_HOURS (opt-in: absent, it is not in the chain). Given without a mode it observes: measure first. */
const tradingHours = z
  .object({
    mode: mode.default('observe'),
    timeZone: z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC').default('UTC'),
    windows: z
      .array(
        z
          .object({ days: z.array(z.enum(weekdays)).min(1).default([...weekdays]), from: hhmm, to: hhmm })
          .strict()
          .refine((w) => w.from !== w.to && w.from !== '24:00', 'from and to must differ, and from cannot be 24:00'),
      )
      .default([]),
    blackouts: z
      .array(
        z
          .object({ from: localStamp, to: localStamp.optional(), reason: z.string().min(1).max(120).optional() })
          .strict()
          .refine((b) => b.to === undefined || (b.to.length === 10 ? b.to >= b.from.slice(0, 10) : b.to > (b.from.length === 10 ? `${b.from}T00:00` : b.from)), 'to must not be before from'),
      )
      .default([]),
  })
  .strict();

const exits = z
  .object({
    takeProfitPct: z.number().gt(0).nullable().default(null),
    stopLossPct: pctOrNull.default(null),
    trailingStopPct: pctOrNull.default(null),
    maxHoldCandles: z.number().int().positive().nullable().default(null),
    useStrategyExit: z.boolean().default(true),
  })
  .strict();

const strategy = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ema_cross'),
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/).default('ema_cross'),
    fast: z.number().int().min(2).default(12),
    slow: z.number().int().min(3).default(26),
    exits: exits.prefault({ takeProfitPct: 0.12, stopLossPct: 0.05, trailingStopPct: 0.06, maxHoldCandles: 168 }),
  }).strict(),
  z.object({
    kind: z.literal('rsi_reversion'),
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/).default('rsi_reversion'),
    period: z.number().int().min(2).default(14),
    oversold: z.number().gt(0).lt(100).default(30),
    overbought: z.number().gt(0).lt(100).default(70),
    exits: exits.prefault({ takeProfitPct: 0.06, stopLossPct: 0.04, maxHoldCandles: 72 }),
  }).strict(),
  z.object({
    kind: z.literal('donchian_breakout'),
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/).default('donchian_breakout'),
    entryPeriod: z.number().int().min(2).default(48),
    exitPeriod: z.number().int().min(2).default(24),
    exits: exits.prefault({ stopLossPct: 0.06, trailingStopPct: 0.08, maxHoldCandles: 336 }),
  }).strict(),
]);

const g = <T extends z.ZodRawShape>(defaultMode: 'enforce' | 'observe' | 'off', shape: T) =>
  z.object({ mode: mode.default(defaultMode), ...shape }).strict().prefault({} as never);

const guards = z
  .object({
    MAX_OPEN_POSITIONS: g('enforce', { maxGlobal: z.number().int().positive().default(3), maxPerPair: z.number().int().positive().default(2) }),
    COOLDOWN: g('enforce', { stopDuration: duration.default({ candles: 4 }), scope: z.enum(['pair', 'global']).default('pair') }),
    DUPLICATE_SIGNAL: g('enforce', { window: duration.default({ candles: 6 }) }),
    STOPLOSS_GUARD: g('enforce', {
      lookback: duration.default({ candles: 48 }),
      tradeLimit: z.number().int().positive().default(3),
      stopDuration: duration.default({ candles: 24 }),
      onlyPerPair: z.boolean().default(false),
      requiredProfit: z.number().default(0),
    }),
    MAX_DRAWDOWN: g('enforce', {
      lookback: duration.default({ candles: 336 }),
      tradeLimit: z.number().int().positive().default(6),
      stopDuration: duration.default({ candles: 48 }),
      maxAllowedDrawdown: fraction.default(0.05),
    }),
    LOW_PROFIT_PAIR: g('observe', {
      lookback: duration.default({ candles: 168 }),
      tradeLimit: z.number().int().positive().default(4),
      stopDuration: duration.default({ candles: 48 }),
      requiredProfit: z.number().default(0),
    }),
    DAILY_LOSS_LIMIT: g('enforce', { maxLossPct: pctOrNull.default(0.03), maxLoss: decimalString.nullable().default(null) }),
    MIN_CONFIDENCE: g('enforce', { min: z.number().min(0).max(1).default(0.5) }),
    EXPOSURE_LIMIT: g('enforce', { maxTotalPct: fraction.default(0.6), maxPairPct: fraction.nullable().default(null) }),
    MIN_ORDER_SIZE: g('enforce', {}),
    STALE_MARKET_DATA: g('enforce', { maxAge: duration.default({ candles: 2 }) }),
    VOLATILITY: g('observe', { maxAtrPct: pctOrNull.default(0.03), minAtrPct: pctOrNull.default(null) }),
    TRADING_HOURS: tradingHours.optional(),
  })
  .strict();

const marketOverride = z
  .object({
    priceDecimals: z.number().int().min(0).max(12).optional(),
    lotDecimals: z.number().int().min(0).max(12).optional(),
    costDecimals: z.number().int().min(0).max(12).optional(),
    orderMin: decimalString.optional(),
    costMin: decimalString.optional(),
    takerFee: z.number().min(0).lt(0.1).optional(),
    makerFee: z.number().min(0).lt(0.1).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    /** starting cash per currency, decimal strings */
    startingCash: z.record(z.string().regex(/^[A-Z]{2,6}$/), decimalString).default({ USD: '10000' }),
    sizing: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('fixed_quote'), amount: decimalString }).strict(),
        // below 1: an order must leave room for its fee
        z.object({ mode: z.literal('equity_fraction'), fraction: z.number().gt(0).lt(1) }).strict(),
      ])
      .default({ mode: 'fixed_quote', amount: '1000' }),
    venue: z
      .object({
        slippageBps: z.number().min(0).max(1000).default(5),
        maxVolumeShare: fraction.default(0.25),
        orderType: z.enum(['market', 'limit']).default('market'),
        /** limit entries: price = signal price × (1 − offset) */
        limitOffsetBps: z.number().min(0).max(1000).default(10),
        /** an entry not fully filled after this many candles has its remainder cancelled */
        entryTimeoutCandles: z.number().int().positive().default(3),
        /**
         * the nonce window set on the Kraken API key (0: none, Kraken's default). With the key's own window here,
         * an order call starts beside a private read already in flight instead of after it; never more than the key's
         */
        nonceWindow: z.number().int().min(0).max(1_000_000_000).default(0),
      })
      .strict()
      .prefault({}),
    market: z.object({ atrPeriod: z.number().int().min(2).default(14) }).strict().prefault({}),
    monitor: z
      .object({
        /** how often the pipeline monitor checks, in minutes of clock time */
        checkEveryMinutes: z.number().positive().default(60),
        /** a signal in one non-terminal state (other than an open position) longer than this is stuck */
        stuckAfterMinutes: z.number().positive().default(360),
        /** warn only, or also expire stuck signals that have no order at the venue */
        action: z.enum(['warn', 'expire']).default('expire'),
      })
      .strict()
      .prefault({}),
    strategies: z
      .array(strategy)
      .min(1)
      .prefault([{ kind: 'ema_cross' }, { kind: 'rsi_reversion' }, { kind: 'donchian_breakout' }])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((s, i) => {
          if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate strategy name "${s.name}"` });
          seen.add(s.name);
        });
      }),
    guards: guards.prefault({}),
    markets: z.record(z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, 'expected a pair like BTC/USD'), marketOverride).default({}),
    /**
     * Size-based rotation of the JSONL logs in the logs directory (README, Logs). Absent: 64 MiB segments,
     * 10 kept (fields left out take those values); `rotate: false`: never rotated. No default is filled in
     * here, so a config without `logs` parses (and fingerprints a durable replay) as before.
     */
    logs: z
      .object({
        rotate: z.union([
          z.literal(false),
          z
            .object({
              /** the live file is rotated once it reaches this many bytes (at least 1 KiB, at most 1 GiB) */
              maxBytes: z.number().int().min(1024).max(1024 ** 3).optional(),
              /** rotated segments kept; older ones are deleted */
              keep: z.number().int().min(1).max(100_000).optional(),
            })
            .strict(),
        ]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type StrategyConfig = Config['strategies'][number];
export type GuardsConfig = Config['guards'];

export class ConfigError extends Error {}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Validate raw config input. Throws ConfigError naming the first bad field (`guards.COOLDOWN.mode: …`). */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    throw new ConfigError(`${source}: ${path}: ${issue.message}`);
  }
  return deepFreeze(r.data);
}

/** Guard specs in evaluation order (the canonical order of GUARD_CODES); an opt-in guard not configured is left out. */
export function guardSpecs(c: Config): Array<{ code: BlockCode; mode: 'enforce' | 'observe' | 'off'; params: Record<string, unknown> }> {
  return GUARD_CODES.flatMap((code) => {
    const spec = c.guards[code];
    if (!spec) return [];
    const { mode, ...params } = spec;
    return [{ code, mode, params }];
  });
}
