import { describe, expect, it } from 'vitest';
import { BLOCK_CODES, type BlockCode } from '../domain/types.ts';
import { GUARDS, GuardChain, type GuardSpec } from './chain.ts';
import type { GuardSnapshot } from './types.ts';
import { BTC, HOUR, at, open, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

/** A realistic spec for every guard, in the canonical order of BLOCK_CODES, all enforcing. */
const ALL: readonly GuardSpec[] = [
  { code: 'MAX_OPEN_POSITIONS', mode: 'enforce', params: { maxGlobal: 3, maxPerPair: 2 } },
  { code: 'COOLDOWN', mode: 'enforce', params: { stopDuration: { candles: 4 }, scope: 'pair' } },
  { code: 'DUPLICATE_SIGNAL', mode: 'enforce', params: { window: { candles: 6 } } },
  { code: 'STOPLOSS_GUARD', mode: 'enforce', params: { lookback: { candles: 24 }, tradeLimit: 4, stopDuration: { candles: 4 }, onlyPerPair: false, requiredProfit: 0 } },
  { code: 'MAX_DRAWDOWN', mode: 'enforce', params: { lookback: { candles: 48 }, tradeLimit: 20, stopDuration: { candles: 12 }, maxAllowedDrawdown: 0.2 } },
  { code: 'LOW_PROFIT_PAIR', mode: 'enforce', params: { lookback: { candles: 6 }, tradeLimit: 2, stopDuration: { minutes: 60 }, requiredProfit: 0.02 } },
  { code: 'DAILY_LOSS_LIMIT', mode: 'enforce', params: { maxLossPct: 0.03, maxLoss: null } },
  { code: 'MIN_CONFIDENCE', mode: 'enforce', params: { min: 0.5 } },
  { code: 'EXPOSURE_LIMIT', mode: 'enforce', params: { maxTotalPct: 0.6, maxPairPct: null } },
  { code: 'MIN_ORDER_SIZE', mode: 'enforce', params: {} },
  { code: 'STALE_MARKET_DATA', mode: 'enforce', params: { maxAge: { candles: 2 } } },
  { code: 'VOLATILITY', mode: 'enforce', params: { maxAtrPct: 0.03, minAtrPct: null } },
];

function spec(code: BlockCode, mode: GuardSpec['mode']): GuardSpec {
  const s = ALL.find((g) => g.code === code)!;
  return { ...s, mode } as GuardSpec;
}

const NOW = at(10);
const okSignal = signal({ id: 'sig-1', tsEvent: NOW, tsInit: NOW, confidence: 0.8 });
const okSnapshot = snapshot({ lastMarketDataTs: NOW, volatility: 0.01 });

/** Breaks three guards at once: confidence too low, data stale, too volatile. */
const badSignal = signal({ id: 'sig-bad', tsEvent: NOW, tsInit: NOW, confidence: 0.2 });
const badSnapshot = snapshot({ lastMarketDataTs: NOW - 5 * HOUR, volatility: 0.08 });

describe('GuardChain', () => {
  describe('registry', () => {
    it('when a block code is looked up then GUARDS has a guard for it that reports that same code', () => {
      for (const code of BLOCK_CODES) expect(GUARDS[code].code, code).toBe(code);
    });
  });

  describe('all guards allow', () => {
    const chain = new GuardChain(ALL);
    const d = chain.evaluate(okSignal, okSnapshot, NOW);

    it('when no guard objects then the signal is approved with nothing blocking or observed', () => {
      expect(d).toMatchObject({ signalId: 'sig-1', decision: 'approved', blockedBy: [], observedBlocks: [], ts: NOW });
    });

    it('when the chain runs then every guard’s allow is recorded, with a null detail, in spec order', () => {
      expect(d.guards).toEqual(BLOCK_CODES.map((code) => ({ code, mode: 'enforce', verdict: 'allow', detail: null })));
    });
  });

  describe('several guards block', () => {
    const chain = new GuardChain(ALL);
    const d = chain.evaluate(badSignal, badSnapshot, NOW);

    it('when three enforcing guards block then the decision is blocked and all three are listed, in spec order', () => {
      expect(d.decision).toBe('blocked');
      expect(d.blockedBy).toEqual(['MIN_CONFIDENCE', 'STALE_MARKET_DATA', 'VOLATILITY']);
      expect(d.observedBlocks).toEqual([]);
    });

    it('when the first guard blocks then the later guards are still evaluated and recorded (no short-circuit)', () => {
      expect(d.guards).toHaveLength(12);
      const byCode = Object.fromEntries(d.guards.map((g) => [g.code, g]));
      expect(byCode.MIN_CONFIDENCE).toEqual({ code: 'MIN_CONFIDENCE', mode: 'enforce', verdict: 'block', detail: 'confidence 0.200 < 0.5' });
      expect(byCode.STALE_MARKET_DATA).toMatchObject({ verdict: 'block', detail: expect.stringContaining('18000 s old > 7200 s') });
      expect(byCode.VOLATILITY).toMatchObject({ verdict: 'block', detail: 'BTC/USD ATR 8.00% of price > max 3.00%' });
      expect(byCode.EXPOSURE_LIMIT).toEqual({ code: 'EXPOSURE_LIMIT', mode: 'enforce', verdict: 'allow', detail: null });
    });

    it('when the decision is made then it carries the signal id and the evaluation time', () => {
      expect(d.signalId).toBe('sig-bad');
      expect(d.ts).toBe(NOW);
    });
  });

  describe('observe mode', () => {
    it('when only an observing guard would block then the signal is approved and the would-block is recorded', () => {
      const chain = new GuardChain([spec('MIN_CONFIDENCE', 'enforce'), spec('VOLATILITY', 'observe')]);
      const d = chain.evaluate(okSignal, snapshot({ lastMarketDataTs: NOW, volatility: 0.08 }), NOW);
      expect(d.decision).toBe('approved');
      expect(d.blockedBy).toEqual([]);
      expect(d.observedBlocks).toEqual(['VOLATILITY']);
      expect(d.guards).toEqual([
        { code: 'MIN_CONFIDENCE', mode: 'enforce', verdict: 'allow', detail: null },
        { code: 'VOLATILITY', mode: 'observe', verdict: 'block', detail: 'BTC/USD ATR 8.00% of price > max 3.00%' },
      ]);
    });

    it('when an observing guard allows then it is recorded as an allow and not listed as observed', () => {
      const chain = new GuardChain([spec('VOLATILITY', 'observe')]);
      const d = chain.evaluate(okSignal, okSnapshot, NOW);
      expect(d.guards).toEqual([{ code: 'VOLATILITY', mode: 'observe', verdict: 'allow', detail: null }]);
      expect(d.observedBlocks).toEqual([]);
    });

    it('when enforcing and observing guards both block then blockedBy lists only the enforcing ones and observedBlocks the others', () => {
      const chain = new GuardChain([spec('MIN_CONFIDENCE', 'observe'), spec('STALE_MARKET_DATA', 'enforce'), spec('VOLATILITY', 'observe')]);
      const d = chain.evaluate(badSignal, badSnapshot, NOW);
      expect(d.decision).toBe('blocked');
      expect(d.blockedBy).toEqual(['STALE_MARKET_DATA']);
      expect(d.observedBlocks).toEqual(['MIN_CONFIDENCE', 'VOLATILITY']);
      expect(d.guards.map((g) => [g.code, g.mode, g.verdict])).toEqual([
        ['MIN_CONFIDENCE', 'observe', 'block'],
        ['STALE_MARKET_DATA', 'enforce', 'block'],
        ['VOLATILITY', 'observe', 'block'],
      ]);
    });
  });

  describe('off mode', () => {
    it('when a guard is off then it is listed as an allow with "off: not evaluated", even if it would block', () => {
      const chain = new GuardChain([spec('MIN_CONFIDENCE', 'off'), spec('STALE_MARKET_DATA', 'enforce')]);
      const d = chain.evaluate(badSignal, snapshot({ lastMarketDataTs: NOW }), NOW);
      expect(d.guards).toEqual([
        { code: 'MIN_CONFIDENCE', mode: 'off', verdict: 'allow', detail: 'off: not evaluated' },
        { code: 'STALE_MARKET_DATA', mode: 'enforce', verdict: 'allow', detail: null },
      ]);
      expect(d).toMatchObject({ decision: 'approved', blockedBy: [], observedBlocks: [] });
    });

    it('when a guard is off then its function never runs (it does not even read the snapshot)', () => {
      let reads = 0;
      const watched: GuardSnapshot = {
        ...snapshot(),
        get volatility() {
          reads++;
          return 0.5;
        },
      };
      new GuardChain([spec('VOLATILITY', 'off')]).evaluate(okSignal, watched, NOW);
      expect(reads).toBe(0);
      new GuardChain([spec('VOLATILITY', 'enforce')]).evaluate(okSignal, watched, NOW);
      expect(reads).toBeGreaterThan(0);
    });

    it('when every guard is off then the signal is approved and all twelve are listed', () => {
      const chain = new GuardChain(ALL.map((s) => ({ ...s, mode: 'off' }) as GuardSpec));
      const d = chain.evaluate(badSignal, badSnapshot, NOW);
      expect(d.decision).toBe('approved');
      expect(d.guards.map((g) => g.code)).toEqual([...BLOCK_CODES]);
      expect(d.guards.every((g) => g.mode === 'off' && g.verdict === 'allow' && g.detail === 'off: not evaluated')).toBe(true);
    });
  });

  describe('order and shape', () => {
    it('when the specs are in a custom order then outcomes and blockedBy follow the specs, not BLOCK_CODES', () => {
      const order: BlockCode[] = ['VOLATILITY', 'MIN_ORDER_SIZE', 'MIN_CONFIDENCE', 'STALE_MARKET_DATA', 'COOLDOWN'];
      const chain = new GuardChain(order.map((c) => spec(c, 'enforce')));
      const d = chain.evaluate(badSignal, badSnapshot, NOW);
      expect(d.guards.map((g) => g.code)).toEqual(order);
      expect(d.blockedBy).toEqual(['VOLATILITY', 'MIN_CONFIDENCE', 'STALE_MARKET_DATA']);
    });

    it('when asked for its codes and modes then the chain reports them as configured', () => {
      const chain = new GuardChain([spec('COOLDOWN', 'observe'), spec('MIN_CONFIDENCE', 'off'), spec('VOLATILITY', 'enforce')]);
      expect(chain.codes).toEqual(['COOLDOWN', 'MIN_CONFIDENCE', 'VOLATILITY']);
      expect(chain.modeOf('COOLDOWN')).toBe('observe');
      expect(chain.modeOf('MIN_CONFIDENCE')).toBe('off');
      expect(chain.modeOf('VOLATILITY')).toBe('enforce');
      expect(chain.modeOf('MAX_DRAWDOWN')).toBeUndefined();
    });

    it('when the chain is empty then every signal is approved with no outcomes', () => {
      const d = new GuardChain([]).evaluate(badSignal, badSnapshot, NOW);
      expect(d).toEqual({ signalId: 'sig-bad', decision: 'approved', guards: [], blockedBy: [], observedBlocks: [], ts: NOW });
    });

    it('when guards need history and time then the chain passes them the snapshot and `now` unchanged', () => {
      // a trade closed on BTC 1 candle ago and a position is open: COOLDOWN (4 candles) and MAX_OPEN_POSITIONS (per pair 1) both see it
      const chain = new GuardChain([
        spec('COOLDOWN', 'enforce'),
        { code: 'MAX_OPEN_POSITIONS', mode: 'observe', params: { maxGlobal: 3, maxPerPair: 1 } },
      ]);
      const s = snapshot({ closedTrades: [trade({ exitTs: NOW - HOUR, pair: BTC })], openPositions: [open(BTC, '500')] });
      const d = chain.evaluate(okSignal, s, NOW);
      expect(d.blockedBy).toEqual(['COOLDOWN']);
      expect(d.observedBlocks).toEqual(['MAX_OPEN_POSITIONS']);
      // four candles after the close the cooldown is over
      expect(chain.evaluate(okSignal, s, NOW + 3 * HOUR).blockedBy).toEqual([]);
    });

    it('when the same chain evaluates twice then it keeps no state between calls', () => {
      const chain = new GuardChain(ALL);
      const first = chain.evaluate(badSignal, badSnapshot, NOW);
      chain.evaluate(okSignal, okSnapshot, NOW);
      expect(chain.evaluate(badSignal, badSnapshot, NOW)).toEqual(first);
    });
  });
});
