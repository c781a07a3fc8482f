import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../src/engine/compose.ts';
import { BLOCK_CODES } from '../src/domain/types.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const series = bundledSlice('2017-01-01', '2017-09-01');

function replayTo(dir: string, overrides: unknown = {}) {
  const { config, markets } = defaults(overrides);
  return runReplay({ config, markets, series, logsDir: dir });
}

describe('replay of real Kraken candles through the full pipeline', () => {
  const dir = tmp();
  const { summary, portfolio } = replayTo(dir);
  const busLines = readJsonl(join(dir, 'signal_bus.jsonl'));
  const decisions = readJsonl(join(dir, 'signal_decisions.jsonl'));
  const received = busLines.filter((l) => l.event === 'signal.received');

  it('when the replay ends then it produced signals, trades, blocks and approvals', () => {
    expect(summary.candles).toBe(series.length);
    expect(summary.signals).toBe(received.length);
    expect(summary.signals).toBeGreaterThan(50);
    expect(summary.approved).toBeGreaterThan(5);
    expect(summary.blocked).toBeGreaterThan(5);
    expect(summary.approved + summary.blocked + summary.failed).toBe(summary.signals);
    expect(summary.trades).toBe(portfolio.closedTrades.length);
    expect(summary.busErrors).toBe(0);
  });

  it('when any line is written to signal_bus.jsonl then it has the LOGS.md fields', () => {
    for (const l of busLines) {
      expect(l.schemaVersion).toBe(1);
      expect(l.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(typeof l.event).toBe('string');
      expect('signalId' in l).toBe(true);
      if (l.event === 'signal.transition') expect(typeof l.terminal).toBe('boolean');
    }
    expect(busLines[0]!.event).toBe('run.started');
    expect(busLines[busLines.length - 1]!.event).toBe('run.finished');
  });

  it('when the replay ends then every signal reached exactly one terminal state or is reported open at the end', () => {
    for (const r of received) {
      const terminal = busLines.filter((l) => l.signalId === r.signalId && l.event === 'signal.transition' && l.terminal === true);
      const open = busLines.filter((l) => l.signalId === r.signalId && l.event === 'signal.open_at_end');
      expect(terminal.length + open.length, r.signalId).toBe(1);
    }
    // nothing transitions after it is terminal
    const done = new Set<string>();
    for (const l of busLines) {
      if (l.event !== 'signal.transition') continue;
      expect(done.has(l.signalId), `${l.signalId} moved after its final state`).toBe(false);
      if (l.terminal) done.add(l.signalId);
    }
  });

  it('when the replay ends then every validated signal has exactly one decision line listing every guard', () => {
    const validated = new Set(busLines.filter((l) => l.event === 'signal.transition' && l.to === 'validated').map((l) => l.signalId));
    const bySignal = new Map<string, number>();
    for (const d of decisions) bySignal.set(d.signalId, (bySignal.get(d.signalId) ?? 0) + 1);
    expect(new Set(bySignal.keys())).toEqual(validated);
    for (const n of bySignal.values()) expect(n).toBe(1);
    for (const d of decisions) {
      expect(d.guards.map((g: { code: string }) => g.code)).toEqual([...BLOCK_CODES]);
      expect(d).toMatchObject({ schemaVersion: 1, pair: 'BTC/USD', side: 'buy' });
      expect(typeof d.ts).toBe('string');
      const enforcingBlocks = d.guards.filter((g: any) => g.mode === 'enforce' && g.verdict === 'block').map((g: any) => g.code);
      expect(d.blockedBy).toEqual(enforcingBlocks);
      expect(d.decision).toBe(enforcingBlocks.length ? 'blocked' : 'approved');
    }
  });

  it('when a guard is in observe mode then its would-blocks are recorded but the signal goes through', () => {
    const observed = decisions.filter((d) => d.guards.some((g: any) => g.mode === 'observe' && g.verdict === 'block'));
    expect(observed.length).toBeGreaterThan(0);
    for (const d of observed) for (const g of d.guards) if (g.mode === 'observe') expect(d.blockedBy).not.toContain(g.code);
  });

  it('when the same data and config are replayed twice then the logs are byte-identical apart from run ids and wall time', () => {
    const dir2 = tmp();
    replayTo(dir2);
    const norm = (text: string) => text.replace(/"runId":"[^"]+"/g, '"runId":"X"').replace(/"elapsedMs":\d+/g, '"elapsedMs":0');
    for (const f of ['signal_decisions.jsonl', 'signal_bus.jsonl', 'shadow_trade_outcomes.jsonl', 'signal_outcomes.jsonl']) {
      const a = norm(readFileSync(join(dir, f), 'utf8'));
      const b = norm(readFileSync(join(dir2, f), 'utf8'));
      expect(b.length).toBeGreaterThan(1000);
      expect(b === a, `${f} differs between runs`).toBe(true);
    }
  });

  it('when the logs say a trade closed then its PnL equals the ledger’s to the last unit', () => {
    const closed = busLines.filter((l) => l.event === 'trade.closed');
    expect(closed.map((l) => l.pnl)).toEqual(portfolio.closedTrades.map((t) => t.pnl.toFixed()));
  });

  it('when every guard is off then every valid signal is approved', () => {
    const off = Object.fromEntries(BLOCK_CODES.map((c) => [c, { mode: 'off' }]));
    const { summary: s } = replayTo(tmp(), { guards: off });
    expect(s.blocked).toBe(0);
    expect(s.approved).toBe(s.signals);
  });
});
