/**
 * The delisted supplement's rules, as pure functions over AssetPairs/Assets answers: which pairs of an earlier
 * answer are delisted today, how a refresh moves a pair that drops out of Kraken's answer into the set (with the
 * date it was last seen), and what makes a set unsound. The builder (scripts/build-delisted-pairs.ts), the refresh
 * script and the tests all go through these; nothing here reads a file or the clock.
 */
import { PAIR_FIELDS, type DelistedAssetPair, type DelistedNote, type DelistedSet, type DelistedSource, type RawAsset, type RawAssetPair } from './snapshot.ts';

/** The supplement's `_source`. */
export const DELISTED_SOURCE =
  'Kraken AssetPairs entries of pairs the bundled snapshot no longer lists, each exactly as an earlier real answer sent it (status replaced by "delisted"; ' +
  "_delisted: the answer's status, last seen, gone by, where the answer is stored); built by scripts/build-delisted-pairs.ts, kept up by scripts/refresh-asset-pairs.ts.";

/** An AssetPairs/Assets capture and its date. */
export interface Capture {
  readonly assetPairs: Readonly<Record<string, RawAssetPair>>;
  readonly assets: Readonly<Record<string, RawAsset>>;
  /** YYYY-MM-DD */
  readonly day: string;
}

/** Kraken's spellings of a pair (key, altname, wsname without its slash), upper case. */
export function spellings(key: string, p: Pick<RawAssetPair, 'altname' | 'wsname'>): string[] {
  return [key, p.altname, typeof p.wsname === 'string' ? p.wsname.replace('/', '') : ''].filter((s) => s !== '').map((s) => s.toUpperCase());
}

/** Every spelling of every pair of an answer, to tell whether another answer's pair is still listed. */
export function listedSpellings(pairs: Readonly<Record<string, RawAssetPair>>): Set<string> {
  const out = new Set<string>();
  for (const [k, p] of Object.entries(pairs)) for (const s of spellings(k, p)) out.add(s);
  return out;
}

/** The entry of a delisted pair: the fields as the answer sent them, status "delisted", the answer's status, dates and source. */
export function delistedEntry(raw: RawAssetPair, note: Omit<DelistedNote, 'statusThen'>): DelistedAssetPair {
  const { _delisted: previous, ...fields } = raw as RawAssetPair & { _delisted?: DelistedNote };
  const then = previous?.statusThen ?? (typeof raw.status === 'string' && raw.status !== 'delisted' ? raw.status : null);
  return { ...fields, status: 'delisted', _delisted: { statusThen: then, lastSeen: note.lastSeen, goneBy: note.goneBy, source: note.source } } as DelistedAssetPair;
}

/**
 * The pairs of an earlier answer that today's listing lacks (by pair key, altname and wsname alike: a pair Kraken
 * only re-keyed is not delisted), as delisted entries recording that answer. `goneBy` is the date of the first
 * answer known without them (the current listing's, unless a closer one is known).
 */
export function delistedFromAnswer(answer: Readonly<Record<string, RawAssetPair>>, listedNow: Readonly<Record<string, RawAssetPair>>, note: Omit<DelistedNote, 'statusThen'>): Record<string, DelistedAssetPair> {
  const now = listedSpellings(listedNow);
  const out: Record<string, DelistedAssetPair> = {};
  for (const [key, p] of Object.entries(answer)) {
    if (spellings(key, p).some((s) => now.has(s))) continue;
    out[key] = delistedEntry(p, note);
  }
  return out;
}

/**
 * The delisted set after a refresh: each pair of the previous capture that the new answer lacks moves in (last
 * seen on the previous capture's date, gone by the new one's, its source the previous snapshot file); an entry the
 * new answer lists again (relisted) leaves; every other entry is kept. An Assets entry that a delisted pair uses
 * and the new Assets answer lacks is kept as last sent.
 */
export function mergeDelisted(
  before: Capture,
  delisted: DelistedSet,
  after: Capture,
  snapshotFile: string,
): { readonly delisted: DelistedSet; readonly moved: readonly string[]; readonly relisted: readonly string[] } {
  const source: DelistedSource = { kind: 'snapshot', file: snapshotFile, captured: before.day };
  const moved = delistedFromAnswer(before.assetPairs, after.assetPairs, { lastSeen: before.day, goneBy: after.day, source });
  const listed = listedSpellings(after.assetPairs);
  const relisted: string[] = [];
  const pairs: Record<string, DelistedAssetPair> = {};
  for (const [key, p] of Object.entries(delisted.pairs)) {
    if (spellings(key, p).some((s) => listed.has(s))) relisted.push(key);
    else pairs[key] = p;
  }
  // the newer record of a pair wins (a pair taken from an older copy that the previous snapshot still listed)
  Object.assign(pairs, moved);
  const assets: Record<string, RawAsset> = {};
  for (const p of Object.values(pairs)) {
    for (const id of [p.base, p.quote]) {
      if (after.assets[id] || assets[id]) continue;
      const last = before.assets[id] ?? delisted.assets[id];
      if (last) assets[id] = last;
    }
  }
  return { delisted: { _source: DELISTED_SOURCE, pairs: sortedRecord(pairs), assets: sortedRecord(assets) }, moved: Object.keys(moved).sort(), relisted: relisted.sort() };
}

/** What is wrong with a delisted set beside today's listing (empty: fine). */
export function delistedProblems(set: DelistedSet, listedNow: Readonly<Record<string, RawAssetPair>>): string[] {
  const out: string[] = [];
  const now = listedSpellings(listedNow);
  for (const [key, p] of Object.entries(set.pairs)) {
    for (const f of PAIR_FIELDS) if (p[f] === undefined) out.push(`delisted pair ${key}: no ${f}`);
    if (p.status !== 'delisted') out.push(`delisted pair ${key}: status ${String(p.status)}, not delisted`);
    const n = p._delisted;
    if (!n || !/^\d{4}-\d\d-\d\d$/.test(n.lastSeen ?? '') || !/^\d{4}-\d\d-\d\d$/.test(n.goneBy ?? '')) out.push(`delisted pair ${key}: no lastSeen/goneBy dates`);
    else if (n.goneBy < n.lastSeen) out.push(`delisted pair ${key}: gone by ${n.goneBy}, before it was last seen (${n.lastSeen})`);
    const s = n?.source;
    if (!s || (s.kind === 'repository' ? !(s.repo && s.path && /^[0-9a-f]{40}$/.test(s.commit)) : !(s.kind === 'snapshot' && s.file && s.captured))) out.push(`delisted pair ${key}: no source`);
    if (spellings(key, p).some((x) => now.has(x))) out.push(`delisted pair ${key} (${p.altname}) is listed today`);
    if (!Array.isArray(p.fees) || !p.fees[0] || !Array.isArray(p.fees_maker) || !p.fees_maker[0]) out.push(`delisted pair ${key}: empty fee schedule`);
  }
  return out;
}

export function sortedRecord<T>(o: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}
