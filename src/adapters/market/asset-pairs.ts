/**
 * Offline market metadata: a bundled snapshot of Kraken's AssetPairs/Assets responses for the main
 * pairs (ordermin, costmin, decimals, base-tier fees), keyed by the ccxt symbol (BTC/USD).
 */
import { Dec } from '../../domain/money.ts';
import type { MarketMeta } from '../../domain/types.ts';
import snapshot from './kraken-asset-pairs.json' with { type: 'json' };

interface KrakenPair {
  altname: string;
  base: string;
  quote: string;
  pair_decimals: number;
  lot_decimals: number;
  cost_decimals: number;
  ordermin: string;
  costmin: string;
  status: string;
  fees: number[][];
  fees_maker: number[][];
}

/** Kraken's asset codes → common ones, as ccxt maps them. */
const COMMON: Record<string, string> = { XBT: 'BTC', XDG: 'DOGE' };

function commonAsset(code: string): string {
  const assets = snapshot.assets as Record<string, { altname: string }>;
  const alt = assets[code]?.altname ?? code.replace(/^[XZ](?=[A-Z]{3}$)/, '');
  return COMMON[alt] ?? alt;
}

function firstTier(schedule: number[][]): Dec {
  const pct = schedule[0]?.[1];
  if (pct === undefined) throw new Error('AssetPairs snapshot: empty fee schedule');
  return new Dec(pct).div(100);
}

export function bundledMarkets(): Map<string, MarketMeta> {
  const out = new Map<string, MarketMeta>();
  for (const [key, raw] of Object.entries(snapshot.assetPairs as Record<string, KrakenPair>)) {
    const base = commonAsset(raw.base);
    const quote = commonAsset(raw.quote);
    out.set(`${base}/${quote}`, {
      pair: `${base}/${quote}`,
      krakenPair: key,
      altname: raw.altname,
      base,
      quote,
      priceDecimals: raw.pair_decimals,
      lotDecimals: raw.lot_decimals,
      costDecimals: raw.cost_decimals,
      orderMin: new Dec(raw.ordermin),
      costMin: new Dec(raw.costmin),
      takerFee: firstTier(raw.fees),
      makerFee: firstTier(raw.fees_maker),
      status: raw.status,
    });
  }
  return out;
}

/** Kraken file/altname spellings (XBTUSD, XXBTZUSD, XBT/USD) → ccxt symbol, or null. */
export function symbolFromKraken(name: string, markets: Map<string, MarketMeta>): string | null {
  const n = name.toUpperCase().replace('/', '');
  for (const m of markets.values()) {
    if (m.altname === n || m.krakenPair === n || m.pair.replace('/', '') === n) return m.pair;
  }
  return null;
}
