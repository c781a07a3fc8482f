import { describe, expect, it } from 'vitest';
import type { MemorySink } from '../src/adapters/jsonl/jsonl-writer.ts';
import { CandleSeries } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { runReplay } from '../src/engine/compose.ts';
import { BLOCK_CODES } from '../src/domain/types.ts';
import { defaults, seriesOf } from './helpers.ts';

type Row = { open: number; high: number; low: number; close: number; volume: number };
const flat = (n: number, volume = 100): Row[] => Array.from({ length: n }, () => ({ open: 100, high: 100.5, low: 99.5, close: 100, volume }));
const bar = (open: number, close: number, volume = 100): Row => ({ open, high: Math.max(open, close) + 0.5, low: Math.min(open, close) - 0.5, close, volume });

const allOff = Object.fromEntries(BLOCK_CODES.map((c) => [c, { mode: 'off' }]));
const breakout = (exits: object = {}) => [{ kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2, exits: { stopLossPct: null, trailingStopPct: null, maxHoldCandles: null, useStrategyExit: false, ...exits } }];

function run(rows: Row[], overrides: Record<string, unknown>) {
  const { config, markets } = defaults({ guards: allOff, strategies: breakout(), ...overrides });
  const r = runReplay({ config, markets, series: seriesOf('BTC/USD', rows), logsDir: null, runId: 't' });
  const lines = (r.log.bus as MemorySink).records as Array<Record<string, any>>;
  const path = (id: string) => lines.filter((l) => l.event === 'signal.transition' && l.signalId === id).map((l) => l.to);
  const firstSignal = lines.find((l) => l.event === 'signal.received')?.signalId as string;
  return { ...r, lines, path, firstSignal };
}

describe('kernel: one signal through the venue', () => {
  it('when a breakout signal is approved then it fills at the next candle open with slippage and the taker fee', () => {
    const rows = [...flat(6), bar(100, 110), { open: 111, high: 111.4, low: 109.5, close: 110, volume: 100 }, ...flat(3).map((r) => ({ ...r, open: 110, high: 110.4, low: 109.6, close: 110 }))];
    const { lines, path, firstSignal, portfolio } = run(rows, { venue: { slippageBps: 10 }, sizing: { mode: 'fixed_quote', amount: '1110' } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'approved', 'submitted', 'filled', 'open']);
    const fill = lines.find((l) => l.event === 'fill')!;
    // signal at close 110 → quantity 1110/110 = 10.09090909 BTC (8 lot decimals, rounded down)
    expect(fill.quantity).toBe('10.09090909');
    // next open 111 × 1.001 = 111.111 → rounded up to 1 price decimal = 111.2
    expect(fill.price).toBe('111.2');
    // fee: 10.09090909 × 111.2 × 0.004 = 4.48843636… → rounded up to 5 cost decimals
    expect(fill.fee).toBe('4.48844');
    // 10,000 − 10.09090909 × 111.2 (= 1,122.109090808) − 4.48844
    expect(portfolio.cashOf('USD').toFixed()).toBe('8873.402469192');
    expect(lines.filter((l) => l.event === 'signal.received')).toHaveLength(1);
  });

  it('when the candle volume is thin then the entry fills partially over several candles, then the remainder is cancelled at the deadline', () => {
    const rows = [...flat(6), bar(100, 110), ...Array.from({ length: 6 }, () => ({ open: 110, high: 110.5, low: 109.5, close: 110, volume: 4 }))];
    const { lines, path, firstSignal, portfolio } = run(rows, { venue: { slippageBps: 0, maxVolumeShare: 0.5, entryTimeoutCandles: 3 } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'approved', 'submitted', 'partially_filled', 'filled', 'open']);
    const fills = lines.filter((l) => l.event === 'fill');
    expect(fills.map((f) => f.quantity)).toEqual(['2', '2', '2']); // 50 % of 4 BTC per candle, 3 candles
    expect(lines.find((l) => l.event === 'order.cancelled')).toMatchObject({ filledQuantity: '6' });
    expect(portfolio.position(firstSignal)!.quantity.toFixed()).toBe('6');
  });

  it('when the data has a gap longer than the entry deadline then the order is cancelled, not filled after the gap', () => {
    const rows = [...flat(6), bar(100, 110), ...flat(3).map((r) => ({ ...r, open: 120, high: 120.5, low: 119.5, close: 120 }))];
    const { config, markets } = defaults({ guards: allOff, strategies: breakout(), venue: { entryTimeoutCandles: 2 } });
    const s = seriesOf('BTC/USD', rows);
    const H = 3_600_000;
    const ts = Float64Array.from(s.ts, (t, i) => (i >= 7 ? t + 5 * H : t)); // 5 missing hours after the signal candle
    const gapped = new CandleSeries(s.pair, H, ts, s.open, s.high, s.low, s.close, s.volume, s.trades, [], 'gap');
    const r = runReplay({ config, markets, series: gapped, logsDir: null, runId: 't' });
    const lines = (r.log.bus as MemorySink).records as Array<Record<string, any>>;
    const first = lines.find((l) => l.event === 'signal.received')!.signalId;
    expect(lines.filter((l) => l.event === 'fill' && l.signalId === first)).toHaveLength(0);
    expect(lines.find((l) => l.event === 'order.cancelled' && l.signalId === first)).toMatchObject({ filledQuantity: '0' });
    expect(r.portfolio.position(first)).toBeUndefined();
  });

  it('when no volume is available before the deadline then the signal expires without a position', () => {
    const rows = [...flat(6), bar(100, 110), ...Array.from({ length: 5 }, () => ({ open: 110, high: 110.5, low: 109.5, close: 110, volume: 0.00000001 }))];
    const { path, firstSignal, portfolio } = run(rows, { venue: { maxVolumeShare: 0.5, entryTimeoutCandles: 2 } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'approved', 'submitted', 'expired']);
    expect(portfolio.openCount).toBe(0);
  });

  it('when the take-profit is reached on a close then the position exits at the next open and the signal closes', () => {
    const rows = [...flat(6), bar(100, 110), bar(110, 116), bar(117, 118), bar(118, 118)];
    const { lines, path, firstSignal, portfolio } = run(rows, { strategies: breakout({ takeProfitPct: 0.05 }), venue: { slippageBps: 0 } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'approved', 'submitted', 'filled', 'open', 'exiting', 'closed']);
    const trade = portfolio.closedTrades[0]!;
    expect(trade.exitReason).toBe('take_profit');
    expect(trade.entryPrice.toFixed()).toBe('110');
    expect(trade.exitPrice.toFixed()).toBe('117');
    expect(lines.find((l) => l.event === 'trade.closed')).toMatchObject({ exitReason: 'take_profit', pnl: trade.pnl.toFixed() });
  });

  it('when the cash cannot pay for the order then the venue rejects it with Kraken’s error and the signal is rejected', () => {
    const rows = [...flat(6), bar(100, 110), ...flat(2)];
    const { path, firstSignal, lines } = run(rows, { startingCash: { USD: '100' }, sizing: { mode: 'fixed_quote', amount: '1000' } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'approved', 'submitted', 'rejected']);
    expect(lines.find((l) => l.event === 'order.rejected')).toMatchObject({ reason: 'EOrder:Insufficient funds' });
  });

  it('when MIN_ORDER_SIZE enforces and the sized order is below Kraken’s ordermin then the signal is blocked with that code', () => {
    const rows = [...flat(6), bar(100, 110), ...flat(2)];
    const { path, firstSignal, log } = run(rows, { guards: { ...allOff, MIN_ORDER_SIZE: { mode: 'enforce' } }, sizing: { mode: 'fixed_quote', amount: '0.004' } });
    expect(path(firstSignal)).toEqual(['validated', 'guarded', 'blocked']);
    const d = (log.decisions as MemorySink).records[0] as Record<string, any>;
    expect(d.blockedBy).toEqual(['MIN_ORDER_SIZE']);
    expect(d.guards.find((g: any) => g.code === 'MIN_ORDER_SIZE').detail).toMatch(/ordermin 0.00005 BTC/);
  });

  it('when limit entries are configured then the order rests below the signal price and fills at the limit with the maker fee once touched', () => {
    const rows = [...flat(6), bar(100, 110), { open: 110, high: 110.4, low: 109.6, close: 110, volume: 100 }, { open: 110, high: 110.4, low: 108, close: 109, volume: 100 }, ...flat(1).map((r) => ({ ...r, open: 109, high: 109.5, low: 108.5, close: 109 }))];
    const { lines } = run(rows, { venue: { orderType: 'limit', limitOffsetBps: 100, entryTimeoutCandles: 5 } });
    const fill = lines.find((l) => l.event === 'fill')!;
    expect(fill).toMatchObject({ price: '108.9', liquidity: 'maker' }); // 110 × 0.99 = 108.9
    expect(lines.filter((l) => l.event === 'fill')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'signal.received')).toHaveLength(1);
  });
});

describe('kernel: dust', () => {
  it('when a thin market leaves a position below Kraken’s minimum then its exit is refused once, reported as dust and not retried', () => {
    // the entry fills 25 % of 0.00002 BTC per candle for 3 candles: 0.000015 BTC < ordermin 0.00005
    const thin = (price: number) => ({ open: price, high: price + 0.5, low: price - 0.5, close: price, volume: 0.00002 });
    const rows = [...flat(6), bar(100, 110), ...Array.from({ length: 4 }, () => thin(110)), ...Array.from({ length: 6 }, () => ({ ...thin(130), volume: 100 }))];
    const { lines, firstSignal, portfolio } = run(rows, { strategies: breakout({ takeProfitPct: 0.1 }), venue: { slippageBps: 0, maxVolumeShare: 0.25 } });
    expect(portfolio.position(firstSignal)!.quantity.toFixed()).toBe('0.000015');
    const exits = lines.filter((l) => l.event === 'order.submitted' && l.purpose === 'exit');
    expect(exits).toHaveLength(1); // refused once, never retried
    expect(lines.find((l) => l.event === 'order.rejected' && l.purpose === 'exit')).toMatchObject({ reason: 'EOrder:Order minimum not met' });
    expect(lines.filter((l) => l.event === 'warning' && l.code === 'DUST_POSITION')).toHaveLength(1);
    expect(lines.some((l) => l.event === 'warning' && l.code === 'EXIT_NOT_DONE')).toBe(false);
  });
});
