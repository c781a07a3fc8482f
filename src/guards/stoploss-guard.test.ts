import { describe, expect, it } from 'vitest';
import { isoTime } from '../domain/time.ts';
import { stoplossGuard, type StoplossGuardParams } from './stoploss-guard.ts';
import { BTC, ETH, HOUR, SOL, at, blockOf, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

const sig = signal({ pair: BTC });

// Freqtrade docs, "Stoploss Guard":
// { "method": "StoplossGuard", "lookback_period_candles": 24, "trade_limit": 4, "stop_duration_candles": 4,
//   "required_profit": 0.0, "only_per_pair": False }
// "The below example stops trading for all pairs for 4 candles after the last trade if the bot hit stoploss
//  4 times within the last 24 candles."
const DOC: StoplossGuardParams = { lookback: { candles: 24 }, tradeLimit: 4, stopDuration: { candles: 4 }, onlyPerPair: false, requiredProfit: 0 };
const guard = stoplossGuard.create(DOC);

describe('STOPLOSS_GUARD (Freqtrade StoplossGuard)', () => {
  it('has the STOPLOSS_GUARD code', () => {
    expect(stoplossGuard.code).toBe('STOPLOSS_GUARD');
  });

  describe('documented example: 4 stop-losses within 24 candles stop all pairs for 4 candles', () => {
    // four losing stop-loss exits on three different pairs, the last at 20:00
    const trades = [
      trade({ exitTs: at(0), pair: BTC }),
      trade({ exitTs: at(5), pair: ETH }),
      trade({ exitTs: at(10), pair: SOL, exitReason: 'trailing_stop' }),
      trade({ exitTs: at(20), pair: ETH }),
    ];
    const s = snapshot({ closedTrades: trades });
    const lockEnd = at(20) + 4 * HOUR; // calculate_lock_end: last stop-loss close + 4 candles

    it('when the 4th stop-loss has just closed then trading stops', () => {
      expect(guard(sig, s, at(20))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
    });

    it('when the lock is reported then it counts the exits and ends at the last stop-loss close + 4 candles', () => {
      expect(blockOf(guard(sig, s, at(21)))?.detail).toBe(`4 stop-loss exits within lookback (limit 4); locked until ${isoTime(lockEnd)}`);
    });

    it('when trading stopped then it stops for all pairs, including a pair that never hit a stop', () => {
      expect(guard(signal({ pair: 'ADA/USD' }), s, at(22))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
    });

    it('when 1 ms of the 4 candles is left then it still blocks', () => {
      expect(guard(sig, s, lockEnd - 1)).toMatchObject({ verdict: 'block' });
    });

    it('when exactly 4 candles have passed since the last stop-loss then the lock has ended and it allows', () => {
      expect(guard(sig, s, lockEnd)).toEqual({ verdict: 'allow' });
    });

    it('when only 3 of the 4 stop-losses have happened then it allows', () => {
      expect(guard(sig, snapshot({ closedTrades: trades.slice(0, 3) }), at(11))).toEqual({ verdict: 'allow' });
    });
  });

  it('when there is no trade history then it allows', () => {
    expect(guard(sig, snapshot({ closedTrades: [] }), at(0))).toEqual({ verdict: 'allow' });
  });

  describe('lookback window', () => {
    it('when the first of 4 stop-losses closed 25 candles before the 4th then it is outside the lookback and it allows', () => {
      const s = snapshot({ closedTrades: [at(0), at(15), at(20), at(25)].map((exitTs) => trade({ exitTs })) });
      expect(guard(sig, s, at(25))).toEqual({ verdict: 'allow' });
    });

    // Tollgate's window is [e − lookback, e] (protections.ts:5-6, :44). Freqtrade's query is
    // close_date > now − lookback (strict), so Freqtrade would NOT count this trade: see the report.
    it('when the first of 4 stop-losses closed exactly 24 candles before the 4th then it is inside the (closed) window and it blocks', () => {
      const s = snapshot({ closedTrades: [at(0), at(15), at(20), at(24)].map((exitTs) => trade({ exitTs })) });
      expect(guard(sig, s, at(24))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
      expect(blockOf(guard(sig, s, at(24)))?.detail).toContain(`until ${isoTime(at(28))}`);
    });

    it('when the limit was reached then the lock holds for its full duration even after the stop-losses left the lookback', () => {
      const shortLookback = stoplossGuard.create({ ...DOC, lookback: { candles: 4 }, stopDuration: { candles: 24 } });
      const s = snapshot({ closedTrades: [at(0), at(1), at(2), at(3)].map((exitTs) => trade({ exitTs })) });
      expect(blockOf(shortLookback(sig, s, at(20)))?.detail).toContain(`until ${isoTime(at(27))}`);
      expect(shortLookback(sig, s, at(27))).toEqual({ verdict: 'allow' });
    });

    it('when stop-losses closed after `now` then they are not counted yet', () => {
      const s = snapshot({ closedTrades: [at(0), at(1), at(2), at(3)].map((exitTs) => trade({ exitTs })) });
      expect(guard(sig, s, at(3) - 1)).toEqual({ verdict: 'allow' });
    });
  });

  describe('which exits count', () => {
    it('when the exits are trailing stops then they count like stop-losses', () => {
      const s = snapshot({ closedTrades: [1, 2, 3, 4].map((h) => trade({ exitTs: at(h), exitReason: 'trailing_stop' })) });
      expect(guard(sig, s, at(5))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
    });

    it('when losing trades left through take-profit, max-hold, strategy or operator exits then they do not count', () => {
      const reasons = ['take_profit', 'max_hold', 'strategy_exit', 'operator'] as const;
      const s = snapshot({
        closedTrades: [
          ...reasons.map((exitReason, i) => trade({ exitTs: at(i + 1), exitReason, pnl: '-50', pnlRatio: -0.05 })),
          trade({ exitTs: at(6) }),
          trade({ exitTs: at(7) }),
          trade({ exitTs: at(8) }),
        ],
      });
      expect(guard(sig, s, at(9))).toEqual({ verdict: 'allow' });
    });

    it('when a stop-loss exit made a profit then it does not count (required_profit 0)', () => {
      const s = snapshot({
        closedTrades: [trade({ exitTs: at(1) }), trade({ exitTs: at(2) }), trade({ exitTs: at(3) }), trade({ exitTs: at(4), exitReason: 'trailing_stop', pnl: '5', pnlRatio: 0.005 })],
      });
      expect(guard(sig, s, at(5))).toEqual({ verdict: 'allow' });
    });

    it('when a stop-loss exit broke exactly even then it does not count (ratio must be below required_profit)', () => {
      const s = snapshot({
        closedTrades: [trade({ exitTs: at(1) }), trade({ exitTs: at(2) }), trade({ exitTs: at(3) }), trade({ exitTs: at(4), pnl: '0', pnlRatio: 0 })],
      });
      expect(guard(sig, s, at(5))).toEqual({ verdict: 'allow' });
    });

    it('when required_profit is 1% then a trailing stop that made only 0.5% counts', () => {
      const g = stoplossGuard.create({ ...DOC, requiredProfit: 0.01 });
      const s = snapshot({
        closedTrades: [trade({ exitTs: at(1) }), trade({ exitTs: at(2) }), trade({ exitTs: at(3) }), trade({ exitTs: at(4), exitReason: 'trailing_stop', pnl: '5', pnlRatio: 0.005 })],
      });
      expect(g(sig, s, at(5))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
    });

    it('when a non-stop exit closes after the stop-losses then the lock still runs from the last stop-loss', () => {
      const s = snapshot({
        closedTrades: [...[1, 2, 3, 4].map((h) => trade({ exitTs: at(h) })), trade({ exitTs: at(6), exitReason: 'take_profit', pnl: '30', pnlRatio: 0.03 })],
      });
      expect(blockOf(guard(sig, s, at(7)))?.detail).toContain(`until ${isoTime(at(4) + 4 * HOUR)}`);
      expect(guard(sig, s, at(8))).toEqual({ verdict: 'allow' });
    });

    it('when more stop-losses than the limit happened then the lock runs from the latest one', () => {
      const s = snapshot({ closedTrades: [1, 2, 3, 4, 6].map((h) => trade({ exitTs: at(h) })) });
      expect(blockOf(guard(sig, s, at(7)))?.detail).toBe(`5 stop-loss exits within lookback (limit 4); locked until ${isoTime(at(10))}`);
    });
  });

  describe('only_per_pair', () => {
    const perPair = stoplossGuard.create({ ...DOC, onlyPerPair: true });

    it('when the 4 stop-losses were all on ETH then only ETH is locked, BTC stays open', () => {
      const s = snapshot({ closedTrades: [1, 2, 3, 4].map((h) => trade({ exitTs: at(h), pair: ETH })) });
      expect(perPair(sig, s, at(5))).toEqual({ verdict: 'allow' });
      expect(blockOf(perPair(signal({ pair: ETH }), s, at(5)))?.detail).toBe(
        `4 stop-loss exits within lookback (limit 4, ETH/USD); locked until ${isoTime(at(8))}`,
      );
    });

    it('when 4 stop-losses are spread over two pairs then neither pair reaches the limit with only_per_pair', () => {
      const s = snapshot({ closedTrades: [BTC, ETH, BTC, ETH].map((pair, i) => trade({ exitTs: at(i + 1), pair })) });
      expect(perPair(sig, s, at(5))).toEqual({ verdict: 'allow' });
      expect(perPair(signal({ pair: ETH }), s, at(5))).toEqual({ verdict: 'allow' });
    });

    it('when the same 4 stop-losses over two pairs are judged globally then all pairs stop', () => {
      const s = snapshot({ closedTrades: [BTC, ETH, BTC, ETH].map((pair, i) => trade({ exitTs: at(i + 1), pair })) });
      expect(guard(sig, s, at(5))).toMatchObject({ verdict: 'block', code: 'STOPLOSS_GUARD' });
    });
  });
});
