/**
 * The shadow execution engine. Every blocked signal is followed as if it had been traded: the entry
 * order the live path would have sent (same sizing, same order type and deadline), the venue's own
 * acceptance check, the same fill model (price, slippage, fee, volume cap), the same exit module, the
 * same trade settlement. A shadow never touches the real ledger, balances, exposure or guard state: it
 * only reads candles and exit advice from the bus, and publishes one `shadow` outcome per signal.
 *
 * Differences from a real trade, by construction: a shadow does not compete with live orders (or other
 * shadows) for a candle's volume, and its fills are never shrunk for lack of cash. Where those matter,
 * the counterfactual report labels the signal as an interaction instead of comparing it.
 */
import type { SignalBus, VerdictEvent } from '../bus/bus.ts';
import { evaluateExit, startExitTrack, type ExitRules, type ExitTrack } from '../domain/exits.ts';
import { quoteFill, type FillModelParams } from '../domain/fill-model.ts';
import { feeFor, minimumViolation } from '../domain/market.ts';
import { Dec, decOfNumber, ZERO } from '../domain/money.ts';
import { entryIntent, type EntryPlan } from '../domain/orders.ts';
import { closedTradeOf, entryAmounts, entryPriceOf, exitAmounts, markedToMarket } from '../domain/position.ts';
import { candleDec, type BlockCode, type Candle, type ExitReason, type MarketMeta, type OrderIntent, type Position, type ShadowOutcome } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { KeyValueStore } from '../ports/store.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One followed blocked signal. Plain data (Dec amounts): what the Store port persists. */
export interface ShadowPosition {
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly blockedBy: readonly BlockCode[];
  readonly blockingGuards: readonly BlockCode[];
  readonly decidedTs: number;
  readonly overlaps: boolean;
  /** the entry order the live path would have sent */
  readonly entry: OrderIntent;
  /** settled: its outcome is published and it is out of the store (never touched again) */
  phase: 'entering' | 'open' | 'exiting' | 'settled';
  entryRemaining: Dec;
  /** the amounts of the position, exactly as the live ledger keeps them */
  readonly pos: Mutable<Position>;
  track: ExitTrack | null;
  exitReason: ExitReason | null;
  exitRemaining: Dec;
  exitAcceptedTs: number;
  /** highest high and lowest low seen while held (NaN before the first fill) */
  hi: number;
  lo: number;
  /** below the venue's minimum order: it could not be sold, as a live position in the same case */
  dust?: boolean;
}

export interface ShadowDeps {
  readonly bus: SignalBus;
  readonly clock: Clock;
  readonly meta: (pair: string) => MarketMeta | undefined;
  readonly fillModel: FillModelParams;
  readonly plan: EntryPlan;
  readonly exitRules: (strategy: string) => ExitRules;
  /** the venue's acceptance check at submission: null when it would accept the order now */
  readonly venueCheck: (order: OrderIntent) => string | null;
  /** a live position or working entry of this strategy and pair exists */
  readonly liveHolding: (strategy: string, pair: string) => boolean;
  readonly store: KeyValueStore<ShadowPosition>;
}

/** a function, not an inline test: the phase changes inside the calls TypeScript cannot see into */
const isSettled = (sp: ShadowPosition) => sp.phase === 'settled';
/** something is held (quantity > 0), without building a Decimal to compare with */
const held = (sp: ShadowPosition) => sp.pos.quantity.isPositive() && !sp.pos.quantity.isZero();

export class ShadowEngine {
  /** open shadows by pair: a candle touches only its own pair's shadows */
  private readonly byPair = new Map<string, Set<ShadowPosition>>();
  /** this candle's exit advice: strategy → pairs */
  private readonly advice = new Map<string, Set<string>>();
  private settledCount = 0;

  constructor(private readonly d: ShadowDeps) {
    for (const sp of d.store.values()) this.index(sp); // shadows survive a restart through the store
    d.bus.subscribe('verdict', 'shadow', (v) => this.onVerdict(v));
    d.bus.subscribe('exitAdvice', 'shadow', (a) => {
      let pairs = this.advice.get(a.strategy);
      if (!pairs) this.advice.set(a.strategy, (pairs = new Set()));
      pairs.add(a.pair);
    });
    d.bus.subscribe('candleDone', 'shadow', (c) => this.onCandle(c));
  }

  get openCount(): number {
    return this.d.store.size;
  }

  get settled(): number {
    return this.settledCount;
  }

  private index(sp: ShadowPosition): void {
    let set = this.byPair.get(sp.pair);
    if (!set) this.byPair.set(sp.pair, (set = new Set()));
    set.add(sp);
  }

  /** a shadow of this strategy and pair is followed already (dust aside) */
  private followsOther(strategy: string, pair: string): boolean {
    for (const s of this.byPair.get(pair) ?? []) if (s.strategy === strategy && !s.dust) return true;
    return false;
  }

  private onVerdict(v: VerdictEvent): void {
    if (v.decision.decision !== 'blocked') return;
    const { signal, decision } = v;
    const now = this.d.clock.now();
    const meta = this.d.meta(signal.pair);
    if (!meta) throw new Error(`shadow: no market metadata for ${signal.pair}`);
    const entry = entryIntent(signal, meta, new Dec(v.proposal.quantity), this.d.plan, now);
    const overlaps = this.d.liveHolding(signal.strategy, signal.pair) || this.followsOther(signal.strategy, signal.pair);
    const blockingGuards = decision.guards.filter((g) => g.verdict === 'block').map((g) => g.code);
    const sp: ShadowPosition = {
      signalId: signal.id, strategy: signal.strategy, pair: signal.pair,
      blockedBy: decision.blockedBy, blockingGuards, decidedTs: now, overlaps, entry,
      phase: 'entering', entryRemaining: entry.quantity,
      pos: {
        signalId: signal.id, strategy: signal.strategy, pair: signal.pair,
        quantity: ZERO, entryCost: ZERO, entryQuantity: ZERO, entryFees: ZERO, exitProceeds: ZERO, exitQuantity: ZERO, exitFees: ZERO, openedTs: now,
      },
      track: null, exitReason: null, exitRemaining: ZERO, exitAcceptedTs: 0, hi: NaN, lo: NaN,
    };
    const refusal = this.d.venueCheck(entry);
    if (refusal !== null) {
      this.settle(sp, 'rejected', now, refusal);
      return;
    }
    this.d.store.set(sp.signalId, sp);
    this.index(sp);
  }

  /** One candle of a pair, in the kernel's order: deadline, fills at the open, deadline at the close, exits on the close. */
  onCandle(c: Candle): void {
    const set = this.byPair.get(c.pair);
    if (set && set.size) {
      const meta = this.d.meta(c.pair)!;
      const close = c.ts + c.intervalMs;
      for (const sp of [...set]) {
        // the entry deadline passed during a gap in the data: cancel before matching, like the gateway
        if (sp.phase === 'entering' && sp.entry.deadlineTs! <= c.ts) this.endEntry(sp);
        if (sp.phase === 'entering') {
          if (sp.entry.tsEvent <= c.ts) this.fillEntry(sp, meta, c);
        } else if (sp.phase === 'exiting' && sp.exitAcceptedTs <= c.ts) {
          this.fillExit(sp, meta, c);
        }
        if (isSettled(sp)) continue;
        if (held(sp)) this.excursion(sp, c);
        if (sp.phase === 'entering' && sp.entry.deadlineTs! <= close) this.endEntry(sp);
        if (isSettled(sp)) continue;
        if (sp.phase === 'open' && sp.track && !sp.dust) {
          const r = evaluateExit(this.d.exitRules(sp.strategy), sp.track, c, this.advice.get(sp.strategy)?.has(sp.pair) === true);
          sp.track = r.track;
          if (r.exit && minimumViolation(meta, sp.pos.quantity, candleDec(c, 'close')) !== null) {
            // the venue would refuse the sell (Kraken's minimums apply to sells): like the live position, it stays
            sp.dust = true;
          } else if (r.exit) {
            sp.phase = 'exiting';
            sp.exitReason = r.exit;
            sp.exitRemaining = sp.pos.quantity;
            sp.exitAcceptedTs = close;
          }
        }
        if (!isSettled(sp)) this.d.store.set(sp.signalId, sp); // persisted as it changed (a no-op in memory)
      }
    }
    this.advice.clear();
  }

  private fillEntry(sp: ShadowPosition, meta: MarketMeta, c: Candle): void {
    const q = quoteFill(this.d.fillModel, meta, { side: 'buy', type: sp.entry.type, remaining: sp.entryRemaining, limitPrice: sp.entry.limitPrice }, c, ZERO);
    if (!q) return;
    if (sp.pos.entryQuantity.isZero()) sp.pos.openedTs = c.ts;
    Object.assign(sp.pos, entryAmounts(sp.pos, q.quantity, q.price, q.fee)); // in place: the shadow owns its amounts
    sp.entryRemaining = sp.entryRemaining.minus(q.quantity);
    if (sp.entryRemaining.lte(ZERO)) this.open(sp);
  }

  /** The entry deadline passed: open with what filled, or expire. */
  private endEntry(sp: ShadowPosition): void {
    if (sp.pos.entryQuantity.gt(ZERO)) this.open(sp);
    else this.settle(sp, 'expired', this.d.clock.now(), 'entry timeout: nothing filled');
  }

  private open(sp: ShadowPosition): void {
    sp.phase = 'open';
    sp.track = startExitTrack(this.d.exitRules(sp.strategy), entryPriceOf(sp.pos), sp.pos.openedTs);
  }

  private fillExit(sp: ShadowPosition, meta: MarketMeta, c: Candle): void {
    const q = quoteFill(this.d.fillModel, meta, { side: 'sell', type: 'market', remaining: sp.exitRemaining }, c, ZERO);
    if (!q) return;
    Object.assign(sp.pos, exitAmounts(sp.pos, q.quantity, q.price, q.fee));
    sp.exitRemaining = sp.exitRemaining.minus(q.quantity);
    if (sp.pos.quantity.isZero()) this.settle(sp, 'closed', c.ts, null);
  }

  private excursion(sp: ShadowPosition, c: Candle): void {
    if (!(sp.hi >= c.high)) sp.hi = c.high;
    if (!(sp.lo <= c.low)) sp.lo = c.low;
  }

  /**
   * End of data: every shadow still followed is reported `open_at_end`, marked to market at `mark`
   * (its pair's last close) with the taker fee of selling there; nothing is left without an outcome.
   */
  finish(mark: (pair: string) => number | null): void {
    const now = this.d.clock.now();
    for (const set of this.byPair.values()) {
      for (const sp of [...set]) this.settle(sp, 'open_at_end', now, sp.pos.quantity.gt(ZERO) ? null : 'entry still working at end of data', mark(sp.pair));
    }
  }

  private settle(sp: ShadowPosition, status: ShadowOutcome['status'], ts: number, reason: string | null, mark: number | null = null): void {
    if (sp.phase === 'settled') throw new Error(`shadow ${sp.signalId} settled twice`);
    sp.phase = 'settled';
    this.byPair.get(sp.pair)?.delete(sp);
    this.d.store.delete(sp.signalId);
    this.settledCount++;
    const p = sp.pos;
    const bought = p.entryQuantity.gt(ZERO);
    let entryPrice: Dec | null = bought ? entryPriceOf(p) : null;
    let exitTs: number | null = null;
    let exitPrice: Dec | null = null;
    let exitReason: ShadowOutcome['exitReason'] = null;
    let fees = p.entryFees.plus(p.exitFees);
    let pnl = ZERO;
    let pnlRatio: number | null = null;
    if (status === 'closed') {
      const t = closedTradeOf(p, ts, sp.exitReason!);
      entryPrice = t.entryPrice;
      ({ exitTs, exitPrice, exitReason, fees, pnl, pnlRatio } = t);
    } else if (status === 'open_at_end' && bought) {
      const meta = this.d.meta(sp.pair)!;
      const m = decOfNumber(mark ?? entryPrice!.toNumber());
      const marked = markedToMarket(p, m, feeFor(meta, p.quantity.mul(m), 'taker'));
      ({ fees, pnl, pnlRatio, exitPrice } = marked);
      exitTs = ts;
      exitReason = 'open_at_end';
    }
    const outcome: ShadowOutcome = {
      signalId: sp.signalId, strategy: sp.strategy, pair: sp.pair, side: 'buy',
      blockedBy: sp.blockedBy, blockingGuards: sp.blockingGuards, status, reason,
      decidedTs: sp.decidedTs, entryTs: bought ? p.openedTs : null, entryPrice, exitTs, exitPrice, exitReason,
      quantity: p.entryQuantity, fees, pnl, pnlRatio,
      maxAdverse: bought && sp.lo === sp.lo ? Dec.min(ZERO, new Dec(sp.lo).mul(p.entryQuantity).minus(p.entryCost)) : ZERO,
      maxFavourable: bought && sp.hi === sp.hi ? Dec.max(ZERO, new Dec(sp.hi).mul(p.entryQuantity).minus(p.entryCost)) : ZERO,
      overlaps: sp.overlaps, ts,
    };
    this.d.bus.publish('shadow', outcome);
  }
}

/** A shadow position as plain JSON (decimal strings) for the durable store. */
export function serializeShadow(sp: ShadowPosition): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...sp, hi: Number.isNaN(sp.hi) ? null : sp.hi, lo: Number.isNaN(sp.lo) ? null : sp.lo })) as Record<string, unknown>;
}

/** The inverse of serializeShadow: a stored shadow position back in domain types (restart). */
export function reviveShadow(o: Record<string, any>): ShadowPosition {
  const d = (v: unknown) => new Dec(v as string);
  const entry = o.entry as Record<string, any>;
  const track = o.track as Record<string, any> | null;
  return {
    signalId: o.signalId, strategy: o.strategy, pair: o.pair, blockedBy: o.blockedBy, blockingGuards: o.blockingGuards,
    decidedTs: o.decidedTs, overlaps: o.overlaps,
    entry: { ...entry, quantity: d(entry.quantity), ...(entry.limitPrice !== undefined ? { limitPrice: d(entry.limitPrice) } : {}) } as OrderIntent,
    phase: o.phase, entryRemaining: d(o.entryRemaining),
    pos: {
      ...o.pos, quantity: d(o.pos.quantity), entryCost: d(o.pos.entryCost), entryQuantity: d(o.pos.entryQuantity), entryFees: d(o.pos.entryFees),
      exitProceeds: d(o.pos.exitProceeds), exitQuantity: d(o.pos.exitQuantity), exitFees: d(o.pos.exitFees),
    },
    track: track && {
      entryPrice: d(track.entryPrice), entryTs: track.entryTs, peak: d(track.peak),
      takeProfit: track.takeProfit === null ? null : d(track.takeProfit), stopLoss: track.stopLoss === null ? null : d(track.stopLoss),
      trailFactor: track.trailFactor === null ? null : d(track.trailFactor),
    },
    exitReason: o.exitReason, exitRemaining: d(o.exitRemaining), exitAcceptedTs: o.exitAcceptedTs,
    hi: o.hi === null ? NaN : o.hi, lo: o.lo === null ? NaN : o.lo,
  };
}
