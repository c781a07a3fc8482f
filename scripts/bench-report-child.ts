/**
 * One `tollgate report` in a fresh process (the bench's report figure): reads the logs directory given,
 * renders text as the CLI does by default, prints `{ ms, maxRssMiB, chars }` as JSON on stdout.
 * A third argument `jsonl` reads the JSONL alone (no sidecar): the figure before the sidecar.
 * Started by bench-analytics.ts so that the RSS is the report's own, not the bench's.
 */
import { renderFromLogs } from '../src/engine/reporting.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench-report-child.ts <logs dir> [format]');
const t = performance.now();
const text = renderFromLogs(dir, (process.argv[3] ?? 'text') as 'text', { sidecar: process.argv[4] !== 'jsonl' });
const ms = performance.now() - t;
process.stdout.write(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, chars: text.length }) + '\n');
