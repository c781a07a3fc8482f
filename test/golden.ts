/**
 * The golden replay: the bundled XBT/USD file with the default config, its contract logs normalised (run
 * ids and wall-clock fields dropped). `test/fixtures/golden/` holds the logs of the main this test was
 * written against; `npx tsx test/golden.ts capture` rewrites them after a deliberate behaviour change.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export const GOLDEN_DIR = join(import.meta.dirname, 'fixtures', 'golden');
export const GOLDEN_LOGS = ['signal_bus.jsonl', 'signal_decisions.jsonl', 'shadow_trade_outcomes.jsonl', 'signal_outcomes.jsonl'] as const;
const BIN = join(import.meta.dirname, '..', 'bin', 'tollgate.js');
const DATA = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
/** fields that differ between two runs of the same input */
const WALL_CLOCK = new Set(['runId', 'elapsedMs']);

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!WALL_CLOCK.has(k)) out[k] = normalise(v);
  return out;
}

/** Normalised lines of one log file. */
export function normalisedLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.stringify(normalise(JSON.parse(l))));
}

/** Replays the bundled file into `logsDir` through the CLI, exactly as `npm run demo` does. */
export function replayBundled(logsDir: string): void {
  execFileSync(process.execPath, [BIN, 'replay', '--data', DATA, '--pair', 'BTC/USD', '--logs', logsDir, '--json', '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

export function goldenLines(name: string): string[] {
  return gunzipSync(readFileSync(join(GOLDEN_DIR, `${name}.gz`))).toString('utf8').split('\n').filter((l) => l.length > 0);
}

if (process.argv[2] === 'capture') {
  const dir = join(GOLDEN_DIR, '..', '..', '..', 'logs', 'golden-capture');
  mkdirSync(dir, { recursive: true });
  replayBundled(dir);
  for (const name of GOLDEN_LOGS) writeFileSync(join(GOLDEN_DIR, `${name}.gz`), gzipSync(normalisedLines(join(dir, name)).join('\n') + '\n', { level: 9 }));
  console.log(`golden logs written to ${GOLDEN_DIR}`);
}
