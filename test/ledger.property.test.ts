import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemorySink } from '../src/adapters/jsonl/jsonl-writer.ts';
import { runReplay } from '../src/engine/compose.ts';
import { Dec } from '../src/domain/money.ts';
import { BLOCK_CODES } from '../src/domain/types.ts';
import { defaults, seriesOf } from './helpers.ts';

/** A random hourly candle series: a random walk rounded to cents, with random volumes. */
const candles = fc
  .record({
    start: fc.integer({ min: 50, max: 60_000 }),
    steps: fc.array(fc.record({ r: fc.double({ min: -0.06, max: 0.06, noNaN: true }), wick: fc.double({ min: 0, max: 0.03, noNaN: true }), vol: fc.double({ min: 0.001, max: 40, noNaN: true }) }), { minLength: 120, maxLength: 400 }),
  })
  .map(({ start, steps }) => {
    let price = start;
    return steps.map((s) => {
      const open = Math.round(price * 100) / 100;
      const close = Math.max(0.01, Math.round(open * (1 + s.r) * 100) / 100);
      const high = Math.round(Math.max(open, close) * (1 + s.wick) * 100) / 100;
      const low = Math.max(0.01, Math.round(Math.min(open, close) * (1 - s.wick) * 100) / 100);
      price = close;
      return { open, high, low, close, volume: Math.round(s.vol * 1e6) / 1e6 };
    });
  });

const mode = fc.constantFrom('enforce', 'observe', 'off');
const configs = fc.record({
  startingCash: fc.record({ USD: fc.integer({ min: 100, max: 100_000 }).map(String) }),
  sizing: fc.oneof(
    fc.record({ mode: fc.constant('fixed_quote'), amount: fc.integer({ min: 10, max: 5_000 }).map(String) }),
    fc.record({ mode: fc.constant('equity_fraction'), fraction: fc.double({ min: 0.01, max: 0.9, noNaN: true }) }),
  ),
  venue: fc.record({
    slippageBps: fc.integer({ min: 0, max: 50 }),
    maxVolumeShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
    orderType: fc.constantFrom('market', 'limit'),
    entryTimeoutCandles: fc.integer({ min: 1, max: 5 }),
  }),
  strategies: fc.constant([
    { kind: 'ema_cross', fast: 3, slow: 8, exits: { stopLossPct: 0.03, takeProfitPct: 0.04, maxHoldCandles: 12 } },
    { kind: 'rsi_reversion', period: 5, exits: { stopLossPct: 0.05, trailingStopPct: 0.02 } },
    { kind: 'donchian_breakout', entryPeriod: 10, exitPeriod: 5 },
  ]),
  guards: fc.record(Object.fromEntries(BLOCK_CODES.map((c) => [c, fc.record({ mode })]))),
});

describe('ledger property: cash and positions are a function of the fills alone', () => {
  it('when a random series is replayed with a random config then recomputing from the logged fills reproduces the ledger to the last unit', () => {
    let totalFills = 0;
    let runsWithTrades = 0;
    fc.assert(
      fc.property(candles, configs, (rows, raw) => {
        const { config, markets } = defaults(raw);
        const { portfolio, log, summary } = runReplay({ config, markets, series: seriesOf('BTC/USD', rows), logsDir: null, runId: 'prop' });
        const fills = (log.bus as MemorySink).records.filter((r: any) => r.event === 'fill') as Array<Record<string, string>>;
        totalFills += fills.length;
        if (portfolio.closedTrades.length > 0) runsWithTrades++;
        let cash = new Dec(raw.startingCash.USD);
        const held = new Map<string, Dec>();
        for (const f of fills) {
          const q = new Dec(f.quantity!);
          const notional = q.mul(f.price!);
          const fee = new Dec(f.fee!);
          cash = f.side === 'buy' ? cash.minus(notional).minus(fee) : cash.plus(notional).minus(fee);
          const h = (held.get(f.signalId!) ?? new Dec(0)).plus(f.side === 'buy' ? q : q.neg());
          if (h.isZero()) held.delete(f.signalId!);
          else held.set(f.signalId!, h);
        }
        expect(portfolio.cashOf('USD').toFixed()).toBe(cash.toFixed());
        const ledger = new Map(portfolio.openPositions().map((p) => [p.signalId, p.quantity.toFixed()]));
        expect(ledger).toEqual(new Map([...held].map(([k, v]) => [k, v.toFixed()])));
        expect(portfolio.cashOf('USD').gte(0)).toBe(true);
        expect(summary.busErrors).toBe(0);
        // realized PnL is the sum of closed trades' PnL
        const sum = portfolio.closedTrades.reduce((a, t) => a.plus(t.pnl), new Dec(0));
        expect(portfolio.realizedPnl.toFixed()).toBe(sum.toFixed());
      }),
      { numRuns: 60, seed: 20261121 },
    );
    // the property must have been exercised on real trading, not on empty runs
    expect(totalFills).toBeGreaterThan(200);
    expect(runsWithTrades).toBeGreaterThan(20);
  });
});
