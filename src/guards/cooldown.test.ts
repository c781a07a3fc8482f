import { describe, expect, it } from 'vitest';
import { isoTime } from '../domain/time.ts';
import { cooldown } from './cooldown.ts';
import { BTC, ETH, HOUR, MINUTE, at, blockOf, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

const sig = signal({ pair: BTC });

describe('COOLDOWN (Freqtrade CooldownPeriod)', () => {
  it('has the COOLDOWN code', () => {
    expect(cooldown.code).toBe('COOLDOWN');
  });

  // Freqtrade docs, "Cooldown Period": { "method": "CooldownPeriod", "stop_duration_candles": 2 }
  // "The below example will stop trading a pair for 2 candles after closing a trade, allowing this pair to 'cool down'."
  describe('documented example: stop_duration_candles = 2 on 1h candles', () => {
    const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
    const closed = trade({ exitTs: at(10), signalId: 'sig-prev', exitReason: 'take_profit', pnl: '25', pnlRatio: 0.025 });
    const s = snapshot({ closedTrades: [closed] });
    const lockEnd = at(10) + 2 * HOUR; // calculate_lock_end: close + stop duration

    it('when the trade has just closed then the pair is locked', () => {
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block', code: 'COOLDOWN' });
    });

    it('when one candle has passed then the pair is still locked', () => {
      expect(guard(sig, s, at(11))).toMatchObject({ verdict: 'block', code: 'COOLDOWN' });
    });

    it('when the block is reported then it names the pair, the lock end = close + 2 candles, and the trade', () => {
      expect(blockOf(guard(sig, s, at(11)))?.detail).toBe(
        `BTC/USD cooling down until ${isoTime(lockEnd)} after trade sig-prev closed at ${isoTime(at(10))}`,
      );
    });

    it('when 1 ms is left of the 2 candles then the pair is still locked', () => {
      expect(guard(sig, s, lockEnd - 1)).toMatchObject({ verdict: 'block' });
    });

    it('when exactly 2 candles have passed since the close then the lock has ended and it allows', () => {
      expect(guard(sig, s, lockEnd)).toEqual({ verdict: 'allow' });
    });

    it('when long after the lock end then it allows', () => {
      expect(guard(sig, s, at(100))).toEqual({ verdict: 'allow' });
    });
  });

  it('when there is no trade history then it allows', () => {
    const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
    expect(guard(sig, snapshot({ closedTrades: [] }), at(0))).toEqual({ verdict: 'allow' });
  });

  it('when any exit reason closed the trade (winner or loser) then the cooldown applies', () => {
    const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
    for (const exitReason of ['stop_loss', 'trailing_stop', 'take_profit', 'max_hold', 'strategy_exit', 'operator'] as const) {
      const s = snapshot({ closedTrades: [trade({ exitTs: at(5), exitReason })] });
      expect(guard(sig, s, at(6)), exitReason).toMatchObject({ verdict: 'block', code: 'COOLDOWN' });
    }
  });

  it('when several trades closed on the pair then the lock runs from the latest close', () => {
    const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
    const s = snapshot({ closedTrades: [trade({ exitTs: at(5) }), trade({ exitTs: at(9) })] });
    expect(blockOf(guard(sig, s, at(10)))?.detail).toContain(`until ${isoTime(at(11))}`);
    expect(guard(sig, s, at(11))).toEqual({ verdict: 'allow' });
  });

  it('when a trade closes after `now` then it is not yet history and does not lock', () => {
    const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
    const s = snapshot({ closedTrades: [trade({ exitTs: at(10) })] });
    expect(guard(sig, s, at(10) - 1)).toEqual({ verdict: 'allow' });
  });

  it('when the stop duration is given in minutes then the lock ends exactly that many minutes after the close', () => {
    const guard = cooldown.create({ stopDuration: { minutes: 90 }, scope: 'pair' });
    const s = snapshot({ closedTrades: [trade({ exitTs: at(10) })] });
    expect(guard(sig, s, at(10) + 90 * MINUTE - 1)).toMatchObject({ verdict: 'block' });
    expect(guard(sig, s, at(10) + 90 * MINUTE)).toEqual({ verdict: 'allow' });
  });

  describe('scope', () => {
    const s = snapshot({ closedTrades: [trade({ exitTs: at(10), pair: ETH, signalId: 'eth-1' })] });

    it('when scope is pair and the trade closed on another pair then this pair is not cooling down', () => {
      const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'pair' });
      expect(guard(sig, s, at(11))).toEqual({ verdict: 'allow' });
      expect(guard(signal({ pair: ETH }), s, at(11))).toMatchObject({ verdict: 'block', code: 'COOLDOWN' });
    });

    it('when scope is global then a close on any pair locks all pairs until close + stop duration', () => {
      const guard = cooldown.create({ stopDuration: { candles: 2 }, scope: 'global' });
      expect(blockOf(guard(sig, s, at(11)))?.detail).toBe(
        `all pairs cooling down until ${isoTime(at(12))} after trade eth-1 closed at ${isoTime(at(10))}`,
      );
      expect(guard(sig, s, at(12))).toEqual({ verdict: 'allow' });
    });
  });
});
