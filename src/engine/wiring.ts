/** Builds components from the validated config: markets (bundled snapshot + overrides), strategies, guards. */
import { bundledMarkets } from '../adapters/market/asset-pairs.ts';
import type { Config, StrategyConfig } from '../config/schema.ts';
import { guardSpecs } from '../config/schema.ts';
import type { ExitRules } from '../domain/exits.ts';
import { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';
import { GuardChain, type GuardSpec } from '../guards/chain.ts';
import { donchianBreakout } from '../strategies/donchian-breakout.ts';
import { emaCross } from '../strategies/ema-cross.ts';
import { rsiReversion } from '../strategies/rsi-reversion.ts';
import type { Strategy } from '../strategies/types.ts';

export class InputError extends Error {}

export function buildMarkets(config: Config): Map<string, MarketMeta> {
  const markets = bundledMarkets();
  for (const [pair, o] of Object.entries(config.markets)) {
    const base = markets.get(pair);
    if (!base) throw new InputError(`config: markets.${pair}: not in the bundled Kraken AssetPairs snapshot (known: ${[...markets.keys()].join(', ')})`);
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
