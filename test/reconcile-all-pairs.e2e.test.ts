/**
 * Every pair of the bundled AssetPairs snapshot (1,434; the online USD, EUR and BTC ones among them), on Kraken
 * simulators serving the whole snapshot: a position bought through real ccxt and the live venue is booked in its own state, the bot stops,
 * starts again on that state, and reconciliation finds nothing (before the shared asset mapping, LTC, XRP,
 * DOGE, XLM, … showed as phantom positions and halted the bot). Then tiny-priced, high-precision pairs (SHIB,
 * BONK, COQ) size, round and fill to the last unit, and Auto Earn / staked balances count as they should.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { krakenClient } from '../src/adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../src/adapters/kraken/kraken-venue.ts';
import { quoteFill } from '../src/domain/fill-model.ts';
import { roundQuantity } from '../src/domain/market.ts';
import { ceilTo, Dec } from '../src/domain/money.ts';
import { sizeOrder } from '../src/domain/sizing.ts';
import type { MarketMeta } from '../src/domain/types.ts';
import { openLiveState } from '../src/engine/live-state.ts';
import { KrakenAccount, type AccountApi } from '../src/adapters/kraken/account.ts';
import { commonCode } from '../src/kraken/assets.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { DEFAULT_FILL, type KrakenSim } from '../src/sim/index.ts';
import { flatSeries, multiPairSim } from './sim-helpers.ts';

const markets = krakenMarkets();
/**
 * the pairs this test trades: all of them (the online USD, EUR and BTC ones are 1,177 of the 1,434); a pair
 * that is not online (cancel_only, post_only, reduce_only) is bought while the simulator has it online, and is
 * back in its own status when the bot restarts
 */
/** pairs per simulator */
const BATCH = 150;
const PAIRS = [...markets.values()];

/** state files on tmpfs where there is one (each is FULL-synced SQLite, and there are 1,434), removed afterwards */
const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tollgate-all-pairs-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** rough USD values of the quotes that are not dollars or euros */
const QUOTE_USD: Record<string, number> = { BTC: 90_000, ETH: 3_000, SOL: 150, GBP: 1.3, AUD: 0.65, CAD: 0.72, CHF: 1.1, JPY: 0.0065 };

/**
 * A plausible price for a pair at its precision: Kraken sets `ordermin` near a few dollars' worth, so ~5 USD /
 * ordermin in the quote, kept at least 1,000 ticks above zero, 4 significant digits.
 */
function priceOf(m: MarketMeta): string {
  const p = new Dec(5).div(m.orderMin).div(QUOTE_USD[m.quote] ?? 1);
  const floor = new Dec(10).pow(3 - m.priceDecimals);
  return Dec.max(p, floor).toSignificantDigits(4, Dec.ROUND_UP).toDecimalPlaces(m.priceDecimals, Dec.ROUND_UP).toFixed();
}

/** a buy that clears both minimums with room: 1.5 × the larger of ordermin and costmin / price, up to the lot */
function quantityOf(m: MarketMeta, price: Dec): Dec {
  return ceilTo(Dec.max(m.orderMin, m.costMin.div(price)).mul('1.5'), m.lotDecimals);
}

function client(sim: KrakenSim, apiKey: string, secret: string) {
  return krakenClient({ apiKey, secret, baseUrl: sim.url, rateLimit: false, clock: new SystemClock() }).exchange;
}

describe('reconciliation on every pair of the snapshot', () => {
  it('when a position is bought on the simulator and the bot restarts on its state then reconciliation is clean, on every pair', async () => {
    expect(PAIRS).toHaveLength(1434);
    expect(PAIRS.filter((m) => m.status === 'online' && ['USD', 'EUR', 'BTC'].includes(m.quote))).toHaveLength(1177);
    const started = performance.now();
    const clock = new SystemClock();
    const dir = stateDir();
    const dirty: string[] = [];
    // simulators of BATCH pairs each (every one serves all 1,434 pairs; these have candles): an account's
    // balance, closed-order and trade lists stay the size of a real one's, so each pair costs the same
    for (let b = 0; b < PAIRS.length; b += BATCH) {
      const batch = PAIRS.slice(b, b + BATCH);
      const prices = new Map(batch.map((m) => [m.pair, priceOf(m)]));
      const { sim, apiKey, secret } = await multiPairSim(batch.map((m) => flatSeries(m.pair, prices.get(m.pair)!)), {});
      const exchange = client(sim, apiKey, secret);
      const loaded = await exchange.loadMarkets();
      // ccxt sees every pair the simulator serves, under our symbol and Kraken id
      expect(Object.keys(loaded)).toHaveLength(markets.size);
      if (b === 0) for (const m of markets.values()) expect(loaded[m.pair]?.id, m.pair).toBe(m.krakenPair);
      const api = exchange as unknown as KrakenApi & AccountApi;
      for (const [j, m] of batch.entries()) {
        const i = b + j;
        const file = join(dir, `${m.altname}.db`);
        // each pair's new state starts from a round quote balance: Kraken keeps balances to the asset's decimals
        // (≤ 10, the most a ledger's cash takes), the simulator books exact products of up to 20
        sim.setBalance(m.quote, '10000000');
        const baseBefore = sim.exchange.balanceOf(m.base);
        const price = new Dec(prices.get(m.pair)!);
        const venueOf = () => new KrakenVenue({ api, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], lastPrice: () => price.toNumber() });
        // the first run: a new state takes the venue's quote balance, buys, books the fill
        const v1 = venueOf();
        const first = await openLiveState({ file, account: new KrakenAccount(api), venue: v1, markets, pair: m.pair, clock });
        const quantity = quantityOf(m, price);
        const cl = `tgall${String(i).padStart(6, '0')}`;
        const now = clock.now();
        // the signal as the live pipeline records it: submitted before its order intent, open once filled
        const signal = (state: string) => first.store.saveSignal({ id: cl, strategy: 'test', pair: m.pair, side: 'buy', state, terminal: false, signal: '{}', snapshot: '{}', deadlineTs: null, updatedTs: clock.now() });
        signal('submitted');
        if (m.status !== 'online') sim.exchange.setPairStatus(m.pair, 'online');
        first.orders.submit({ id: `${cl}:entry`, signalId: cl, clientOrderId: cl, pair: m.pair, side: 'buy', type: 'market', quantity, purpose: 'entry', tsEvent: now, tsInit: now });
        await v1.idle();
        expect(sim.order(cl)?.volume.toFixed(), m.pair).toBe(quantity.toFixed());
        sim.exchange.forceFill(cl);
        if (m.status !== 'online') sim.exchange.setPairStatus(m.pair, m.status as 'cancel_only');
        await v1.poll();
        signal('open');
        expect(first.ledger.load().positions.get(cl)?.quantity.toFixed(), m.pair).toBe(quantity.toFixed());
        first.store.close();
        // the restart: the same state, a new venue; recovery and reconciliation run before trading
        const second = await openLiveState({ file, account: new KrakenAccount(api), venue: venueOf(), markets, pair: m.pair, clock });
        const r = second.reconciliation;
        if (r.halted || r.differences.length) dirty.push(`${m.pair}: ${r.differences.map((x) => `${x.kind}/${x.policy} ${x.detail}`).join('; ')}`);
        const state = second.ledger.load();
        expect(state.positions.get(cl)?.quantity.toFixed(), m.pair).toBe(quantity.toFixed());
        expect(state.cash.get(m.quote)?.toFixed(), m.pair).toBe(sim.exchange.balanceOf(m.quote).toFixed());
        expect(sim.exchange.balanceOf(m.base).toFixed(), m.pair).toBe(baseBefore.plus(quantity).toFixed());
        second.store.close();
      }
      // every base the account now holds is under its common code in ccxt's balance too
      const total = (await exchange.fetchBalance()).total as unknown as Record<string, number>;
      for (const m of batch) expect(total[m.base], m.base).toBeGreaterThan(0);
    }
    expect(dirty).toEqual([]);
    process.stdout.write(`reconcile-all-pairs: ${PAIRS.length} pairs bought, restarted and reconciled in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }, 240_000);
});

describe('tiny-priced, high-precision pairs on the simulator', () => {
  // prices at each pair's full precision: SHIB 8 decimals (ordermin 160,000), BONK 9, COQ 10
  const TINY = [
    { pair: 'SHIB/USD', open: '0.00001234', next: '0.00001237' },
    { pair: 'BONK/USD', open: '0.000012345', next: '0.000012347' },
    { pair: 'COQ/USD', open: '0.0000004321', next: '0.0000004323' },
  ];

  it('when 20 USD of each is bought at market then the volume is sized to the lot, priced to the tick with slippage, and balances move to the last unit', async () => {
    const series = TINY.map((t) => {
      const s = flatSeries(t.pair, t.open, 3);
      s.open[1] = s.high[1] = s.low[1] = s.close[1] = Number(t.next);
      return s;
    });
    const { sim, apiKey, secret } = await multiPairSim(series, { USD: '1000' });
    const exchange = client(sim, apiKey, secret);
    await exchange.loadMarkets();
    const clock = new SystemClock();
    const fills: Array<{ pair: string; quantity: Dec; price: Dec; fee: Dec }> = [];
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], lastPrice: (p) => Number(TINY.find((t) => t.pair === p)!.open) });
    const rejected: string[] = [];
    venue.connect({ onFill: (f) => fills.push(f), onOrderEvent: (e) => e.kind === 'rejected' && rejected.push(`${e.order.pair} ${e.reason}`) });
    const sized = new Map<string, Dec>();
    for (const [i, t] of TINY.entries()) {
      const m = markets.get(t.pair)!;
      const { quantity } = sizeOrder({ mode: 'fixed_quote', amount: '20' }, m, new Dec(t.open), new Dec(1000));
      expect(quantity.decimalPlaces(), t.pair).toBeLessThanOrEqual(m.lotDecimals);
      expect(quantity.gte(m.orderMin), t.pair).toBe(true);
      sized.set(t.pair, quantity);
      const now = clock.now();
      venue.submit({ id: `t${i}`, signalId: `t${i}`, clientOrderId: `tgtiny${i}`, pair: t.pair, side: 'buy', type: 'market', quantity, purpose: 'entry', tsEvent: now, tsInit: now });
    }
    await venue.idle();
    expect(rejected).toEqual([]);
    // what reached Kraken: the volume exactly as sized (ccxt did not reformat it)
    for (const [i, t] of TINY.entries()) expect(sim.order(`tgtiny${i}`)!.volume.toFixed(), t.pair).toBe(sized.get(t.pair)!.toFixed());
    sim.step(1);
    await venue.poll();
    let cash = new Dec(1000);
    for (const t of TINY) {
      const m = markets.get(t.pair)!;
      const f = fills.find((x) => x.pair === t.pair)!;
      const want = quoteFill(DEFAULT_FILL, m, { side: 'buy', type: 'market', remaining: sized.get(t.pair)! }, sim.exchange.current(t.pair), new Dec(0))!;
      expect(f.quantity.toFixed(), t.pair).toBe(sized.get(t.pair)!.toFixed());
      expect(f.price.toFixed(), t.pair).toBe(want.price.toFixed());
      expect(f.price.decimalPlaces(), t.pair).toBeLessThanOrEqual(m.priceDecimals);
      expect(f.price.gt(t.next), t.pair).toBe(true); // the slippage was not rounded away at 8–10 decimals
      expect(f.fee.toFixed(), t.pair).toBe(want.fee.toFixed());
      expect(sim.exchange.balanceOf(m.base).toFixed(), t.pair).toBe(f.quantity.toFixed());
      cash = cash.minus(f.quantity.mul(f.price)).minus(f.fee);
    }
    expect(sim.exchange.balanceOf('USD').toFixed()).toBe(cash.toFixed());
  });

  it('when a limit at the full 10 decimals goes through ccxt then Kraken gets that price exactly; below ordermin or past the tick it is refused', async () => {
    const { sim, apiKey, secret } = await multiPairSim([flatSeries('COQ/USD', '0.0000004321'), flatSeries('SHIB/USD', '0.00001234')], { USD: '1000' });
    const exchange = client(sim, apiKey, secret);
    await exchange.loadMarkets();
    const clock = new SystemClock();
    const events: string[] = [];
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret], lastPrice: () => 0.00001234 });
    venue.connect({ onFill: () => {}, onOrderEvent: (e) => events.push(`${e.order.clientOrderId} ${e.kind}${e.kind === 'rejected' ? ` ${e.reason}` : ''}`) });
    const now = clock.now();
    venue.submit({ id: 'a', signalId: 'a', clientOrderId: 'tgcoq1', pair: 'COQ/USD', side: 'buy', type: 'limit', quantity: new Dec('50000000.12345'), limitPrice: new Dec('0.0000004317'), purpose: 'entry', tsEvent: now, tsInit: now });
    venue.submit({ id: 'b', signalId: 'b', clientOrderId: 'tgshib1', pair: 'SHIB/USD', side: 'buy', type: 'market', quantity: new Dec('159999.99999'), purpose: 'entry', tsEvent: now, tsInit: now });
    await venue.idle();
    expect(events.sort()).toEqual(['tgcoq1 accepted', 'tgshib1 rejected EOrder:Order minimum not met']);
    const o = sim.order('tgcoq1')!;
    expect([o.price!.toFixed(), o.volume.toFixed()]).toEqual(['0.0000004317', '50000000.12345']);
    expect(() => sim.placeOrder({ pair: 'COQUSD', type: 'buy', ordertype: 'limit', volume: '6000000', price: '0.00000043171' })).toThrow(/EOrder:Invalid price:COQUSD price can only be specified up to 10 decimals/);
    expect(() => sim.placeOrder({ pair: 'SHIBUSD', type: 'buy', ordertype: 'market', volume: '159999' })).toThrow(/EOrder:Order minimum not met/);
    expect(roundQuantity(markets.get('SHIB/USD')!, new Dec('160000.123456789')).toFixed()).toBe('160000.12345');
  });
});

describe('staked and Auto Earn balances in reconciliation', () => {
  async function held(balance: Record<string, string>) {
    const { sim, apiKey, secret } = await multiPairSim([flatSeries('LTC/USD', '80.12')], { USD: '1000', ...balance });
    const exchange = client(sim, apiKey, secret);
    await exchange.loadMarkets();
    const clock = new SystemClock();
    const venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock, meta: (p) => markets.get(p)!, secrets: [apiKey, secret] });
    const file = join(stateDir(), 'state.db');
    const live = await openLiveState({ file, account: new KrakenAccount(exchange as unknown as AccountApi), venue, markets, pair: 'LTC/USD', clock });
    // the bot believes it holds 2 LTC (imported), then asks the venue again
    live.ledger.importPortfolio({ cash: {}, positions: [{ pair: 'LTC/USD', quantity: '2', entryPrice: '80' }] }, { actor: 'test', key: 'imp', reason: 'test' });
    const r = await live.reconcile();
    live.store.close();
    return r;
  }

  it('when the LTC sits on the spot balance (XLTC) then it reconciles clean', async () => {
    expect(commonCode('XLTC')).toBe('LTC');
    expect((await held({ LTC: '2' })).differences).toEqual([]);
  });

  it('when Kraken’s Auto Earn moved part of it to LTC.F then it still counts: the bot can sell it', async () => {
    expect((await held({ LTC: '0.5', 'LTC.F': '1.5' })).differences).toEqual([]);
  });

  it('when it is staked (LTC.S) or in opt-in rewards (LTC.M) then the bot cannot sell it: a phantom position, halt', async () => {
    const r = await held({ LTC: '0.5', 'LTC.S': '1', 'LTC.M': '0.5' });
    expect(r.halted).toBe(true);
    expect(r.differences).toEqual([expect.objectContaining({ kind: 'phantom_position', policy: 'halt', detail: 'the ledger holds 2 LTC but the venue has 0.5' })]);
  });
});
