import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../domain/types.ts';
import { activeLock, type LockQuery } from './protections.ts';
import { BTC, ETH, HOUR, at, trade } from '../../test/fixtures/guards.ts';

/** A StoplossGuard-like query: ≥ `limit` stop-loss exits in a 24-candle lookback lock for 4 candles. */
function query(trades: readonly ClosedTrade[], now: number, over: Partial<LockQuery> = {}, limit = 2): LockQuery {
  return {
    trades,
    now,
    lookbackMs: 24 * HOUR,
    stopDurationMs: 4 * HOUR,
    inScope: () => true,
    qualifies: (t) => t.exitReason === 'stop_loss',
    triggers: (w) => w.length >= limit,
    ...over,
  };
}

describe('activeLock (Freqtrade lock semantics without stored state)', () => {
  it('when there are no trades then there is no lock', () => {
    expect(activeLock(query([], at(0)))).toBeNull();
  });

  it('when the protection triggers then the lock ends at the last qualifying close + stop duration and keeps its window', () => {
    const trades = [trade({ exitTs: at(1) }), trade({ exitTs: at(3) })];
    const lock = activeLock(query(trades, at(4)));
    expect(lock).toEqual({ until: at(3) + 4 * HOUR, evaluatedAt: at(3), window: trades });
  });

  it('when a non-qualifying trade closed last then it is an evaluation point but the lock still ends from the last qualifying close', () => {
    const trades = [trade({ exitTs: at(1) }), trade({ exitTs: at(3) }), trade({ exitTs: at(5), exitReason: 'take_profit' })];
    const lock = activeLock(query(trades, at(6)));
    expect(lock?.until).toBe(at(7));
    expect(lock?.window.map((t) => t.exitTs)).toEqual([at(1), at(3)]);
  });

  it('when `now` equals the lock end then there is no lock any more', () => {
    const trades = [trade({ exitTs: at(1) }), trade({ exitTs: at(3) })];
    expect(activeLock(query(trades, at(7) - 1))).not.toBeNull();
    expect(activeLock(query(trades, at(7)))).toBeNull();
  });

  it('when several evaluations trigger then the lock that ends last wins', () => {
    const trades = [trade({ exitTs: at(1) }), trade({ exitTs: at(2) }), trade({ exitTs: at(4) })];
    expect(activeLock(query(trades, at(5)))?.until).toBe(at(8));
  });

  it('when two trades close at the same instant then both are in the window of that close', () => {
    const trades = [trade({ exitTs: at(2), pair: BTC }), trade({ exitTs: at(2), pair: ETH })];
    expect(activeLock(query(trades, at(2)))?.window).toHaveLength(2);
  });

  it('when the only closes in scope are of another pair then no evaluation happens for this pair', () => {
    const trades = [trade({ exitTs: at(1), pair: ETH }), trade({ exitTs: at(2), pair: ETH })];
    expect(activeLock(query(trades, at(3), { inScope: (t) => t.pair === BTC }))).toBeNull();
    expect(activeLock(query(trades, at(3), { inScope: (t) => t.pair === ETH }))?.until).toBe(at(6));
  });

  it('when the window is cut then it starts exactly lookback before the evaluated close (inclusive)', () => {
    const starts: number[] = [];
    const trades = [trade({ exitTs: at(0) }), trade({ exitTs: at(24) })];
    const lock = activeLock(
      query(trades, at(25), {
        triggers: (w, start) => {
          starts.push(start);
          return w.length >= 2;
        },
      }),
    );
    expect(starts).toContain(at(24) - 24 * HOUR);
    expect(lock?.window.map((t) => t.exitTs)).toEqual([at(0), at(24)]);
  });

  it('when a trade closes after `now` then it is neither an evaluation point nor part of a window', () => {
    const trades = [trade({ exitTs: at(1) }), trade({ exitTs: at(10) })];
    expect(activeLock(query(trades, at(9)))).toBeNull();
  });
});
