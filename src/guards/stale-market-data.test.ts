import { describe, expect, it } from 'vitest';
import { isoTime } from '../domain/time.ts';
import { staleMarketData } from './stale-market-data.ts';
import { ETH, HOUR, MINUTE, at, signal, snapshot } from '../../test/fixtures/guards.ts';

// maxAge of 2 hourly candles
const guard = staleMarketData.create({ maxAge: { candles: 2 } });
const sig = signal();
const NOW = at(10);
const lastAt = (ts: number | null) => snapshot({ lastMarketDataTs: ts });

describe('STALE_MARKET_DATA', () => {
  it('has the STALE_MARKET_DATA code', () => {
    expect(staleMarketData.code).toBe('STALE_MARKET_DATA');
  });

  it('when the newest candle closed just now then it allows', () => {
    expect(guard(sig, lastAt(NOW), NOW)).toEqual({ verdict: 'allow' });
  });

  it('when the data is exactly the maximum age (2 candles) then it is still fresh enough and allows', () => {
    expect(guard(sig, lastAt(NOW - 2 * HOUR), NOW)).toEqual({ verdict: 'allow' });
  });

  it('when the data is 1 ms older than the maximum age then it blocks', () => {
    expect(guard(sig, lastAt(NOW - 2 * HOUR - 1), NOW)).toMatchObject({ verdict: 'block', code: 'STALE_MARKET_DATA' });
  });

  it('when the data is 3 candles old then it blocks and reports its time and age', () => {
    expect(guard(signal({ pair: ETH }), lastAt(at(7)), NOW)).toEqual({
      verdict: 'block',
      code: 'STALE_MARKET_DATA',
      detail: `last ETH/USD data at ${isoTime(at(7))} is 10800 s old > 7200 s`,
    });
  });

  it('when there is no market data at all for the pair then it blocks', () => {
    expect(guard(sig, lastAt(null), NOW)).toEqual({ verdict: 'block', code: 'STALE_MARKET_DATA', detail: 'no market data for BTC/USD' });
  });

  it('when the data is stamped after `now` then its age is negative and it allows', () => {
    expect(guard(sig, lastAt(NOW + HOUR), NOW)).toEqual({ verdict: 'allow' });
  });

  it('when the maximum age is given in minutes then 90 minutes is allowed and 90 minutes + 1 ms is not', () => {
    const g = staleMarketData.create({ maxAge: { minutes: 90 } });
    expect(g(sig, lastAt(NOW - 90 * MINUTE), NOW)).toEqual({ verdict: 'allow' });
    expect(g(sig, lastAt(NOW - 90 * MINUTE - 1), NOW)).toMatchObject({ verdict: 'block' });
  });
});
