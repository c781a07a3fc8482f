/**
 * `npm run bench` — prints throughput and latency figures; never fails on time.
 * Full pipeline (bus + lifecycle actors + guards + strategies + paper venue + JSONL logs) on the bundled
 * Kraken XBT/USD history, and the bare components measured in the same process, so the pipeline's
 * overhead shows as a ratio.
 *
 * `npm run bench -- --json`: the same, the human-readable lines on stderr, and on stdout one JSON summary
 * `{ node, platform, bareLoop: { candles, usPerCandle, candlesPerSecond }, figures: [ { name, value, unit,
 * usPerUnit, ratioToBareLoop } ] }` where ratioToBareLoop = the figure's µs per unit ÷ the bare loop's µs
 * per candle, both measured in this run (the bare loop: the bundled candles through one EMA cross of
 * trading-signals, no bus, no logging), so figures compare across machines.
 *
 * `npm run bench -- --replay-only`: the bare loop and the two replay pipelines only (quick before/after
 * comparisons of the kernel's hot path).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, map, Subject } from 'rxjs';
import { createActor } from 'xstate';
import { EMA } from 'trading-signals';
import { loadKrakenOhlcvt } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { prepareReplay, runReplay } from '../src/engine/compose.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import { parseConfig } from '../src/config/schema.ts';
import { signalMachine } from '../src/lifecycle/machine.ts';
import { flatVerdict, formatSamples, sampleAfterGc, type MemorySample } from './bench-memory.ts';
import { fmt, now, pct, row, type Figure } from './bench-util.ts';

const DATA = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
const JSON_OUT = process.argv.includes('--json');
const REPLAY_ONLY = process.argv.includes('--replay-only');
// with --json, stdout carries only the summary: the readable lines go to stderr
if (JSON_OUT) console.log = (...args: unknown[]) => console.error(...args);

/** The bare loop every figure is compared with: one EMA cross (12/26) over the bundled closes, best of 5. */
function bareEmaLoop(closes: readonly number[]): { usPerCandle: number; crosses: number } {
  let best = Infinity;
  let crosses = 0;
  for (let run = 0; run < 5; run++) {
    const fast = new EMA(12);
    const slow = new EMA(26);
    let prev: number | null = null;
    let n = 0;
    const t = now();
    for (const c of closes) {
      const f = fast.add(c);
      const s = slow.add(c);
      if (!slow.isStable || f === null || s === null) continue;
      const d = f - s;
      if (prev !== null && prev <= 0 && d > 0) n++;
      prev = d;
    }
    best = Math.min(best, now() - t);
    crosses = n;
  }
  return { usPerCandle: (best * 1000) / closes.length, crosses };
}

function pipeline(label: string, rawConfig: unknown) {
  const config = parseConfig(rawConfig);
  const markets = buildMarkets(config);
  let t = now();
  const series = loadKrakenOhlcvt(DATA, { pair: 'BTC/USD' });
  const loadMs = now() - t;
  const runs: Array<{ ms: number; signals: number; candles: number; lat: number[]; rss: number[] }> = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(tmpdir(), `tollgate-bench-${process.pid}-${i}`);
    const lat: number[] = [];
    const rss: number[] = [];
    t = now();
    const { summary } = runReplay({
      config, markets, series, logsDir: dir,
      onDecisionLatency: (ns) => lat.push(ns / 1e3),
      onProgress: (done, total) => {
        // the first candle (start), about every tenth of the run, and the last (end)
        if (done === 1 || done === total || done % Math.floor(total / 10) < 300) rss.push(process.memoryUsage().rss / 2 ** 20);
      },
    });
    runs.push({ ms: now() - t, signals: summary.signals, candles: summary.candles, lat, rss });
    rmSync(dir, { recursive: true, force: true });
  }
  const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const memory = memoryRun(config, markets, series);
  console.log(`\n${label}`);
  row('CSV load + validation (gzip, 50k rows)', `${fmt(loadMs)} ms`);
  row('replay wall time (best of 3, logs on)', `${fmt(best.ms)} ms`);
  row('candles/s through the full pipeline', fmt(best.candles / (best.ms / 1000)));
  row('signals/s through the full pipeline', `${fmt(best.signals / (best.ms / 1000))}  (${best.signals} signals)`);
  row('received → verdict latency p50 / p99', `${fmt(pct(best.lat, 50), 1)} µs / ${fmt(pct(best.lat, 99), 1)} µs`);
  row('RSS, no forced GC (MiB, start, tenths, end)', best.rss.map((r) => fmt(r)).join(' '));
  const rssStart = best.rss[0] ?? NaN;
  const rssEnd = best.rss[best.rss.length - 1] ?? NaN;
  row('RSS start / end, no forced GC (MiB)', `${fmt(rssStart)} / ${fmt(rssEnd)} (${rssEnd >= rssStart ? '+' : ''}${fmt(rssEnd - rssStart, 1)}; includes heap headroom)`);
  row('after a full GC: RSS / heapUsed (MiB)', formatSamples(memory.samples));
  row('  memory across the replay', memory.verdict.text);
  row('  closed trades the ledger keeps (by design)', String(memory.closedTrades));
  return { ...best, memory: memory.samples };
}

/**
 * One more replay, untimed, for the memory figures: RSS and heapUsed after a full GC once the first 5,000
 * candles are through (indicators, caches and the JIT settled), at the middle and at the end (see
 * scripts/bench-memory.ts for why after a GC and what counts as flat).
 */
function memoryRun(config: ReturnType<typeof parseConfig>, markets: ReturnType<typeof buildMarkets>, series: ReturnType<typeof loadKrakenOhlcvt>) {
  const dir = join(tmpdir(), `tollgate-bench-${process.pid}-memory`);
  const p = prepareReplay({ config, markets, series, logsDir: dir });
  const warm = Math.min(5_000, p.n);
  const marks = new Map([warm, Math.floor(p.n / 2), p.n].map((k) => [k, `at ${fmt(k)} candles`]));
  const samples: MemorySample[] = [];
  for (let i = 0; i < p.n; i++) {
    p.step(i);
    const at = marks.get(i + 1);
    if (at !== undefined) samples.push(sampleAfterGc(at));
  }
  const { portfolio } = p.finish();
  rmSync(dir, { recursive: true, force: true });
  return { samples, verdict: flatVerdict(samples), closedTrades: portfolio.closedTrades.length };
}

/** start / middle / end after a full GC, as JSON figures */
function memoryFigures(prefix: string, samples: readonly MemorySample[]): Figure[] {
  const names = ['start', 'middle', 'end'];
  return samples.flatMap((m, i) => [
    { name: `${prefix}_rss_after_gc_${names[i]}_mib`, value: m.rssMiB, unit: 'MiB', usPerUnit: null },
    { name: `${prefix}_heap_used_after_gc_${names[i]}_mib`, value: m.heapUsedMiB, unit: 'MiB', usPerUnit: null },
  ]);
}

function rxjsAlone(n: number): number {
  const s = new Subject<{ v: number }>();
  let sink = 0;
  s.pipe(filter((x) => x.v >= 0), map((x) => x.v * 2)).subscribe((v) => (sink += v));
  const t = now();
  for (let i = 0; i < n; i++) s.next({ v: i });
  const us = ((now() - t) * 1000) / n;
  if (sink < 0) console.log(sink);
  return us;
}

function xstateAlone(n: number): number {
  const t = now();
  for (let i = 0; i < n; i++) {
    const a = createActor(signalMachine, { input: { signalId: `s${i}` } });
    a.start();
    a.send({ type: 'VALIDATE' });
    a.send({ type: 'GUARD', approved: true, blockedBy: [] });
    a.send({ type: 'APPROVE' });
    a.send({ type: 'SUBMIT', clientOrderId: 'x' });
    a.send({ type: 'REJECT', reason: 'x' });
    a.stop();
  }
  return ((now() - t) * 1000) / n;
}

function jsonlAlone(n: number): number {
  const file = join(tmpdir(), `tollgate-bench-${process.pid}.jsonl`);
  const w = new JsonlWriter(file);
  const rec = { schemaVersion: 1, ts: '2020-01-01T00:00:00.000Z', event: 'signal.transition', signalId: 'ema_cross-BTCUSD-1577836800', from: 'validated', to: 'guarded', terminal: false, cause: 'GUARD', runId: '2b6d3a4e-8f0c-4c55-9f7e-1a2b3c4d5e6f' };
  const t = now();
  for (let i = 0; i < n; i++) w.append(rec);
  w.close();
  const us = ((now() - t) * 1000) / n;
  rmSync(file, { force: true });
  return us;
}

console.log(`tollgate bench — node ${process.version}, ${process.platform}/${process.arch}`);
const closes = Array.from(loadKrakenOhlcvt(DATA, { pair: 'BTC/USD' }).candles(), (c) => c.close);
const bare = bareEmaLoop(closes);
console.log('\nbare loop (the unit of every ratio)');
row('one EMA cross over the bundled candles', `${fmt(bare.usPerCandle, 3)} µs/candle, ${fmt(1e6 / bare.usPerCandle)} candles/s (${bare.crosses} crosses)`);
const figures: Figure[] = [];
const def = pipeline('full pipeline, default config (3 strategies, 12 guards)', {});
const busy = pipeline('full pipeline, signal-dense config (fast indicators: many more signals)', {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
});

if (REPLAY_ONLY) {
  const perCandle = (def.ms * 1000) / def.candles;
  row('pipeline µs per candle (default config)', `${fmt(perCandle, 2)} (${fmt(perCandle / bare.usPerCandle)}× the bare loop)`);
  process.exit(0);
}

console.log('\nbare components (same process)');
const rx = rxjsAlone(2_000_000);
const xs = xstateAlone(50_000);
const jl = jsonlAlone(300_000);
row('RxJS Subject → filter → map → subscriber', `${fmt(rx, 3)} µs/event`);
row('XState actor: create + 5 events + stop', `${fmt(xs, 1)} µs/signal`);
row('JSONL append (~230-byte line, buffered)', `${fmt(jl, 2)} µs/line`);

console.log('\noverhead ratios');
const perCandle = (def.ms * 1000) / def.candles;
row('pipeline µs per candle (default config)', fmt(perCandle, 2));
const perSignal = (busy.ms * 1000) / busy.signals;
row('pipeline µs per signal (signal-dense, all in)', fmt(perSignal, 1));
row('  ÷ bare XState actor per signal', `${fmt(perSignal / xs, 1)}×`);
row('  ÷ (XState + ~8 JSONL lines) per signal', `${fmt(perSignal / (xs + 8 * jl), 1)}×`);
console.log('\ngoals (not assertions): ≥100,000 candles/s, ≥10,000 signals/s, p99 received→verdict < 1 ms, RSS flat');
figures.push(
  { name: 'replay_default_candles_per_second', value: def.candles / (def.ms / 1000), unit: 'candles/s', usPerUnit: perCandle, per: 'candle' },
  { name: 'replay_signal_dense_signals_per_second', value: busy.signals / (busy.ms / 1000), unit: 'signals/s', usPerUnit: perSignal, per: 'signal' },
  { name: 'received_to_verdict_p99_us', value: pct(def.lat, 99), unit: 'µs', usPerUnit: pct(def.lat, 99), per: 'signal' },
  { name: 'replay_default_rss_end_mib', value: def.rss[def.rss.length - 1] ?? NaN, unit: 'MiB', usPerUnit: null },
  ...memoryFigures('replay_default', def.memory),
  ...memoryFigures('replay_signal_dense', busy.memory),
);
// loaded here, not at the top: --replay-only needs none of them (and starts faster)
const [{ benchState }, { benchAnalytics }, { benchDashboard }, { benchGateway }, { benchSimRss }, { benchWebhook }] = await Promise.all([
  import('./bench-state.ts'), import('./bench-analytics.ts'), import('./bench-dashboard.ts'),
  import('./bench-gateway.ts'), import('./bench-sim-rss.ts'), import('./bench-webhook.ts'),
]);
benchState();
figures.push(...benchAnalytics());
figures.push(...(await benchDashboard()));
figures.push(...(await benchGateway()));
figures.push(...(await benchSimRss()));
figures.push(...(await benchWebhook()));
if (JSON_OUT) {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  process.stdout.write(JSON.stringify({
    node: process.version, platform: `${process.platform}/${process.arch}`,
    bareLoop: { what: 'EMA(12)/EMA(26) cross of trading-signals over the bundled XBT/USD closes, no logging', candles: closes.length, usPerCandle: round(bare.usPerCandle), candlesPerSecond: Math.round(1e6 / bare.usPerCandle) },
    figures: figures.map((f) => ({ ...f, value: round(f.value), usPerUnit: f.usPerUnit === null ? null : round(f.usPerUnit), ratioToBareLoop: f.usPerUnit === null ? null : round(f.usPerUnit / bare.usPerCandle) })),
  }, null, 2) + '\n');
}
