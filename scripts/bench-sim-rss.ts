/**
 * RSS of `tollgate run --mode sim` across one hour of market time on a paced simulator (issue 13), for
 * `npm run bench` (printed, never asserted).
 *
 * One hour of market time needs candles shorter than the bundled hourly ones: the bundled XBT/USD candles
 * from 2019-01-01 are re-stamped one minute apart (their prices and volumes unchanged, so the strategies
 * trade as on the hourly data), and the bot runs `--interval 1`. The simulator starts at candle 800 (720
 * candles of history warm the indicators up) and runs at PACE = 3 candles per second (its clock 180× real time),
 * the bot at the same pace with the signal-dense config, polling every second, until 60 live candles (one
 * hour) have closed: about 20 s of wall time after the bot's start-up. The bot is its own process (bin/tollgate.js, as deployed);
 * its RSS is read from /proc/<pid>/status every 250 ms: at start (once it has recovered, reconciled and
 * said its config), at the end (the last sample before it prints its summary), and the peak between. These
 * include heap headroom (V8 collects lazily), so the bot also runs with scripts/memory-probe.mjs preloaded:
 * every 2 s from its start it is asked (SIGUSR2) for its RSS and heapUsed after a full GC, the same sample
 * as the replay's (scripts/bench-memory.ts), judged by the same criterion for flat on the first (start),
 * middle and last (end) of them.
 *
 * Run alone: `npx tsx scripts/bench-sim-rss.ts`. A longer look: `BENCH_SIM_LIVE=600 BENCH_SIM_PACE=10 npx tsx
 * scripts/bench-sim-rss.ts` (ten hours of market time in about a minute; the figures' names stay those of the hour).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadKrakenOhlcvt } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { CandleSeries } from '../src/domain/candle-series.ts';
import { startKrakenSim } from '../src/sim/index.ts';
import { flatVerdict, formatSamples, type FlatVerdict, type MemorySample } from './bench-memory.ts';
import { fmt, row, type Figure } from './bench-util.ts';

const DATA = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
const BIN = join(import.meta.dirname, '..', 'bin', 'tollgate.js');
const PROBE = pathToFileURL(join(import.meta.dirname, 'memory-probe.mjs')).href;
/** wall ms between two after-GC samples of the bot */
const GC_SAMPLE_EVERY = 2_000;
/** live candles per wall second (the simulator's --pace and the bot's) */
const PACE = Number(process.env.BENCH_SIM_PACE ?? 3);
const START = 800;
const LIVE = Number(process.env.BENCH_SIM_LIVE ?? 60);
const DENSE = {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
};

/** The bundled hourly candles from `from`, re-stamped one minute apart: `n` one-minute candles. */
function minuteCandles(from: string, n: number): CandleSeries {
  const h = loadKrakenOhlcvt(DATA, { pair: 'BTC/USD', fromMs: Date.parse(from) });
  if (h.length < n) throw new Error(`bench-sim-rss: the bundled data has ${h.length} candles from ${from}, ${n} needed`);
  const cut = (a: Float64Array) => a.slice(0, n);
  const t0 = h.ts[0]!;
  const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * 60_000);
  return new CandleSeries('BTC/USD', 60_000, ts, cut(h.open), cut(h.high), cut(h.low), cut(h.close), cut(h.volume), cut(h.trades), [], 'bundled XBT/USD hourly, re-stamped a minute apart');
}

/** RSS of a process in MiB (Linux /proc), null where it cannot be read */
function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface SimRss {
  readonly startMiB: number;
  readonly endMiB: number;
  readonly peakMiB: number;
  readonly samples: number[];
  /** RSS and heapUsed after a full GC: start, middle, end */
  readonly afterGc: MemorySample[];
  readonly verdict: FlatVerdict;
  readonly liveCandles: number;
  readonly orders: number;
  readonly wallMs: number;
}

/** The probe's after-GC samples, labelled by the bot's uptime. */
function readProbe(file: string): MemorySample[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => {
    const m = JSON.parse(l) as { t: number; rss: number; heapUsed: number };
    return { at: `at ${(m.t / 1000).toFixed(0)} s`, rssMiB: m.rss / 2 ** 20, heapUsedMiB: m.heapUsed / 2 ** 20 };
  });
}

async function pacedRun(): Promise<SimRss> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const series = minuteCandles('2019-01-01', START + LIVE + 120);
  const sim = await startKrakenSim({ apiKey, apiSecret: secret, series: [series], balances: { USD: '10000', XBT: '0' }, pace: PACE, startIndex: START });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-rss-'));
  try {
    const config = join(dir, 'dense.json');
    writeFileSync(config, JSON.stringify(DENSE));
    const startCursor = sim.exchange.cursor('BTC/USD');
    const t0 = Date.now();
    const args = ['run', '--mode', 'sim', '--url', sim.url, '--pace', String(PACE), '--interval', '1', '--max-candles', String(LIVE), '--poll', '1',
      '--dead-mans-switch', '0', '--config', config, '--state', join(dir, 'state.db'), '--logs', join(dir, 'logs'), '--json'];
    const probeFile = join(dir, 'memory.jsonl');
    const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, BIN, ...args], {
      env: { ...process.env, TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret, TOLLGATE_MEMORY_PROBE: probeFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const samples: number[] = [];
    let startAt = -1;
    let endAt = -1;
    let err = '';
    let gcTimer: NodeJS.Timeout | null = null;
    const stopGcSamples = () => {
      if (gcTimer) clearInterval(gcTimer);
      gcTimer = null;
    };
    child.stdout.on('data', () => {
      if (endAt < 0) endAt = samples.length;
      stopGcSamples(); // the summary: the run is over
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (startAt < 0 && err.includes('tollgate run: mode sim')) {
        startAt = samples.length;
        gcTimer = setInterval(() => child.kill('SIGUSR2'), GC_SAMPLE_EVERY);
      }
    });
    const timer = setInterval(() => {
      const r = rssMiB(child.pid!);
      if (r !== null) samples.push(r);
    }, 250);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    stopGcSamples();
    if (code !== 0) throw new Error(`the bot exited ${code}: ${err.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
    const live = samples.slice(Math.max(0, startAt), endAt < 0 ? samples.length : endAt);
    if (!live.length) throw new Error('no RSS samples (is /proc readable?)');
    const probed = readProbe(probeFile);
    const afterGc = probed.length >= 3 ? [probed[0]!, probed[Math.floor((probed.length - 1) / 2)]!, probed.at(-1)!] : probed;
    return {
      startMiB: live[0]!, endMiB: live.at(-1)!, peakMiB: Math.max(...live), samples: live, afterGc, verdict: flatVerdict(afterGc),
      liveCandles: sim.exchange.cursor('BTC/USD') - startCursor, orders: sim.calls['AddOrder'] ?? 0, wallMs: Date.now() - t0,
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the paced run's RSS; the JSON summary's entries. */
export async function benchSimRss(): Promise<Figure[]> {
  const hours = LIVE / 60;
  console.log(`\ntollgate run --mode sim on a paced simulator: ${hours === 1 ? 'one hour' : `${fmt(hours, 1)} hours`} of market time (${LIVE} one-minute candles at ${PACE} candles/s, ${PACE * 60}× real time)`);
  try {
    const r = await pacedRun();
    const every = Math.max(1, Math.floor(r.samples.length / 10));
    row('run', `${fmt(r.wallMs)} ms wall, ${r.liveCandles} live candles on the simulator, ${r.orders} AddOrders`);
    row('bot RSS start / end / peak (MiB)', `${fmt(r.startMiB, 1)} / ${fmt(r.endMiB, 1)} / ${fmt(r.peakMiB, 1)}`);
    row('bot RSS across the run (MiB, ~10 samples)', r.samples.filter((_, i) => i % every === 0).map((x) => fmt(x)).join(' '));
    row('after a full GC: RSS / heapUsed (MiB)', formatSamples(r.afterGc));
    row('  memory across the run', r.verdict.text);
    console.log('goal (not an assertion): RSS flat across the run (end ≈ start)');
    const names = ['start', 'middle', 'end'];
    return [
      ...r.afterGc.flatMap((m, i) => [
        { name: `sim_paced_1h_rss_after_gc_${names[i]}_mib`, value: m.rssMiB, unit: 'MiB', usPerUnit: null },
        { name: `sim_paced_1h_heap_used_after_gc_${names[i]}_mib`, value: m.heapUsedMiB, unit: 'MiB', usPerUnit: null },
      ]),
      { name: 'sim_paced_1h_rss_start_mib', value: r.startMiB, unit: 'MiB', usPerUnit: null },
      { name: 'sim_paced_1h_rss_end_mib', value: r.endMiB, unit: 'MiB', usPerUnit: null },
      { name: 'sim_paced_1h_rss_peak_mib', value: r.peakMiB, unit: 'MiB', usPerUnit: null },
    ];
  } catch (e) {
    console.log(`  paced sim RSS bench failed: ${(e as Error).message}`);
    return [];
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchSimRss();
