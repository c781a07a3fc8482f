import { describe, expect, it } from 'vitest';
import { PaperVenue } from '../adapters/paper/paper-venue.ts';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { seriesOf } from '../../test/helpers.ts';
import { Dec } from '../domain/money.ts';
import type { MarketMeta, OrderIntent } from '../domain/types.ts';
import { KrakenError, SimExchange } from '../sim/exchange.ts';
import { DEFAULT_FILL } from '../sim/server.ts';
import { krakenMarkets, rawAssetPairs } from './pairs.ts';
import { orderRefusal } from './rules.ts';

const markets = krakenMarkets();
const meta = (pair: string): MarketMeta => markets.get(pair)!;
const d = (x: string | number) => new Dec(x);

describe('Kraken order acceptance rules', () => {
  it('when an order breaks a rule then the refusal is the string Kraken answers', () => {
    const btc = meta('BTC/USD'); // lot 8, price 1 decimal, ordermin 0.00005, costmin 0.5
    expect(orderRefusal(btc, { quantity: d('0.001'), limitPrice: d('50000.1') }, d(50_000))).toBeNull();
    expect(orderRefusal(btc, { quantity: d('0.001') }, d(50_000))).toBeNull();
    expect(orderRefusal(btc, { quantity: d('0.000000001') }, d(50_000))).toBe('EGeneral:Invalid arguments:volume');
    expect(orderRefusal(btc, { quantity: d(0) }, d(50_000))).toBe('EGeneral:Invalid arguments:volume');
    expect(orderRefusal(btc, { quantity: d('0.001'), limitPrice: d('50000.12') }, d(50_000))).toBe('EOrder:Invalid price:XXBTZUSD price can only be specified up to 1 decimals.');
    expect(orderRefusal(btc, { quantity: d('0.001'), limitPrice: d(0) }, d(50_000))).toBe('EGeneral:Invalid arguments:price');
    expect(orderRefusal(btc, { quantity: d('0.00004') }, d(50_000))).toBe('EOrder:Order minimum not met');
    expect(orderRefusal(btc, { quantity: d('0.00005') }, d(5_000))).toBe('EOrder:Cost minimum not met'); // 0.25 USD < 0.5
    // trailing zeros are not decimals (Kraken reads the number)
    expect(orderRefusal(btc, { quantity: d('0.0010000000') }, d(50_000))).toBeNull();
  });

  it('when a tiny-priced pair has ordermin in the thousands then the boundaries are exact', () => {
    for (const pair of ['SHIB/USD', 'PEPE/USD', 'BONK/USD']) {
      const m = meta(pair);
      expect(m.orderMin.gte(1000), pair).toBe(true);
      const price = d(1).div(d(10).pow(m.priceDecimals - 4)); // a price with the pair's decimals, cost above costmin
      expect(orderRefusal(m, { quantity: m.orderMin, limitPrice: price }, price), pair).toBeNull();
      const below = m.orderMin.minus(d(1).div(d(10).pow(m.lotDecimals)));
      expect(orderRefusal(m, { quantity: below, limitPrice: price }, price), pair).toBe('EOrder:Order minimum not met');
      const tooFine = price.plus(d(1).div(d(10).pow(m.priceDecimals + 1)));
      expect(orderRefusal(m, { quantity: m.orderMin, limitPrice: tooFine }, price), pair).toMatch(/^EOrder:Invalid price:.* up to \d+ decimals\.$/);
    }
  });

  it('when the paper venue and the simulator are given the same orders then they refuse the same ones with the same strings', () => {
    const pairs = ['BTC/USD', 'SHIB/USD', 'PEPE/USD', 'STORJ/USD', 'XRP/EUR', 'ETH/BTC'];
    const clock = new ManualClock(Date.UTC(2021, 0, 1));
    const ts = clock.now();
    let checked = 0;
    for (const pair of pairs) {
      const m = meta(pair);
      const close = d(1).div(d(10).pow(Math.max(0, m.priceDecimals - 3))).mul(7); // 7 × 10^-(decimals-3): valid decimals
      const lot = d(1).div(d(10).pow(m.lotDecimals));
      const tick = d(1).div(d(10).pow(m.priceDecimals));
      const minQty = Dec.max(m.orderMin, m.costMin.div(close).toDecimalPlaces(m.lotDecimals, Dec.ROUND_UP));
      const cases: Array<{ q: Dec; p?: Dec }> = [
        { q: minQty },
        { q: m.orderMin.minus(lot) },
        { q: minQty, p: close },
        { q: minQty, p: close.plus(tick.div(10)) },
        { q: minQty.plus(lot.div(10)) },
        { q: minQty.mul(3), p: close.minus(tick) },
        { q: m.orderMin, p: m.costMin.div(m.orderMin).div(2).toDecimalPlaces(m.priceDecimals, Dec.ROUND_DOWN).plus(tick) },
      ];
      for (const c of cases) {
        const order: OrderIntent = {
          id: 'o', signalId: 's', clientOrderId: `c${checked}`, pair, side: 'buy', type: c.p ? 'limit' : 'market', quantity: c.q,
          ...(c.p ? { limitPrice: c.p } : {}), purpose: 'entry', tsEvent: ts, tsInit: ts,
        };
        const paper = new PaperVenue(DEFAULT_FILL, { clock, meta, cash: () => d('1e30'), held: () => d(0), lastPrice: () => close.toNumber() }).check(order);
        const sim = simAnswer(m, close, c.q, c.p);
        expect(paper, `${pair} ${c.q.toFixed()} @ ${c.p?.toFixed() ?? 'market'}`).toBe(sim);
        expect(orderRefusal(m, order, close)).toBe(sim);
        checked++;
      }
    }
    expect(checked).toBe(pairs.length * 7);
  });
});

/** What the simulator answers AddOrder with (null when it accepts), funded without limit. */
function simAnswer(m: MarketMeta, close: Dec, q: Dec, p: Dec | undefined): string | null {
  const ts = Date.UTC(2021, 0, 1);
  const c = close.toNumber();
  const series = seriesOf(m.pair, [{ open: c, high: c, low: c, close: c, volume: 1e15 }], ts);
  const ex = new SimExchange({ markets, series: [series], clock: new ManualClock(ts), fill: DEFAULT_FILL });
  ex.setBalance(rawAssetPairs()[m.krakenPair]!.quote, '1000000000000000000');
  try {
    ex.addOrder({ pair: m.altname, type: 'buy', ordertype: p ? 'limit' : 'market', volume: q.toFixed(), ...(p ? { price: p.toFixed() } : {}) });
    return null;
  } catch (e) {
    if (e instanceof KrakenError) return e.krakenError;
    throw e;
  }
}
