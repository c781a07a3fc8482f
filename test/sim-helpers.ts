/** A Kraken simulator for a test, with fresh random credentials, stopped after each test. */
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { startKrakenSim, type KrakenSim } from '../src/adapters/kraken-sim/index.ts';
import { bundledSlice } from './helpers.ts';

const running: KrakenSim[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

export async function testSim(o: { from?: string; to?: string; pace?: number; startIndex?: number } = {}): Promise<{ sim: KrakenSim; apiKey: string; secret: string }> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const sim = await startKrakenSim({
    apiKey, apiSecret: secret, series: [bundledSlice(o.from ?? '2019-01-01', o.to ?? '2019-02-01')], balances: { USD: '10000', XBT: '0' },
    ...(o.pace ? { pace: o.pace } : {}), ...(o.startIndex ? { startIndex: o.startIndex } : {}),
  });
  running.push(sim);
  return { sim, apiKey, secret };
}
