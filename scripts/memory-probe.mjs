// Preloaded into a benchmarked child process (`node --expose-gc --import scripts/memory-probe.mjs …`) with
// TOLLGATE_MEMORY_PROBE=<file>: on each SIGUSR2 it runs a full GC and appends one JSON line
// `{ "t": <ms since the probe loaded>, "rss": <bytes>, "heapUsed": <bytes> }` to the file. The same sample as
// scripts/bench-memory.ts takes in-process (see there why after a GC). Plain JavaScript: it loads before tsx.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.TOLLGATE_MEMORY_PROBE;
if (file && typeof globalThis.gc === 'function') {
  const gc = globalThis.gc;
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const m = process.memoryUsage();
    appendFileSync(file, JSON.stringify({ t: Math.round(performance.now()), rss: m.rss, heapUsed: m.heapUsed }) + '\n');
  });
}
