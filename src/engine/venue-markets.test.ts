import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.ts';
import { assetsAnswer } from '../kraken/assets.ts';
import { krakenMarkets, rawAssetPairs } from '../kraken/pairs.ts';
import type { RawAssetPair } from '../kraken/snapshot.ts';
import type { Logger } from '../ports/logger.ts';
import { loadVenueMarkets, type MarketAnswers } from './venue-markets.ts';

function recorder(): { logger: Logger; lines: Array<{ level: string; event: string; fields: Record<string, unknown>; message?: string }> } {
  const lines: Array<{ level: string; event: string; fields: Record<string, unknown>; message?: string }> = [];
  const at = (level: string) => (event: string, fields: Record<string, unknown> = {}, message?: string) => void lines.push({ level, event, fields, ...(message ? { message } : {}) });
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger, flush: async () => {} } as unknown as Logger;
  return { logger, lines };
}

const config = parseConfig({ markets: { 'BTC/USD': { takerFee: 0.0026 } } });

describe('markets at start', () => {
  it("when the venue answers then its AssetPairs and Assets are the markets, a changed minimum and a new pair included, with the config's overrides on top", async () => {
    const pairs: Record<string, RawAssetPair> = { ...rawAssetPairs() };
    pairs.XLTCZUSD = { ...pairs.XLTCZUSD!, ordermin: '0.5' };
    pairs.NEWCOINUSD = { ...pairs.STORJUSD!, altname: 'NEWCOINUSD', wsname: 'NEWCOIN/USD', base: 'NEWCOIN', ordermin: '12' };
    const assets = { ...assetsAnswer(), NEWCOIN: { aclass: 'currency', altname: 'NEWCOIN', decimals: 6, display_decimals: 4 } };
    const api: MarketAnswers = { publicGetAssetPairs: async () => ({ result: pairs }), publicGetAssets: async () => ({ result: assets }) };
    const { logger, lines } = recorder();
    const r = await loadVenueMarkets(api, config, krakenMarkets(), logger);
    expect(r.source).toBe('venue');
    expect(r.markets.get('LTC/USD')!.orderMin.toFixed()).toBe('0.5');
    expect(r.markets.get('NEWCOIN/USD')).toMatchObject({ krakenPair: 'NEWCOINUSD', base: 'NEWCOIN', quote: 'USD', lotDecimals: 6 });
    expect(r.markets.get('BTC/USD')!.takerFee.toFixed()).toBe('0.0026');
    expect(r.markets.get('XRP/USD')!.krakenPair).toBe('XXRPZUSD');
    expect(lines).toEqual([{ level: 'info', event: 'markets.loaded', fields: { source: 'venue', pairs: r.markets.size }, message: `markets: ${r.markets.size} pairs from the venue's AssetPairs` }]);
  });

  it('when the venue cannot be asked or answers nothing then the bundled snapshot is used and the bot says so with its capture date', async () => {
    for (const api of [
      { publicGetAssetPairs: async () => Promise.reject(new Error('getaddrinfo ENOTFOUND api.kraken.com')), publicGetAssets: async () => ({ result: {} }) },
      { publicGetAssetPairs: async () => ({ result: {} }), publicGetAssets: async () => ({ result: assetsAnswer() }) },
    ] as MarketAnswers[]) {
      const { logger, lines } = recorder();
      const snapshot = krakenMarkets();
      const r = await loadVenueMarkets(api, config, snapshot, logger);
      expect(r.source).toBe('snapshot');
      expect(r.markets).toBe(snapshot);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'warn', event: 'markets.snapshot' });
      expect(lines[0]!.message).toMatch(/^markets: the venue's AssetPairs could not be read \((getaddrinfo ENOTFOUND api\.kraken\.com|AssetPairs answer has no pairs)\); using the bundled snapshot captured \d{4}-\d\d-\d\d \(1434 pairs\)$/);
    }
  });
});
