/** Builds components from the validated config: markets (bundled snapshot + overrides), strategies, guards. */
import type { Config, StrategyConfig } from '../config/schema.ts';
import { guardSpecs } from '../config/schema.ts';
import type { ExitRules } from '../domain/exits.ts';
import { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';
import { closestAltnames, replayMarkets, symbolFromKraken, UnknownPairError } from '../kraken/pairs.ts';
import { GuardChain, type GuardSpec } from '../guards/chain.ts';
import { donchianBreakout } from '../strategies/donchian-breakout.ts';
import { emaCross } from '../strategies/ema-cross.ts';
import { rsiReversion } from '../strategies/rsi-reversion.ts';
import type { Strategy } from '../strategies/types.ts';

export class InputError extends Error {}

/**
 * The ccxt symbol of a pair given any way a user writes it (BTC/USD, XBTUSD, XXBTZUSD, STORJUSD_60.csv …).
 * @throws InputError saying what was tried and suggesting the closest altnames (never a fixed default)
 */
export function pairFromName(name: string): string {
  try {
    return symbolFromKraken(name);
  } catch (e) {
    if (e instanceof UnknownPairError) throw new InputError(e.message);
    throw e;
  }
}

/**
 * The markets of `base` with the config's overrides applied. Default base: the bundled snapshot's pairs and, for a
 * replay, the delisted pairs it keeps (paper, sim and live trade only what loadVenueMarkets gives them, never those).
 */
export function buildMarkets(config: Config, base: Map<string, MarketMeta> = replayMarkets()): Map<string, MarketMeta> {
  const markets = new Map(base);
  for (const [pair, o] of Object.entries(config.markets)) {
    const base = markets.get(pair);
    if (!base) throw new InputError(`config: markets.${pair}: not one of Kraken's ${markets.size} pairs; closest altnames: ${closestAltnames(pair).join(', ')}`);
    markets.set(pair, {
      ...base,
      ...(o.priceDecimals !== undefined ? { priceDecimals: o.priceDecimals } : {}),
      ...(o.lotDecimals !== undefined ? { lotDecimals: o.lotDecimals } : {}),
      ...(o.costDecimals !== undefined ? { costDecimals: o.costDecimals } : {}),
      ...(o.orderMin !== undefined ? { orderMin: new Dec(o.orderMin) } : {}),
      ...(o.costMin !== undefined ? { costMin: new Dec(o.costMin) } : {}),
      ...(o.takerFee !== undefined ? { takerFee: new Dec(o.takerFee) } : {}),
      ...(o.makerFee !== undefined ? { makerFee: new Dec(o.makerFee) } : {}),
    });
  }
  return markets;
}

export function exitRulesOf(s: StrategyConfig): ExitRules {
  return { ...s.exits };
}

export function buildStrategy(s: StrategyConfig): Strategy {
  const rules = exitRulesOf(s);
  switch (s.kind) {
    case 'ema_cross':
      return emaCross(s.name, { fast: s.fast, slow: s.slow }, rules);
    case 'rsi_reversion':
      return rsiReversion(s.name, { period: s.period, oversold: s.oversold, overbought: s.overbought }, rules);
    case 'donchian_breakout':
      return donchianBreakout(s.name, { entryPeriod: s.entryPeriod, exitPeriod: s.exitPeriod }, rules);
  }
}

export function buildChain(config: Config): GuardChain {
  return new GuardChain(guardSpecs(config) as unknown as GuardSpec[]);
}
