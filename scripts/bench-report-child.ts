/**
 * One `tollgate report` in a fresh process (the bench's report figure): reads the logs directory given,
 * renders text as the CLI does by default, prints `{ ms, maxRssMiB, chars }` as JSON on stdout.
 * A third argument `jsonl` reads the JSONL alone (no sidecar): the figure before the sidecar.
 * Started by bench-analytics.ts so that the RSS is the report's own, not the bench's.
 * `--writer-heap <dir>` (with node --expose-gc): logs 300,000 decisions with the sidecar into `dir` and prints
 * heapUsed after GC (MiB) at the start and after every 50,000 decisions, the log still open, as a JSON array: the writer's memory.
 */
import { renderFromLogs } from '../src/engine/reporting.ts';
import { writeLogs } from './bench-analytics.ts';

if (process.argv[2] === '--writer-heap') {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('--writer-heap needs node --expose-gc');
  const heap: number[] = [];
  const sample = () => {
    gc();
    heap.push(process.memoryUsage().heapUsed / 2 ** 20);
  };
  writeLogs(process.argv[3]!, 300_001, (i) => i % 50_000 === 0 && sample()); // the last sample with the writer still open
  process.stdout.write(JSON.stringify(heap) + '\n');
  process.exit(0);
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench-report-child.ts <logs dir> [format]');
const t = performance.now();
const text = renderFromLogs(dir, (process.argv[3] ?? 'text') as 'text', { sidecar: process.argv[4] !== 'jsonl' });
const ms = performance.now() - t;
process.stdout.write(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, chars: text.length }) + '\n');
