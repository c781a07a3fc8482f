/**
 * The guard chain (risk engine): evaluates every guard, in order, and records each one's result.
 * `enforce` guards that block make the decision `blocked`; `observe` guards only record a would-block;
 * `off` guards are listed, not evaluated.
 */
import { ENTRIES_PAUSED, type BlockCode, type EntryPause, type Decision, type GuardCode, type GuardMode, type GuardOutcome, type Signal } from '../domain/types.ts';
import { cooldown, type CooldownParams } from './cooldown.ts';
import { dailyLossLimit, type DailyLossLimitParams } from './daily-loss-limit.ts';
import { duplicateSignal, type DuplicateSignalParams } from './duplicate-signal.ts';
import { exposureLimit, type ExposureLimitParams } from './exposure-limit.ts';
import { lowProfitPair, type LowProfitPairParams } from './low-profit-pair.ts';
import { maxDrawdown, type MaxDrawdownParams } from './max-drawdown.ts';
import { maxOpenPositions, type MaxOpenPositionsParams } from './max-open-positions.ts';
import { minConfidence, type MinConfidenceParams } from './min-confidence.ts';
import { minOrderSize, type MinOrderSizeParams } from './min-order-size.ts';
import { staleMarketData, type StaleMarketDataParams } from './stale-market-data.ts';
import { stoplossGuard, type StoplossGuardParams } from './stoploss-guard.ts';
import { tradingHours, type TradingHoursParams } from './trading-hours.ts';
import type { GuardDefinition, GuardFn, GuardSnapshot } from './types.ts';

export type { EntryPause };
import { volatility, type VolatilityParams } from './volatility.ts';

export interface GuardParams {
  MAX_OPEN_POSITIONS: MaxOpenPositionsParams;
  COOLDOWN: CooldownParams;
  DUPLICATE_SIGNAL: DuplicateSignalParams;
  STOPLOSS_GUARD: StoplossGuardParams;
  MAX_DRAWDOWN: MaxDrawdownParams;
  LOW_PROFIT_PAIR: LowProfitPairParams;
  DAILY_LOSS_LIMIT: DailyLossLimitParams;
  MIN_CONFIDENCE: MinConfidenceParams;
  EXPOSURE_LIMIT: ExposureLimitParams;
  MIN_ORDER_SIZE: MinOrderSizeParams;
  STALE_MARKET_DATA: StaleMarketDataParams;
  VOLATILITY: VolatilityParams;
  TRADING_HOURS: TradingHoursParams;
}

export const GUARDS: { readonly [K in GuardCode]: GuardDefinition<GuardParams[K]> } = {
  MAX_OPEN_POSITIONS: maxOpenPositions,
  COOLDOWN: cooldown,
  DUPLICATE_SIGNAL: duplicateSignal,
  STOPLOSS_GUARD: stoplossGuard,
  MAX_DRAWDOWN: maxDrawdown,
  LOW_PROFIT_PAIR: lowProfitPair,
  DAILY_LOSS_LIMIT: dailyLossLimit,
  MIN_CONFIDENCE: minConfidence,
  EXPOSURE_LIMIT: exposureLimit,
  MIN_ORDER_SIZE: minOrderSize,
  STALE_MARKET_DATA: staleMarketData,
  VOLATILITY: volatility,
  TRADING_HOURS: tradingHours,
};

export type GuardSpec = { [K in GuardCode]: { readonly code: K; readonly mode: GuardMode; readonly params: GuardParams[K] } }[GuardCode];

interface Compiled {
  readonly code: GuardCode;
  /** switched at run time by the operator (`guard set CODE MODE`) */
  mode: GuardMode;
  readonly fn: GuardFn;
  /** the outcome of an allow in the current mode (an outcome is immutable: every decision shares it) */
  allowed: GuardOutcome;
}

const allowedOutcome = (code: GuardCode, mode: GuardMode): GuardOutcome =>
  Object.freeze(mode === 'off' ? { code, mode, verdict: 'allow', detail: 'off: not evaluated' } : { code, mode, verdict: 'allow', detail: null });


export class GuardChain {
  private readonly guards: readonly Compiled[];

  constructor(specs: readonly GuardSpec[]) {
    this.guards = specs.map((s) => ({ code: s.code, mode: s.mode, fn: (GUARDS[s.code] as GuardDefinition<typeof s.params>).create(s.params), allowed: allowedOutcome(s.code, s.mode) }));
  }

  get codes(): readonly GuardCode[] {
    return this.guards.map((g) => g.code);
  }

  modeOf(code: GuardCode): GuardMode | undefined {
    return this.guards.find((g) => g.code === code)?.mode;
  }

  /** Every guard's code and current mode, in evaluation order. */
  modes(): Array<{ code: GuardCode; mode: GuardMode }> {
    return this.guards.map((g) => ({ code: g.code, mode: g.mode }));
  }

  /** Switches a guard's mode from the next decision on; returns the mode it had. */
  setMode(code: GuardCode, mode: GuardMode): GuardMode {
    const g = this.guards.find((x) => x.code === code);
    if (!g) throw new Error(`guard ${code} is not in the chain (${this.codes.join(', ')})`);
    const was = g.mode;
    g.mode = mode;
    g.allowed = allowedOutcome(code, mode);
    return was;
  }

  /**
   * Every guard's verdict; while entries are paused the decision is also blocked by ENTRIES_PAUSED (listed
   * after the guards), so a paused signal is recorded and shadowed like any other blocked one.
   */
  evaluate(signal: Signal, snapshot: GuardSnapshot, now: number, pause: EntryPause | null = null): Decision {
    const outcomes: GuardOutcome[] = [];
    const blockedBy: BlockCode[] = [];
    const observed: BlockCode[] = [];
    for (const g of this.guards) {
      if (g.mode === 'off') {
        outcomes.push(g.allowed);
        continue;
      }
      const r = g.fn(signal, snapshot, now);
      if (r.verdict === 'block') {
        outcomes.push({ code: g.code, mode: g.mode, verdict: 'block', detail: r.detail });
        (g.mode === 'enforce' ? blockedBy : observed).push(g.code);
      } else {
        outcomes.push(g.allowed);
      }
    }
    if (pause) {
      outcomes.push({ code: ENTRIES_PAUSED, mode: 'enforce', verdict: 'block', detail: `entries paused by ${pause.by}: ${pause.reason}` });
      blockedBy.push(ENTRIES_PAUSED);
    }
    return { signalId: signal.id, decision: blockedBy.length ? 'blocked' : 'approved', guards: outcomes, blockedBy, observedBlocks: observed, ts: now };
  }
}
