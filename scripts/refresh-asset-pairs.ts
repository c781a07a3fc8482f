/**
 * Rewrites the bundled Kraken snapshot (src/kraken/kraken-asset-pairs.json.gz) from Kraken itself:
 * `GET https://api.kraken.com/0/public/AssetPairs` and `/0/public/Assets`, both public, no key. Every raw pair
 * and asset field is kept; `_source` and `_captured` carry today's date. Before anything is written the new
 * answers are checked: Kraken's envelope without errors, the fields Tollgate reads present on every pair, an
 * Assets entry or a wsname for every asset a pair uses, no two asset ids with one common code and no two pairs
 * with one symbol. Then a summary of what changed (pairs added, removed, changed in a rule Tollgate uses).
 *
 *   node --import tsx scripts/refresh-asset-pairs.ts [--dry-run] [--out FILE]
 *
 * Needs the network: never run from a test (it refuses under vitest). Commit the rewritten file with a note.
 *
 * The delisted supplement beside it (kraken-delisted-pairs.json.gz) is kept up in the same run (mergeDelisted): a
 * pair the new answer lacks moves into it as the previous snapshot had it (last seen on that snapshot's capture
 * date, gone by today), a delisted pair Kraken lists again leaves it, every other delisted entry is kept. Both files
 * are written together (each to a temporary file first, then renamed), or neither.
 *
 *   --delisted-out FILE   where the supplement goes (default: beside --out)
 */
import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { isoTime } from '../src/domain/time.ts';
import { buildAssetIndex } from '../src/kraken/assets.ts';
import { buildPairIndex } from '../src/kraken/pairs.ts';
import { delistedProblems, mergeDelisted } from '../src/kraken/delisted.ts';
import { DELISTED_FILE, EMPTY_DELISTED, krakenSnapshot, PAIR_FIELDS, SNAPSHOT_FILE, type KrakenSnapshot, type LoadedSnapshot, type RawAsset, type RawAssetPair } from '../src/kraken/snapshot.ts';

const API = 'https://api.kraken.com/0/public';
/** the pair fields whose change alters a market's rules */
const RULE_FIELDS = ['pair_decimals', 'lot_decimals', 'cost_decimals', 'ordermin', 'costmin', 'status'] as const;

async function kraken<T>(method: string): Promise<Record<string, T>> {
  const res = await fetch(`${API}/${method}`, { signal: AbortSignal.timeout(30_000), headers: { 'User-Agent': 'tollgate refresh-asset-pairs' } });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
  const body = (await res.json()) as { error?: unknown; result?: unknown };
  if (!Array.isArray(body.error) || body.error.length > 0 || body.result === null || typeof body.result !== 'object') {
    throw new Error(`${method}: not a clean Kraken answer (error: ${JSON.stringify(body.error)})`);
  }
  return body.result as Record<string, T>;
}

function sorted<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

/** what is wrong with a new capture (empty: fine) */
export function problems(snap: Pick<KrakenSnapshot, 'assetPairs' | 'assets'>): string[] {
  const out: string[] = [];
  const pairs = Object.entries(snap.assetPairs);
  if (pairs.length === 0) out.push('AssetPairs is empty');
  for (const [key, p] of pairs) {
    for (const f of PAIR_FIELDS) if (p[f] === undefined) out.push(`pair ${key}: no ${f}`);
    if (typeof p.wsname === 'string' && p.wsname.split('/').length !== 2) out.push(`pair ${key}: wsname ${p.wsname} is not BASE/QUOTE`);
    if (!Array.isArray(p.fees) || !p.fees[0] || !Array.isArray(p.fees_maker) || !p.fees_maker[0]) out.push(`pair ${key}: empty fee schedule`);
  }
  if (out.length) return out;
  const assets = buildAssetIndex(snap);
  out.push(...assets.collisions.map((c) => `asset ids share a common code: ${c}`));
  try {
    buildPairIndex(snap.assetPairs, (id) => assets.byId.get(id)?.code ?? id, (id) => assets.byId.get(id)?.decimals ?? null);
  } catch (e) {
    out.push((e as Error).message);
  }
  return out;
}

function changes(before: KrakenSnapshot, after: Pick<KrakenSnapshot, 'assetPairs' | 'assets'>): string[] {
  const was = before.assetPairs;
  const now = after.assetPairs;
  const added = Object.keys(now).filter((k) => !(k in was));
  const removed = Object.keys(was).filter((k) => !(k in now));
  const changed: string[] = [];
  for (const [k, p] of Object.entries(now)) {
    const o = was[k];
    if (!o) continue;
    const diff = RULE_FIELDS.filter((f) => String(o[f]) !== String(p[f])).map((f) => `${f} ${String(o[f])}→${String(p[f])}`);
    if (diff.length) changed.push(`${p.altname}: ${diff.join(', ')}`);
  }
  const newAssets = Object.keys(after.assets).filter((k) => !(k in before.assets));
  return [
    `pairs: ${Object.keys(was).length} → ${Object.keys(now).length} (${added.length} added, ${removed.length} removed, ${changed.length} with changed rules)`,
    `assets: ${Object.keys(before.assets).length} → ${Object.keys(after.assets).length} (${newAssets.length} new)`,
    ...(added.length ? [`added: ${added.join(' ')}`] : []),
    ...(removed.length ? [`removed: ${removed.join(' ')}`] : []),
    ...changed.map((c) => `changed ${c}`),
  ];
}

async function main(argv: readonly string[]): Promise<number> {
  if (process.env.VITEST) {
    process.stderr.write('refresh-asset-pairs: refusing to run under a test runner (it calls api.kraken.com)\n');
    return 2;
  }
  const dryRun = argv.includes('--dry-run');
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? argv[outIdx + 1] : fileURLToPath(SNAPSHOT_FILE);
  if (!out) throw new Error('--out needs a file');
  const [assetPairs, assets] = await Promise.all([kraken<RawAssetPair>('AssetPairs'), kraken<RawAsset>('Assets')]);
  const day = isoTime(new SystemClock().now()).slice(0, 10);
  const doc: KrakenSnapshot = {
    _source:
      `Kraken GET /0/public/AssetPairs (${Object.keys(assetPairs).length} pairs) and GET /0/public/Assets (${Object.keys(assets).length} assets), ` +
      `as api.kraken.com answered on ${day}, every raw field kept; written by scripts/refresh-asset-pairs.ts.`,
    _captured: { assetPairs: day, assets: day },
    assetPairs: sorted(assetPairs),
    assets: sorted(assets),
  };
  const bad = problems(doc);
  if (bad.length) {
    process.stderr.write(`refresh-asset-pairs: the new capture is refused, nothing written:\n  ${bad.slice(0, 50).join('\n  ')}\n`);
    return 1;
  }
  let before: LoadedSnapshot | null = null;
  try {
    before = krakenSnapshot();
  } catch {
    before = null;
  }
  if (before) process.stdout.write(`${changes(before, doc).join('\n')}\n`);
  const merged = before
    ? mergeDelisted({ assetPairs: before.assetPairs, assets: before.assets, day: before._captured.assetPairs }, before.delisted, { assetPairs: doc.assetPairs, assets: doc.assets, day }, 'src/kraken/kraken-asset-pairs.json.gz')
    : { delisted: EMPTY_DELISTED, moved: [], relisted: [] };
  const badDelisted = delistedProblems(merged.delisted, doc.assetPairs);
  if (badDelisted.length) {
    process.stderr.write(`refresh-asset-pairs: the delisted supplement would be unsound, nothing written:\n  ${badDelisted.slice(0, 50).join('\n  ')}\n`);
    return 1;
  }
  process.stdout.write(
    `delisted: ${Object.keys(merged.delisted.pairs).length} pairs kept for replay (${merged.moved.length} moved in${merged.moved.length ? `: ${merged.moved.join(' ')}` : ''}; ` +
      `${merged.relisted.length} listed again${merged.relisted.length ? `: ${merged.relisted.join(' ')}` : ''})\n`,
  );
  if (dryRun) {
    process.stdout.write('dry run: nothing written\n');
    return 0;
  }
  const dIdx = argv.indexOf('--delisted-out');
  const delistedOut = dIdx >= 0 ? argv[dIdx + 1] : outIdx >= 0 ? join(dirname(out), basename(fileURLToPath(DELISTED_FILE))) : fileURLToPath(DELISTED_FILE);
  if (!delistedOut) throw new Error('--delisted-out needs a file');
  // both files or neither: each written beside its target, then renamed
  writeFileSync(`${out}.tmp`, gzipSync(JSON.stringify(doc), { level: 9 }));
  writeFileSync(`${delistedOut}.tmp`, gzipSync(JSON.stringify(merged.delisted), { level: 9 }));
  renameSync(`${delistedOut}.tmp`, delistedOut);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`wrote ${out}: ${doc._source}\nwrote ${delistedOut}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`refresh-asset-pairs: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
