import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import type { ClosedTrade } from '../domain/types.ts';
import { maxDrawdown, relativeDrawdown, type MaxDrawdownParams } from './max-drawdown.ts';
import { BTC, ETH, HOUR, SOL, at, blockOf, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

const sig = signal({ pair: BTC });

// Freqtrade docs, "MaxDrawdown":
// { "method": "MaxDrawdown", "lookback_period_candles": 48, "trade_limit": 20, "stop_duration_candles": 12,
//   "max_allowed_drawdown": 0.2 }
// "The below sample stops trading for 12 candles if max-drawdown is > 20% considering all pairs - with a minimum
//  of trade_limit trades - within the last 48 candles."
const DOC: MaxDrawdownParams = { lookback: { candles: 48 }, tradeLimit: 20, stopDuration: { candles: 12 }, maxAllowedDrawdown: 0.2 };
const guard = maxDrawdown.create(DOC);
const PAIRS = [BTC, ETH, SOL];

/** `n` trades closing one per candle from hour `from`, each with net PnL `pnl`, rotating over three pairs. */
function losses(n: number, pnl: string, from = 1, everyHours = 1): ClosedTrade[] {
  return Array.from({ length: n }, (_, i) => trade({ exitTs: at(from + i * everyHours), pnl, pair: PAIRS[i % 3]!, exitReason: 'strategy_exit' }));
}

describe('MAX_DRAWDOWN (Freqtrade MaxDrawdown)', () => {
  it('has the MAX_DRAWDOWN code', () => {
    expect(maxDrawdown.code).toBe('MAX_DRAWDOWN');
  });

  describe('documented example: drawdown > 20% over ≥ 20 trades within 48 candles stops trading for 12 candles', () => {
    // starting balance 10 000; 20 trades of −101 close at 01:00 … 20:00 → balance 7 980, drawdown 20.2 %
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: losses(20, '-101') });
    const lockEnd = at(20) + 12 * HOUR; // calculate_lock_end: last trade's close + 12 candles

    it('when the 20th trade closes with the drawdown above 20% then trading stops', () => {
      expect(guard(sig, s, at(20))).toMatchObject({ verdict: 'block', code: 'MAX_DRAWDOWN' });
    });

    it('when the lock is reported then it shows the drawdown, the trade count and the end = last close + 12 candles', () => {
      expect(blockOf(guard(sig, s, at(21)))?.detail).toBe(`drawdown 20.20% over 20 trades > 20.00%; locked until ${isoTime(lockEnd)}`);
    });

    it('when trading stopped then every pair is stopped, traded or not', () => {
      for (const pair of [BTC, ETH, 'ADA/USD']) expect(guard(signal({ pair }), s, at(25)), pair).toMatchObject({ verdict: 'block' });
    });

    it('when 1 ms of the 12 candles is left then it still blocks', () => {
      expect(guard(sig, s, lockEnd - 1)).toMatchObject({ verdict: 'block' });
    });

    it('when exactly 12 candles have passed since the last close then the lock has ended and it allows', () => {
      expect(guard(sig, s, lockEnd)).toEqual({ verdict: 'allow' });
    });
  });

  it('when there is no trade history then it allows', () => {
    expect(guard(sig, snapshot({ closedTrades: [] }), at(0))).toEqual({ verdict: 'allow' });
  });

  it('when the drawdown is exactly 20% then it is not above the maximum and it allows', () => {
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: losses(20, '-100') });
    expect(guard(sig, s, at(21))).toEqual({ verdict: 'allow' });
  });

  it('when only 19 trades are in the lookback then it allows however deep the drawdown (trade_limit 20)', () => {
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: losses(19, '-300') });
    expect(guard(sig, s, at(20))).toEqual({ verdict: 'allow' });
  });

  it('when the 20 losing trades are spread over more than 48 candles then no lookback holds 20 of them and it allows', () => {
    // one every 3 candles: 01:00 … 58:00, at most 17 in any 48-candle window
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: losses(20, '-101', 1, 3) });
    expect(guard(sig, s, at(58))).toEqual({ verdict: 'allow' });
  });

  it('when the first of the 20 trades closed exactly 48 candles before the last then it is inside the window and it blocks', () => {
    const trades = [trade({ exitTs: at(0), pnl: '-101' }), ...losses(19, '-101', 30)]; // 00:00, then 30:00 … 48:00
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: trades });
    expect(guard(sig, s, at(48))).toMatchObject({ verdict: 'block', code: 'MAX_DRAWDOWN' });
  });

  it('when the first of the 20 trades closed 1 ms more than 48 candles before the last then it is outside and it allows', () => {
    const trades = [trade({ exitTs: at(0) - 1, pnl: '-101' }), ...losses(19, '-101', 30)];
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: trades });
    expect(guard(sig, s, at(48))).toEqual({ verdict: 'allow' });
  });

  describe('balance the drawdown is measured against', () => {
    it('when a big win closed before the lookback then the window starts from the higher balance and the same losses are only 10.1%', () => {
      const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: [trade({ exitTs: at(-100), pnl: '10000', pnlRatio: 1 }), ...losses(20, '-101')] });
      expect(guard(sig, s, at(21))).toEqual({ verdict: 'allow' });
    });

    it('when a loss closed before the lookback then the window starts from the lower balance and smaller losses exceed 20%', () => {
      // balance at window start 5 000; 20 × −51 = −1 020 → 20.4 %
      const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: [trade({ exitTs: at(-100), pnl: '-5000', pnlRatio: -0.5 }), ...losses(20, '-51')] });
      expect(blockOf(guard(sig, s, at(21)))?.detail).toContain('drawdown 20.40% over 20 trades');
    });

    it('when a win inside the window set a new peak then the fall is measured from that peak, not from the start', () => {
      // +2 000 then 19 × −130: from the 12 000 peak to 9 530 is 20.58 %, from the 10 000 start only 4.7 %
      const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: [trade({ exitTs: at(1), pnl: '2000', pnlRatio: 0.2 }), ...losses(19, '-130', 2)] });
      expect(blockOf(guard(sig, s, at(21)))?.detail).toContain('drawdown 20.58% over 20 trades');
    });
  });

  it('when a winning trade closes during the lock with the window drawdown still above 20% then the lock is extended from that close', () => {
    const s = snapshot({ startingBalance: new Dec('10000'), closedTrades: [...losses(20, '-101'), trade({ exitTs: at(22), pnl: '50', pnlRatio: 0.05 })] });
    expect(blockOf(guard(sig, s, at(23)))?.detail).toBe(`drawdown 20.20% over 21 trades > 20.00%; locked until ${isoTime(at(22) + 12 * HOUR)}`);
  });

  describe('relativeDrawdown', () => {
    it('when there are no trades then the drawdown is 0', () => {
      expect(relativeDrawdown(1000, [])).toBe(0);
    });

    it('when every trade wins then the drawdown is 0', () => {
      expect(relativeDrawdown(1000, [10, 20, 30])).toBe(0);
    });

    it('when the first trade loses then it is a drawdown from the starting balance', () => {
      expect(relativeDrawdown(1000, [-100])).toBeCloseTo(0.1, 12);
    });

    it('when losses are interrupted by a partial recovery then the deepest peak-to-trough fall is reported', () => {
      // 1000 → 900 → 950 → 750: worst fall 250 from the 1000 peak
      expect(relativeDrawdown(1000, [-100, 50, -200])).toBeCloseTo(0.25, 12);
    });

    it('when a new peak is made then later falls are relative to that peak', () => {
      // 1000 → 2000 → 1500: 25 % of 2000
      expect(relativeDrawdown(1000, [1000, -500])).toBeCloseTo(0.25, 12);
    });
  });
});
