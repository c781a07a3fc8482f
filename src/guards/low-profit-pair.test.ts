import { describe, expect, it } from 'vitest';
import { isoTime } from '../domain/time.ts';
import { lowProfitPair, type LowProfitPairParams } from './low-profit-pair.ts';
import { BTC, ETH, HOUR, MINUTE, at, blockOf, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

const sig = signal({ pair: BTC });

// Freqtrade docs, "Low Profit Pairs":
// { "method": "LowProfitPairs", "lookback_period_candles": 6, "trade_limit": 2, "stop_duration": 60,
//   "required_profit": 0.02, "only_per_pair": False }
// "The below example will stop trading a pair for 60 minutes if the pair does not have a required profit of 2%
//  (and a minimum of 2 trades) within the last 6 candles."
const DOC: LowProfitPairParams = { lookback: { candles: 6 }, tradeLimit: 2, stopDuration: { minutes: 60 }, requiredProfit: 0.02 };
const guard = lowProfitPair.create(DOC);

function win(exitTs: number, pnlRatio: number, pair = BTC) {
  return trade({ exitTs, pair, pnlRatio, pnl: String(pnlRatio * 1000), exitReason: pnlRatio >= 0 ? 'take_profit' : 'stop_loss' });
}

describe('LOW_PROFIT_PAIR (Freqtrade LowProfitPairs)', () => {
  it('has the LOW_PROFIT_PAIR code', () => {
    expect(lowProfitPair.code).toBe('LOW_PROFIT_PAIR');
  });

  describe('documented example: 2 trades within 6 candles below 2% profit lock the pair for 60 minutes', () => {
    // BTC: +1.5 % at 10:00 and +0.3 % at 13:00 → 1.8 % summed, below the required 2 %
    const s = snapshot({ closedTrades: [win(at(10), 0.015), win(at(13), 0.003)] });
    const lockEnd = at(13) + 60 * MINUTE; // calculate_lock_end: last trade's close + 60 minutes

    it('when the 2nd trade closes then the pair is locked', () => {
      expect(guard(sig, s, at(13))).toMatchObject({ verdict: 'block', code: 'LOW_PROFIT_PAIR' });
    });

    it('when the lock is reported then it shows the summed profit and the end = last close + 60 minutes', () => {
      expect(blockOf(guard(sig, s, at(13) + 30 * MINUTE))?.detail).toBe(`BTC/USD: 2 trades summed 1.80% < required 2.00%; locked until ${isoTime(lockEnd)}`);
    });

    it('when 1 ms of the 60 minutes is left then it still blocks', () => {
      expect(guard(sig, s, lockEnd - 1)).toMatchObject({ verdict: 'block' });
    });

    it('when exactly 60 minutes have passed since the last close then the lock has ended and it allows', () => {
      expect(guard(sig, s, lockEnd)).toEqual({ verdict: 'allow' });
    });

    it('when another pair asks then it is not locked (the lock is per pair)', () => {
      expect(guard(signal({ pair: ETH }), s, at(13))).toEqual({ verdict: 'allow' });
    });
  });

  it('when there is no trade history then it allows', () => {
    expect(guard(sig, snapshot({ closedTrades: [] }), at(0))).toEqual({ verdict: 'allow' });
  });

  it('when the pair has only one trade in the lookback then it allows even a big loss (trade_limit 2)', () => {
    expect(guard(sig, snapshot({ closedTrades: [win(at(10), -0.1)] }), at(10))).toEqual({ verdict: 'allow' });
  });

  it('when the two trades sum to exactly 2% then the requirement is met and it allows', () => {
    expect(guard(sig, snapshot({ closedTrades: [win(at(10), 0.01), win(at(12), 0.01)] }), at(12))).toEqual({ verdict: 'allow' });
  });

  it('when the two trades sum to more than 2% then it allows', () => {
    expect(guard(sig, snapshot({ closedTrades: [win(at(10), 0.015), win(at(12), 0.01)] }), at(12))).toEqual({ verdict: 'allow' });
  });

  it('when profit ratios are judged then they are summed, not compounded: +10% and −7.9% make 2.1% and it allows', () => {
    // compounded this would be 1.10 × 0.921 − 1 = 1.31 %, below 2 %
    expect(guard(sig, snapshot({ closedTrades: [win(at(10), 0.1), win(at(12), -0.079)] }), at(12))).toEqual({ verdict: 'allow' });
  });

  it('when the other trade was on another pair then neither pair has 2 trades and both are allowed', () => {
    const s = snapshot({ closedTrades: [win(at(10), -0.05, ETH), win(at(12), -0.05, BTC)] });
    expect(guard(sig, s, at(12))).toEqual({ verdict: 'allow' });
    expect(guard(signal({ pair: ETH }), s, at(12))).toEqual({ verdict: 'allow' });
  });

  it('when another pair performs badly then only that pair is locked', () => {
    const s = snapshot({ closedTrades: [win(at(10), -0.05, ETH), win(at(11), 0.05, BTC), win(at(12), -0.05, ETH)] });
    expect(guard(sig, s, at(12))).toEqual({ verdict: 'allow' });
    expect(guard(signal({ pair: ETH }), s, at(12))).toMatchObject({ verdict: 'block', detail: `ETH/USD: 2 trades summed -10.00% < required 2.00%; locked until ${isoTime(at(13))}` });
  });

  describe('lookback window', () => {
    it('when the two trades are 7 candles apart then they are never in one 6-candle window and it allows', () => {
      expect(guard(sig, snapshot({ closedTrades: [win(at(0), -0.05), win(at(7), -0.05)] }), at(7))).toEqual({ verdict: 'allow' });
    });

    // Tollgate's window is [e − lookback, e] (protections.ts:5-6); Freqtrade's is strict (close_date > now − lookback).
    it('when the two trades are exactly 6 candles apart then both are in the (closed) window and it blocks', () => {
      expect(guard(sig, snapshot({ closedTrades: [win(at(1), -0.05), win(at(7), -0.05)] }), at(7))).toMatchObject({ verdict: 'block', code: 'LOW_PROFIT_PAIR' });
    });

    it('when a third trade is in the window then all three count and the lock runs from the newest', () => {
      const s = snapshot({ closedTrades: [win(at(8), 0.01), win(at(9), 0.005), win(at(10), 0.001)] });
      expect(blockOf(guard(sig, s, at(10)))?.detail).toBe(`BTC/USD: 3 trades summed 1.60% < required 2.00%; locked until ${isoTime(at(11))}`);
    });

    it('when the stop duration is given in candles then the lock lasts that many hourly candles', () => {
      const g = lowProfitPair.create({ ...DOC, stopDuration: { candles: 3 } });
      const s = snapshot({ closedTrades: [win(at(10), -0.01), win(at(12), -0.01)] });
      expect(g(sig, s, at(12) + 3 * HOUR - 1)).toMatchObject({ verdict: 'block' });
      expect(g(sig, s, at(12) + 3 * HOUR)).toEqual({ verdict: 'allow' });
    });
  });
});
