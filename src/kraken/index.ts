/** Kraken's rules, shared by the venue, reconciliation, live state and the simulator: asset codes and pairs from the bundled snapshot. */
export { krakenSnapshot, type DelistedAssetPair, type DelistedSet, type KrakenSnapshot, type RawAsset, type RawAssetPair } from './snapshot.ts';
export {
  assetCodeCollisions, assetDecimals, assetsAnswer, commonCode, COMMON_CURRENCIES, krakenAssetId, krakenAssets, parseBalanceKey, resolveAssetId,
  tradableBalances, type AssetInfo, type BalanceEntry, type BalanceKey, type BalanceKind,
} from './assets.ts';
export {
  closestAltnames, delistedPair, delistedRefusal, editDistance, findSymbol, krakenMarkets, krakenPairKey, rawAssetPairs, replayMarkets, symbolFromKraken, UnknownPairError,
  type DelistedPair,
} from './pairs.ts';
