/** STALE_MARKET_DATA — no decision on market data older than the allowed age. */
import { isoTime } from '../domain/time.ts';
import { allow, block, durationMs, type Duration, type GuardDefinition } from './types.ts';

export interface StaleMarketDataParams {
  readonly maxAge: Duration;
}

export const staleMarketData: GuardDefinition<StaleMarketDataParams> = {
  code: 'STALE_MARKET_DATA',
  describe: 'refuse to act on stale market data',
  create: (p) => (signal, s, now) => {
    if (s.lastMarketDataTs === null) return block('STALE_MARKET_DATA', `no market data for ${signal.pair}`);
    const age = now - s.lastMarketDataTs;
    const max = durationMs(p.maxAge, s.intervalMs);
    return age > max ? block('STALE_MARKET_DATA', `last ${signal.pair} data at ${isoTime(s.lastMarketDataTs)} is ${Math.round(age / 1000)} s old > ${Math.round(max / 1000)} s`) : allow;
  },
};
