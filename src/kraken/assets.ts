/**
 * Kraken's asset ids and the common codes Tollgate (and ccxt) use for them — the one mapping the venue,
 * reconciliation, live state and the simulator share, derived from the bundled AssetPairs/Assets snapshot.
 *
 * Kraken id → common code follows ccxt 4.5.84's kraken adapter exactly (`parseCurrency`, `safeCurrencyCode`,
 * `commonCurrencies`), so a code here is the code ccxt reports for the same id:
 *   1. An id with a dot (`XBT.F`, `ETH2.S`, `USD.HOLD`) is `code(part before the dot) + '.' + the rest`.
 *   2. An id starting with X or Z whose Assets `altname` differs (XXBT/XBT, ZUSD/USD, XLTC/LTC, XXDG/XDG, …)
 *      takes its altname; every other id stays itself. An id the Assets capture lacks takes the base or quote
 *      half of a pair's `wsname` (`BONK/USD` → BONK) as its altname.
 *   3. Then ccxt's renames (COMMON_CURRENCIES): XBT→BTC, XDG→DOGE, LUNA→LUNC, LUNA2→LUNA, REPV2→REP,
 *      REP→REPV1, UST→USTC, FEE→KFEE, BCHSV→BSV, and the X/Z spellings ccxt lists itself.
 *
 * Balance keys (`Balance`/`BalanceEx`) carry suffixes (Kraken: "read-only" views; trade through the base asset):
 *   (none)  spot: tradable.
 *   `.F`    Kraken Rewards / Auto Earn, "balances earning automatically": Kraken trades them through the base asset
 *           (USDT and USDT.F are both spent by a USDT order), so they COUNT as the asset in reconciliation.
 *   `.S`    staked (legacy staking, incl. bonded variants such as ATOM21.S, DOT28.S, ETH2.S): locked, not counted.
 *   `.M`    opt-in rewards: not counted.
 *   `.B`    balances in new yield-bearing (Earn) products, like `.S` and `.M`: not counted.
 *   `.P`    parachain crowdloans (DOT.P, KSM.P): locked, not counted.
 *   `.HOLD` fiat on hold (EUR.HOLD): not spendable, not counted.
 *   `.T`    tokenized assets: a different instrument, not counted as its base.
 *   other   unknown: not counted (a position the bot can only sell from a counted balance must not be
 *           believed held because of a balance it cannot sell).
 * So the ledger's holding of an asset is compared with spot + `.F`; an asset moved into staking or Earn is a
 * real difference (the bot could not sell it) and reconciliation reports it.
 */
import { Dec } from '../domain/money.ts';
import { krakenSnapshot, type KrakenSnapshot, type RawAsset } from './snapshot.ts';

/**
 * ccxt 4.5.84's `commonCurrencies` for kraken: Exchange's defaults (XBT, BCHSV) merged with kraken.js's own
 * (node_modules/ccxt/js/src/kraken.js, `commonCurrencies`). A fact about the venue client, not copied code.
 */
export const COMMON_CURRENCIES: Readonly<Record<string, string>> = Object.freeze({
  XBT: 'BTC', BCHSV: 'BSV',
  LUNA: 'LUNC', LUNA2: 'LUNA', REPV2: 'REP', REP: 'REPV1', UST: 'USTC', XDG: 'DOGE', FEE: 'KFEE',
  XETC: 'ETC', XETH: 'ETH', XLTC: 'LTC', XMLN: 'MLN', XREP: 'REP', XXBT: 'BTC', XXDG: 'DOGE', XXLM: 'XLM', XXMR: 'XMR',
  XXRP: 'XRP', XZEC: 'ZEC', ZAUD: 'AUD', ZCAD: 'CAD', ZEUR: 'EUR', ZGBP: 'GBP', ZJPY: 'JPY', ZUSD: 'USD',
});

/** ccxt's commonCurrencyCode: the rename if there is one, the (upper-cased) name otherwise */
function renamed(name: string): string {
  const n = name.toUpperCase();
  return COMMON_CURRENCIES[n] ?? n;
}

export interface AssetInfo {
  /** Kraken's asset id (XXBT, ZUSD, BONK, XBT.M) */
  readonly id: string;
  /** Kraken's altname (XBT, USD, BONK) */
  readonly altname: string;
  /** the common code (BTC, USD, BONK, BTC.M) */
  readonly code: string;
  /** Kraken's record-keeping decimals (balances are kept to these), or null when the Assets capture lacks the asset */
  readonly decimals: number | null;
  /** false: the Assets capture lacks it; altname comes from a pair's wsname */
  readonly inAssets: boolean;
}

export interface AssetIndex {
  readonly byId: ReadonlyMap<string, AssetInfo>;
  readonly byCode: ReadonlyMap<string, AssetInfo>;
  readonly byAltname: ReadonlyMap<string, AssetInfo>;
  readonly collisions: readonly string[];
}

let index: AssetIndex | null = null;

function assetIndex(): AssetIndex {
  return (index ??= buildAssetIndex(krakenSnapshot()));
}

/** The id → code index of a snapshot (the bundled one, or a new capture the refresh script checks before writing it). */
export function buildAssetIndex(snap: Pick<KrakenSnapshot, 'assets' | 'assetPairs'>): AssetIndex {
  const alt = new Map<string, string>();
  for (const [id, a] of Object.entries(snap.assets)) alt.set(id, a.altname);
  // ids the Assets capture lacks: their altname is their half of a pair's wsname
  for (const p of Object.values(snap.assetPairs)) {
    const [b, q] = p.wsname.split('/');
    if (!alt.has(p.base) && b) alt.set(p.base, b);
    if (!alt.has(p.quote) && q) alt.set(p.quote, q);
  }
  const byId = new Map<string, AssetInfo>();
  const codeOf = (id: string): string => {
    const dot = id.indexOf('.');
    if (dot > 0) {
      // ccxt: the part before the dot as an id if it is one, else renamed; the suffix kept
      const first = id.slice(0, dot);
      const rest = id.slice(dot + 1).split('.')[0]!;
      return `${alt.has(first) ? codeOf(first) : renamed(first)}.${rest}`;
    }
    const a = alt.get(id);
    if (a !== undefined && a !== id && /^[XZ]/.test(id)) return renamed(a);
    return renamed(id);
  };
  for (const [id, a] of alt) {
    const raw: RawAsset | undefined = snap.assets[id];
    byId.set(id, { id, altname: a, code: codeOf(id), decimals: raw ? raw.decimals : null, inAssets: raw !== undefined });
  }
  const byCode = new Map<string, AssetInfo>();
  const byAltname = new Map<string, AssetInfo>();
  const collisions: string[] = [];
  for (const info of [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const other = byCode.get(info.code);
    // a snapshot where two ids share a code is refused by the refresh script; the first id (by name) wins here
    if (other) collisions.push(`${other.id} and ${info.id} → ${info.code}`);
    else byCode.set(info.code, info);
    if (!byAltname.has(info.altname)) byAltname.set(info.altname, info);
  }
  return { byId, byCode, byAltname, collisions };
}

/** Every asset the snapshot knows (Assets entries and the ids pairs use), by Kraken id. */
export function krakenAssets(): ReadonlyMap<string, AssetInfo> {
  return assetIndex().byId;
}

/** Kraken ids of the snapshot that share a common code (`A and B → CODE`); empty for a sound snapshot. */
export function assetCodeCollisions(): readonly string[] {
  return assetIndex().collisions;
}

/**
 * Kraken asset id or balance key → common code: XXBT → BTC, ZUSD → USD, XLTC → LTC, XXDG → DOGE, BONK → BONK,
 * XBT.F → BTC.F, LUNA → LUNC, LUNA2 → LUNA. An id the snapshot does not know gets ccxt's answer for it too
 * (renamed if ccxt renames it, itself otherwise), so a newer asset still maps as the venue client maps it.
 */
export function commonCode(krakenId: string): string {
  const known = assetIndex().byId.get(krakenId);
  if (known) return known.code;
  const dot = krakenId.indexOf('.');
  if (dot > 0) {
    const first = krakenId.slice(0, dot);
    return `${commonCode(first)}.${krakenId.slice(dot + 1).split('.')[0]!}`;
  }
  return renamed(krakenId);
}

/** Common code → Kraken asset id: BTC → XXBT, USD → ZUSD, LTC → XLTC, DOGE → XXDG, LUNA → LUNA2, BONK → BONK; null when unknown. */
export function krakenAssetId(code: string): string | null {
  return assetIndex().byCode.get(code.toUpperCase())?.id ?? null;
}

/**
 * Any spelling of an asset → its Kraken id, for inputs that mix them (the simulator's starting balances):
 * a common code first (USD, BTC, LUNA = Terra 2.0), then a Kraken id (ZUSD, XXBT), then an altname (XBT, XDG).
 * Null when none matches.
 */
export function resolveAssetId(name: string): string | null {
  const n = name.toUpperCase();
  const ix = assetIndex();
  return ix.byCode.get(n)?.id ?? ix.byId.get(n)?.id ?? ix.byAltname.get(n)?.id ?? null;
}

/** Kraken's record-keeping decimals of an asset (balances are kept to them), or null when the snapshot does not say. */
export function assetDecimals(krakenId: string): number | null {
  return assetIndex().byId.get(krakenId)?.decimals ?? null;
}

export type BalanceKind = 'spot' | 'auto_earn' | 'staked' | 'opt_in_rewards' | 'yield_bearing' | 'parachain' | 'on_hold' | 'tokenized' | 'unknown';

export interface BalanceKey {
  /** the key as Kraken sent it (XXBT, XBT.F, ETH2.S) */
  readonly key: string;
  /** the common code of the asset before any suffix (BTC for XXBT and XBT.F) */
  readonly asset: string;
  /** the suffix after the dot (F, S, M, B, P, HOLD, T), or null for spot */
  readonly suffix: string | null;
  readonly kind: BalanceKind;
  /** true: the bot can trade it through the base asset, so reconciliation counts it as the asset */
  readonly tradable: boolean;
}

const SUFFIX_KINDS: Readonly<Record<string, { kind: BalanceKind; tradable: boolean }>> = {
  F: { kind: 'auto_earn', tradable: true },
  S: { kind: 'staked', tradable: false },
  M: { kind: 'opt_in_rewards', tradable: false },
  B: { kind: 'yield_bearing', tradable: false },
  P: { kind: 'parachain', tradable: false },
  HOLD: { kind: 'on_hold', tradable: false },
  T: { kind: 'tokenized', tradable: false },
};

/**
 * A balance key, Kraken's (`XXBT`, `XBT.F`, `DOT28.S`) or, with `codes: 'common'`, ccxt's (`BTC`, `BTC.F`):
 * its asset, suffix and whether it counts as the asset (see the header).
 */
export function parseBalanceKey(key: string, codes: 'kraken' | 'common' = 'kraken'): BalanceKey {
  const dot = key.indexOf('.');
  const base = dot > 0 ? key.slice(0, dot) : key;
  const suffix = dot > 0 ? key.slice(dot + 1).toUpperCase() : null;
  const asset = codes === 'common' ? base.toUpperCase() : commonCode(base);
  if (suffix === null) return { key, asset, suffix, kind: 'spot', tradable: true };
  const k = SUFFIX_KINDS[suffix] ?? { kind: 'unknown' as const, tradable: false };
  return { key, asset, suffix, ...k };
}

/** one entry of Kraken's Balance (`"0.5"`) or BalanceEx (`{ balance: "0.5", hold_trade: "0.1" }`) answer */
export type BalanceEntry = string | number | { readonly balance?: string | number | undefined } | undefined;

/**
 * What the bot can trade, per common code: spot + `.F` (Auto Earn) balances summed, exactly (Kraken's strings),
 * other suffixes left out (see the header). `codes: 'common'` reads ccxt's parsed totals (`BTC`, `BTC.F`) instead.
 */
export function tradableBalances(entries: Readonly<Record<string, BalanceEntry>>, codes: 'kraken' | 'common' = 'kraken'): Map<string, Dec> {
  const out = new Map<string, Dec>();
  for (const [key, v] of Object.entries(entries)) {
    const amount = typeof v === 'object' && v !== null ? v.balance : v;
    if (amount === undefined || amount === null) continue;
    const k = parseBalanceKey(key, codes);
    if (!k.tradable) continue;
    out.set(k.asset, (out.get(k.asset) ?? new Dec(0)).plus(new Dec(String(amount))));
  }
  return out;
}

/**
 * Kraken's Assets answer for every asset the snapshot knows: the captured entries as sent, and for an asset the
 * capture lacks an entry derived from the pairs (altname from the wsname; decimals the largest lot_decimals of
 * its pairs, 8 for a quote-only asset, so no client coarsens a pair's volume precision because of it).
 */
export function assetsAnswer(): Record<string, RawAsset> {
  const snap = krakenSnapshot();
  const lot = new Map<string, number>();
  for (const p of Object.values(snap.assetPairs)) lot.set(p.base, Math.max(lot.get(p.base) ?? 0, p.lot_decimals));
  const out: Record<string, RawAsset> = {};
  for (const info of [...assetIndex().byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const raw = snap.assets[info.id];
    const decimals = lot.get(info.id) ?? 8;
    out[info.id] = raw ?? { aclass: 'currency', altname: info.altname, decimals, display_decimals: Math.min(decimals, 5), status: 'enabled' };
  }
  return out;
}
