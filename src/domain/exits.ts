/**
 * The one exit module. The live path (portfolio positions) and the shadow engine call exactly this,
 * so a shadow trade leaves when a real one would have.
 *
 * Exits are evaluated on each candle's close (the bot acts on closed candles); the resulting exit is a
 * market order that the venue fills at the next candle's open, like every other market order.
 * Priority when several rules fire on the same candle: stop_loss, trailing_stop, take_profit, max_hold,
 * strategy_exit.
 */
import { Dec } from './money.ts';
import { candleDec, type Candle, type ExitReason } from './types.ts';

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
    takeProfit: rules.takeProfitPct === null ? null : entryPrice.mul(new Dec(1).plus(rules.takeProfitPct)),
    stopLoss: rules.stopLossPct === null ? null : entryPrice.mul(new Dec(1).minus(rules.stopLossPct)),
    peak: entryPrice,
    trailFactor: rules.trailingStopPct === null ? null : new Dec(1).minus(rules.trailingStopPct),
  };
}

export interface ExitCheck {
  readonly track: ExitTrack;
  readonly exit: ExitReason | null;
}

/**
 * Evaluate one closed candle for a long position. `strategyExit` is the strategy's exit advice for
 * this candle; `closeDec` is the candle's close as a Dec when the caller already has it. Pure: returns
 * the updated track (peak) and the exit reason, if any.
 */
export function evaluateExit(rules: ExitRules, track: ExitTrack, candle: Candle, strategyExit: boolean, closeDec?: Dec): ExitCheck {
  // callers with many positions on one candle pass the close once (it is the same exact value)
  const close = closeDec ?? candleDec(candle, 'close');
  const peak = close.gt(track.peak) ? close : track.peak;
  const next: ExitTrack = peak === track.peak ? track : { ...track, peak };
  let exit: ExitReason | null = null;
  if (track.stopLoss !== null && close.lte(track.stopLoss)) exit = 'stop_loss';
  else if (track.trailFactor !== null && peak.gt(track.entryPrice) && close.lte(peak.mul(track.trailFactor))) exit = 'trailing_stop';
  else if (track.takeProfit !== null && close.gte(track.takeProfit)) exit = 'take_profit';
  else if (rules.maxHoldCandles !== null && candle.ts + candle.intervalMs - track.entryTs >= rules.maxHoldCandles * candle.intervalMs) exit = 'max_hold';
  else if (rules.useStrategyExit && strategyExit) exit = 'strategy_exit';
  return { track: next, exit };
}
