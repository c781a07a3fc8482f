/**
 * The one exit module. The live path (portfolio positions) and the shadow engine call exactly this,
 * so a shadow trade leaves when a real one would have.
 *
 * Exits are evaluated on each candle's close (the bot acts on closed candles); the resulting exit is a
 * market order that the venue fills at the next candle's open, like every other market order.
 * Priority when several rules fire on the same candle: stop_loss, trailing_stop, take_profit, max_hold,
 * strategy_exit.
 */
import { Dec, decOfNumber, ONE } from './money.ts';
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
  // the levels' doubles from the entry's and the factors' (one conversion instead of three): within a few
  // units in the last place of the levels, which the comparisons allow for (see nearSign)
  const entryN = entryPrice.toNumber();
  return new Track(
    { entryPrice, entryTs, takeProfit: tp === null ? null : entryPrice.mul(tp.dec), stopLoss: sl === null ? null : entryPrice.mul(sl.dec), peak: entryPrice, trailFactor: trail === null ? null : trail.dec },
    { entryPrice: entryN, peak: entryN, stopLoss: sl === null ? NaN : entryN * sl.n, takeProfit: tp === null ? NaN : entryN * tp.n, trailFactor: trail === null ? NaN : trail.n },
  );
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
}

/**
 * An exit track as this module builds it: the ExitTrack fields (all that JSON and a spread see) and, in private
 * fields, their doubles, the exact trail level once built, and the answer "nothing happened" (one object per
 * track, not one per candle).
 */
class Track implements ExitTrack {
  readonly entryPrice: Dec;
  readonly entryTs: number;
  readonly takeProfit: Dec | null;
  readonly stopLoss: Dec | null;
  readonly peak: Dec;
  readonly trailFactor: Dec | null;
  readonly #n: TrackNumbers;
  /** peak × trailFactor exactly, built only when a close comes near it */
  #trail: Dec | null = null;
  #still: ExitCheck | null = null;

  constructor(t: ExitTrack, n: TrackNumbers) {
    // the order of the stored fields, as before this class
    this.entryPrice = t.entryPrice;
    this.entryTs = t.entryTs;
    this.takeProfit = t.takeProfit;
    this.stopLoss = t.stopLoss;
    this.peak = t.peak;
    this.trailFactor = t.trailFactor;
    this.#n = n;
  }

  static numbers(t: Track): TrackNumbers {
    return t.#n;
  }
  static trail(t: Track): Dec {
    return (t.#trail ??= t.peak.mul(t.trailFactor!));
  }
  static still(t: Track): ExitCheck {
    return (t.#still ??= { track: t, exit: null });
  }
}

/** A track this module did not build (a stored one revived after a restart, a copy): one with its nearest doubles. */
function asTrack(t: ExitTrack): Track {
  if (t instanceof Track) return t;
  const entryPrice = t.entryPrice.toNumber();
  return new Track(t, {
    entryPrice, peak: t.peak === t.entryPrice ? entryPrice : t.peak.toNumber(),
    stopLoss: t.stopLoss === null ? NaN : t.stopLoss.toNumber(), takeProfit: t.takeProfit === null ? NaN : t.takeProfit.toNumber(),
    trailFactor: t.trailFactor === null ? NaN : t.trailFactor.toNumber(),
  });
}

/**
 * The candle's close as a Dec: its exact decimal when the file printed more than the double holds, else the
 * double's, converted once for the positions evaluated on it in a row (no per-candle cache entry).
 */
function closeOf(c: Candle): Dec {
  return c.exact?.close === undefined ? decOfNumber(c.close) : candleDec(c, 'close');
}

/**
 * The sign of close − b, exact. `closeN` and `bn` are the decimals' nearest doubles: rounding to the nearest
 * double is monotone, so different doubles order the decimals the same way; only equal doubles need the
 * exact decimals.
 */
function compareClose(closeN: number, candle: Candle, closeDec: Dec | undefined, bn: number, b: Dec): number {
  return closeN < bn ? -1 : closeN > bn ? 1 : (closeDec ?? closeOf(candle)).comparedTo(b);
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
  return nearSign(closeN, approx) || (closeDec ?? closeOf(candle)).comparedTo(level);
}

/**
 * Evaluate one closed candle for a long position. `strategyExit` is the strategy's exit advice for
 * this candle; `closeDec` is the candle's close as a Dec when the caller already has it. Pure: returns
 * the updated track (peak) and the exit reason, if any. The comparisons are exact (decimals); they are
 * decided on doubles where those settle them, which keeps an open position cheap per candle.
 */
export function evaluateExit(rules: ExitRules, track: ExitTrack, candle: Candle, strategyExit: boolean, closeDec?: Dec): ExitCheck {
  const closeN = candleNumber(candle, 'close'); // closeDec, when given, is this same close
  const t = asTrack(track);
  const n = Track.numbers(t);
  let next = t;
  if (compareClose(closeN, candle, closeDec, n.peak, t.peak) > 0) {
    next = new Track({ ...t, peak: closeDec ?? closeOf(candle) }, { ...n, peak: closeN });
  }
  let exit: ExitReason | null = null;
  if (t.stopLoss !== null && levelSign(closeN, candle, closeDec, n.stopLoss, t.stopLoss) <= 0) exit = 'stop_loss';
  else if (t.trailFactor !== null && aboveEntry(next, t) && trailHit(closeN, candle, closeDec, next)) exit = 'trailing_stop';
  else if (t.takeProfit !== null && levelSign(closeN, candle, closeDec, n.takeProfit, t.takeProfit) >= 0) exit = 'take_profit';
  else if (rules.maxHoldCandles !== null && candle.ts + candle.intervalMs - t.entryTs >= rules.maxHoldCandles * candle.intervalMs) exit = 'max_hold';
  else if (rules.useStrategyExit && strategyExit) exit = 'strategy_exit';
  return exit === null ? Track.still(next) : { track: next, exit };
}

/** peak > entry price, exact (the peak starts as the entry price itself, the same Dec) */
function aboveEntry(next: Track, t: Track): boolean {
  const peakN = Track.numbers(next).peak;
  const entryN = Track.numbers(t).entryPrice;
  return peakN > entryN || (peakN === entryN && next.peak !== t.entryPrice && next.peak.gt(t.entryPrice));
}

/** close ≤ peak × trailFactor, exact: decided on the doubles' product outside the margin (see nearSign) */
function trailHit(closeN: number, candle: Candle, closeDec: Dec | undefined, next: Track): boolean {
  const n = Track.numbers(next);
  const sign = nearSign(closeN, n.peak * n.trailFactor);
  if (sign !== 0) return sign < 0;
  return (closeDec ?? closeOf(candle)).lte(Track.trail(next)); // the exact level, once per peak
}
