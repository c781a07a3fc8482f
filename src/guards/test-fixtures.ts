/**
 * Hand-built fixtures for the guard tests: fixed epoch times, hourly candles, Dec money.
 * Not a test file itself (no `.test.ts`), and free of vitest so it type-checks like production code.
 */
import { Dec } from '../domain/money.ts';
import { HOUR_MS, MINUTE_MS } from '../domain/time.ts';
import type { BlockCode, ClosedTrade, ExitReason, GuardResult, MarketMeta, Side, Signal } from '../domain/types.ts';
import type { GuardSnapshot, OpenExposure, RecentSignal } from './types.ts';

/** One hourly candle. */
export const HOUR = HOUR_MS;
export const MINUTE = MINUTE_MS;
/** 2024-01-15T00:00:00.000Z, a UTC midnight, so `at(h)` is h o'clock that day. */
export const T0 = 1_705_276_800_000;
/** The time `hours` candles after T0 (fractions allowed, negatives go back in time). */
export function at(hours: number): number {
  return T0 + hours * HOUR;
}

export const BTC = 'BTC/USD';
export const ETH = 'ETH/USD';
export const SOL = 'SOL/USD';

export function meta(overrides: Partial<MarketMeta> = {}): MarketMeta {
  return {
    pair: BTC,
    krakenPair: 'XXBTZUSD',
    altname: 'XBTUSD',
    base: 'BTC',
    quote: 'USD',
    priceDecimals: 1,
    lotDecimals: 8,
    costDecimals: 5,
    orderMin: new Dec('0.0001'),
    costMin: new Dec('0.5'),
    takerFee: new Dec('0.004'),
    makerFee: new Dec('0.0025'),
    status: 'online',
    ...overrides,
  };
}

export function signal(overrides: Partial<Signal> = {}): Signal {
  return {
    id: 'sig-new',
    strategy: 'ema_cross',
    pair: BTC,
    side: 'buy',
    confidence: 0.8,
    price: 50_000,
    reason: 'fixture',
    source: 'strategy',
    tsEvent: T0,
    tsInit: T0,
    ...overrides,
  };
}

/** A guard snapshot; `realizedPnl` defaults to Σ pnl of the given closed trades, as the kernel fills it. */
export function snapshot(overrides: Partial<GuardSnapshot> = {}): GuardSnapshot {
  const closedTrades = overrides.closedTrades ?? [];
  return {
    realizedPnl: closedTrades.reduce((sum, t) => sum.plus(t.pnl), new Dec(0)),
    meta: meta(),
    intervalMs: HOUR,
    proposal: { quantity: new Dec('0.02'), price: new Dec('50000'), cost: new Dec('1000') },
    equity: new Dec('10000'),
    dayStartEquity: new Dec('10000'),
    startingBalance: new Dec('10000'),
    openPositions: [],
    closedTrades: [],
    recentSignals: [],
    lastMarketDataTs: T0,
    volatility: 0.01,
    ...overrides,
  };
}

export interface TradeSpec {
  readonly exitTs: number;
  readonly pair?: string;
  readonly exitReason?: ExitReason;
  /** net PnL in quote, as a decimal string */
  readonly pnl?: string;
  readonly pnlRatio?: number;
  readonly signalId?: string;
  readonly strategy?: string;
  readonly side?: Side;
}

/** A closed trade of 0.02 BTC held for 3 candles; by default a 1 % stop-loss loser of −10 USD. */
export function trade(t: TradeSpec): ClosedTrade {
  const pair = t.pair ?? BTC;
  return {
    signalId: t.signalId ?? `${pair}@${t.exitTs}`,
    strategy: t.strategy ?? 'ema_cross',
    pair,
    side: t.side ?? 'buy',
    quantity: new Dec('0.02'),
    entryTs: t.exitTs - 3 * HOUR,
    entryPrice: new Dec('50000'),
    exitTs: t.exitTs,
    exitPrice: new Dec('49500'),
    exitReason: t.exitReason ?? 'stop_loss',
    fees: new Dec('0'),
    pnl: new Dec(t.pnl ?? '-10'),
    pnlRatio: t.pnlRatio ?? -0.01,
  };
}

export function open(pair: string, value: string, pending = false, signalId = `open-${pair}-${value}`): OpenExposure {
  return { signalId, strategy: 'ema_cross', pair, value: new Dec(value), pending };
}

export function recent(overrides: Partial<RecentSignal> & { id: string; ts: number }): RecentSignal {
  return { strategy: 'ema_cross', pair: BTC, side: 'buy', ...overrides };
}

/** The block of a guard result, or null when it allowed. */
export function blockOf(r: GuardResult): { code: BlockCode; detail: string } | null {
  return r.verdict === 'block' ? { code: r.code, detail: r.detail } : null;
}
