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
  return {
    entryPrice,
    entryTs,
    takeProfit: rules.takeProfitPct === null ? null : entryPrice.mul(ONE.plus(rules.takeProfitPct)),
    stopLoss: rules.stopLossPct === null ? null : entryPrice.mul(ONE.minus(rules.stopLossPct)),
    peak: entryPrice,
    trailFactor: rules.trailingStopPct === null ? null : trailFactorOf(rules.trailingStopPct),
  };
}

/** 1 − trailingStopPct, built once per rate (a Dec is immutable: every track shares it), and its nearest double */
const trailFactors = new Map<number, Dec>();
const trailFactorNumbers = new WeakMap<Dec, number>();
function trailFactorOf(pct: number): Dec {
  let f = trailFactors.get(pct);
  if (f === undefined) {
    if (trailFactors.size >= 256) trailFactors.clear();
    trailFactors.set(pct, (f = ONE.minus(pct)));
    trailFactorNumbers.set(f, f.toNumber());
  }
  return f;
}

export interface ExitCheck {
  readonly track: ExitTrack;
  readonly exit: ExitReason | null;
}

/** An exit track's decimals as their nearest doubles, worked out once per track. */
interface TrackNumbers {
  readonly entryPrice: number;
  readonly peak: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly trailFactor: number;
  /** peak × trailFactor exactly, built only when a close comes near it */
  trail: Dec | null;
}
const trackNumbers = new WeakMap<ExitTrack, TrackNumbers>();

function numbersOf(t: ExitTrack): TrackNumbers {
  let n = trackNumbers.get(t);
  if (n === undefined) {
    const entryPrice = t.entryPrice.toNumber();
    n = {
      // a new track's peak is its entry price (the same Dec); a shared trail factor's double is known
      entryPrice, peak: t.peak === t.entryPrice ? entryPrice : t.peak.toNumber(),
      stopLoss: t.stopLoss === null ? NaN : t.stopLoss.toNumber(), takeProfit: t.takeProfit === null ? NaN : t.takeProfit.toNumber(),
      trailFactor: t.trailFactor === null ? NaN : trailFactorNumbers.get(t.trailFactor) ?? t.trailFactor.toNumber(), trail: null,
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

/**
 * Whether close ≤ peak × trailFactor, exact. The product of the two doubles is within a few units in the last
 * place of the exact product (≈ 1e-15 relative); outside a 1e-12 margin around it the double comparison is the
 * exact one, inside it (and for anything but positive numbers) the exact product is built.
 */
function atOrBelowTrail(closeN: number, candle: Candle, closeDec: Dec | undefined, n: TrackNumbers, peak: Dec, trailFactor: Dec): boolean {
  const approx = n.peak * n.trailFactor;
  if (closeN > 0 && approx > 0) {
    if (closeN < approx * (1 - 1e-12)) return true;
    if (closeN > approx * (1 + 1e-12)) return false;
  }
  n.trail ??= peak.mul(trailFactor);
  return (closeDec ?? candleDec(candle, 'close')).lte(n.trail);
}

/**
 * Evaluate one closed candle for a long position. `strategyExit` is the strategy's exit advice for
 * this candle; `closeDec` is the candle's close as a Dec when the caller already has it. Pure: returns
 * the updated track (peak) and the exit reason, if any. The comparisons are exact (decimals); they are
 * decided on the nearest doubles where those settle them, which keeps an open position cheap per candle.
 */
export function evaluateExit(rules: ExitRules, track: ExitTrack, candle: Candle, strategyExit: boolean, closeDec?: Dec): ExitCheck {
  const closeN = candleNumber(candle, 'close'); // closeDec, when given, is this same close
  const n = numbersOf(track);
  let next = track;
  let nn = n;
  if (compareClose(closeN, candle, closeDec, n.peak, track.peak) > 0) {
    next = { ...track, peak: closeDec ?? candleDec(candle, 'close') };
    nn = { ...n, peak: closeN, trail: null };
    trackNumbers.set(next, nn);
  }
  const peak = next.peak;
  let exit: ExitReason | null = null;
  if (track.stopLoss !== null && compareClose(closeN, candle, closeDec, n.stopLoss, track.stopLoss) <= 0) exit = 'stop_loss';
  else if (track.trailFactor !== null && (nn.peak > n.entryPrice || (nn.peak === n.entryPrice && peak.gt(track.entryPrice))) && atOrBelowTrail(closeN, candle, closeDec, nn, peak, track.trailFactor)) exit = 'trailing_stop';
  else if (track.takeProfit !== null && compareClose(closeN, candle, closeDec, n.takeProfit, track.takeProfit) >= 0) exit = 'take_profit';
  else if (rules.maxHoldCandles !== null && candle.ts + candle.intervalMs - track.entryTs >= rules.maxHoldCandles * candle.intervalMs) exit = 'max_hold';
  else if (rules.useStrategyExit && strategyExit) exit = 'strategy_exit';
  return { track: next, exit };
}
