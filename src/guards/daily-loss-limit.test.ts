import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { dailyLossLimit } from './daily-loss-limit.ts';
import { ETH, T0, at, signal, snapshot, trade } from '../../test/fixtures/guards.ts';

// T0 is a UTC midnight; "today" is [T0, T0 + 24h)
const pct = dailyLossLimit.create({ maxLossPct: 0.03, maxLoss: null }); // 3 % of 10 000 = 300 USD
const sig = signal();
const NOON = at(12);

const loss = (exitTs: number, pnl: string, pair?: string) => trade({ exitTs, pnl, ...(pair ? { pair } : {}) });

describe('DAILY_LOSS_LIMIT', () => {
  it('has the DAILY_LOSS_LIMIT code', () => {
    expect(dailyLossLimit.code).toBe('DAILY_LOSS_LIMIT');
  });

  it('when no trade closed today then it allows', () => {
    expect(pct(sig, snapshot({ closedTrades: [] }), NOON)).toEqual({ verdict: 'allow' });
  });

  describe('percentage of the day-start equity', () => {
    it('when today’s realized loss is 1 cent below the limit then it allows', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-200'), loss(at(2), '-99.99')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' });
    });

    it('when today’s realized loss reaches the limit exactly then it blocks', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-200'), loss(at(2), '-100')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'block', code: 'DAILY_LOSS_LIMIT', detail: 'realized loss today 300.00 ≥ limit 300.00 USD' });
    });

    it('when losses on several pairs add up past the limit then it blocks every pair', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-200', ETH), loss(at(2), '-150')] });
      expect(pct(sig, s, NOON)).toMatchObject({ verdict: 'block', detail: 'realized loss today 350.00 ≥ limit 300.00 USD' });
      expect(pct(signal({ pair: ETH }), s, NOON)).toMatchObject({ verdict: 'block' });
    });

    it('when wins today offset the losses then the net loss is what counts', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-400'), loss(at(2), '150')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' });
    });

    it('when the day is in profit then it allows', () => {
      expect(pct(sig, snapshot({ closedTrades: [loss(at(1), '500')] }), NOON)).toEqual({ verdict: 'allow' });
    });

    it('when the limit is computed then it uses the equity at the start of the day, not the current equity', () => {
      const s = snapshot({ equity: new Dec('5000'), dayStartEquity: new Dec('10000'), closedTrades: [loss(at(1), '-200')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' }); // 200 < 3 % of 10 000, though ≥ 3 % of 5 000
    });
  });

  describe('the UTC day', () => {
    it('when the losses closed yesterday then they do not count today', () => {
      const s = snapshot({ closedTrades: [loss(T0 - 1, '-1000')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' });
    });

    it('when a loss closed exactly at midnight then it counts for the new day', () => {
      const s = snapshot({ closedTrades: [loss(T0, '-300')] });
      expect(pct(sig, s, NOON)).toMatchObject({ verdict: 'block', code: 'DAILY_LOSS_LIMIT' });
    });

    it('when yesterday’s and today’s losses are mixed then only today’s are summed', () => {
      const s = snapshot({ closedTrades: [loss(at(-2), '-250'), loss(at(-1), '-250'), loss(at(1), '-250')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' });
    });

    it('when the next UTC day begins then the limit resets', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-500')] });
      expect(pct(sig, s, at(24) - 1)).toMatchObject({ verdict: 'block' });
      expect(pct(sig, s, at(24))).toEqual({ verdict: 'allow' });
    });

    it('when a trade closes after `now` then it is not counted yet', () => {
      const s = snapshot({ closedTrades: [loss(at(1), '-100'), loss(at(13), '-500')] });
      expect(pct(sig, s, NOON)).toEqual({ verdict: 'allow' });
      expect(pct(sig, s, at(13))).toMatchObject({ verdict: 'block' });
    });
  });

  describe('absolute limit', () => {
    const abs = dailyLossLimit.create({ maxLossPct: null, maxLoss: '250' });

    it('when the loss is just below the absolute limit then it allows', () => {
      expect(abs(sig, snapshot({ closedTrades: [loss(at(1), '-249.99')] }), NOON)).toEqual({ verdict: 'allow' });
    });

    it('when the loss equals the absolute limit then it blocks', () => {
      expect(abs(sig, snapshot({ closedTrades: [loss(at(1), '-250')] }), NOON)).toEqual({
        verdict: 'block',
        code: 'DAILY_LOSS_LIMIT',
        detail: 'realized loss today 250.00 ≥ limit 250.00 USD',
      });
    });

    it('when both limits are set then the tighter one blocks first', () => {
      const both = dailyLossLimit.create({ maxLossPct: 0.03, maxLoss: '200' });
      expect(both(sig, snapshot({ closedTrades: [loss(at(1), '-220')] }), NOON)).toMatchObject({ verdict: 'block', detail: 'realized loss today 220.00 ≥ limit 200.00 USD' });
      const bothPctTighter = dailyLossLimit.create({ maxLossPct: 0.01, maxLoss: '1000' });
      expect(bothPctTighter(sig, snapshot({ closedTrades: [loss(at(1), '-120')] }), NOON)).toMatchObject({ verdict: 'block', detail: 'realized loss today 120.00 ≥ limit 100.00 USD' });
    });

    it('when neither limit is set then it never blocks', () => {
      const none = dailyLossLimit.create({ maxLossPct: null, maxLoss: null });
      expect(none(sig, snapshot({ closedTrades: [loss(at(1), '-9999')] }), NOON)).toEqual({ verdict: 'allow' });
    });
  });
});
