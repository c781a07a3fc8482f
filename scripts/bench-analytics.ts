/**
 * Benchmarks of issue 3: the shadow engine's cost per candle by number of open shadow positions, and
 * report generation over 1,000,000 decision lines. Prints numbers; never fails on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { InMemoryStore } from '../src/adapters/memory/memory-store.ts';
import { reportFor, withReadModel, type ReportFilter } from '../src/engine/reporting.ts';
import { SIDECAR_FILE } from '../src/analytics/sidecar.ts';
import { SignalBus } from '../src/bus/bus.ts';
import { BLOCK_CODES, type Candle, type Decision, type Signal } from '../src/domain/types.ts';
import { isoTime } from '../src/domain/time.ts';
import { ShadowEngine, type ShadowPosition } from '../src/shadow/shadow-engine.ts';
import { LOG_FILES } from '../src/ports/decision-log.ts';
import { fmt, now, pct, row, type Figure } from './bench-util.ts';

const H = 3_600_000;

function shadowCost(open: number, candles: number): number {
  const clock = new ManualClock(0);
  const bus = new SignalBus(() => clock.now());
  const markets = krakenMarkets();
  const eng = new ShadowEngine({
    bus, clock, meta: (p) => markets.get(p), fillModel: { slippageBps: 5, maxVolumeShare: 1 },
    plan: { orderType: 'market', limitOffsetBps: 0, entryTimeoutCandles: 3, intervalMs: H },
    // trailing stop and max hold set but never reached: every candle evaluates every rule
    exitRules: () => ({ takeProfitPct: 0.5, stopLossPct: 0.5, trailingStopPct: 0.5, maxHoldCandles: 1_000_000, useStrategyExit: true }),
    venueCheck: () => null, liveHolding: () => false, store: new InMemoryStore<ShadowPosition>(),
  });
  const guards = BLOCK_CODES.map((code) => ({ code, mode: 'enforce' as const, verdict: code === 'COOLDOWN' ? ('block' as const) : ('allow' as const), detail: null }));
  for (let i = 0; i < open; i++) {
    const signal: Signal = { id: `s-${i}`, strategy: `st${i % 3}`, pair: 'BTC/USD', side: 'buy', confidence: 1, price: 10_000, reason: '', source: 'strategy', tsEvent: 0, tsInit: 0 };
    const decision: Decision = { signalId: signal.id, decision: 'blocked', guards, blockedBy: ['COOLDOWN'], observedBlocks: [], ts: 0 };
    bus.publish('verdict', { decision, signal, proposal: { quantity: '0.1', price: '10000', cost: '1000' } });
  }
  const candle = (k: number): Candle => ({ pair: 'BTC/USD', intervalMs: H, ts: k * H, open: 10_000 + (k % 7), high: 10_050, low: 9_950, close: 10_000 + (k % 5), volume: 1e9, trades: 10 });
  // first candle fills the entries; then measure steady state
  clock.set(2 * H);
  bus.publish('candleDone', candle(1));
  const t0 = now();
  for (let k = 2; k < candles + 2; k++) {
    clock.set((k + 1) * H);
    bus.publish('candleDone', candle(k));
  }
  const perCandle = (now() - t0) / candles;
  if (eng.openCount !== open) throw new Error(`bench: expected ${open} open shadows, have ${eng.openCount}`);
  return perCandle * 1000; // µs
}

/** `onProgress(i)` before decision i is written (the writer-heap figure samples the heap there) */
export function writeLogs(dir: string, decisions: number, onProgress?: (i: number) => void): { bytes: number; blocked: number } {
  const runId = '00000000-0000-4000-8000-000000000001';
  // as the bot writes them: each JSONL sink with the report's sidecar fed beside it
  const log = withReadModel(dir, (name) => new JsonlWriter(join(dir, LOG_FILES[name])));
  const { bus, decisions: dec, shadow: sh } = log;
  const t0 = Date.UTC(2015, 0, 1);
  bus.append({ schemaVersion: 1, ts: isoTime(t0), event: 'run.started', signalId: null, mode: 'replay', pair: 'BTC/USD', from: isoTime(t0), to: isoTime(t0 + decisions * H), startingCash: { USD: '10000' }, guards: Object.fromEntries(BLOCK_CODES.map((c) => [c, 'enforce'])), runId });
  let blocked = 0;
  for (let i = 0; i < decisions; i++) {
    onProgress?.(i);
    const ts = isoTime(t0 + i * H);
    const id = `strat${i % 3}-BTCUSD-${1420070400 + i * 3600}`;
    const blockCode = i % 10 < 7 ? BLOCK_CODES[i % BLOCK_CODES.length]! : null;
    const guards = BLOCK_CODES.map((code) => ({ code, mode: 'enforce', verdict: code === blockCode ? 'block' : 'allow', detail: code === blockCode ? `${code.toLowerCase()} detail ${i % 97}` : null }));
    const isBlocked = blockCode !== null;
    dec.append({ schemaVersion: 1, ts, signalId: id, strategy: `strat${i % 3}`, pair: 'BTC/USD', side: 'buy', decision: isBlocked ? 'blocked' : 'approved', guards, blockedBy: isBlocked ? [blockCode] : [], observedBlocks: [], confidence: 0.8, price: '10000.1', quantity: '0.1', cost: '1000.01', runId });
    const pnl = (((i * 7919) % 2001) - 1000) / 100;
    if (isBlocked) {
      blocked++;
      sh.append({ schemaVersion: 1, ts, signalId: id, strategy: `strat${i % 3}`, pair: 'BTC/USD', side: 'buy', blockedBy: [blockCode], blockingGuards: [blockCode], status: 'closed', reason: null, decidedTs: ts, entryTs: ts, entryPrice: '10005.1', exitTs: isoTime(t0 + (i + 5) * H), exitPrice: '10010.2', exitReason: 'take_profit', quantity: '0.1', fees: '8.0062', pnl: pnl.toFixed(2), pnlPct: pnl / 10, maxAdverse: '-3.2', maxFavourable: '7.1', overlaps: i % 4 === 0, runId });
    } else {
      bus.append({ schemaVersion: 1, ts, event: 'trade.closed', signalId: id, strategy: `strat${i % 3}`, pair: 'BTC/USD', side: 'buy', quantity: '0.1', entryTs: ts, entryPrice: '10005.1', exitTs: isoTime(t0 + (i + 5) * H), exitPrice: '10010.2', exitReason: 'take_profit', fees: '8.0062', pnl: pnl.toFixed(2), runId });
    }
  }
  for (const w of Object.values(log)) w.close();
  const bytes = [LOG_FILES.bus, LOG_FILES.decisions, LOG_FILES.shadow].reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  return { bytes, blocked };
}

/** Prints the figures; returns them for the JSON summary (per-unit costs in µs). */
export function benchAnalytics(): Figure[] {
  const figures: Figure[] = [];
  console.log('\nshadow engine (issue 3): cost per candle by open shadow positions on the candle’s pair');
  for (const [open, candles] of [[0, 20_000], [100, 5_000], [10_000, 100]] as const) {
    const us = shadowCost(open, candles);
    row(`${fmt(open)} open shadow positions`, `${fmt(us, 1)} µs/candle${open ? `  (${fmt(us / open, 2)} µs per position)` : ''}`);
    figures.push({ name: `shadow_engine_${open}_open_us_per_candle`, value: us, unit: 'µs/candle', usPerUnit: us });
  }
  console.log('  goal: at most linear in the open positions of the pair touched');

  // the sidecar writer's memory (issue 13: RSS flat across a run): heap after GC while 300,000 decisions are written
  const heapDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-writer-heap-'));
  try {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'bench-report-child.ts'), '--writer-heap', heapDir], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`bench: writer-heap child failed: ${child.stderr}`);
    const heap = JSON.parse(child.stdout) as number[];
    console.log('\nreport sidecar writer: heapUsed after GC while 300,000 decisions are logged (MiB, at 0 and every 50,000)');
    row('  start … end', `${heap.map((h) => fmt(h, 1)).join(' ')}  (${fmt(heap.at(-1)! - heap[0]!, 1)} MiB)`);
    console.log('  goal: flat (the writer remembers only recent values)');
    figures.push({ name: 'sidecar_writer_heap_growth_mib', value: heap.at(-1)! - heap[0]!, unit: 'MiB', usPerUnit: null });
  } finally {
    rmSync(heapDir, { recursive: true, force: true });
  }

  const N = 1_000_000;
  console.log('\nreport generation over 1,000,000 decision lines (70% blocked → 700,000 shadow outcomes, 300,000 trade.closed)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-report-'));
  try {
    let t = now();
    const { bytes } = writeLogs(dir, N);
    row('writing the logs (not part of the report)', `${fmt((now() - t) / 1000, 1)} s, ${fmt(bytes / 2 ** 20)} MiB`);
    row('  of which the report sidecar (report_read_model.bin)', `${fmt(statSync(join(dir, SIDECAR_FILE)).size / 2 ** 20)} MiB`);
    // `tollgate report` as an operator runs it: a fresh process, default text format; then the JSONL alone (before the sidecar)
    const report = (jsonl: boolean) => {
      const t0 = now();
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bench-report-child.ts'), dir, 'text', ...(jsonl ? ['jsonl'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (child.status !== 0) throw new Error(`bench: report child failed: ${child.stderr}`);
      return { ...(JSON.parse(child.stdout) as { ms: number; maxRssMiB: number; chars: number }), wallMs: now() - t0 };
    };
    const r = report(false);
    row('tollgate report (sidecar + analyse + render text)', `${fmt(r.ms / 1000, 2)} s in the process (${fmt(r.wallMs / 1000, 2)} s with start-up)`);
    row('  peak RSS of that process', `${fmt(r.maxRssMiB)} MiB`);
    const j = report(true);
    row('the same from the JSONL alone (no sidecar)', `${fmt(j.ms / 1000, 2)} s, peak RSS ${fmt(j.maxRssMiB)} MiB${j.chars === r.chars ? '' : ' (different text!)'}`);
    console.log('  goal: < 2 s and < 300 MB RSS for 1M decisions');
    // the dashboard's filtered reports: the sidecar read once (kept by reporting.ts), then each request builds its report
    t = now();
    reportFor(dir, { run: 'all' });
    row('first filtered report in a process (reads the sidecar)', `${fmt(now() - t)} ms`);
    const month = Date.UTC(2020, 5, 1);
    const cases: Array<[string, ReportFilter]> = [
      ['whole range', { run: 'all' }],
      ['one strategy', { run: 'all', strategy: 'strat1' }],
      ['one pair', { run: 'all', pair: 'BTC/USD' }],
      ['one month', { run: 'all', since: month, until: Date.UTC(2020, 6, 1) }],
    ];
    console.log('dashboard: reportFor(logsDir, filter) with 1,000,000 decisions (7 requests each, sidecar in memory)');
    for (const [label, f] of cases) {
      const ms: number[] = [];
      for (let i = 0; i < 7; i++) {
        t = now();
        reportFor(dir, f);
        ms.push(now() - t);
      }
      row(`  ${label}`, `p50 ${fmt(pct(ms, 50))} ms, p95 ${fmt(pct(ms, 95))} ms`);
      figures.push({ name: `dashboard_report_${label.replace(/ /g, '_')}_p95_ms`, value: pct(ms, 95), unit: 'ms', usPerUnit: (pct(ms, 95) * 1000) / N, per: 'decision line' });
    }
    console.log('  goal: p95 < 200 ms each');
    // a new selection each time (the dashboard's first request of a filter): nothing cached for it
    const year = (y: number) => Date.UTC(y, 0, 1);
    const fresh: ReportFilter[] = [
      { run: 'all', strategy: 'strat0', since: year(2030) }, { run: 'all', strategy: 'strat2', until: year(2060) }, { run: 'all', pair: 'ETH/USD' },
      { run: 'all', since: year(2040), until: year(2041) }, { run: 'all', since: year(2100) }, { run: 'all', until: year(2025) },
      { run: 'latest', strategy: 'strat1', pair: 'BTC/USD' }, { run: 'all', since: year(2016), strategy: 'strat2' },
      { run: 'all', since: year(2050), until: year(2090), pair: 'BTC/USD' }, { run: 'all', strategy: 'strat1', since: year(2070), until: year(2071) },
    ];
    const firstMs = fresh.map((f) => {
      t = now();
      reportFor(dir, f);
      return now() - t;
    });
    row(`dashboard: ${fresh.length} new filters, first request each`, `p50 ${fmt(pct(firstMs, 50))} ms, p95 ${fmt(pct(firstMs, 95))} ms`);
    console.log('  goal: p95 < 200 ms');
    figures.push({ name: 'dashboard_report_new_filter_p95_ms', value: pct(firstMs, 95), unit: 'ms', usPerUnit: (pct(firstMs, 95) * 1000) / N, per: 'decision line' });
    figures.push({ name: 'report_1m_decisions_ms', value: r.ms, unit: 'ms', usPerUnit: (r.ms * 1000) / N, per: 'decision line' });
    figures.push({ name: 'report_1m_decisions_max_rss_mib', value: r.maxRssMiB, unit: 'MiB', usPerUnit: null });
    figures.push({ name: 'report_1m_decisions_jsonl_only_ms', value: j.ms, unit: 'ms', usPerUnit: (j.ms * 1000) / N, per: 'decision line' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
