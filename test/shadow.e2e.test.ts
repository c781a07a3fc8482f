/**
 * The shadow engine and decision tracker on the bundled Kraken candles (2018–2019, hourly BTC/USD):
 * counterfactual fidelity for four guards, one shadow outcome per blocked signal, one final record per
 * signal, and shadows never moving the real ledger.
 */
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import type { MemorySink } from '../src/adapters/jsonl/jsonl-writer.ts';
import { InMemoryStore } from '../src/adapters/memory/memory-store.ts';
import { runCounterfactual, withGuardMode } from '../src/engine/counterfactual.ts';
import { runReplay, type ReplayResult } from '../src/engine/compose.ts';
import type { ShadowPosition } from '../src/shadow/shadow-engine.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

type Line = Record<string, any>;

const series = bundledSlice('2018-01-01', '2020-01-01');
const { config, markets } = defaults();
const sum = (xs: readonly Line[], k = 'pnl') => xs.reduce<Decimal>((a, l) => a.plus(l[k]), new Decimal(0));
const STATUSES = new Set(['closed', 'open_at_end', 'expired', 'rejected']);
const COMPARED = ['entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason', 'quantity', 'fees', 'pnl'] as const;

describe('counterfactual fidelity on the bundled Kraken data', () => {
  for (const guard of ['COOLDOWN', 'MAX_OPEN_POSITIONS', 'MIN_CONFIDENCE', 'DUPLICATE_SIGNAL'] as const) {
    it(`when ${guard} enforces in run 1 and observes in run 2 then every signal it alone blocked and that run 2 traded under the same conditions has the same outcome`, () => {
      const { result, dirs } = runCounterfactual(guard, config, markets, series, tmp());
      expect(result.mismatched, JSON.stringify(result.rows.filter((r) => r.status === 'mismatch').slice(0, 3))).toBe(0);
      expect(result.matched).toBeGreaterThan(0);
      expect(result.matched + result.interactions + result.mismatched).toBe(result.soleBlocked);

      // run 1's shadow lines of the signals G alone blocked: the rows compared
      const shadows1 = readJsonl(join(dirs.enforce, 'shadow_trade_outcomes.jsonl'));
      const sole = shadows1.filter((s) => s.blockedBy.length === 1 && s.blockedBy[0] === guard);
      expect(result.soleBlocked).toBe(sole.length);
      expect(result.rows.map((r) => r.signalId).sort()).toEqual(sole.map((s) => s.signalId).sort());

      // the two runs differ in G's mode only
      const started = (dir: string) => readJsonl(join(dir, 'signal_bus.jsonl')).find((l) => l.event === 'run.started')!;
      expect(started(dirs.enforce).guards[guard]).toBe('enforce');
      expect(started(dirs.observe).guards[guard]).toBe('observe');

      // interactions are counted and labelled, never hidden
      const interactions = result.rows.filter((r) => r.status === 'interaction');
      expect(interactions).toHaveLength(result.interactions);
      for (const r of interactions) expect(r.label, r.signalId).toMatch(/\S/);
      expect(Object.values(result.byLabel).reduce((a, n) => a + n, 0)).toBe(result.interactions);
      for (const [label, n] of Object.entries(result.byLabel)) expect(n).toBe(interactions.filter((r) => r.label === label).length);

      // re-check every matched row from the files themselves: run 1's shadow line vs run 2's trade.closed line
      const bus2 = readJsonl(join(dirs.observe, 'signal_bus.jsonl'));
      const closed2 = new Map(bus2.filter((l) => l.event === 'trade.closed').map((l) => [l.signalId as string, l]));
      const dec1 = new Map(readJsonl(join(dirs.enforce, 'signal_decisions.jsonl')).map((d) => [d.signalId as string, d]));
      const dec2 = new Map(readJsonl(join(dirs.observe, 'signal_decisions.jsonl')).map((d) => [d.signalId as string, d]));
      const byId = new Map(sole.map((s) => [s.signalId as string, s]));
      let comparedClosed = 0;
      for (const row of result.rows.filter((r) => r.status === 'match')) {
        const s = byId.get(row.signalId)!;
        const d2 = dec2.get(row.signalId)!;
        expect(d2.decision, row.signalId).toBe('approved');
        expect(d2.quantity, row.signalId).toBe(dec1.get(row.signalId)!.quantity); // same sizing: same ledger conditions
        const t = closed2.get(row.signalId);
        if (s.status !== 'closed') {
          expect(t, `${row.signalId}: shadow ${s.status} but run 2 closed a trade`).toBeUndefined();
          continue;
        }
        expect(t, row.signalId).toBeDefined();
        for (const f of COMPARED) expect(s[f], `${row.signalId} ${f}`).toBe(t![f]);
        comparedClosed++;
      }
      expect(comparedClosed).toBeGreaterThan(0);
    });
  }
});

describe('a finished replay: shadow outcomes and final records', () => {
  const dir = tmp();
  const { summary, portfolio } = runReplay({ config, markets, series, logsDir: dir });
  const bus = readJsonl(join(dir, 'signal_bus.jsonl'));
  const decisions = readJsonl(join(dir, 'signal_decisions.jsonl'));
  const shadows = readJsonl(join(dir, 'shadow_trade_outcomes.jsonl'));
  const outcomes = readJsonl(join(dir, 'signal_outcomes.jsonl'));
  const received = bus.filter((l) => l.event === 'signal.received');
  const closed = bus.filter((l) => l.event === 'trade.closed');
  const blocked = decisions.filter((d) => d.decision === 'blocked');

  it('when the replay ends then every blocked signal has exactly one shadow outcome, and only blocked signals have one', () => {
    expect(blocked.length).toBeGreaterThan(100);
    const ids = shadows.map((s) => s.signalId as string);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect(new Set(ids)).toEqual(new Set(blocked.map((d) => d.signalId)));
    expect(summary.shadow.outcomes).toBe(shadows.length);
    expect(summary.blocked).toBe(shadows.length);
    const dec = new Map(blocked.map((d) => [d.signalId as string, d]));
    for (const s of shadows) {
      expect(STATUSES.has(s.status), `${s.signalId} status ${s.status}`).toBe(true);
      const d = dec.get(s.signalId)!;
      expect(s.blockedBy, s.signalId).toEqual(d.blockedBy);
      expect(s.blockedBy.length).toBeGreaterThan(0);
      expect({ strategy: s.strategy, pair: s.pair, side: s.side }).toEqual({ strategy: d.strategy, pair: d.pair, side: d.side });
      expect(s.decidedTs).toBe(d.ts);
    }
  });

  it('when a shadow line is written then it has the LOGS.md fields, exact decimal strings and consistent exit fields', () => {
    const dec = /^-?\d+(\.\d+)?$/;
    for (const s of shadows) {
      for (const k of ['schemaVersion', 'ts', 'signalId', 'strategy', 'pair', 'side', 'blockedBy', 'status', 'entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason', 'quantity', 'fees', 'pnl', 'pnlPct', 'overlaps']) {
        expect(s, `${s.signalId} lacks ${k}`).toHaveProperty(k);
      }
      expect(s.quantity).toMatch(dec);
      expect(s.fees).toMatch(dec);
      expect(s.pnl).toMatch(dec);
      expect(typeof s.overlaps).toBe('boolean');
      const bought = new Decimal(s.quantity).gt(0);
      if (s.status === 'closed' || (s.status === 'open_at_end' && bought)) {
        for (const k of ['entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason']) expect(s[k], `${s.signalId} ${k}`).not.toBeNull();
        expect(s.entryPrice).toMatch(dec);
        expect(s.exitPrice).toMatch(dec);
        expect(Date.parse(s.exitTs)).toBeGreaterThanOrEqual(Date.parse(s.entryTs));
        expect(new Decimal(s.maxAdverse).lte(0)).toBe(true);
        expect(new Decimal(s.maxFavourable).gte(0)).toBe(true);
        if (s.status === 'open_at_end') expect(s.exitReason).toBe('open_at_end');
        else expect(s.exitReason).not.toBe('open_at_end');
      } else {
        // nothing bought: no PnL
        expect(s.entryPrice, s.signalId).toBeNull();
        expect(new Decimal(s.pnl).isZero(), s.signalId).toBe(true);
      }
    }
    expect(shadows.some((s) => s.status === 'closed')).toBe(true);
  });

  it('when the summary reports shadow totals then they equal a summation of the shadow lines', () => {
    expect(new Decimal(summary.shadow.pnl).eq(sum(shadows))).toBe(true);
    expect(new Decimal(summary.shadow.headlinePnl).eq(sum(shadows.filter((s) => !s.overlaps)))).toBe(true);
    for (const st of ['closed', 'expired', 'rejected'] as const) expect(summary.shadow[st]).toBe(shadows.filter((s) => s.status === st).length);
    expect(summary.shadow.openAtEnd).toBe(shadows.filter((s) => s.status === 'open_at_end').length);
  });

  it('when a shadow or live position of the same strategy and pair was still held at a decision then the later shadow is marked overlaps', () => {
    // held: decided strictly earlier and not yet sold (its exit fills on a candle after this decision)
    const held = (x: { decidedTs: number; exitTs: number }, d: number) => x.decidedTs < d && x.exitTs > d;
    const shadowSpans = shadows.filter((s) => s.status === 'closed').map((s) => ({ key: `${s.strategy}|${s.pair}`, decidedTs: Date.parse(s.decidedTs), exitTs: Date.parse(s.exitTs) }));
    const approvedAt = new Map(decisions.filter((d) => d.decision === 'approved').map((d) => [d.signalId as string, Date.parse(d.ts)]));
    const liveSpans = closed.map((t) => ({ key: `${t.strategy}|${t.pair}`, decidedTs: approvedAt.get(t.signalId)!, exitTs: Date.parse(t.exitTs) }));
    let mustOverlap = 0;
    for (const s of shadows) {
      const d = Date.parse(s.decidedTs);
      const key = `${s.strategy}|${s.pair}`;
      if ([...shadowSpans, ...liveSpans].some((x) => x.key === key && held(x, d))) {
        mustOverlap++;
        expect(s.overlaps, s.signalId).toBe(true);
      }
    }
    expect(mustOverlap).toBeGreaterThan(0);
    expect(shadows.some((s) => !s.overlaps)).toBe(true);
  });

  it('when the replay ends then signal_outcomes.jsonl has exactly one record per signal received, joined to its realized or shadow outcome', () => {
    const ids = outcomes.map((o) => o.signalId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(received.map((r) => r.signalId)));
    const trade = new Map(closed.map((t) => [t.signalId as string, t]));
    const shadow = new Map(shadows.map((s) => [s.signalId as string, s]));
    const decision = new Map(decisions.map((d) => [d.signalId as string, d]));
    const openAtEnd = new Set(bus.filter((l) => l.event === 'signal.open_at_end').map((l) => l.signalId as string));
    let realized = 0;
    for (const o of outcomes) {
      const d = decision.get(o.signalId);
      expect(o.decision, o.signalId).toBe(d?.decision ?? null);
      if (d) expect(o.blockedBy).toEqual(d.blockedBy);
      if (d?.decision === 'blocked') {
        const s = shadow.get(o.signalId)!;
        expect(o).toMatchObject({ outcome: 'shadow', pnl: s.pnl, status: s.status, overlaps: s.overlaps, exitReason: s.exitReason });
      } else if (trade.has(o.signalId)) {
        realized++;
        expect(o).toMatchObject({ outcome: 'realized', pnl: trade.get(o.signalId)!.pnl, exitReason: trade.get(o.signalId)!.exitReason, end: 'closed' });
      } else if (openAtEnd.has(o.signalId)) {
        expect(o).toMatchObject({ outcome: 'none', end: 'open_at_end', pnl: null });
      } else {
        expect(o, o.signalId).toMatchObject({ outcome: 'none', pnl: '0' });
      }
    }
    expect(realized).toBe(closed.length);
    expect(outcomes.filter((o) => o.outcome === 'shadow')).toHaveLength(shadows.length);
    // the record's pnl totals: realized sum = ledger, shadow sum = shadow lines
    expect(sum(outcomes.filter((o) => o.outcome === 'realized')).eq(portfolio.realizedPnl.toFixed())).toBe(true);
    expect(sum(outcomes.filter((o) => o.outcome === 'shadow')).eq(summary.shadow.pnl)).toBe(true);
  });

  it("when trades close then the ledger's realized PnL equals the sum of the trade.closed lines and the summary", () => {
    expect(closed).toHaveLength(summary.trades);
    expect(closed.length).toBeGreaterThan(50);
    expect(sum(closed).eq(portfolio.realizedPnl.toFixed())).toBe(true);
    expect(sum(closed).eq(summary.realizedPnl)).toBe(true);
    expect(sum(portfolio.closedTrades.map((t) => ({ pnl: t.pnl.toFixed() }))).eq(summary.realizedPnl)).toBe(true);
  });
});

describe('limit entries over the gaps of the early Kraken data', () => {
  it('when entries are limit orders and the data has gaps then every blocked signal still has exactly one shadow outcome', () => {
    // 2014–2015: hourly candles with many missing hours (no trades), so entry deadlines pass inside gaps
    const early = bundledSlice('2014-01-01', '2016-01-01');
    const limit = defaults({ venue: { orderType: 'limit', limitOffsetBps: 50, entryTimeoutCandles: 2 } });
    const r = runReplay({ config: limit.config, markets: limit.markets, series: early, logsDir: null, runId: 'limit' });
    const shadowLines = (r.log.shadow as MemorySink).records as Line[];
    const blockedIds = ((r.log.decisions as MemorySink).records as Line[]).filter((d) => d.decision === 'blocked').map((d) => d.signalId as string);
    expect(blockedIds.length).toBeGreaterThan(100);
    const perSignal = new Map<string, string[]>();
    for (const s of shadowLines) perSignal.set(s.signalId, [...(perSignal.get(s.signalId) ?? []), s.status]);
    const repeated = [...perSignal].filter(([, st]) => st.length > 1);
    expect(repeated.slice(0, 5), `${repeated.length} signals with several outcomes`).toEqual([]);
    expect(new Set(perSignal.keys())).toEqual(new Set(blockedIds));
    expect(r.summary.shadow.outcomes).toBe(r.summary.blocked);
  });
});

describe('a shadow never touches the real ledger', () => {
  const ledgerOf = (r: ReplayResult) => ({
    realizedPnl: r.summary.realizedPnl, cash: r.summary.cash, fees: r.summary.fees, equity: r.summary.equity, trades: r.summary.trades,
    approved: r.summary.approved, blocked: r.summary.blocked, openAtEnd: r.summary.openAtEnd,
    closedTrades: r.portfolio.closedTrades.map((t) => ({ ...t, quantity: t.quantity.toFixed(), entryPrice: t.entryPrice.toFixed(), exitPrice: t.exitPrice.toFixed(), fees: t.fees.toFixed(), pnl: t.pnl.toFixed() })),
  });
  const decisionsOf = (r: ReplayResult) => ((r.log.decisions as MemorySink).records as Line[]).map(({ runId: _r, ...d }) => d);

  it('when the shadow engine cannot follow any blocked signal (its store refuses every position) then the ledger, the trades and every decision are identical', () => {
    const normal = runReplay({ config, markets, series, logsDir: null, runId: 'normal' });
    class RefusingStore extends InMemoryStore<ShadowPosition> {
      override set(): void {
        throw new Error('store refuses');
      }
    }
    const crippled = runReplay({ config, markets, series, logsDir: null, runId: 'crippled', shadowStore: new RefusingStore() });
    // the engine really followed nothing in the second run: no shadow trade bought anything
    expect(normal.summary.shadow.closed).toBeGreaterThan(100);
    expect(crippled.summary.shadow.closed + crippled.summary.shadow.openAtEnd).toBe(0);
    expect(crippled.summary.busErrors).toBeGreaterThan(0);
    expect(normal.summary.busErrors).toBe(0);
    // …and the real side did not move by a unit
    expect(ledgerOf(crippled)).toEqual(ledgerOf(normal));
    expect(decisionsOf(crippled)).toEqual(decisionsOf(normal));
  });

  it('when LOW_PROFIT_PAIR switches between observe and off then nothing is blocked differently and the realized PnL, cash and trades are unchanged', () => {
    const observe = runReplay({ config: withGuardMode(config, 'LOW_PROFIT_PAIR', 'observe'), markets, series, logsDir: null, runId: 'o' });
    const off = runReplay({ config: withGuardMode(config, 'LOW_PROFIT_PAIR', 'off'), markets, series, logsDir: null, runId: 'f' });
    expect(observe.summary.observedByCode.LOW_PROFIT_PAIR).toBeGreaterThan(0);
    expect(off.summary.observedByCode.LOW_PROFIT_PAIR).toBeUndefined();
    expect(observe.summary.blockedByCode.LOW_PROFIT_PAIR).toBeUndefined();
    expect(ledgerOf(observe)).toEqual(ledgerOf(off));
    expect(observe.summary.blockedByCode).toEqual(off.summary.blockedByCode);
    expect(observe.summary.shadow).toEqual(off.summary.shadow);
  });
});
