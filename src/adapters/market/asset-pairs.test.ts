import { describe, expect, it } from 'vitest';
import { bundledMarkets, symbolFromKraken } from './asset-pairs.ts';

const markets = bundledMarkets();

describe('bundledMarkets', () => {
  it('when BTC/USD is looked up then it has Kraken’s XBTUSD facts', () => {
    const m = markets.get('BTC/USD')!;
    expect(m).toBeDefined();
    expect(m.pair).toBe('BTC/USD');
    expect(m.krakenPair).toBe('XXBTZUSD');
    expect(m.altname).toBe('XBTUSD');
    expect(m.base).toBe('BTC');
    expect(m.quote).toBe('USD');
    expect(m.priceDecimals).toBe(1);
    expect(m.lotDecimals).toBe(8);
    expect(m.costDecimals).toBe(5);
    expect(m.orderMin.toFixed()).toBe('0.00005');
    expect(m.costMin.toFixed()).toBe('0.5');
    expect(m.takerFee.toFixed()).toBe('0.004');
    expect(m.makerFee.toFixed()).toBe('0.0025');
    expect(m.status).toBe('online');
  });

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

  it('when called twice then each call returns an equal, independent map', () => {
    const again = bundledMarkets();
    expect(again).not.toBe(markets);
    expect([...again.keys()]).toEqual([...markets.keys()]);
  });
});

describe('symbolFromKraken', () => {
  it.each([
    ['XBTUSD', 'BTC/USD'],
    ['XXBTZUSD', 'BTC/USD'],
    ['XBT/USD', 'BTC/USD'],
    ['xbtusd', 'BTC/USD'],
    ['BTCUSD', 'BTC/USD'],
    ['BTC/USD', 'BTC/USD'],
    ['XBTEUR', 'BTC/EUR'],
    ['ETHUSD', 'ETH/USD'],
    ['ETHXBT', 'ETH/BTC'],
    ['XDGUSD', 'DOGE/USD'],
    ['SOLUSD', 'SOL/USD'],
    ['LTCUSD', 'LTC/USD'],
    ['XLTCZUSD', 'LTC/USD'],
    ['XXRPZUSD', 'XRP/USD'],
    ['XBTUSD_60.csv.gz', 'BTC/USD'],
  ])('when the Kraken name is %s then the symbol is %s', (name, sym) => {
    expect(symbolFromKraken(name, markets)).toBe(sym);
  });

  it('when the name is unknown then the result is null', () => {
    expect(symbolFromKraken('FOOBAR', markets)).toBeNull();
    expect(symbolFromKraken('', markets)).toBeNull();
  });

  it('when the symbol is not in the given markets then the result is null', () => {
    expect(symbolFromKraken('XBTUSD', new Map([...markets].filter(([k]) => k !== 'BTC/USD')))).toBeNull();
  });
});
