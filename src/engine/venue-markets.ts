/**
 * The markets a paper, sim or live bot trades with: the venue's own AssetPairs and Assets answers, read at
 * start (Kraken's minimums and decimals change; a delisting or a new ordermin must not surprise an order),
 * with the config's market overrides on top. When the venue cannot be asked (offline, an error answer), the
 * bundled snapshot is used and the bot says so, naming the snapshot's capture date. Either way a pair Kraken has
 * delisted is not among them (not in the venue's answer; the snapshot keeps those for replay only), so the bot
 * refuses it at start.
 */
import type { Config } from '../config/schema.ts';
import type { MarketMeta } from '../domain/types.ts';
import { delistedPair, marketsFromAnswers } from '../kraken/pairs.ts';
import { krakenSnapshot, type RawAsset, type RawAssetPair } from '../kraken/snapshot.ts';
import type { Logger } from '../ports/logger.ts';
import { buildMarkets } from './wiring.ts';

/** Kraken's public AssetPairs and Assets calls (ccxt's implicit `publicGetAssetPairs` / `publicGetAssets`). */
export interface MarketAnswers {
  publicGetAssetPairs(): Promise<{ result?: Record<string, RawAssetPair> }>;
  publicGetAssets(): Promise<{ result?: Record<string, RawAsset> }>;
}

export interface VenueMarkets {
  readonly markets: Map<string, MarketMeta>;
  readonly source: 'venue' | 'snapshot';
}

/** The markets without the delisted pairs a replay may use (the same map when there are none). */
function withoutDelisted(markets: Map<string, MarketMeta>): Map<string, MarketMeta> {
  const gone = [...markets.keys()].filter((p) => delistedPair(p) !== null);
  if (gone.length === 0) return markets;
  const out = new Map(markets);
  for (const p of gone) out.delete(p);
  return out;
}

export async function loadVenueMarkets(api: MarketAnswers, config: Config, snapshotMarkets: Map<string, MarketMeta>, logger: Logger): Promise<VenueMarkets> {
  try {
    const [pairs, assets] = await Promise.all([api.publicGetAssetPairs(), api.publicGetAssets()]);
    if (!pairs.result || typeof pairs.result !== 'object' || Object.keys(pairs.result).length === 0) throw new Error('AssetPairs answer has no pairs');
    if (!assets.result || typeof assets.result !== 'object') throw new Error('Assets answer has no assets');
    // the venue's answer is the truth: a pair Kraken listed again after the snapshot is traded
    const markets = buildMarkets(config, marketsFromAnswers(pairs.result, assets.result));
    logger.info('markets.loaded', { source: 'venue', pairs: markets.size }, `markets: ${markets.size} pairs from the venue's AssetPairs`);
    return { markets, source: 'venue' };
  } catch (e) {
    const captured = krakenSnapshot()._captured.assetPairs;
    const why = e instanceof Error ? e.message : String(e);
    const markets = withoutDelisted(snapshotMarkets);
    logger.warn('markets.snapshot', { source: 'snapshot', captured, pairs: markets.size, reason: why },
      `markets: the venue's AssetPairs could not be read (${why}); using the bundled snapshot captured ${captured} (${markets.size} pairs)`);
    return { markets, source: 'snapshot' };
  }
}
