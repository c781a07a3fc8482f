/**
 * Offline market metadata, kept for the importers that still name this file: Kraken's pairs live in
 * src/kraken/ (the bundled AssetPairs/Assets snapshot, asset codes, symbol spellings). New code imports
 * `krakenMarkets` and `symbolFromKraken` from src/kraken/pairs.ts.
 */
import type { MarketMeta } from '../../domain/types.ts';
import { findSymbol, krakenMarkets } from '../../kraken/pairs.ts';

/** Every pair of the bundled snapshot keyed by its ccxt symbol (BTC/USD): a new Map on each call. */
export function bundledMarkets(): Map<string, MarketMeta> {
  return krakenMarkets();
}

/**
 * Any spelling of a pair (XBTUSD, XXBTZUSD, XBT/USD, BTCUSD, STORJUSD_60.csv) → its ccxt symbol, or null when none
 * matches or the symbol is not in `markets`. src/kraken/pairs.ts `symbolFromKraken` throws instead, naming what
 * was tried and the closest altnames.
 */
export function symbolFromKraken(name: string, markets: ReadonlyMap<string, MarketMeta>): string | null {
  const s = findSymbol(name);
  return s !== null && markets.has(s) ? s : null;
}
