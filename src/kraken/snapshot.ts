/**
 * The bundled snapshot of Kraken's public AssetPairs and Assets answers (`kraken-asset-pairs.json.gz`): every
 * pair with every raw field Kraken sends, and the Assets capture, with `_source` naming where and when each was
 * captured. It is data, read once (gunzip + JSON.parse, ~20 ms) the first time a Kraken fact is asked for, and is
 * the one place Kraken's asset ids, pair keys, altnames, wsnames, minimums and decimals come from.
 * `scripts/refresh-asset-pairs.ts` rewrites it from api.kraken.com.
 *
 * Beside it, `kraken-delisted-pairs.json.gz`: pairs Kraken has since delisted (its OHLCVT archive still has their
 * files), each as an earlier real AssetPairs answer sent it, marked `status: "delisted"`, with the answer's date and
 * where it is stored (`_delisted`). Merged at load as `delisted`, apart from the listed pairs: replay may use them,
 * nothing trades them. `scripts/build-delisted-pairs.ts` rebuilds it from the recorded sources; the refresh script
 * moves a pair that drops out of Kraken's answer into it.
 */
import { existsSync, readFileSync } from 'node:fs';
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

/** The pair fields Tollgate reads: every entry, listed or delisted, has them. */
export const PAIR_FIELDS = ['altname', 'wsname', 'base', 'quote', 'pair_decimals', 'lot_decimals', 'cost_decimals', 'ordermin', 'costmin', 'status', 'fees', 'fees_maker'] as const;

/** Where the answer a delisted entry was taken from is stored. */
export type DelistedSource =
  /** a copy of Kraken's answer committed to a public repository (read at that commit) */
  | { readonly kind: 'repository'; readonly repo: string; readonly path: string; readonly commit: string }
  /** the bundled snapshot before a refresh whose answer no longer listed the pair */
  | { readonly kind: 'snapshot'; readonly file: string; readonly captured: string };

export interface DelistedNote {
  /** the pair's status in that answer (online, cancel_only, post_only …), or null when the answer had none */
  readonly statusThen: string | null;
  /** the date of that answer (YYYY-MM-DD): the last date the pair is known to be listed */
  readonly lastSeen: string;
  /** the date of the first answer known to lack it */
  readonly goneBy: string;
  readonly source: DelistedSource;
}

/** A delisted pair: the fields as that answer sent them, `status` replaced by "delisted". */
export interface DelistedAssetPair extends RawAssetPair {
  readonly status: 'delisted';
  readonly _delisted: DelistedNote;
}

export interface DelistedSet {
  readonly _source: string;
  /** by Kraken pair key, as in AssetPairs */
  readonly pairs: Readonly<Record<string, DelistedAssetPair>>;
  /** Assets entries of ids that a delisted pair uses and today's Assets answer lacks, as last sent */
  readonly assets: Readonly<Record<string, RawAsset>>;
}

export interface LoadedSnapshot extends KrakenSnapshot {
  /** the delisted supplement, merged at load */
  readonly delisted: DelistedSet;
}

export const SNAPSHOT_FILE = new URL('./kraken-asset-pairs.json.gz', import.meta.url);
export const DELISTED_FILE = new URL('./kraken-delisted-pairs.json.gz', import.meta.url);

export const EMPTY_DELISTED: DelistedSet = Object.freeze({ _source: 'none', pairs: Object.freeze({}), assets: Object.freeze({}) });

function gunzipJson(file: URL): unknown {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
}

/** The delisted supplement in `file` (default: the bundled one); an absent file is an empty set, a malformed one an error. */
export function readDelisted(file: URL = DELISTED_FILE): DelistedSet {
  if (!existsSync(file)) return EMPTY_DELISTED;
  const doc = gunzipJson(file) as DelistedSet;
  if (typeof doc._source !== 'string' || !doc.pairs || typeof doc.pairs !== 'object' || !doc.assets || typeof doc.assets !== 'object') {
    throw new Error(`${file.pathname}: not a delisted-pairs supplement (run scripts/build-delisted-pairs.ts)`);
  }
  for (const [key, p] of Object.entries(doc.pairs)) {
    const note = p._delisted;
    if (p.status !== 'delisted' || !note || typeof note.lastSeen !== 'string' || typeof note.goneBy !== 'string' || !note.source) {
      throw new Error(`${file.pathname}: pair ${key} is not marked delisted with its source and dates`);
    }
    Object.freeze(p);
  }
  for (const a of Object.values(doc.assets)) Object.freeze(a);
  return Object.freeze({ _source: doc._source, pairs: Object.freeze(doc.pairs), assets: Object.freeze(doc.assets) });
}

let cached: LoadedSnapshot | null = null;

/** The bundled snapshot with its delisted supplement (parsed once; the documents, their pair and asset entries frozen). */
export function krakenSnapshot(): LoadedSnapshot {
  if (cached) return cached;
  const doc = gunzipJson(SNAPSHOT_FILE) as KrakenSnapshot;
  if (typeof doc._source !== 'string' || !doc.assetPairs || !doc.assets || !doc._captured) {
    throw new Error(`${SNAPSHOT_FILE.pathname}: not a Kraken AssetPairs/Assets snapshot (run scripts/refresh-asset-pairs.ts)`);
  }
  // frozen entry by entry (a deep freeze of every fee tier would cost more than the parse)
  for (const p of Object.values(doc.assetPairs)) Object.freeze(p);
  for (const a of Object.values(doc.assets)) Object.freeze(a);
  Object.freeze(doc.assetPairs);
  Object.freeze(doc.assets);
  cached = Object.freeze({ ...doc, delisted: readDelisted() });
  return cached;
}
