/**
 * The bundled snapshot of Kraken's public AssetPairs and Assets answers (`kraken-asset-pairs.json.gz`): every
 * pair with every raw field Kraken sends, and the Assets capture, with `_source` naming where and when each was
 * captured. It is data, read once (gunzip + JSON.parse, ~20 ms) the first time a Kraken fact is asked for, and is
 * the one place Kraken's asset ids, pair keys, altnames, wsnames, minimums and decimals come from.
 * `scripts/refresh-asset-pairs.ts` rewrites it from api.kraken.com.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One pair as Kraken's `GET /0/public/AssetPairs` sends it (the fields Tollgate reads; the rest are kept as sent). */
export interface RawAssetPair {
  readonly altname: string;
  readonly wsname: string;
  readonly base: string;
  readonly quote: string;
  readonly pair_decimals: number;
  readonly lot_decimals: number;
  readonly cost_decimals: number;
  readonly ordermin: string;
  readonly costmin: string;
  readonly tick_size: string;
  readonly status: string;
  readonly fees: ReadonlyArray<readonly [number, number]>;
  readonly fees_maker: ReadonlyArray<readonly [number, number]>;
  readonly [field: string]: unknown;
}

/** One asset as Kraken's `GET /0/public/Assets` sends it. */
export interface RawAsset {
  readonly aclass: string;
  readonly altname: string;
  readonly decimals: number;
  readonly display_decimals: number;
  readonly status?: string;
  readonly [field: string]: unknown;
}

export interface KrakenSnapshot {
  /** where and when the two answers were captured */
  readonly _source: string;
  /** capture dates (YYYY-MM-DD) of the two answers */
  readonly _captured: { readonly assetPairs: string; readonly assets: string };
  /** AssetPairs `result`, by Kraken pair key (XXBTZUSD) */
  readonly assetPairs: Readonly<Record<string, RawAssetPair>>;
  /** Assets `result`, by Kraken asset id (XXBT) */
  readonly assets: Readonly<Record<string, RawAsset>>;
}

export const SNAPSHOT_FILE = new URL('./kraken-asset-pairs.json.gz', import.meta.url);

let cached: KrakenSnapshot | null = null;

/** The bundled snapshot (parsed once; the document, its pair and asset entries frozen). */
export function krakenSnapshot(): KrakenSnapshot {
  if (cached) return cached;
  const doc = JSON.parse(gunzipSync(readFileSync(SNAPSHOT_FILE)).toString('utf8')) as KrakenSnapshot;
  if (typeof doc._source !== 'string' || !doc.assetPairs || !doc.assets || !doc._captured) {
    throw new Error(`${SNAPSHOT_FILE.pathname}: not a Kraken AssetPairs/Assets snapshot (run scripts/refresh-asset-pairs.ts)`);
  }
  // frozen entry by entry (a deep freeze of every fee tier would cost more than the parse)
  for (const p of Object.values(doc.assetPairs)) Object.freeze(p);
  for (const a of Object.values(doc.assets)) Object.freeze(a);
  Object.freeze(doc.assetPairs);
  Object.freeze(doc.assets);
  cached = Object.freeze(doc);
  return cached;
}
