/**
 * The shadow engine on hand-made candles, with a real bus, a manual clock and the in-memory store.
 * Candles are fed as the kernel does: the clock moves to the candle's close, then `candleDone` is
 * published; a verdict published after that is decided at the close, so its entry fills at the next
 * candle's open. Expected amounts are worked out by hand (Dec, exact) in the comments.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { InMemoryStore } from '../adapters/memory/memory-store.ts';
import { SignalBus, type BusError } from '../bus/bus.ts';
import type { ExitRules } from '../domain/exits.ts';
import { quoteFill, type FillModelParams } from '../domain/fill-model.ts';
import { Dec } from '../domain/money.ts';
import type { EntryPlan } from '../domain/orders.ts';
import type { BlockCode, Candle, GuardOutcome, MarketMeta, OrderIntent, ShadowOutcome } from '../domain/types.ts';
import { reviveShadow, serializeShadow, ShadowEngine, type ShadowPosition } from './shadow-engine.ts';

const H = 3_600_000;
/** 2024-01-15T00:00:00Z; candle i opens at T(i) */
const T0 = Date.UTC(2024, 0, 15);
const T = (i: number) => T0 + i * H;
const BTC = 'BTC/USD';
const ETH = 'ETH/USD';

function metaOf(pair: string): MarketMeta {
  const [base, quote] = pair.split('/') as [string, string];
  return {
    pair, krakenPair: `X${base}Z${quote}`, altname: `${base}${quote}`, base, quote,
    priceDecimals: 1, lotDecimals: 8, costDecimals: 5,
    orderMin: new Dec('0.0001'), costMin: new Dec('0.5'),
    takerFee: new Dec('0.004'), makerFee: new Dec('0.0025'), status: 'online',
  };
}

const NO_EXITS: ExitRules = { takeProfitPct: null, stopLossPct: null, trailingStopPct: null, maxHoldCandles: null, useStrategyExit: false };

interface SetupOptions {
  plan?: Partial<EntryPlan>;
  fill?: Partial<FillModelParams>;
  rules?: Partial<ExitRules>;
  venueCheck?: (o: OrderIntent) => string | null;
  liveHolding?: (strategy: string, pair: string) => boolean;
  store?: InMemoryStore<ShadowPosition>;
  clock?: ManualClock;
}

function setup(o: SetupOptions = {}) {
  const clock = o.clock ?? new ManualClock(T(0));
  const bus = new SignalBus(() => clock.now());
  const outcomes: ShadowOutcome[] = [];
  const errors: BusError[] = [];
  bus.subscribe('shadow', 'test', (x) => outcomes.push(x));
  bus.subscribe('error', 'test', (e) => errors.push(e));
  const fillModel: FillModelParams = { slippageBps: 10, maxVolumeShare: 0.25, ...o.fill };
  const plan: EntryPlan = { orderType: 'market', limitOffsetBps: 0, entryTimeoutCandles: 3, intervalMs: H, ...o.plan };
  const rules: ExitRules = { ...NO_EXITS, ...o.rules };
  const store = o.store ?? new InMemoryStore<ShadowPosition>();
  const engine = new ShadowEngine({
    bus, clock, meta: (pair) => (pair === BTC || pair === ETH ? metaOf(pair) : undefined), fillModel, plan,
    exitRules: () => rules, venueCheck: o.venueCheck ?? (() => null), liveHolding: o.liveHolding ?? (() => false), store,
  });

  /** candle i of a pair, fed like the kernel does: clock to its close, then candleDone */
  function candle(i: number, p: { open: number; high: number; low: number; close: number; volume?: number }, pair = BTC): Candle {
    const c: Candle = { pair, intervalMs: H, ts: T(i), open: p.open, high: p.high, low: p.low, close: p.close, volume: p.volume ?? 10, trades: 1 };
    if (clock.now() < c.ts + H) clock.set(c.ts + H);
    bus.publish('candleDone', c);
    return c;
  }
  const flat = (i: number, price: number, pair = BTC) => candle(i, { open: price, high: price, low: price, close: price }, pair);

  /** a verdict on a signal decided now (the close of the last candle fed) */
  function verdict(id: string, v: { strategy?: string; pair?: string; price?: number; quantity?: string; approved?: boolean; guards?: GuardOutcome[] } = {}) {
    const guards: GuardOutcome[] = v.guards ?? [
      { code: 'COOLDOWN', mode: 'enforce', verdict: 'block', detail: 'cooling down' },
      { code: 'MIN_CONFIDENCE', mode: 'enforce', verdict: 'allow', detail: null },
      { code: 'VOLATILITY', mode: 'observe', verdict: 'block', detail: 'too volatile' },
    ];
    const blockedBy = v.approved ? [] : guards.filter((g) => g.mode === 'enforce' && g.verdict === 'block').map((g) => g.code);
    const observedBlocks = guards.filter((g) => g.mode === 'observe' && g.verdict === 'block').map((g) => g.code);
    const now = clock.now();
    const signal = {
      id, strategy: v.strategy ?? 'ema_cross', pair: v.pair ?? BTC, side: 'buy' as const, confidence: 0.8, price: v.price ?? 50_000,
      reason: 'test', source: 'strategy' as const, tsEvent: now, tsInit: now,
    };
    const quantity = v.quantity ?? '0.02';
    bus.publish('verdict', {
      decision: { signalId: id, decision: v.approved ? 'approved' : 'blocked', guards, blockedBy, observedBlocks, ts: now },
      signal,
      proposal: { quantity, price: String(signal.price), cost: new Dec(quantity).mul(signal.price).toFixed() },
    });
  }
  const advise = (strategy: string, pair = BTC) => bus.publish('exitAdvice', { strategy, pair, ts: clock.now() });
  const only = () => {
    expect(outcomes).toHaveLength(1);
    return outcomes[0]!;
  };
  return { clock, bus, engine, store, outcomes, errors, candle, flat, verdict, advise, only, fillModel };
}

// The common trade: a blocked signal at 50,000 for 0.02 BTC, decided at the close of candle 0.
// Candle 1 opens at 50,123.4: buy at 50,123.4 × 1.001 = 50,173.5234 → rounded up to 50,173.6.
// Entry cost 0.02 × 50,173.6 = 1,003.472; taker fee 1,003.472 × 0.004 = 4.013888 → 4.01389.
const ENTRY_PRICE = '50173.6';
const ENTRY_COST = new Dec('1003.472');
const ENTRY_FEE = new Dec('4.01389');
const C1 = { open: 50_123.4, high: 50_600, low: 49_800, close: 50_500 };

/** pnl of selling 0.02 BTC at `exitPrice` with the taker fee, after the common entry */
function pnlAt(exitPrice: string): { fees: Dec; pnl: Dec; exitFee: Dec } {
  const proceeds = new Dec(exitPrice).mul('0.02');
  const exitFee = proceeds.mul('0.004').toDecimalPlaces(5, Dec.ROUND_UP);
  const fees = ENTRY_FEE.plus(exitFee);
  return { fees, exitFee, pnl: proceeds.minus(ENTRY_COST).minus(fees) };
}

describe('shadow engine: entry', () => {
  it('when a verdict blocks a signal then a shadow opens and its entry fills at the next candle open with slippage and the taker fee, exactly as quoteFill prices it', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('sig-1');
    expect(s.engine.openCount).toBe(1);
    expect(s.outcomes).toHaveLength(0);
    const c1 = s.candle(1, C1);
    const sp = s.store.get('sig-1')!;
    expect(sp.phase).toBe('open');
    expect(sp.pos.openedTs).toBe(T(1));
    expect(sp.pos.entryQuantity.toFixed()).toBe('0.02');
    expect(sp.pos.entryCost.toFixed()).toBe(ENTRY_COST.toFixed());
    expect(sp.pos.entryFees.toFixed()).toBe(ENTRY_FEE.toFixed());
    // the same numbers the shared fill model gives for this order on this candle
    const q = quoteFill(s.fillModel, metaOf(BTC), { side: 'buy', type: 'market', remaining: new Dec('0.02') }, c1, new Dec(0))!;
    expect(q.price.toFixed()).toBe(ENTRY_PRICE);
    expect(q.fee.toFixed()).toBe(sp.pos.entryFees.toFixed());
    expect(q.quantity.mul(q.price).toFixed()).toBe(sp.pos.entryCost.toFixed());
    // the shadow's entry order is the one the live path would have sent
    expect(sp.entry).toMatchObject({ signalId: 'sig-1', pair: BTC, side: 'buy', type: 'market', purpose: 'entry', tsEvent: T(1), deadlineTs: T(4) });
    expect(sp.entry.quantity.toFixed()).toBe('0.02');
    expect(sp.blockedBy).toEqual(['COOLDOWN']);
    expect(sp.blockingGuards).toEqual(['COOLDOWN', 'VOLATILITY']);
  });

  it('when the entry candle has little volume then the entry fills in parts over several candles at their opens', () => {
    // 25 % of 0.04 BTC = 0.01 BTC per candle
    const s = setup({ fill: { slippageBps: 0 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, { open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 0.04 });
    expect(s.store.get('sig-1')!.phase).toBe('entering');
    expect(s.store.get('sig-1')!.pos.quantity.toFixed()).toBe('0.01');
    s.candle(2, { open: 51_000, high: 51_000, low: 51_000, close: 51_000, volume: 0.04 });
    const sp = s.store.get('sig-1')!;
    expect(sp.phase).toBe('open');
    expect(sp.pos.entryCost.toFixed()).toBe('1010'); // 0.01 × 50,000 + 0.01 × 51,000
    expect(sp.pos.entryFees.toFixed()).toBe('4.04'); // 2 + 2.04
    expect(sp.pos.openedTs).toBe(T(1)); // the first fill opens the position
    s.engine.finish(() => 51_000);
    // average entry 50,500; marked at 51,000: 1,020 − 1,010 − 4.04 − 4.08
    expect(s.only()).toMatchObject({ status: 'open_at_end', entryTs: T(1), exitReason: 'open_at_end' });
    expect(s.only().entryPrice!.toFixed()).toBe('50500');
    expect(s.only().pnl.toFixed()).toBe('1.88');
  });

  it('when the deadline passes with the entry partly filled then the shadow opens with what filled', () => {
    // 25 % of 0.04 BTC = 0.01 BTC on candle 1, nothing on candles 2 and 3 (no volume): deadline at the close of candle 3
    const s = setup({ fill: { slippageBps: 0 }, rules: { maxHoldCandles: 4 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, { open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 0.04 });
    s.candle(2, { open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 0 });
    expect(s.store.get('sig-1')!.phase).toBe('entering');
    s.candle(3, { open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 0 });
    expect(s.store.get('sig-1')!.phase).toBe('open');
    s.candle(4, { open: 50_000, high: 50_000, low: 50_000, close: 50_000 }); // held 4 candles from T(1) at this close
    s.candle(5, { open: 51_000, high: 51_000, low: 51_000, close: 51_000 });
    const o = s.only();
    expect(o).toMatchObject({ status: 'closed', exitReason: 'max_hold', entryTs: T(1), exitTs: T(5) });
    expect(o.quantity.toFixed()).toBe('0.01');
    // 0.01 × 51,000 − 0.01 × 50,000 − 2 − 2.04
    expect(o.pnl.toFixed()).toBe('5.96');
  });

  it('when the data has a gap past the entry deadline then the entry expires and is not filled after the gap', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(6, C1); // candles 1..5 are missing; the deadline was T(4)
    const o = s.only();
    expect(o).toMatchObject({ status: 'expired', entryTs: null });
    expect(o.quantity.toFixed()).toBe('0');
  });

  it('when a limit entry expires in a gap of the data and the candle after the gap does not touch it either then there is exactly one expired outcome', () => {
    const s = setup({ plan: { orderType: 'limit', limitOffsetBps: 100 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(6, { open: 50_000, high: 50_100, low: 49_900, close: 50_000 }); // candles 1..5 missing; deadline was T(4); 49,500 not touched
    expect(s.outcomes.map((o) => o.status)).toEqual(['expired']);
    expect(s.engine.settled).toBe(1);
    s.flat(7, 50_000);
    s.engine.finish(() => 50_000);
    expect(s.outcomes).toHaveLength(1);
  });

  it('when an entry expires in a gap of the data then the expired shadow is not filled on the candle after the gap', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(6, C1);
    expect(s.only().status).toBe('expired');
    expect(s.only().quantity.toFixed()).toBe('0');
  });

  it('when the venue would refuse the entry then the outcome is rejected with the venue reason and nothing is followed', () => {
    const seen: OrderIntent[] = [];
    const s = setup({ venueCheck: (o) => (seen.push(o), 'EOrder:Insufficient funds') });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signalId: 'sig-1', purpose: 'entry', side: 'buy' });
    const o = s.only();
    expect(o).toMatchObject({ signalId: 'sig-1', status: 'rejected', reason: 'EOrder:Insufficient funds', entryTs: null, entryPrice: null, exitTs: null, exitReason: null, ts: T(1), decidedTs: T(1), pnlRatio: null });
    expect(o.pnl.toFixed()).toBe('0');
    expect(o.quantity.toFixed()).toBe('0');
    expect(o.fees.toFixed()).toBe('0');
    expect(s.engine.openCount).toBe(0);
    s.candle(1, C1);
    expect(s.outcomes).toHaveLength(1);
  });

  it('when a limit entry is never touched then the shadow ends expired at its deadline, with nothing bought', () => {
    // limit = 50,000 × (1 − 1 %) = 49,500; lows stay at 49,600; deadline = decision + 3 candles = close of candle 3
    const s = setup({ plan: { orderType: 'limit', limitOffsetBps: 100, entryTimeoutCandles: 3 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    expect(s.store.get('sig-1')!.entry.limitPrice!.toFixed()).toBe('49500');
    s.candle(1, { open: 50_000, high: 50_100, low: 49_600, close: 50_000 });
    s.candle(2, { open: 50_000, high: 50_100, low: 49_600, close: 50_000 });
    expect(s.outcomes).toHaveLength(0);
    s.candle(3, { open: 50_000, high: 50_100, low: 49_600, close: 50_000 });
    const o = s.only();
    expect(o).toMatchObject({ status: 'expired', reason: 'entry timeout: nothing filled', ts: T(4), entryTs: null, entryPrice: null, exitReason: null });
    expect(o.pnl.toFixed()).toBe('0');
    expect(o.quantity.toFixed()).toBe('0');
    expect(s.engine.openCount).toBe(0);
  });

  it('when a limit entry is touched then it fills at the limit price with the maker fee', () => {
    const s = setup({ plan: { orderType: 'limit', limitOffsetBps: 100 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, { open: 50_000, high: 50_100, low: 49_400, close: 49_900 });
    const p = s.store.get('sig-1')!.pos;
    expect(p.entryCost.toFixed()).toBe('990'); // 0.02 × 49,500
    expect(p.entryFees.toFixed()).toBe('2.475'); // 990 × 0.0025
  });
});

describe('shadow engine: exits', () => {
  it('when the close reaches the take-profit then the shadow sells at the next open and closes with take_profit and the exact net pnl', () => {
    // TP = 50,173.6 × 1.05 = 52,682.28; candle 2 closes at 53,000
    const s = setup({ rules: { takeProfitPct: 0.05 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.candle(2, { open: 50_500, high: 53_100, low: 50_400, close: 53_000 });
    expect(s.outcomes).toHaveLength(0);
    expect(s.store.get('sig-1')!.phase).toBe('exiting');
    s.candle(3, { open: 53_200, high: 60_000, low: 40_000, close: 53_000 });
    // sell at 53,200 × 0.999 = 53,146.8 (rounded down); proceeds 1,062.936; exit fee 4.251744 → 4.25175
    const o = s.only();
    const { fees, pnl } = pnlAt('53146.8');
    expect(fees.toFixed()).toBe('8.26564');
    expect(pnl.toFixed()).toBe('51.19836');
    expect(o).toMatchObject({ signalId: 'sig-1', strategy: 'ema_cross', pair: BTC, side: 'buy', status: 'closed', reason: null, exitReason: 'take_profit', entryTs: T(1), exitTs: T(3), ts: T(3), decidedTs: T(1), overlaps: false });
    expect(o.blockedBy).toEqual(['COOLDOWN']);
    expect(o.blockingGuards).toEqual(['COOLDOWN', 'VOLATILITY']);
    expect(o.entryPrice!.toFixed()).toBe(ENTRY_PRICE);
    expect(o.exitPrice!.toFixed()).toBe('53146.8');
    expect(o.quantity.toFixed()).toBe('0.02');
    expect(o.fees.toFixed()).toBe(fees.toFixed());
    expect(o.pnl.toFixed()).toBe(pnl.toFixed());
    expect(o.pnlRatio).toBe(pnl.div(ENTRY_COST).toNumber());
    expect(s.engine.openCount).toBe(0);
    expect(s.engine.settled).toBe(1);
  });

  it('when a shadow is held then max adverse and favourable excursions come from the lowest low and highest high of the candles held, before the exit fill', () => {
    const s = setup({ rules: { takeProfitPct: 0.05 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.candle(2, { open: 50_500, high: 53_100, low: 50_400, close: 53_000 });
    s.candle(3, { open: 53_200, high: 60_000, low: 40_000, close: 53_000 }); // sold at its open: its range does not count
    const o = s.only();
    // lowest low 49,800 × 0.02 − 1,003.472 = −7.472; highest high 53,100 × 0.02 − 1,003.472 = 58.528
    expect(o.maxAdverse.toFixed()).toBe('-7.472');
    expect(o.maxFavourable.toFixed()).toBe('58.528');
  });

  it('when prices never go against the shadow then the max adverse excursion is 0, never positive', () => {
    const s = setup({ rules: { maxHoldCandles: 1 }, fill: { slippageBps: 0 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, { open: 50_000, high: 50_500, low: 50_000, close: 50_400 });
    s.flat(2, 50_400);
    const o = s.only();
    expect(o.maxAdverse.toFixed()).toBe('0');
    expect(o.maxFavourable.toFixed()).toBe('10'); // 50,500 × 0.02 − 1,000
  });

  it('when the close falls to the stop-loss then the shadow sells at the next open with stop_loss', () => {
    // SL = 50,173.6 × 0.97 = 48,668.392
    const s = setup({ rules: { stopLossPct: 0.03, takeProfitPct: 0.05 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.candle(2, { open: 50_500, high: 50_500, low: 48_600, close: 48_650 });
    s.candle(3, { open: 48_700, high: 48_700, low: 48_000, close: 48_100 });
    // sell at 48,700 × 0.999 = 48,651.3; proceeds 973.026; fee 3.892104 → 3.89211
    const { pnl, fees } = pnlAt('48651.3');
    expect(fees.toFixed()).toBe('7.906');
    expect(pnl.toFixed()).toBe('-38.352');
    const o = s.only();
    expect(o).toMatchObject({ status: 'closed', exitReason: 'stop_loss', exitTs: T(3) });
    expect(o.exitPrice!.toFixed()).toBe('48651.3');
    expect(o.pnl.toFixed()).toBe(pnl.toFixed());
    expect(o.fees.toFixed()).toBe(fees.toFixed());
  });

  it('when the maximum hold is reached then the shadow sells at the next open with max_hold', () => {
    // held from the open of candle 1: two candles held at the close of candle 2
    const s = setup({ rules: { maxHoldCandles: 2 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.candle(2, { open: 50_500, high: 50_600, low: 50_400, close: 50_500 });
    expect(s.store.get('sig-1')!.phase).toBe('exiting');
    s.candle(3, { open: 50_600, high: 50_700, low: 50_500, close: 50_600 });
    // 50,600 × 0.999 = 50,549.4; proceeds 1,010.988; fee 4.043952 → 4.04396; 1,010.988 − 1,003.472 − 8.05785
    const { pnl } = pnlAt('50549.4');
    expect(pnl.toFixed()).toBe('-0.54185');
    expect(s.only()).toMatchObject({ status: 'closed', exitReason: 'max_hold', exitTs: T(3) });
    expect(s.only().pnl.toFixed()).toBe(pnl.toFixed());
  });

  it('when the strategy advises an exit for its own pair then the shadow sells at the next open with strategy_exit; advice of another strategy or pair does nothing', () => {
    const s = setup({ rules: { useStrategyExit: true } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.advise('rsi_reversion');
    s.advise('ema_cross', ETH);
    s.candle(1, C1);
    expect(s.store.get('sig-1')!.phase).toBe('open');
    s.flat(2, 50_500); // advice does not carry over from the previous candle
    expect(s.store.get('sig-1')!.phase).toBe('open');
    s.advise('ema_cross');
    s.flat(3, 50_500);
    expect(s.store.get('sig-1')!.phase).toBe('exiting');
    s.flat(4, 51_000);
    // 51,000 × 0.999 = 50,949
    const { pnl } = pnlAt('50949');
    expect(s.only()).toMatchObject({ status: 'closed', exitReason: 'strategy_exit', exitTs: T(4) });
    expect(s.only().pnl.toFixed()).toBe(pnl.toFixed());
  });

  it('when the strategy exit is not used by the rules then its advice does not close the shadow', () => {
    const s = setup({ rules: { useStrategyExit: false } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.advise('ema_cross');
    s.flat(2, 50_500);
    s.flat(3, 50_500);
    expect(s.outcomes).toHaveLength(0);
    expect(s.store.get('sig-1')!.phase).toBe('open');
  });

  it('when a candle of another pair arrives then the shadow is not filled, not exited and its excursions are untouched', () => {
    const s = setup({ rules: { stopLossPct: 0.03 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, { open: 1, high: 1, low: 1, close: 1 }, ETH); // would fill far lower
    expect(s.store.get('sig-1')!.phase).toBe('entering');
    expect(s.store.get('sig-1')!.pos.quantity.toFixed()).toBe('0');
    s.candle(1, C1);
    s.candle(2, { open: 1, high: 100_000, low: 1, close: 1 }, ETH); // would hit the stop-loss
    expect(s.store.get('sig-1')!.phase).toBe('open');
    s.flat(2, 50_500);
    s.engine.finish((pair) => (pair === BTC ? 50_500 : 1));
    const o = s.only();
    expect(o.status).toBe('open_at_end');
    expect(o.entryPrice!.toFixed()).toBe(ENTRY_PRICE);
    expect(o.maxAdverse.toFixed()).toBe('-7.472'); // 49,800 from BTC candle 1, not ETH's 1
    expect(o.maxFavourable.toFixed()).toBe('8.528'); // 50,600 × 0.02 − 1,003.472, not ETH's 100,000
  });
});

describe('shadow engine: end of data', () => {
  it('when the data ends with a shadow open then finish reports it open_at_end, marked to market with the taker fee of selling there', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.candle(1, C1);
    s.flat(2, 51_000);
    s.engine.finish((pair) => (pair === BTC ? 51_000 : null));
    // value 0.02 × 51,000 = 1,020; exit fee 4.08; fees 8.09389; pnl 1,020 − 1,003.472 − 8.09389
    const o = s.only();
    expect(o).toMatchObject({ status: 'open_at_end', reason: null, exitReason: 'open_at_end', entryTs: T(1), exitTs: T(3), ts: T(3) });
    expect(o.exitPrice!.toFixed()).toBe('51000');
    expect(o.fees.toFixed()).toBe('8.09389');
    expect(o.pnl.toFixed()).toBe('8.43411');
    expect(o.pnl.toFixed()).toBe(pnlAt('51000').pnl.toFixed());
    expect(o.pnlRatio).toBe(new Dec('8.43411').div(ENTRY_COST).toNumber());
    expect(s.engine.openCount).toBe(0);
  });

  it('when the data ends with the entry still working then finish reports it open_at_end with quantity 0 and pnl 0', () => {
    const s = setup({ plan: { orderType: 'limit', limitOffsetBps: 100 } });
    s.flat(0, 50_000);
    s.verdict('sig-1');
    s.flat(1, 50_000);
    s.engine.finish(() => 50_000);
    const o = s.only();
    expect(o).toMatchObject({ status: 'open_at_end', reason: 'entry still working at end of data', entryTs: null, entryPrice: null, exitTs: null, exitPrice: null, exitReason: null, pnlRatio: null });
    expect(o.quantity.toFixed()).toBe('0');
    expect(o.pnl.toFixed()).toBe('0');
    expect(o.fees.toFixed()).toBe('0');
    expect(s.engine.openCount).toBe(0);
  });

  it('when finish is called then every followed shadow gets exactly one outcome and the store is empty', () => {
    const s = setup({ plan: { orderType: 'limit', limitOffsetBps: 100 } });
    s.flat(0, 50_000);
    s.verdict('a');
    s.verdict('b', { pair: ETH, price: 3_000 });
    s.verdict('c', { strategy: 'rsi_reversion' });
    s.candle(1, { open: 50_000, high: 50_000, low: 49_000, close: 49_500 }); // a and c fill at 49,500
    s.engine.finish((pair) => (pair === BTC ? 49_500 : 3_000));
    expect(s.outcomes.map((o) => o.signalId).sort()).toEqual(['a', 'b', 'c']);
    expect(s.outcomes.every((o) => o.status === 'open_at_end')).toBe(true);
    expect(s.store.size).toBe(0);
    s.engine.finish(() => 1);
    expect(s.outcomes).toHaveLength(3);
  });
});

describe('shadow engine: what it follows', () => {
  it('when a verdict approves a signal then no shadow is opened and no outcome is ever published', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('sig-1', { approved: true, guards: [{ code: 'COOLDOWN', mode: 'enforce', verdict: 'allow', detail: null }, { code: 'VOLATILITY', mode: 'observe', verdict: 'block', detail: 'x' }] });
    expect(s.engine.openCount).toBe(0);
    s.candle(1, C1);
    s.engine.finish(() => 50_000);
    expect(s.outcomes).toHaveLength(0);
    expect(s.errors).toHaveLength(0);
  });

  it('when a shadow of the same strategy and pair is already followed then the new one overlaps; another strategy or pair does not', () => {
    const s = setup();
    s.flat(0, 50_000);
    s.verdict('first');
    s.verdict('same', {});
    s.verdict('other-strategy', { strategy: 'rsi_reversion' });
    s.verdict('other-pair', { pair: ETH, price: 3_000 });
    const overlaps = (id: string) => s.store.get(id)!.overlaps;
    expect(overlaps('first')).toBe(false);
    expect(overlaps('same')).toBe(true);
    expect(overlaps('other-strategy')).toBe(false);
    expect(overlaps('other-pair')).toBe(false);
    s.engine.finish(() => 50_000);
    expect(Object.fromEntries(s.outcomes.map((o) => [o.signalId, o.overlaps]))).toEqual({ first: false, same: true, 'other-strategy': false, 'other-pair': false });
  });

  it('when the shadow of the same strategy and pair has ended then a new blocked signal does not overlap', () => {
    const s = setup({ rules: { maxHoldCandles: 1 } });
    s.flat(0, 50_000);
    s.verdict('first');
    s.candle(1, C1);
    s.flat(2, 50_500);
    expect(s.outcomes).toHaveLength(1);
    s.verdict('later');
    expect(s.store.get('later')!.overlaps).toBe(false);
  });

  it('when a live position of the same strategy and pair is held then the shadow overlaps; for another strategy or pair it does not', () => {
    const asked: string[] = [];
    const s = setup({ liveHolding: (strategy, pair) => (asked.push(`${strategy}|${pair}`), strategy === 'donchian_breakout' && pair === BTC) });
    s.flat(0, 50_000);
    s.verdict('live-same', { strategy: 'donchian_breakout' });
    s.verdict('live-other-strategy', { strategy: 'rsi_reversion' });
    s.verdict('live-other-pair', { strategy: 'donchian_breakout', pair: ETH, price: 3_000 });
    expect(s.store.get('live-same')!.overlaps).toBe(true);
    expect(s.store.get('live-other-strategy')!.overlaps).toBe(false);
    expect(s.store.get('live-other-pair')!.overlaps).toBe(false);
    expect(asked).toEqual(['donchian_breakout|BTC/USD', 'rsi_reversion|BTC/USD', 'donchian_breakout|ETH/USD']);
  });
});

describe('shadow engine: restart', () => {
  /** the take-profit trade of the exits suite, with an optional restart after `restartAfter` candles */
  function tpTrade(restartAfter: number | null, throughJson = false): { outcome: ShadowOutcome; resumed: number | null } {
    const clock = new ManualClock(T(0));
    let store = new InMemoryStore<ShadowPosition>();
    let s = setup({ rules: { takeProfitPct: 0.05 }, store, clock });
    const candles = [
      C1,
      { open: 50_500, high: 53_100, low: 50_400, close: 53_000 },
      { open: 53_200, high: 60_000, low: 40_000, close: 53_000 },
    ];
    s.flat(0, 50_000);
    s.verdict('sig-1');
    let resumed: number | null = null;
    candles.forEach((c, k) => {
      if (restartAfter === k) {
        if (throughJson) {
          // what the SQLite store keeps: plain JSON, revived in a new process
          const revived = new InMemoryStore<ShadowPosition>();
          for (const sp of store.values()) revived.set(sp.signalId, reviveShadow(JSON.parse(JSON.stringify(serializeShadow(sp)))));
          store = revived;
        }
        // the process stops: a new bus and engine on the same store and clock
        s = setup({ rules: { takeProfitPct: 0.05 }, store, clock });
        resumed = s.engine.openCount;
      }
      s.candle(k + 1, c);
    });
    return { outcome: s.only(), resumed };
  }

  it('when a new engine is built on the same store then it resumes the open shadows and settles them exactly as without the restart', () => {
    const straight = tpTrade(null).outcome;
    for (const at of [0, 1, 2]) {
      // 0: entry still working; 1: open; 2: exit accepted, not yet filled
      const { outcome, resumed } = tpTrade(at);
      expect(resumed, `restart after ${at} candles`).toBe(1);
      expect(outcome, `restart after ${at} candles`).toEqual(straight);
    }
    expect(straight.exitReason).toBe('take_profit');
    expect(straight.pnl.toFixed()).toBe('51.19836');
  });

  it('when the open shadows come back from their stored JSON form then they settle exactly as without the restart', () => {
    const straight = tpTrade(null).outcome;
    for (const at of [0, 1, 2]) {
      const { outcome, resumed } = tpTrade(at, true);
      expect(resumed).toBe(1);
      expect(outcome, `restart after ${at} candles`).toEqual(straight);
    }
  });

  it('when the engine restarts then an overlapping signal is still detected against the resumed shadow', () => {
    const store = new InMemoryStore<ShadowPosition>();
    const clock = new ManualClock(T(0));
    const s1 = setup({ store, clock });
    s1.flat(0, 50_000);
    s1.verdict('before');
    const s2 = setup({ store, clock });
    s2.verdict('after');
    expect(store.get('after')!.overlaps).toBe(true);
  });
});

describe('shadow engine: dust', () => {
  it('when a thin market leaves the shadow below Kraken’s minimum then its exit is refused like a live one: it stays open and is reported open at the end', () => {
    // 25 % of 0.0001 BTC per candle for 3 candles: 0.000075 BTC … then cost 0.000075 × 4,000 = $0.3 < costmin $0.5
    const s = setup({ rules: { takeProfitPct: 0.05 }, plan: { entryTimeoutCandles: 3 } });
    s.flat(0, 4_000);
    s.verdict('dusty', { price: 4_000 });
    for (let i = 1; i <= 3; i++) s.candle(i, { open: 4_000, high: 4_000, low: 4_000, close: 4_000, volume: 0.0001 });
    s.candle(4, { open: 4_300, high: 4_400, low: 4_300, close: 4_400, volume: 100 }); // take-profit would fire
    s.candle(5, { open: 4_400, high: 4_400, low: 4_400, close: 4_400, volume: 100 });
    expect(s.outcomes).toHaveLength(0); // not sold
    s.engine.finish(() => 4_400);
    expect(s.only()).toMatchObject({ status: 'open_at_end', exitReason: 'open_at_end' });
    expect(s.only().quantity.toFixed()).toBe('0.000075');
  });
});
