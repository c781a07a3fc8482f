/**
 * Rebuilds the delisted supplement (src/kraken/kraken-delisted-pairs.json.gz) from the recorded sources: copies of
 * Kraken's own `GET /0/public/AssetPairs` answers from earlier dates, committed to public repositories (SOURCES
 * below: repository, path, commit, the date of the answer). Every pair of such an answer that the bundled snapshot
 * no longer lists (by pair key, altname or wsname) becomes a delisted entry: its fields exactly as that answer sent
 * them, `status: "delisted"`, and `_delisted` with the answer's own status, the last date it is known listed (the
 * newest source that lists it), the date of the first source known without it (or the snapshot's capture date)
 * and where the answer is stored. Entries a refresh moved in from the snapshot (`source.kind: "snapshot"`) are
 * kept as they are, unless a recorded source saw the pair later. Nothing is invented: a pair no source lists is
 * not added, and an entry lacking a field Tollgate reads (ordermin, costmin, cost_decimals …) is refused.
 *
 *   node --import tsx scripts/build-delisted-pairs.ts [--dry-run] [--out FILE] [--git owner/name=GIT_DIR ...]
 *
 * Each answer is read from raw.githubusercontent.com at its commit (needs the network, refuses to run under a
 * test), or, with `--git owner/name=DIR`, from a local clone of that repository (`git show commit:path`).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DELISTED_SOURCE, delistedFromAnswer, delistedProblems, listedSpellings, sortedRecord, spellings } from '../src/kraken/delisted.ts';
import { DELISTED_FILE, krakenSnapshot, readDelisted, type DelistedAssetPair, type DelistedSet, type RawAssetPair } from '../src/kraken/snapshot.ts';

export interface AnswerSource {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  /** the date of the answer: the commit's date, UTC (the capture is no later) */
  readonly day: string;
}

/** Kraken AssetPairs answers from earlier dates, as stored in public repositories (found and checked by hand). */
export const SOURCES: readonly AnswerSource[] = [
  // a full answer ({"error":[],"result":{…}}, 1,042 pairs) committed 2025-06-11 13:16 -0500
  { repo: 'Richierichman15/finance', path: 'kraken_pairs.json', commit: '05afb9bfab71cd128ce91fec836b7832a3e89207', day: '2025-06-11' },
  // a full answer (1,114 pairs) committed 2025-07-23 01:55 +0200
  { repo: 'samajesteduroyaume/Kraken_Bot', path: 'data/kraken_pairs.json', commit: '0aa3ad48e6a931522b714ad3fcff63a5a1d12021', day: '2025-07-22' },
  // the first file re-captured (1,218 pairs) committed 2025-09-11 18:17 -0500
  { repo: 'Richierichman15/finance', path: 'kraken_pairs.json', commit: '2dbed2c77feba784960ba938da1acab81df3ae95', day: '2025-09-11' },
];

/**
 * The delisted set from answers (oldest first or in any order) beside today's listing: each pair's facts from the
 * newest answer that lists it, gone by the first later answer without it (else `listedDay`), and the entries of
 * `kept` (a refresh's) where no answer saw the pair later.
 */
export function buildDelisted(
  answers: ReadonlyArray<{ readonly source: AnswerSource; readonly pairs: Readonly<Record<string, RawAssetPair>> }>,
  listedNow: Readonly<Record<string, RawAssetPair>>,
  listedDay: string,
  kept: DelistedSet,
): DelistedSet {
  const byDay = [...answers].sort((a, b) => (a.source.day < b.source.day ? -1 : a.source.day > b.source.day ? 1 : 0));
  const spellingsOf = byDay.map((a) => listedSpellings(a.pairs));
  const pairs: Record<string, DelistedAssetPair> = {};
  byDay.forEach((a, i) => {
    const later = (p: RawAssetPair, key: string) => {
      for (let j = i + 1; j < byDay.length; j++) {
        const s = spellingsOf[j]!;
        if (!spellings(key, p).some((x) => s.has(x))) return byDay[j]!.source.day;
      }
      return listedDay;
    };
    const { repo, path, commit } = a.source;
    const found = delistedFromAnswer(a.pairs, listedNow, { lastSeen: a.source.day, goneBy: listedDay, source: { kind: 'repository', repo, path, commit } });
    for (const [key, p] of Object.entries(found)) pairs[key] = { ...p, _delisted: { ...p._delisted, goneBy: later(a.pairs[key]!, key) } };
  });
  for (const [key, p] of Object.entries(kept.pairs)) {
    if (p._delisted.source.kind !== 'snapshot') continue;
    const seen = pairs[key];
    if (!seen || seen._delisted.lastSeen < p._delisted.lastSeen) pairs[key] = p;
  }
  return { _source: DELISTED_SOURCE, pairs: sortedRecord(pairs), assets: sortedRecord(kept.assets) };
}

function readAnswer(s: AnswerSource, clones: ReadonlyMap<string, string>): Promise<string> {
  const dir = clones.get(s.repo);
  if (dir) return Promise.resolve(execFileSync('git', ['--git-dir', dir, 'show', `${s.commit}:${s.path}`], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const url = `https://raw.githubusercontent.com/${s.repo}/${s.commit}/${s.path}`;
  return fetch(url, { signal: AbortSignal.timeout(60_000) }).then(async (r) => {
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.text();
  });
}

function resultOf(s: AnswerSource, text: string): Record<string, RawAssetPair> {
  const body = JSON.parse(text) as { error?: unknown; result?: unknown };
  if (!Array.isArray(body.error) || body.error.length > 0 || !body.result || typeof body.result !== 'object') {
    throw new Error(`${s.repo}@${s.commit.slice(0, 10)}:${s.path}: not a clean Kraken AssetPairs answer`);
  }
  return body.result as Record<string, RawAssetPair>;
}

async function main(argv: readonly string[]): Promise<number> {
  const clones = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--git') continue;
    const [repo, dir] = (argv[i + 1] ?? '').split('=');
    if (!repo || !dir) throw new Error('--git needs owner/name=GIT_DIR');
    clones.set(repo, dir);
  }
  if (process.env.VITEST && SOURCES.some((s) => !clones.has(s.repo))) {
    process.stderr.write('build-delisted-pairs: refusing to reach the network under a test runner\n');
    return 2;
  }
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? argv[outIdx + 1] : fileURLToPath(DELISTED_FILE);
  if (!out) throw new Error('--out needs a file');
  const snap = krakenSnapshot();
  const answers = [];
  for (const source of SOURCES) answers.push({ source, pairs: resultOf(source, await readAnswer(source, clones)) });
  const set = buildDelisted(answers, snap.assetPairs, snap._captured.assetPairs, readDelisted());
  const bad = delistedProblems(set, snap.assetPairs);
  if (bad.length) {
    process.stderr.write(`build-delisted-pairs: refused, nothing written:\n  ${bad.join('\n  ')}\n`);
    return 1;
  }
  for (const [key, p] of Object.entries(set.pairs)) {
    process.stdout.write(`${key} (${p.wsname}): last seen ${p._delisted.lastSeen} (${p._delisted.statusThen ?? 'no status'}), gone by ${p._delisted.goneBy}\n`);
  }
  if (argv.includes('--dry-run')) {
    process.stdout.write(`dry run: ${Object.keys(set.pairs).length} delisted pairs, nothing written\n`);
    return 0;
  }
  writeFileSync(out, gzipSync(JSON.stringify(set), { level: 9 }));
  process.stdout.write(`wrote ${out}: ${Object.keys(set.pairs).length} delisted pairs\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`build-delisted-pairs: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
