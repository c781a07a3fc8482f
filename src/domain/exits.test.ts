import { describe, expect, it } from 'vitest';
import { evaluateExit, startExitTrack, type ExitRules, type ExitTrack } from './exits.ts';
import { dec } from './money.ts';
import type { Candle } from './types.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

const NONE: ExitRules = { takeProfitPct: null, stopLossPct: null, trailingStopPct: null, maxHoldCandles: null, useStrategyExit: false };
const rules = (r: Partial<ExitRules>): ExitRules => ({ ...NONE, ...r });

/** candle i after the entry candle (i = 0 is the fill candle, whose open is the entry time) */
function candle(i: number, close: number, extra: Partial<Candle> = {}): Candle {
  return { pair: 'BTC/USD', intervalMs: H, ts: T0 + i * H, open: close, high: close, low: close, close, volume: 10, trades: 5, ...extra };
}

function run(r: ExitRules, closes: number[], entry = 100, strategyExitAt = -1): { exits: (string | null)[]; track: ExitTrack } {
  let track = startExitTrack(r, dec(entry), T0);
  const exits: (string | null)[] = [];
  closes.forEach((c, i) => {
    const res = evaluateExit(r, track, candle(i, c), i === strategyExitAt);
    track = res.track;
    exits.push(res.exit);
  });
  return { exits, track };
}

describe('startExitTrack', () => {
  it('when take profit and stop loss are set then their levels are entry × (1 ± pct), exactly', () => {
    const t = startExitTrack(rules({ takeProfitPct: 0.05, stopLossPct: 0.03 }), dec('50000.1'), T0);
    expect(t.takeProfit!.toFixed()).toBe('52500.105');
    expect(t.stopLoss!.toFixed()).toBe('48500.097');
    expect(t.peak.toFixed()).toBe('50000.1');
    expect(t.entryTs).toBe(T0);
  });

  it('when a track is written as JSON or spread then it shows exactly its six fields, in order (the doubles it keeps are private)', () => {
    const r = rules({ takeProfitPct: 0.05, stopLossPct: 0.03, trailingStopPct: 0.04 });
    const t = evaluateExit(r, startExitTrack(r, dec('50000.1'), T0), candle(0, 50100.2), false).track;
    expect(JSON.stringify(t)).toBe(JSON.stringify({ entryPrice: '50000.1', entryTs: T0, takeProfit: '52500.105', stopLoss: '48500.097', peak: '50100.2', trailFactor: '0.96' }));
    expect(Object.keys({ ...t })).toEqual(['entryPrice', 'entryTs', 'takeProfit', 'stopLoss', 'peak', 'trailFactor']);
  });

  it('when the rules are null then the levels are null', () => {
    const t = startExitTrack(NONE, dec(100), T0);
    expect(t.takeProfit).toBeNull();
    expect(t.stopLoss).toBeNull();
  });
});

describe('evaluateExit: thresholds are inclusive and close-based', () => {
  it('when the close equals entry × 1.05 then take_profit fires; a hair below it does not', () => {
    const r = rules({ takeProfitPct: 0.05 });
    expect(run(r, [105]).exits).toEqual(['take_profit']);
    expect(run(r, [104.99]).exits).toEqual([null]);
  });

  it('when only the high touches the take-profit level then nothing fires (close-based)', () => {
    const r = rules({ takeProfitPct: 0.05 });
    const t = startExitTrack(r, dec(100), T0);
    expect(evaluateExit(r, t, candle(0, 101, { high: 120 }), false).exit).toBeNull();
  });

  it('when the close equals entry × 0.97 then stop_loss fires; a hair above it does not', () => {
    const r = rules({ stopLossPct: 0.03 });
    expect(run(r, [97]).exits).toEqual(['stop_loss']);
    expect(run(r, [97.01]).exits).toEqual([null]);
  });

  it('when only the low touches the stop level then nothing fires (close-based)', () => {
    const r = rules({ stopLossPct: 0.03 });
    const t = startExitTrack(r, dec(100), T0);
    expect(evaluateExit(r, t, candle(0, 99, { low: 50 }), false).exit).toBeNull();
  });

  it('when the close falls to exactly peak × 0.96 after the peak rose above entry then trailing_stop fires', () => {
    const r = rules({ trailingStopPct: 0.04 });
    // peak 110 → threshold 105.6
    expect(run(r, [110, 105.61]).exits).toEqual([null, null]);
    expect(run(r, [110, 105.6]).exits).toEqual([null, 'trailing_stop']);
  });

  it('when the peak never rose above entry then the trailing stop does not fire, even far below it', () => {
    const r = rules({ trailingStopPct: 0.04 });
    expect(run(r, [100, 96, 90, 50]).exits).toEqual([null, null, null, null]);
  });

  it('when the peak rose only marginally above entry then the trailing stop is measured from that peak', () => {
    const r = rules({ trailingStopPct: 0.04 });
    // peak 100.5 → threshold 96.48
    expect(run(r, [100.5, 96.49]).exits).toEqual([null, null]);
    expect(run(r, [100.5, 96.48]).exits).toEqual([null, 'trailing_stop']);
  });

  it('when max hold is 3 candles then it fires at the close of the 3rd candle counted from the entry candle', () => {
    const r = rules({ maxHoldCandles: 3 });
    expect(run(r, [100, 100, 100, 100]).exits).toEqual([null, null, 'max_hold', 'max_hold']);
  });

  it('when max hold is 1 candle then it fires at the close of the entry candle itself', () => {
    expect(run(rules({ maxHoldCandles: 1 }), [100]).exits).toEqual(['max_hold']);
  });

  it('when candles are missing (gaps) then max hold counts elapsed candle intervals, not candles seen', () => {
    const r = rules({ maxHoldCandles: 5 });
    const t = startExitTrack(r, dec(100), T0);
    expect(evaluateExit(r, t, candle(3, 100), false).exit).toBeNull();
    expect(evaluateExit(r, t, candle(4, 100), false).exit).toBe('max_hold');
  });

  it('when the strategy advises an exit and useStrategyExit is on then strategy_exit fires', () => {
    expect(run(rules({ useStrategyExit: true }), [100, 100], 100, 1).exits).toEqual([null, 'strategy_exit']);
  });

  it('when the strategy advises an exit but useStrategyExit is off then nothing fires', () => {
    expect(run(rules({ useStrategyExit: false }), [100, 100], 100, 1).exits).toEqual([null, null]);
  });

  it('when every rule is null then no price path ever exits', () => {
    const closes = [100, 200, 1, 150, 0.5, 1000, 99];
    expect(run(NONE, closes, 100, 3).exits.every((e) => e === null)).toBe(true);
  });
});

describe('evaluateExit: priority when several rules fire on one candle', () => {
  const all = rules({ takeProfitPct: 0.05, stopLossPct: 0.03, trailingStopPct: 0.04, maxHoldCandles: 1, useStrategyExit: true });

  it('when stop loss, trailing stop, max hold and strategy exit all fire then stop_loss wins', () => {
    // peak 120 (> entry), then close 90: ≤ 97 (stop) and ≤ 115.2 (trail); max hold 1; strategy exit
    expect(run(all, [120, 90], 100, 1).exits[1]).toBe('stop_loss');
  });

  it('when trailing stop and take profit both fire then trailing_stop wins', () => {
    // peak 120 → trail threshold 115.2; close 110 ≥ 105 (take profit) and ≤ 115.2 (trailing)
    expect(run(all, [120, 110], 100, 1).exits[1]).toBe('trailing_stop');
  });

  it('when take profit, max hold and strategy exit fire then take_profit wins', () => {
    expect(run(all, [106], 100, 0).exits[0]).toBe('take_profit');
  });

  it('when max hold and strategy exit fire then max_hold wins', () => {
    expect(run(all, [100], 100, 0).exits[0]).toBe('max_hold');
  });

  it('when only the strategy exit fires then strategy_exit', () => {
    expect(run(rules({ ...all, maxHoldCandles: 10 }), [100], 100, 0).exits[0]).toBe('strategy_exit');
  });
});

describe('evaluateExit: the track', () => {
  it('when a close makes a new high then the returned track carries it as the peak', () => {
    const { track } = run(NONE, [101, 105, 103]);
    expect(track.peak.toFixed()).toBe('105');
  });

  it('when the close does not make a new high then the same track object is returned (no change)', () => {
    const t = startExitTrack(NONE, dec(100), T0);
    const res = evaluateExit(NONE, t, candle(0, 99), false);
    expect(res.track).toBe(t);
    expect(res.track.peak.toFixed()).toBe('100');
  });

  it('when the peak updates then the input track is not mutated and levels stay fixed', () => {
    const r = rules({ takeProfitPct: 0.5, stopLossPct: 0.03 });
    const t = startExitTrack(r, dec(100), T0);
    const res = evaluateExit(r, t, candle(0, 120), false);
    expect(t.peak.toFixed()).toBe('100');
    expect(res.track.peak.toFixed()).toBe('120');
    expect(res.track.stopLoss!.toFixed()).toBe('97');
    expect(res.track.takeProfit!.toFixed()).toBe('150');
    expect(res.track.entryPrice.toFixed()).toBe('100');
  });

  it('when the candle that sets the peak is evaluated then the trailing stop does not fire on it', () => {
    const r = rules({ trailingStopPct: 0.04 });
    expect(run(r, [130]).exits).toEqual([null]);
  });
});

describe('evaluateExit: decided on doubles where they settle it, exact where they do not', () => {
  /** the comparisons spelled out on decimals only: what evaluateExit must equal on every candle */
  function exactly(r: ExitRules, track: ExitTrack, c: Candle, strategyExit: boolean): { peak: string; exit: string | null } {
    const close = dec(c.exact?.close ?? c.close);
    const peak = close.gt(track.peak) ? close : track.peak;
    let exit: string | null = null;
    if (track.stopLoss !== null && close.lte(track.stopLoss)) exit = 'stop_loss';
    else if (track.trailFactor !== null && peak.gt(track.entryPrice) && close.lte(peak.mul(track.trailFactor))) exit = 'trailing_stop';
    else if (track.takeProfit !== null && close.gte(track.takeProfit)) exit = 'take_profit';
    else if (r.maxHoldCandles !== null && c.ts + c.intervalMs - track.entryTs >= r.maxHoldCandles * c.intervalMs) exit = 'max_hold';
    else if (r.useStrategyExit && strategyExit) exit = 'strategy_exit';
    return { peak: peak.toFixed(), exit };
  }
  /** a close a hair (1e-18) above or below a level, or on it: its double is the level's, its decimal is not */
  const near = (level: string, i: number, side: -1 | 0 | 1): Candle => {
    const exact = dec(level).plus(dec(side).mul('1e-18')).toFixed();
    const close = Number(exact);
    return { ...candle(i, close), exact: { close: exact } };
  };

  it('when closes sit on, a hair above or a hair below each level then every exit and peak equals the decimal comparison', () => {
    const r = rules({ takeProfitPct: 0.05, stopLossPct: 0.03, trailingStopPct: 0.04 });
    const entry = dec('50000.1');
    let checked = 0;
    for (const peakUp of ['50000.1', '50100.3', '51234.5']) {
      for (const side of [-1, 0, 1] as const) {
        let track = startExitTrack(r, entry, T0);
        // raise the peak first (a close equal to the entry leaves the track as it is)
        const up = evaluateExit(r, track, candle(0, Number(peakUp)), false);
        expect(up.track.peak.toFixed()).toBe(exactly(r, track, candle(0, Number(peakUp)), false).peak);
        track = up.track;
        const levels = [track.stopLoss!.toFixed(), track.takeProfit!.toFixed(), track.peak.mul(track.trailFactor!).toFixed(), track.peak.toFixed(), track.entryPrice.toFixed()];
        for (const level of levels) {
          const c = near(level, 1, side);
          const got = evaluateExit(r, track, c, false);
          const want = exactly(r, track, c, false);
          expect({ peak: got.track.peak.toFixed(), exit: got.exit }, `close ${c.exact!.close} against ${level}`).toEqual(want);
          checked++;
        }
      }
    }
    expect(checked).toBe(45);
  });

  it('when closes sit just inside or outside the doubles\' 1e-12 margin of each level then every exit equals the decimal comparison, for a track built here or revived from storage', () => {
    let checked = 0;
    for (const r of [rules({ takeProfitPct: 0.05, stopLossPct: 0.03, trailingStopPct: 0.04 }), rules({ takeProfitPct: 3, stopLossPct: 0.999, trailingStopPct: 0.999 })]) {
      for (const entry of ['50000.1', '0.000012345678901234567', '123456.789012345678901']) {
        const built = evaluateExit(r, startExitTrack(r, dec(entry), T0), candle(0, Number(entry) * 1.01), false).track;
        // a stored track comes back as a plain copy: its doubles are worked out from its decimals
        const revived: ExitTrack = { ...built };
        const levels = [built.stopLoss!, built.takeProfit!, built.peak.mul(built.trailFactor!)];
        for (const level of levels) {
          for (const rel of ['-1e-11', '-2e-12', '-1e-12', '-5e-13', '-1e-15', '0', '1e-15', '5e-13', '1e-12', '2e-12', '1e-11']) {
            const exact = level.mul(dec(1).plus(rel)).toFixed();
            const c: Candle = { ...candle(1, Number(exact)), exact: { close: exact } };
            const want = exactly(r, built, c, false);
            for (const track of [built, revived]) {
              const got = evaluateExit(r, track, c, false);
              expect({ peak: got.track.peak.toFixed(), exit: got.exit }, `close ${exact} against ${level.toFixed()}`).toEqual(want);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(2 * 3 * 3 * 11 * 2);
  });

  it('when a random walk of closes (some of them past 15 significant digits) is followed then each candle equals the decimal comparison', () => {
    const r = rules({ takeProfitPct: 0.08, stopLossPct: 0.05, trailingStopPct: 0.02, maxHoldCandles: 400 });
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let exits = 0;
    for (let run = 0; run < 40; run++) {
      let track = startExitTrack(r, dec('100.5'), T0);
      let px = 100.5;
      for (let i = 0; i < 200; i++) {
        px = Math.max(1, px * (1 + (rnd() - 0.5) * 0.02));
        const level = [track.stopLoss!, track.takeProfit!, track.peak.mul(track.trailFactor!), track.peak][Math.floor(rnd() * 4)]!;
        // one candle in four sits within 1e-18 of a level; the others are ordinary 2-decimal prices
        const c = rnd() < 0.25 ? near(level.toFixed(), i, (Math.floor(rnd() * 3) - 1) as -1 | 0 | 1) : candle(i, Math.round(px * 100) / 100);
        const got = evaluateExit(r, track, c, false);
        const want = exactly(r, track, c, false);
        expect({ peak: got.track.peak.toFixed(), exit: got.exit }).toEqual(want);
        if (got.exit) {
          exits++;
          break;
        }
        track = got.track;
      }
    }
    expect(exits).toBeGreaterThan(10);
  });
});
