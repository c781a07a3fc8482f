/**
 * The one exit module. The live path (portfolio positions) and the shadow engine call exactly this,
 * so a shadow trade leaves when a real one would have.
 *
 * Exits are evaluated on each candle's close (the bot acts on closed candles); the resulting exit is a
 * market order that the venue fills at the next candle's open, like every other market order.
 * Priority when several rules fire on the same candle: stop_loss, trailing_stop, take_profit, max_hold,
 * strategy_exit.
 */
import { Dec, ONE } from './money.ts';
import { candleDec, candleNumber, type Candle, type ExitReason } from './types.ts';

export interface ExitRules {
  /** 0.05 = leave when close ≥ entry × 1.05 */
  readonly takeProfitPct: number | null;
  /** 0.03 = leave when close ≤ entry × 0.97 */
  readonly stopLossPct: number | null;
  /** 0.04 = leave when close ≤ highest close since entry × 0.96 */
  readonly trailingStopPct: number | null;
  /** leave after this many candles of holding */
  readonly maxHoldCandles: number | null;
  /** honour the strategy's own exit signal */
  readonly useStrategyExit: boolean;
}

export interface ExitTrack {
  readonly entryPrice: Dec;
  readonly entryTs: number;
  readonly takeProfit: Dec | null;
  readonly stopLoss: Dec | null;
  /** highest close seen since entry (starts at the entry price) */
  readonly peak: Dec;
  /** 1 − trailingStopPct, computed once */
  readonly trailFactor: Dec | null;
}

export function startExitTrack(rules: ExitRules, entryPrice: Dec, entryTs: number): ExitTrack {
  const tp = rules.takeProfitPct === null ? null : factorOf(rules.takeProfitPct, 1);
  const sl = rules.stopLossPct === null ? null : factorOf(rules.stopLossPct, -1);
  const trail = rules.trailingStopPct === null ? null : factorOf(rules.trailingStopPct, -1);
  const track: ExitTrack = {
    entryPrice,
    entryTs,
    takeProfit: tp === null ? null : entryPrice.mul(tp.dec),
    stopLoss: sl === null ? null : entryPrice.mul(sl.dec),
    peak: entryPrice,
    trailFactor: trail === null ? null : trail.dec,
  };
  // the levels' doubles from the entry's and the factors' (one conversion instead of three): within a few
  // units in the last place of the levels, which the comparisons allow for (see nearSign)
  const entryN = entryPrice.toNumber();
  trackNumbers.set(track, {
    entryPrice: entryN, peak: entryN,
    stopLoss: sl === null ? NaN : entryN * sl.n, takeProfit: tp === null ? NaN : entryN * tp.n,
    trailFactor: trail === null ? NaN : trail.n, trail: null, still: { track, exit: null },
  });
  return track;
}

/** 1 ± pct as a Dec, built once per rate (a Dec is immutable: every track shares it), and its nearest double */
interface Factor {
  readonly dec: Dec;
  readonly n: number;
}
const factors = { [1]: new Map<number, Factor>(), [-1]: new Map<number, Factor>() };
function factorOf(pct: number, sign: 1 | -1): Factor {
  const bySign = factors[sign];
  let f = bySign.get(pct);
  if (f === undefined) {
    if (bySign.size >= 256) bySign.clear();
    const dec = sign > 0 ? ONE.plus(pct) : ONE.minus(pct);
    bySign.set(pct, (f = { dec, n: dec.toNumber() }));
  }
  return f;
}

export interface ExitCheck {
  readonly track: ExitTrack;
  readonly exit: ExitReason | null;
}

/**
 * An exit track's decimals as doubles, worked out once per track: `entryPrice` and `peak` are the nearest doubles
 * of the decimals; `stopLoss`, `takeProfit` and the trail are within a few units in the last place of theirs.
 */
interface TrackNumbers {
  readonly entryPrice: number;
  readonly peak: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly trailFactor: number;
  /** peak × trailFactor exactly, built only when a close comes near it */
  trail: Dec | null;
  /** this track's answer when nothing changes and nothing fires (one object per track, not one per candle) */
  readonly still: ExitCheck;
}
const trackNumbers = new WeakMap<ExitTrack, TrackNumbers>();

/** The numbers of a track this module did not build (a stored one revived after a restart): nearest doubles. */
function numbersOf(t: ExitTrack): TrackNumbers {
  let n = trackNumbers.get(t);
  if (n === undefined) {
    const entryPrice = t.entryPrice.toNumber();
    n = {
      entryPrice, peak: t.peak === t.entryPrice ? entryPrice : t.peak.toNumber(),
      stopLoss: t.stopLoss === null ? NaN : t.stopLoss.toNumber(), takeProfit: t.takeProfit === null ? NaN : t.takeProfit.toNumber(),
      trailFactor: t.trailFactor === null ? NaN : t.trailFactor.toNumber(), trail: null, still: { track: t, exit: null },
    };
    trackNumbers.set(t, n);
  }
  return n;
}

/**
 * The sign of close − b, exact. `closeN` and `bn` are the decimals' nearest doubles: rounding to the nearest
 * double is monotone, so different doubles order the decimals the same way; only equal doubles need the
 * exact decimals.
 */
function compareClose(closeN: number, candle: Candle, closeDec: Dec | undefined, bn: number, b: Dec): number {
  return closeN < bn ? -1 : closeN > bn ? 1 : (closeDec ?? candleDec(candle, 'close')).comparedTo(b);
}

/** Relative margin around an approximate level: its error is a few 1e-16, so outside 1e-12 the doubles decide. */
const MARGIN = 1e-12;
/** below this, doubles lose relative precision (subnormals): the decimals decide */
const TINY = 1e-290;

/**
 * The sign of close − b where `approx` is within a few units in the last place of b (a product of two doubles),
 * when the doubles settle it: outside a 1e-12 margin around it (positive numbers) the double comparison is the
 * exact one. 0 means undecided: the caller compares the decimals.
 */
function nearSign(closeN: number, approx: number): -1 | 0 | 1 {
  if (closeN > 0 && approx > TINY) {
    if (closeN < approx * (1 - MARGIN)) return -1;
    if (closeN > approx * (1 + MARGIN)) return 1;
  }
  return 0;
}

/** The sign of close − level, exact: the doubles where they settle it (nearSign), else the decimals. */
function levelSign(closeN: number, candle: Candle, closeDec: Dec | undefined, approx: number, level: Dec): number {
  return nearSign(closeN, approx) || (closeDec ?? candleDec(candle, 'close')).comparedTo(level);
}

/**
 * Evaluate one closed candle for a long position. `strategyExit` is the strategy's exit advice for
 * this candle; `closeDec` is the candle's close as a Dec when the caller already has it. Pure: returns
 * the updated track (peak) and the exit reason, if any. The comparisons are exact (decimals); they are
 * decided on doubles where those settle them, which keeps an open position cheap per candle.
 */
export function evaluateExit(rules: ExitRules, track: ExitTrack, candle: Candle, strategyExit: boolean, closeDec?: Dec): ExitCheck {
  const closeN = candleNumber(candle, 'close'); // closeDec, when given, is this same close
  const n = numbersOf(track);
  let next = track;
  let nn = n;
  if (compareClose(closeN, candle, closeDec, n.peak, track.peak) > 0) {
    next = { ...track, peak: closeDec ?? candleDec(candle, 'close') };
    nn = { ...n, peak: closeN, trail: null, still: { track: next, exit: null } };
    trackNumbers.set(next, nn);
  }
  const peak = next.peak;
  let exit: ExitReason | null = null;
  if (track.stopLoss !== null && levelSign(closeN, candle, closeDec, n.stopLoss, track.stopLoss) <= 0) exit = 'stop_loss';
  else if (track.trailFactor !== null && aboveEntry(nn, n, peak, track) && trailHit(closeN, candle, closeDec, nn, peak, track.trailFactor)) exit = 'trailing_stop';
  else if (track.takeProfit !== null && levelSign(closeN, candle, closeDec, n.takeProfit, track.takeProfit) >= 0) exit = 'take_profit';
  else if (rules.maxHoldCandles !== null && candle.ts + candle.intervalMs - track.entryTs >= rules.maxHoldCandles * candle.intervalMs) exit = 'max_hold';
  else if (rules.useStrategyExit && strategyExit) exit = 'strategy_exit';
  return exit === null ? nn.still : { track: next, exit };
}

/** peak > entry price, exact (the peak starts as the entry price itself, the same Dec) */
function aboveEntry(nn: TrackNumbers, n: TrackNumbers, peak: Dec, track: ExitTrack): boolean {
  return nn.peak > n.entryPrice || (nn.peak === n.entryPrice && peak !== track.entryPrice && peak.gt(track.entryPrice));
}

/** close ≤ peak × trailFactor, exact: decided on the doubles' product outside the margin (see nearSign) */
function trailHit(closeN: number, candle: Candle, closeDec: Dec | undefined, n: TrackNumbers, peak: Dec, trailFactor: Dec): boolean {
  const sign = nearSign(closeN, n.peak * n.trailFactor);
  if (sign !== 0) return sign < 0;
  n.trail ??= peak.mul(trailFactor); // built once per peak, only when a close comes near it
  return (closeDec ?? candleDec(candle, 'close')).lte(n.trail);
}
