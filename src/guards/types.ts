/** What a guard sees. Everything a guard needs is put into the snapshot before the chain runs. */
import type { Dec } from '../domain/money.ts';
import type { BlockCode, ClosedTrade, GuardResult, MarketMeta, Side, Signal } from '../domain/types.ts';

export interface OpenExposure {
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  /** marked-to-market value (open positions) or reserved cost (entries still working) */
  readonly value: Dec;
  readonly pending: boolean;
}

export interface RecentSignal {
  readonly id: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: Side;
  readonly ts: number;
}

/** Lookups over a snapshot's `recentSignals` (the same signals; answers equal to scanning them). */
export interface RecentIndex {
  hasId(id: string): boolean;
  /** the signals of this strategy, pair and side, oldest first */
  series(strategy: string, pair: string, side: Side): readonly RecentSignal[];
  /** the newest (by arrival) signal of this strategy, pair and side with from < ts ≤ to, if any */
  newestWithin(strategy: string, pair: string, side: Side, from: number, to: number): RecentSignal | undefined;
}

export interface GuardSnapshot {
  readonly meta: MarketMeta;
  readonly intervalMs: number;
  /** the order the signal would become: quantity rounded to lot decimals, reference price, cost */
  readonly proposal: { readonly quantity: Dec; readonly price: Dec; readonly cost: Dec };
  readonly equity: Dec;
  /** equity at the first candle of the current UTC day */
  readonly dayStartEquity: Dec;
  /** cash at the start of the run (the wallet's starting balance, for drawdown) */
  readonly startingBalance: Dec;
  /** realized PnL of every closed trade so far (= Σ closedTrades pnl) */
  readonly realizedPnl: Dec;
  readonly openPositions: readonly OpenExposure[];
  /** closed trades, oldest first */
  readonly closedTrades: readonly ClosedTrade[];
  /** signals seen before this one, oldest first */
  readonly recentSignals: readonly RecentSignal[];
  /** the same signals, indexed (optional: without it a guard scans `recentSignals`) */
  readonly recentIndex?: RecentIndex | undefined;
  /** close time of the newest candle of the signal's pair */
  readonly lastMarketDataTs: number | null;
  /** ATR / close of the signal's pair, null while warming up */
  readonly volatility: number | null;
}

/** A guard: a pure function of the signal, the snapshot and the time. No I/O, no state. */
export type GuardFn = (signal: Signal, snapshot: GuardSnapshot, now: number) => GuardResult;

export interface GuardDefinition<P> {
  readonly code: BlockCode;
  readonly describe: string;
  create(params: P): GuardFn;
}

export const allow: GuardResult = { verdict: 'allow' };
export function block(code: BlockCode, detail: string): GuardResult {
  return { verdict: 'block', code, detail };
}

/** Durations the Freqtrade way: in candles of the strategy's timeframe, or in minutes. */
export interface Duration {
  readonly candles?: number | undefined;
  readonly minutes?: number | undefined;
}
export function durationMs(d: Duration, intervalMs: number): number {
  if (d.candles !== undefined) return d.candles * intervalMs;
  return (d.minutes ?? 0) * 60_000;
}
