import { describe, expect, it } from 'vitest';
import { isoTime } from '../domain/time.ts';
import { duplicateSignal } from './duplicate-signal.ts';
import { BTC, ETH, HOUR, at, recent, signal, snapshot } from '../../test/fixtures/guards.ts';

// window of 6 hourly candles
const WINDOW = 6 * HOUR;
const guard = duplicateSignal.create({ window: { candles: 6 } });
const sig = signal({ id: 'sig-new', strategy: 'ema_cross', pair: BTC, side: 'buy', tsEvent: at(10) });

describe('DUPLICATE_SIGNAL', () => {
  it('has the DUPLICATE_SIGNAL code', () => {
    expect(duplicateSignal.code).toBe('DUPLICATE_SIGNAL');
  });

  it('when no signal was seen before then it allows', () => {
    expect(guard(sig, snapshot({ recentSignals: [] }), at(10))).toEqual({ verdict: 'allow' });
  });

  describe('same signal id', () => {
    it('when the same id was already received then it blocks', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-new', ts: at(9), strategy: 'other', pair: ETH })] });
      expect(guard(sig, s, at(10))).toEqual({ verdict: 'block', code: 'DUPLICATE_SIGNAL', detail: 'signal id sig-new was already received' });
    });

    it('when the same id was received before the window and is the newest entry then it still blocks', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-new', ts: at(10) - 10 * WINDOW, pair: ETH })] });
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block', detail: 'signal id sig-new was already received' });
    });

    // Doubtful / bug: the id check sits inside the window loop, after which the loop breaks at the first
    // out-of-window entry. So an old duplicate id is caught only when nothing else arrived after it outside
    // the window (previous test) — one unrelated old signal in between hides it. The header promises
    // "the same signal id again" without a window (duplicate-signal.ts:1, :17-18).
    it('when the same id was received before the window and another old signal followed it then it still blocks', () => {
      const s = snapshot({
        recentSignals: [
          recent({ id: 'sig-new', ts: at(10) - 10 * WINDOW, pair: ETH }),
          recent({ id: 'sig-other', ts: at(10) - 5 * WINDOW, pair: ETH }),
        ],
      });
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block', code: 'DUPLICATE_SIGNAL' });
    });
  });

  describe('same strategy, pair and side within the window', () => {
    it('when the same strategy/pair/side came one candle earlier then it blocks and names the earlier signal', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(9) })] });
      expect(guard(sig, s, at(10))).toEqual({
        verdict: 'block',
        code: 'DUPLICATE_SIGNAL',
        detail: `same ema_cross buy BTC/USD as sig-old at ${isoTime(at(9))}`,
      });
    });

    it('when the earlier signal is 1 ms inside the window then it blocks', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(10) - WINDOW + 1 })] });
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block', code: 'DUPLICATE_SIGNAL' });
    });

    it('when the earlier signal is exactly one window old then it is outside the window and allows', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(10) - WINDOW })] });
      expect(guard(sig, s, at(10))).toEqual({ verdict: 'allow' });
    });

    it('when the earlier signal has the same timestamp then it blocks', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(10) })] });
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block' });
    });

    it('when a recorded signal is stamped after this one then it does not count as an earlier duplicate', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-later', ts: at(11) })] });
      expect(guard(sig, s, at(12))).toEqual({ verdict: 'allow' });
    });

    it('when only the side differs then it allows', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(9), side: 'sell' })] });
      expect(guard(sig, s, at(10))).toEqual({ verdict: 'allow' });
    });

    it('when only the pair differs then it allows', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(9), pair: ETH })] });
      expect(guard(sig, s, at(10))).toEqual({ verdict: 'allow' });
    });

    it('when only the strategy differs then it allows', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(9), strategy: 'rsi_reversion' })] });
      expect(guard(sig, s, at(10))).toEqual({ verdict: 'allow' });
    });

    it('when a match lies in the window behind newer unrelated signals then it still blocks', () => {
      const s = snapshot({
        recentSignals: [
          recent({ id: 'sig-old', ts: at(6) }),
          recent({ id: 'eth-1', ts: at(8), pair: ETH }),
          recent({ id: 'rsi-1', ts: at(9), strategy: 'rsi_reversion' }),
        ],
      });
      expect(guard(sig, s, at(10))).toMatchObject({ verdict: 'block', detail: `same ema_cross buy BTC/USD as sig-old at ${isoTime(at(6))}` });
    });

    it('when the window is measured then it is measured from the signal time, not from `now`', () => {
      const s = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(9) })] });
      expect(guard(sig, s, at(100))).toMatchObject({ verdict: 'block', code: 'DUPLICATE_SIGNAL' });
    });

    it('when the window is given in minutes then a repeat 29 minutes later blocks and 30 minutes later allows', () => {
      const g30 = duplicateSignal.create({ window: { minutes: 30 } });
      const at29 = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(10) - 29 * 60_000 })] });
      const at30 = snapshot({ recentSignals: [recent({ id: 'sig-old', ts: at(10) - 30 * 60_000 })] });
      expect(g30(sig, at29, at(10))).toMatchObject({ verdict: 'block' });
      expect(g30(sig, at30, at(10))).toEqual({ verdict: 'allow' });
    });
  });
});

describe('DUPLICATE_SIGNAL with the recent signals indexed (RecentSignals, as the kernel passes them)', () => {
  it.each(['out-of-order', 'in time order'] as const)('when 2,000 signals arrive (repeated ids, %s times, 64 kept) then every verdict equals the scan of the same list', async (order) => {
    const { RecentSignals } = await import('./recent-signals.ts');
    const kept = new RecentSignals(64);
    let seed = 3;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const verdicts = { allow: 0, id: 0, window: 0 };
    for (let i = 0; i < 2_000; i++) {
      const s = signal({
        id: rnd(6) === 0 ? `sig-${Math.max(0, i - 1 - rnd(90))}` : `sig-${i}`, strategy: ['ema_cross', 'rsi'][rnd(2)]!, pair: [BTC, ETH][rnd(2)]!,
        side: (['buy', 'sell'] as const)[rnd(2)]!, tsEvent: order === 'in time order' ? at(i) : at(i) - rnd(8) * HOUR,
      });
      const scanned = guard(s, snapshot({ recentSignals: [...kept.all] }), s.tsEvent);
      const indexed = guard(s, snapshot({ recentSignals: kept.all, recentIndex: kept }), s.tsEvent);
      expect(indexed).toEqual(scanned);
      if (scanned.verdict === 'allow') verdicts.allow++;
      else if (scanned.detail.startsWith('signal id')) verdicts.id++;
      else verdicts.window++;
      kept.push({ id: s.id, strategy: s.strategy, pair: s.pair, side: s.side, ts: s.tsEvent });
    }
    expect(kept.all).toHaveLength(64);
    // every kind of verdict was compared
    expect(Math.min(verdicts.allow, verdicts.id, verdicts.window)).toBeGreaterThan(50);
  });
});
