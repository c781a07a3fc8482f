/**
 * Kraken's pairs from the bundled AssetPairs snapshot: every pair as a MarketMeta keyed by its ccxt symbol
 * (`BASE/QUOTE` in common codes, see assets.ts), and the spellings of a pair users and files use.
 *
 * MarketMeta per pair: price decimals = `pair_decimals`, cost decimals = `cost_decimals`, minimums `ordermin`
 * (base) and `costmin` (quote), first-tier fees as fractions. Lot decimals = `lot_decimals`, or the base asset's
 * Assets `decimals` when that is smaller: Kraken keeps balances to the asset's decimals (ALPHA: lot 8, asset 5
 * — a buy of 100.12345678 shows as 100.12346) and ccxt 4.5.84 truncates every order volume to it, so an order
 * sized finer than that is not what reaches Kraken or what the account then holds.
 *
 * Delisted pairs (the snapshot's delisted supplement, see snapshot.ts) are found by the same spellings and file
 * names, after the listed ones, and are markets only for a replay (`replayMarkets`): a replay replays the market as
 * it traded, so its meta carries the recorded decimals, minimums and fees with status online. `delistedPair` tells
 * them apart; paper, sim and live trade only the listed pairs (the venue's own answer, or `krakenMarkets`).
 */
import { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';
import { assetDecimals, buildAssetIndex, commonCode, krakenAssets } from './assets.ts';
import { krakenSnapshot, type DelistedNote, type RawAsset, type RawAssetPair } from './snapshot.ts';

function firstTier(key: string, schedule: RawAssetPair['fees']): Dec {
  const pct = schedule[0]?.[1];
  if (pct === undefined) throw new Error(`AssetPairs snapshot: ${key} has an empty fee schedule`);
  return new Dec(String(pct)).div(100);
}

function metaOf(key: string, raw: RawAssetPair, codeOf: (id: string) => string, decimalsOf: (id: string) => number | null): MarketMeta {
  const base = codeOf(raw.base);
  const quote = codeOf(raw.quote);
  const kept = decimalsOf(raw.base);
  return Object.freeze({
    pair: `${base}/${quote}`,
    krakenPair: key,
    altname: raw.altname,
    base,
    quote,
    priceDecimals: raw.pair_decimals,
    lotDecimals: kept === null ? raw.lot_decimals : Math.min(raw.lot_decimals, kept),
    costDecimals: raw.cost_decimals,
    orderMin: new Dec(raw.ordermin),
    costMin: new Dec(raw.costmin),
    takerFee: firstTier(key, raw.fees),
    makerFee: firstTier(key, raw.fees_maker),
    status: raw.status,
  });
}

export interface PairIndex {
  readonly markets: ReadonlyMap<string, MarketMeta>;
  /** Kraken's own spellings, upper case: pair key, altname, wsname without its slash → symbol */
  readonly kraken: ReadonlyMap<string, string>;
  /** wsname (with its slash) → symbol */
  readonly wsname: ReadonlyMap<string, string>;
  /** Kraken spellings → pair key */
  readonly keyOf: ReadonlyMap<string, string>;
  /** common spellings: BASE/QUOTE and BASEQUOTE → symbol */
  readonly common: ReadonlyMap<string, string>;
}

let index: PairIndex | null = null;

function pairIndex(): PairIndex {
  return (index ??= buildPairIndex(krakenSnapshot().assetPairs, commonCode, assetDecimals));
}

/**
 * The markets and spellings of a set of AssetPairs entries, given how asset ids map (the bundled snapshot's, or a
 * new capture's that the refresh script checks before writing it). Two pairs with one symbol are an error.
 */
export function buildPairIndex(pairs: Readonly<Record<string, RawAssetPair>>, codeOf: (id: string) => string, decimalsOf: (id: string) => number | null): PairIndex {
  const markets = new Map<string, MarketMeta>();
  const kraken = new Map<string, string>();
  const wsname = new Map<string, string>();
  const keyOf = new Map<string, string>();
  const common = new Map<string, string>();
  for (const [key, raw] of Object.entries(pairs)) {
    const m = metaOf(key, raw, codeOf, decimalsOf);
    if (markets.has(m.pair)) throw new Error(`AssetPairs snapshot: ${markets.get(m.pair)!.krakenPair} and ${key} are both ${m.pair}`);
    markets.set(m.pair, m);
    for (const n of [key, raw.altname, raw.wsname.replace('/', '')]) {
      if (!kraken.has(n)) kraken.set(n, m.pair);
      if (!keyOf.has(n)) keyOf.set(n, key);
    }
    wsname.set(raw.wsname, m.pair);
  }
  for (const m of markets.values()) {
    common.set(m.pair, m.pair);
    if (!common.has(`${m.base}${m.quote}`)) common.set(`${m.base}${m.quote}`, m.pair);
  }
  return { markets, kraken, wsname, keyOf, common };
}

/** The status a delisted pair's meta carries in a replay: the market as it traded (its entry says "delisted"). */
const REPLAY_STATUS = 'online';

let delistedIx: PairIndex | null = null;

/** The delisted pairs that no listed pair shadows (a pair Kraken lists again, or a symbol reused, is the listed one). */
function delistedIndex(): PairIndex {
  if (delistedIx) return delistedIx;
  const { delisted } = krakenSnapshot();
  const listed = pairIndex();
  const pairs: Record<string, RawAssetPair> = {};
  for (const [key, p] of Object.entries(delisted.pairs)) {
    if (listed.keyOf.has(key) || listed.kraken.has(p.altname.toUpperCase()) || listed.markets.has(`${commonCode(p.base)}/${commonCode(p.quote)}`)) continue;
    pairs[key] = { ...p, status: REPLAY_STATUS };
  }
  delistedIx = buildPairIndex(pairs, commonCode, (id) => delisted.assets[id]?.decimals ?? assetDecimals(id));
  return delistedIx;
}

/** Every pair of the snapshot, by ccxt symbol: a new Map on each call (callers may override entries), the metas shared and frozen. */
export function krakenMarkets(): Map<string, MarketMeta> {
  return new Map(pairIndex().markets);
}

/**
 * The markets a replay may trade: every listed pair and, after them, every delisted pair with the decimals, minimums
 * and fees its recorded answer gave (status online: the market as it traded). Never the markets of paper, sim or live.
 */
export function replayMarkets(): Map<string, MarketMeta> {
  return new Map([...pairIndex().markets, ...delistedIndex().markets]);
}

/** A delisted pair and the record it comes from. */
export interface DelistedPair extends DelistedNote {
  readonly symbol: string;
  readonly krakenPair: string;
  readonly altname: string;
}

/** The delisted pair a name spells (symbol, altname, pair key, wsname, file name), or null when it is listed or unknown. */
export function delistedPair(name: string): DelistedPair | null {
  if (name.trim() === '') return null;
  const listed = lookupIn(pairIndex(), name).symbol;
  if (listed) return null;
  const ix = delistedIndex();
  const symbol = lookupIn(ix, name).symbol;
  if (!symbol) return null;
  const m = ix.markets.get(symbol)!;
  const note = krakenSnapshot().delisted.pairs[m.krakenPair]!._delisted;
  return { symbol, krakenPair: m.krakenPair, altname: m.altname, ...note };
}

/** Why a paper, sim or live bot cannot trade a delisted pair (null: the name is not a delisted pair). */
export function delistedRefusal(name: string): string | null {
  const d = delistedPair(name);
  if (!d) return null;
  return `${d.symbol} was delisted by Kraken (${d.altname}: last listed in an AssetPairs answer of ${d.lastSeen}, gone by ${d.goneBy}); replay only — paper, sim and live cannot trade it`;
}

/**
 * The markets of a venue's own AssetPairs and Assets answers (what `loadMarkets` reads at start), built exactly as
 * the snapshot's are: asset ids map by the answer's own Assets (an asset newer than the snapshot keeps its altname,
 * XBT/XDG renamed as ccxt does), lot decimals capped by the asset's.
 */
export function marketsFromAnswers(assetPairs: Readonly<Record<string, RawAssetPair>>, assets: Readonly<Record<string, RawAsset>>): Map<string, MarketMeta> {
  const ai = buildAssetIndex({ assetPairs, assets });
  // an id the snapshot knows keeps the snapshot's code: balances and reconciliation read codes from it
  const known = krakenAssets();
  const codeOf = (id: string) => (known.has(id) ? commonCode(id) : ai.byId.get(id)?.code ?? commonCode(id));
  const decimalsOf = (id: string) => ai.byId.get(id)?.decimals ?? assetDecimals(id);
  return new Map(buildPairIndex(assetPairs, codeOf, decimalsOf).markets);
}

/** The raw AssetPairs entries of the snapshot, by Kraken pair key. */
export function rawAssetPairs(): Readonly<Record<string, RawAssetPair>> {
  return krakenSnapshot().assetPairs;
}

/** Kraken's own spellings of a pair (key XXBTZUSD, altname XBTUSD, wsname XBT/USD, any case) → its pair key, or null. */
export function krakenPairKey(name: string): string | null {
  const n = name.trim().toUpperCase();
  return pairIndex().keyOf.get(n.replace('/', '')) ?? null;
}

/** Kraken's OHLCVT / trade file names: `XBTUSD_60.csv`, `ETHXBT_15.csv`, `XBTUSD_1440.csv.gz`, `XBTUSD.csv` (any directory) → the pair part. */
const FILE_NAME = /^([A-Z0-9]+)(?:_\d+)?\.csv(?:\.gz)?$/i;

/** A name looked up among the listed pairs, then, by the same spellings, among the delisted ones. */
function lookups(name: string): { readonly tried: string[]; readonly symbol: string | null } {
  const r = lookupIn(pairIndex(), name);
  return r.symbol ? r : { tried: r.tried, symbol: lookupIn(delistedIndex(), name).symbol };
}

function lookupIn(ix: PairIndex, name: string): { readonly tried: string[]; readonly symbol: string | null } {
  const tried: string[] = [];
  const raw = name.trim();
  const file = FILE_NAME.exec(raw.split(/[\\/]/).at(-1) ?? '');
  const looksLikeFile = /\.csv(\.gz)?$/i.test(raw);
  if (file || looksLikeFile) {
    if (!file) return { tried: [`"${raw}" as a Kraken file name (PAIR_INTERVAL.csv[.gz], e.g. XBTUSD_60.csv): not of that form`], symbol: null };
    const stem = file[1]!.toUpperCase();
    tried.push(`"${raw}" as a Kraken file name → ${stem}`, `${stem} as a Kraken pair key, altname or wsname`);
    return { tried, symbol: ix.kraken.get(stem) ?? null };
  }
  const n = raw.toUpperCase().replace('-', '/');
  if (n.includes('/')) {
    // a symbol as Tollgate and ccxt write it comes first (LUNA/USD is Terra 2.0), then Kraken's wsname (LUNA/USD on Kraken is LUNC/USD)
    tried.push(`${n} as a ccxt symbol (BASE/QUOTE in common codes)`, `${n} as a Kraken wsname`);
    return { tried, symbol: ix.common.get(n) ?? ix.wsname.get(n) ?? null };
  }
  // Kraken's spellings first (LUNAUSD is Kraken's altname of LUNC/USD), then the common codes run together (BTCUSD)
  tried.push(`${n} as a Kraken pair key, altname or wsname`, `${n} as a ccxt symbol without its slash`);
  return { tried, symbol: ix.kraken.get(n) ?? ix.common.get(n) ?? null };
}

/** The symbol of a pair spelled any of symbolFromKraken's ways, or null. */
export function findSymbol(name: string): string | null {
  return name.trim() === '' ? null : lookups(name).symbol;
}

export class UnknownPairError extends Error {
  constructor(
    readonly input: string,
    readonly tried: readonly string[],
    /** the closest altnames, with their symbols (`XBTUSD (BTC/USD)`) */
    readonly suggestions: readonly string[],
  ) {
    const snap = krakenSnapshot();
    super(
      `unknown Kraken pair "${input}": tried ${tried.join('; ')} — none is one of the ${Object.keys(snap.assetPairs).length} pairs of the bundled ` +
        `AssetPairs snapshot (captured ${snap._captured.assetPairs}) or of its ${delistedIndex().markets.size} delisted pairs kept for replay` +
        (suggestions.length ? `; closest altnames: ${suggestions.join(', ')}` : ''),
    );
    this.name = 'UnknownPairError';
  }
}

/**
 * A pair's ccxt symbol from any spelling of it: the symbol (`BTC/USD`, `btc-usd`), the common codes run together
 * (`BTCUSD`), Kraken's altname (`XBTUSD`, `STORJUSD`), pair key (`XXBTZUSD`) or wsname (`XBT/USD`), or a Kraken
 * file name (`STORJUSD_60.csv`, `ETHXBT_15.csv`, `data/XBTUSD_1440.csv.gz`). Where spellings collide, a slashed
 * name is a ccxt symbol first and an unslashed one Kraken's first (`LUNA/USD` → LUNA/USD, `LUNAUSD` → LUNC/USD).
 * @throws UnknownPairError naming what was tried and the closest altnames
 */
export function symbolFromKraken(name: string): string {
  const r = name.trim() === '' ? { tried: ['an empty name'], symbol: null } : lookups(name);
  if (r.symbol) return r.symbol;
  throw new UnknownPairError(name, r.tried, closestAltnames(name));
}

/**
 * The `n` altnames nearest to `name` (edit distance to the altname or the symbol run together), as `ALTNAME (SYMBOL)`;
 * a delisted pair as `ALTNAME (SYMBOL, delisted: replay only)`.
 */
export function closestAltnames(name: string, n = 3): string[] {
  const looksLikeFile = /\.csv(\.gz)?$/i.test(name.trim());
  const stem = looksLikeFile ? (name.trim().split(/[\\/]/).at(-1) ?? '').replace(/(_\d+)?\.csv(\.gz)?$/i, '') : name;
  const q = stem.trim().toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (q === '') return [];
  const scored: Array<{ d: number; alt: string; pair: string }> = [];
  for (const [ix, note] of [[pairIndex(), ''], [delistedIndex(), ', delisted: replay only']] as const) {
    for (const m of ix.markets.values()) {
      const d = Math.min(editDistance(q, m.altname), editDistance(q, `${m.base}${m.quote}`));
      scored.push({ d, alt: m.altname, pair: `${m.pair}${note}` });
    }
  }
  scored.sort((a, b) => a.d - b.d || a.alt.length - b.alt.length || (a.alt < b.alt ? -1 : a.alt > b.alt ? 1 : 0));
  return scored.slice(0, n).map((s) => `${s.alt} (${s.pair})`);
}

/** Levenshtein distance */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
