/**
 * The kernel: the one path every mode runs. Modes differ only in the injected clock, market data feed
 * and venue. Per closed candle:
 *   1. the venue matches working orders against the candle (fills at its open);
 *   2. entry orders past their deadline have their remainder cancelled;
 *   3. the clock moves to the candle's close; strategies and market context see the candle;
 *   4. exit rules run on every open position of the pair (same module the shadow engine uses);
 *   5. the candle's new signals go through validation, the guard chain and, if approved, to the venue.
 */
import type { SignalBus } from '../bus/bus.ts';
import { evaluateExit, startExitTrack, type ExitRules, type ExitTrack } from '../domain/exits.ts';
import { Dec, ZERO } from '../domain/money.ts';
import { entryIntent, entryPriceOf, exitIntent, type EntryPlan } from '../domain/orders.ts';
import { sizeOrder, type Sizing } from '../domain/sizing.ts';
import { utcDayStart } from '../domain/time.ts';
import { heldCost, type Candle, type Decision, type ExitReason, type Fill, type MarketMeta, type OrderEvent, type Position, type Signal } from '../domain/types.ts';
import { invalidReason } from '../domain/validation.ts';
import type { EntryPause, GuardChain } from '../guards/chain.ts';
import { RecentSignals } from '../guards/recent-signals.ts';
import type { GuardSnapshot, OpenExposure, RecentSignal } from '../guards/types.ts';
import type { LifecycleRegistry } from '../lifecycle/registry.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { ExecutionGateway } from '../execution/gateway.ts';
import type { MarketContext } from '../strategies/market-context.ts';
import type { StrategyRunner } from '../strategies/runner.ts';

export interface KernelOptions extends EntryPlan {
  readonly sizing: Sizing;
  /** called with the received → verdict time of each signal, in ns (benchmarks) */
  readonly onDecisionLatency?: ((ns: number) => void) | undefined;
}

export interface KernelDeps {
  readonly bus: SignalBus;
  readonly clock: { now(): number };
  readonly markets: ReadonlyMap<string, MarketMeta>;
  readonly registry: LifecycleRegistry;
  readonly chain: GuardChain;
  readonly strategies: StrategyRunner;
  readonly market: MarketContext;
  readonly portfolio: Portfolio;
  readonly gateway: ExecutionGateway;
  readonly venue: { onCandle(c: Candle): void };
  /** exit rules of a strategy by name */
  readonly exitRules: (strategy: string) => ExitRules;
}

interface Holding {
  readonly strategy: string;
  readonly pair: string;
  /** the strategy's exit rules, looked up once with the track (every candle evaluates them) */
  rules: ExitRules | null;
  track: ExitTrack | null;
  exitOrderId: string | null;
  exitReason: ExitReason | null;
  exitAttempts: number;
  /** below the venue's minimum order: cannot be sold */
  dust?: boolean;
}

const RECENT_SIGNALS = 512;

export class Kernel {
  private readonly signalQueue: Signal[] = [];
  private inStep = false;
  /** this candle's exit advice: strategy → pairs (no key string built per advice and per holding) */
  private readonly exitAdvice = new Map<string, Set<string>>();
  /** some advice came in since the sets were last emptied (most candles bring none: nothing to empty) */
  private adviceIn = false;
  private readonly holdings = new Map<string, Holding>();
  private readonly signalsById = new Map<string, Signal>();
  private readonly recent = new RecentSignals(RECENT_SIGNALS);
  private dayStart = -1;
  private dayStartEquity = ZERO;
  private pause: EntryPause | null = null;

  constructor(private readonly d: KernelDeps, private readonly o: KernelOptions) {
    d.bus.subscribe('signal', 'kernel', (s) => {
      this.signalQueue.push(s);
      if (!this.inStep) this.drainSignals();
    });
    d.bus.subscribe('exitAdvice', 'kernel', (a) => {
      let pairs = this.exitAdvice.get(a.strategy);
      if (!pairs) this.exitAdvice.set(a.strategy, (pairs = new Set()));
      pairs.add(a.pair);
      this.adviceIn = true;
    });
    d.bus.subscribe('fill', 'kernel', (f) => this.onFill(f));
    d.bus.subscribe('order', 'kernel', (e) => this.onOrderEvent(e));
  }

  private mark = (pair: string): number | null => this.d.market.lastClose(pair);

  /** Operator control: while paused, new entries are blocked (ENTRIES_PAUSED); exits and working orders carry on. */
  setPause(pause: EntryPause | null): void {
    this.pause = pause;
  }

  get paused(): EntryPause | null {
    return this.pause;
  }

  /** The guard chain, for the operator's mode switches and the guards listing. */
  get guards(): GuardChain {
    return this.d.chain;
  }

  equity(): Dec {
    return this.d.portfolio.equity(this.mark);
  }

  /** Process one closed candle through the whole pipeline. */
  onCandle(c: Candle, setClock: (t: number) => void): void {
    this.candleOpen(c, setClock);
    this.candleClose(c, setClock);
    this.candleRest(c);
  }

  /**
   * A candle from before a live start: indicators and market context learn from it; no strategy signal,
   * exit check, order or deadline happens (the bot was not running then).
   */
  warmUp(c: Candle, setClock: (t: number) => void): void {
    setClock(c.ts + c.intervalMs);
    this.d.market.onCandle(c);
    this.d.strategies.warmUp(c);
    // positions carried over from before the restart: their exit tracks (trailing peak) follow the history
    for (const h of this.holdings.values()) {
      if (h.pair !== c.pair || h.track === null || h.rules === null || c.ts < h.track.entryTs) continue;
      h.track = evaluateExit(h.rules, h.track, c, false).track;
    }
  }

  /**
   * A position carried over from the durable state at a live restart: held again, with its exit track
   * from the entry (warm-up candles bring the trailing peak up to date). `workingExit` is the client order
   * id of an exit order still working on the venue (it is not sent again); `exitAttempts` the exits sent so far.
   */
  adoptHolding(p: Position, strategy: string, exitReason: ExitReason | null, workingExit: string | null, exitAttempts: number): void {
    const rules = this.d.exitRules(strategy);
    this.holdings.set(p.signalId, {
      strategy, pair: p.pair, rules, track: startExitTrack(rules, entryPriceOf(p), p.openedTs),
      exitOrderId: workingExit, exitReason, exitAttempts,
    });
  }

  /**
   * The three phases of a candle, for an asynchronous venue whose reports arrive between them (the
   * driver awaits the venue after each): the open (deadlines, then matching at the open), the close
   * (deadlines at the close), and the rest (market context, strategies, exits, new signals).
   */
  candleOpen(c: Candle, setClock: (t: number) => void): void {
    setClock(c.ts);
    // an entry whose deadline passed during a gap in the data must not fill on the next candle
    this.d.gateway.expireDue(c.ts);
    this.d.venue.onCandle(c);
  }

  candleClose(c: Candle, setClock: (t: number) => void): void {
    const close = c.ts + c.intervalMs;
    setClock(close);
    this.d.gateway.expireDue(close);
  }

  candleRest(c: Candle): void {
    this.inStep = true;
    try {
      const close = c.ts + c.intervalMs;
      this.d.market.onCandle(c);
      const day = utcDayStart(close);
      if (day !== this.dayStart) {
        this.dayStart = day;
        this.dayStartEquity = this.equity();
      }
      if (this.adviceIn) {
        for (const pairs of this.exitAdvice.values()) pairs.clear(); // kept per strategy, emptied per candle
        this.adviceIn = false;
      }
      this.d.bus.publish('candle', c);
      this.d.strategies.onCandle(c);
      this.checkExits(c);
      // the candle is done for the live path: exit advice is in, new signals are queued
      this.d.bus.publish('candleDone', c);
    } finally {
      this.inStep = false;
    }
    this.drainSignals();
  }

  private drainSignals(): void {
    while (this.signalQueue.length) this.processSignal(this.signalQueue.shift()!);
  }

  // ── entries ────────────────────────────────────────────────────────────────

  private processSignal(signal: Signal): void {
    const { registry, bus } = this.d;
    const now = this.d.clock.now();
    if (registry.has(signal.id) || this.signalsById.has(signal.id) || this.recent.hasId(signal.id)) {
      bus.publish('warning', { code: 'DUPLICATE_SIGNAL_ID', message: `signal id ${signal.id} is already in flight; dropped`, ts: now, signalId: signal.id });
      return;
    }
    const t0 = this.o.onDecisionLatency ? process.hrtime.bigint() : 0n;
    registry.create(signal.id);
    this.signalsById.set(signal.id, signal);
    const meta = this.d.markets.get(signal.pair);
    const invalid = invalidReason(signal, meta, now);
    if (invalid !== null || meta === undefined) {
      this.remember(signal);
      this.finish(signal.id, registry.send(signal.id, { type: 'INVALID', reason: invalid ?? 'unknown pair' }, invalid ?? undefined));
      return;
    }
    let decision: Decision, price: Dec, proposal: ReturnType<typeof sizeOrder>;
    try {
      ({ decision, price, proposal } = this.decide(signal, meta, now));
    } finally {
      this.remember(signal);
    }
    bus.publish('verdict', { decision, signal, proposal: { quantity: proposal.quantity.toFixed(), price: price.toFixed(), cost: proposal.cost.toFixed() } });
    registry.send(signal.id, { type: 'GUARD', approved: decision.decision === 'approved', blockedBy: decision.blockedBy });
    if (this.o.onDecisionLatency) this.o.onDecisionLatency(Number(process.hrtime.bigint() - t0));
    if (decision.decision === 'blocked') {
      this.finish(signal.id, registry.send(signal.id, { type: 'BLOCK' }, decision.blockedBy.join(',')));
      return;
    }
    registry.send(signal.id, { type: 'APPROVE' });
    const intent = entryIntent(signal, meta, proposal.quantity, this.o, now);
    this.holdings.set(signal.id, { strategy: signal.strategy, pair: signal.pair, rules: null, track: null, exitOrderId: null, exitReason: null, exitAttempts: 0 });
    registry.send(signal.id, { type: 'SUBMIT', clientOrderId: intent.clientOrderId });
    this.d.gateway.submit(intent);
  }

  /** Validated, then sized and put to the guard chain (the signal itself is not among the recent ones yet). */
  private decide(signal: Signal, meta: MarketMeta, now: number): { decision: Decision; price: Dec; proposal: ReturnType<typeof sizeOrder> } {
    this.d.registry.send(signal.id, { type: 'VALIDATE' });
    const price = new Dec(signal.price);
    const equity = this.equity();
    const proposal = sizeOrder(this.o.sizing, meta, price, equity);
    const snapshot: GuardSnapshot = {
      meta,
      intervalMs: this.o.intervalMs,
      proposal: { quantity: proposal.quantity, price, cost: proposal.cost },
      equity,
      dayStartEquity: this.dayStartEquity,
      startingBalance: this.d.portfolio.startingBalance,
      realizedPnl: this.d.portfolio.realizedPnl,
      openPositions: this.exposures(),
      closedTrades: this.d.portfolio.closedTrades,
      // the signals before this one (it is remembered after its verdict, before anyone hears of it)
      recentSignals: this.recent.all,
      recentIndex: this.recent,
      lastMarketDataTs: this.d.market.lastDataTs(signal.pair),
      volatility: this.d.market.volatility(signal.pair),
    };
    const decision = this.d.chain.evaluate(signal, snapshot, now, this.pause);
    return { decision, price, proposal };
  }

  /** The signals the duplicate and cooldown guards look back over (persisted by live runs). */
  recentSignals(): readonly RecentSignal[] {
    return this.recent.all;
  }

  /** A live restart: the look-back of the run before it. */
  restoreRecent(list: readonly RecentSignal[]): void {
    for (const r of list.slice(-RECENT_SIGNALS)) this.recent.push(r, false);
  }

  private remember(s: Signal): void {
    this.recent.push({ id: s.id, strategy: s.strategy, pair: s.pair, side: s.side, ts: s.tsEvent });
  }

  /** Open positions marked to market, plus entries still working (each holds a slot). */
  private exposures(): OpenExposure[] {
    const out = new Map<string, OpenExposure>();
    for (const p of this.d.portfolio.openPositions()) {
      if (this.holdings.get(p.signalId)?.dust) continue; // dust holds no slot: it is worth less than the venue's minimum order
      const m = this.mark(p.pair);
      out.set(p.signalId, { signalId: p.signalId, strategy: p.strategy, pair: p.pair, value: m === null ? heldCost(p) : p.quantity.mul(m), pending: false });
    }
    for (const w of this.d.gateway.workingEntries()) {
      const s = this.signalsById.get(w.intent.signalId);
      const m = this.mark(w.intent.pair) ?? 0;
      const reserved = w.remaining.mul(w.intent.limitPrice ?? m);
      const prev = out.get(w.intent.signalId);
      out.set(w.intent.signalId, {
        signalId: w.intent.signalId, strategy: s?.strategy ?? '', pair: w.intent.pair,
        value: prev ? prev.value.plus(reserved) : reserved, pending: true,
      });
    }
    return [...out.values()];
  }

  // ── venue reports ──────────────────────────────────────────────────────────

  private onFill(f: Fill): void {
    const h = this.holdings.get(f.signalId);
    const strategy = h?.strategy ?? this.signalsById.get(f.signalId)?.strategy ?? 'operator';
    const effect = this.d.portfolio.applyFill(f, strategy);
    const now = this.d.clock.now();
    if (f.purpose === 'entry') {
      if (this.d.gateway.remaining(f.orderId).gt(ZERO) && this.d.registry.state(f.signalId) !== undefined) {
        this.d.registry.send(f.signalId, { type: 'PARTIAL_FILL', quantity: effect.position.quantity.toFixed() });
      }
    } else if (effect.closed) {
      this.d.bus.publish('position', { kind: 'closed', position: effect.position, trade: effect.closed, ts: now });
    }
  }

  private onOrderEvent(e: OrderEvent): void {
    const id = e.order.signalId;
    const { registry } = this.d;
    if (e.kind === 'accepted') return;
    if (e.kind === 'unknown' || e.kind === 'resolved') {
      // the lifecycle shows an entry waiting on a lookup; an exit's lookup needs nothing of the kernel
      const state = registry.state(id);
      if (e.order.purpose === 'entry' && e.kind === 'unknown' && state === 'submitted') registry.send(id, { type: 'SUBMIT_UNKNOWN', reason: e.reason }, e.reason);
      if (e.order.purpose === 'entry' && e.kind === 'resolved' && state === 'submit_unknown') registry.send(id, { type: 'RESOLVED', how: e.how }, e.how);
      return;
    }
    if (e.order.purpose === 'entry') {
      const filled = e.kind === 'rejected' ? ZERO : e.filledQty;
      if (filled.gt(ZERO)) {
        registry.send(id, { type: 'FILL', quantity: filled.toFixed() }, e.kind === 'cancelled' ? e.reason : undefined);
        this.openPosition(id, e.ts);
      } else if (e.kind === 'rejected' || (e.kind === 'cancelled' && e.reason.startsWith('EOrder:'))) {
        this.holdings.delete(id);
        this.finish(id, registry.send(id, { type: 'REJECT', reason: e.reason }, e.reason));
      } else {
        this.holdings.delete(id);
        this.finish(id, registry.send(id, { type: 'EXPIRE', reason: e.kind === 'cancelled' ? e.reason : 'not filled' }, e.kind === 'cancelled' ? e.reason : undefined));
      }
      return;
    }
    // exit orders
    const h = this.holdings.get(id);
    if (e.kind === 'filled' && this.d.portfolio.position(id) === undefined) {
      this.holdings.delete(id);
      this.finish(id, registry.send(id, { type: 'CLOSE' }));
    } else if (h) {
      h.exitOrderId = null;
      if (e.kind === 'rejected' && /minimum not met/.test(e.reason)) {
        // dust: what is held is below the venue's minimum order, so no sell can ever be accepted. Kept
        // (the coins are there), reported once, and no longer retried every candle.
        h.dust = true;
        this.d.bus.publish('warning', { code: 'DUST_POSITION', message: `position ${id} (${e.order.quantity.toFixed()} ${e.order.pair}) is below the venue's minimum order (${e.reason}); it cannot be sold and is left open`, ts: e.ts, signalId: id });
        return;
      }
      // rejected or cancelled exit: try again on the next candle
      this.d.bus.publish('warning', { code: 'EXIT_NOT_DONE', message: `exit order ${e.order.clientOrderId} ${e.kind}${e.kind !== 'filled' ? ': ' + e.reason : ''}; retrying next candle`, ts: e.ts, signalId: id });
    }
  }

  private openPosition(signalId: string, ts: number): void {
    const p = this.d.portfolio.position(signalId);
    const h = this.holdings.get(signalId);
    if (!p || !h) throw new Error(`entry of ${signalId} filled but no position was recorded`);
    h.rules = this.d.exitRules(h.strategy);
    h.track = startExitTrack(h.rules, entryPriceOf(p), p.openedTs);
    this.d.registry.send(signalId, { type: 'OPEN' });
    this.d.bus.publish('position', { kind: 'opened', position: p, ts });
  }

  // ── exits ──────────────────────────────────────────────────────────────────

  private checkExits(c: Candle): void {
    for (const [signalId, h] of this.holdings) {
      if (h.pair !== c.pair || h.track === null || h.rules === null || h.dust) continue;
      if (h.exitOrderId !== null) continue;
      const r = evaluateExit(h.rules, h.track, c, this.adviceIn && this.exitAdvice.get(h.strategy)?.has(h.pair) === true);
      h.track = r.track;
      if (h.exitReason !== null) this.submitExit(signalId, h, h.exitReason, true); // an earlier exit order did not complete
      else if (r.exit) this.submitExit(signalId, h, r.exit, false);
    }
  }

  private submitExit(signalId: string, h: Holding, reason: ExitReason, retry: boolean): void {
    const p = this.d.portfolio.position(signalId);
    if (!p) return;
    const now = this.d.clock.now();
    const intent = exitIntent(p, h.exitAttempts, retry ? undefined : reason, now);
    h.exitAttempts++;
    h.exitOrderId = intent.clientOrderId;
    if (!retry) {
      h.exitReason = reason;
      this.d.portfolio.markExiting(signalId, reason);
      this.d.registry.send(signalId, { type: 'EXIT', reason, clientOrderId: intent.clientOrderId }, reason);
    }
    this.d.gateway.submit(intent);
  }

  private finish(signalId: string, _state: string): void {
    this.signalsById.delete(signalId);
  }

  /**
   * Expire a signal that is stuck before any order was sent (received … approved). Signals with an
   * order at the venue are never expired here: their entry deadline cancels the order first.
   * @returns true when the signal was expired
   */
  expireStuck(signalId: string, reason: string): boolean {
    const state = this.d.registry.state(signalId);
    if (state !== 'received' && state !== 'validated' && state !== 'guarded' && state !== 'approved') return false;
    this.holdings.delete(signalId);
    this.finish(signalId, this.d.registry.send(signalId, { type: 'EXPIRE', reason }, reason));
    return true;
  }

  /** A live position or working entry of this strategy and pair exists (shadow overlap rule). */
  hasHolding(strategy: string, pair: string): boolean {
    // dust (below the venue's minimum, unsellable) holds no slot and is no overlap
    for (const h of this.holdings.values()) if (h.strategy === strategy && h.pair === pair && !h.dust) return true;
    return false;
  }

  /** Signals still in flight at the end of data, with their state. */
  inFlight(): ReadonlyMap<string, string> {
    return this.d.registry.inFlight();
  }
}
