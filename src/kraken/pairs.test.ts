import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { assetsAnswer } from './assets.ts';
import { unknownPair as unknown } from '../../test/helpers.ts';
import { closestAltnames, editDistance, findSymbol, krakenMarkets, krakenPairKey, rawAssetPairs, symbolFromKraken, UnknownPairError } from './pairs.ts';

const markets = krakenMarkets();
/** decimals of a ccxt tick size (1e-8 → 8, 1 → 0) */
const places = (tick: number) => Math.round(-Math.log10(tick)) + 0;


describe('krakenMarkets', () => {
  it('when fees are converted then percent becomes an exact fraction (0.4 % → 0.004, not a float artefact)', () => {
    for (const m of markets.values()) {
      expect(m.takerFee.mul(100).decimalPlaces()).toBeLessThanOrEqual(4);
      expect(m.makerFee.gte(0)).toBe(true);
      expect(m.takerFee.gt(0)).toBe(true);
    }
    // Kraken's own schedules: a few pairs charge makers more than takers (TBTC/BTC: taker 0.2 %, maker 0.23 %)
    expect(markets.get('TBTC/BTC')!.makerFee.toFixed()).toBe('0.0023');
    expect(markets.get('TBTC/BTC')!.takerFee.toFixed()).toBe('0.002');
  });

  it('when the snapshot is loaded then every pair is keyed by its ccxt symbol with Kraken codes mapped (XBT→BTC, XDG→DOGE, X/Z prefixes dropped)', () => {
    for (const k of ['BTC/USD', 'ETH/USD', 'BTC/EUR', 'ETH/EUR', 'ETH/BTC', 'SOL/USD', 'DOGE/USD', 'USDT/USD', 'LTC/USD', 'XRP/USD', 'XLM/EUR', 'AIXBT/EUR']) expect(markets.has(k), k).toBe(true);
    expect(markets.size).toBe(1434);
    const krakenSpellings = new Set(['XBT', 'XDG', 'XXBT', 'XXDG', 'XETH', 'XLTC', 'XXRP', 'XXLM', 'XETC', 'XXMR', 'XZEC', 'ZUSD', 'ZEUR', 'ZGBP', 'ZCAD', 'ZJPY', 'ZAUD']);
    for (const [key, m] of markets) {
      expect(m.pair).toBe(key);
      expect(key).toBe(`${m.base}/${m.quote}`);
      expect(krakenSpellings.has(m.base), key).toBe(false);
      expect(krakenSpellings.has(m.quote), key).toBe(false);
    }
  });

  it('when ETH/BTC is looked up then its quote is BTC with its own decimals', () => {
    const m = markets.get('ETH/BTC')!;
    expect(m.quote).toBe('BTC');
    expect(m.altname).toBe('ETHXBT');
    expect(m.priceDecimals).toBe(5);
    expect(m.costDecimals).toBe(10);
  });

  it('when BTC/USD is looked up then it has Kraken’s XBTUSD facts', () => {
    expect(markets.get('BTC/USD')).toMatchObject({ pair: 'BTC/USD', krakenPair: 'XXBTZUSD', altname: 'XBTUSD', base: 'BTC', quote: 'USD', priceDecimals: 1, lotDecimals: 8, costDecimals: 5, status: 'online' });
    const m = markets.get('BTC/USD')!;
    expect([m.orderMin.toFixed(), m.costMin.toFixed(), m.takerFee.toFixed(), m.makerFee.toFixed()]).toEqual(['0.00005', '0.5', '0.004', '0.0025']);
  });

  it('when the snapshot is loaded then every one of its 1,434 pairs is a market, LTC, XRP, DOGE and the tiny-priced ones included', () => {
    expect(markets.size).toBe(1434);
    expect(markets.get('LTC/USD')).toMatchObject({ krakenPair: 'XLTCZUSD', altname: 'LTCUSD', base: 'LTC', quote: 'USD' });
    expect(markets.get('XRP/EUR')).toMatchObject({ krakenPair: 'XXRPZEUR', base: 'XRP', quote: 'EUR' });
    expect(markets.get('DOGE/USD')).toMatchObject({ krakenPair: 'XDGUSD', base: 'DOGE' });
    expect(markets.get('SHIB/USD')).toMatchObject({ priceDecimals: 8, lotDecimals: 5 });
    expect(markets.get('SHIB/USD')!.orderMin.toFixed()).toBe('160000');
    expect(markets.get('BONK/USD')!.priceDecimals).toBe(9);
    expect(markets.get('COQ/USD')!.priceDecimals).toBe(10);
  });

  it('when the base asset keeps fewer decimals than the pair’s lot_decimals then orders are sized to the asset’s (what ccxt sends and the balance keeps)', () => {
    const raw = rawAssetPairs();
    expect(raw['ALPHAUSD']!.lot_decimals).toBe(8);
    expect(markets.get('ALPHA/USD')!.lotDecimals).toBe(5);
    expect(markets.get('BTT/USD')!.lotDecimals).toBe(1);
    expect(markets.get('EUR/USD')!.lotDecimals).toBe(4);
  });

  it('when called twice then each call returns an equal, independent map', () => {
    const again = krakenMarkets();
    expect(again).not.toBe(markets);
    again.delete('BTC/USD');
    expect(krakenMarkets().has('BTC/USD')).toBe(true);
  });

  it('when ccxt 4.5.84 loads the same AssetPairs and Assets then every market has our symbol, Kraken id and volume precision', async () => {
    const ex = new ccxt.kraken();
    const api = ex as unknown as Record<string, unknown>;
    api.publicGetAssets = async () => ({ error: [], result: assetsAnswer() });
    api.publicGetAssetPairs = async () => ({ error: [], result: rawAssetPairs() });
    const loaded = await ex.loadMarkets();
    expect(Object.keys(loaded)).toHaveLength(markets.size);
    for (const m of markets.values()) {
      const c = loaded[m.pair];
      expect(c?.id, m.pair).toBe(m.krakenPair);
      expect(places(c!.precision.amount!), m.pair).toBe(m.lotDecimals);
      expect(places(c!.precision.price!), m.pair).toBe(m.priceDecimals);
    }
  });
});

describe('symbolFromKraken', () => {
  it.each([
    ['XBTUSD', 'BTC/USD'],
    ['STORJUSD', 'STORJ/USD'],
    ['XXBTZUSD', 'BTC/USD'],
    ['XBT/USD', 'BTC/USD'],
    ['BTC/USD', 'BTC/USD'],
    ['BTCUSD', 'BTC/USD'],
    ['btc-usd', 'BTC/USD'],
    ['xbtusd', 'BTC/USD'],
    ['ETHXBT', 'ETH/BTC'],
    ['XLTCZUSD', 'LTC/USD'],
    ['LTCUSD', 'LTC/USD'],
    ['XDGUSD', 'DOGE/USD'],
    ['DOGEUSD', 'DOGE/USD'],
    ['XXRPZEUR', 'XRP/EUR'],
    // file names: Kraken's OHLCVT and trade files
    ['STORJUSD_60.csv', 'STORJ/USD'],
    ['ETHXBT_15.csv', 'ETH/BTC'],
    ['XBTUSD_1440.csv.gz', 'BTC/USD'],
    ['data/kraken/XBTUSD_60.csv.gz', 'BTC/USD'],
    ['XLTCZUSD_5.csv', 'LTC/USD'],
    ['XBTUSD.csv', 'BTC/USD'],
    // where spellings collide: a slashed name is a ccxt symbol, an unslashed one Kraken's
    ['LUNA/USD', 'LUNA/USD'],
    ['LUNC/USD', 'LUNC/USD'],
    ['LUNAUSD', 'LUNC/USD'],
    ['LUNAUSD_60.csv', 'LUNC/USD'],
    ['LUNA2USD', 'LUNA/USD'],
  ])('when the name is %s then the symbol is %s', (name, sym) => {
    expect(symbolFromKraken(name)).toBe(sym);
  });

  it('when no pair matches then the error says what was tried and suggests the closest altnames, never a default pair', () => {
    const e = unknown('XBTUSDD');
    expect(e.tried).toEqual(['XBTUSDD as a Kraken pair key, altname or wsname', 'XBTUSDD as a ccxt symbol without its slash']);
    expect(e.suggestions[0]).toBe('XBTUSD (BTC/USD)');
    expect(e.message).toMatch(/^unknown Kraken pair "XBTUSDD": tried XBTUSDD as a Kraken pair key, altname or wsname; .* the 1434 pairs of the bundled AssetPairs snapshot \(captured 2026-01-12\) or of its 15 delisted pairs kept for replay; closest altnames: XBTUSD \(BTC\/USD\), /);
  });

  it('when a file name names no pair then the error names the file, its pair part and the nearest pairs', () => {
    const e = unknown('STORJUDS_60.csv');
    expect(e.tried).toEqual(['"STORJUDS_60.csv" as a Kraken file name → STORJUDS', 'STORJUDS as a Kraken pair key, altname or wsname']);
    expect(e.suggestions).toContain('STORJUSD (STORJ/USD)');
    expect(unknown('prices-2024.csv').tried[0]).toMatch(/not of that form/);
  });

  it('when a symbol is misspelt then the suggestions are altnames close to it', () => {
    expect(unknown('BTC/USX').suggestions).toContain('XBTUSD (BTC/USD)');
    expect(unknown('SHIBUSDD').suggestions[0]).toBe('SHIBUSD (SHIB/USD)');
    expect(() => symbolFromKraken('')).toThrow(UnknownPairError);
    expect(() => symbolFromKraken('FOOBAR')).toThrow(/closest altnames/);
  });

  it('findSymbol is the same lookup without the error', () => {
    expect(findSymbol('XBTUSD_60.csv')).toBe('BTC/USD');
    expect(findSymbol('FOOBAR')).toBeNull();
    expect(findSymbol('')).toBeNull();
  });

  it('krakenPairKey reads only Kraken’s spellings', () => {
    expect(krakenPairKey('XBTUSD')).toBe('XXBTZUSD');
    expect(krakenPairKey('XBT/USD')).toBe('XXBTZUSD');
    expect(krakenPairKey('xxbtzusd')).toBe('XXBTZUSD');
    expect(krakenPairKey('NOPE')).toBeNull();
  });

  it('edit distance and the closest altnames', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('XBTUSD', 'XBTUSD')).toBe(0);
    expect(closestAltnames('ETHXBY', 1)).toEqual(['ETHXBT (ETH/BTC)']);
    expect(closestAltnames('', 3)).toEqual([]);
  });
});
