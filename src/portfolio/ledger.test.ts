import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { krakenMarkets } from '../kraken/pairs.ts';
import { dec } from '../domain/money.ts';
import type { Fill } from '../domain/types.ts';
import { IdempotencyConflictError, Ledger, LedgerRuleError, verifyAudit } from './ledger.ts';
import { MemoryLedgerStore } from './memory-ledger-store.ts';
import { Portfolio } from './portfolio.ts';

const markets = krakenMarkets();
const metaOf = (p: string) => markets.get(p);
const T0 = Date.UTC(2024, 0, 1);
const op = (key: string, reason?: string) => ({ actor: 'operator:test', key, ...(reason ? { reason } : {}) });

function setup(cash = '10000') {
  const store = new MemoryLedgerStore();
  const clock = new ManualClock(T0);
  const ledger = new Ledger(store, clock, metaOf);
  if (cash !== '0') ledger.setCash({ currency: 'USD', amount: cash }, op('seed', 'seed'));
  return { store, clock, ledger };
}

let n = 0;
function fill(o: { signalId?: string; pair?: string; purpose: 'entry' | 'exit'; qty: string; price: string; fee: string; ts?: number }): Fill {
  n++;
  return {
    id: `F${n}`, orderId: `O${n}`, signalId: o.signalId ?? 'sig-1', pair: o.pair ?? 'BTC/USD', side: o.purpose === 'entry' ? 'buy' : 'sell',
    quantity: dec(o.qty), price: dec(o.price), fee: dec(o.fee), liquidity: 'taker', purpose: o.purpose, tsEvent: o.ts ?? T0, tsInit: o.ts ?? T0,
  };
}

const cashOf = (s: MemoryLedgerStore, c = 'USD') => s.snapshot().cash.find((x) => x.currency === c)?.amount;

describe('Ledger: fills share the money rules of the in-memory Portfolio', () => {
  it('when the same fills are applied to the Ledger and to the Portfolio then cash, positions, realized PnL and closed trades agree exactly', () => {
    const { store, ledger } = setup('10000');
    const pf = new Portfolio({ USD: '10000' }, (p) => metaOf(p)!.quote);
    const fills = [
      fill({ signalId: 'a', purpose: 'entry', qty: '0.06', price: '50000', fee: '12' }),
      fill({ signalId: 'a', purpose: 'entry', qty: '0.04', price: '50100', fee: '8.016' }),
      fill({ signalId: 'b', pair: 'ETH/USD', purpose: 'entry', qty: '1.5', price: '2000.55', fee: '12.0033' }),
      fill({ signalId: 'a', purpose: 'exit', qty: '0.03', price: '51000', fee: '6.12' }),
      fill({ signalId: 'a', purpose: 'exit', qty: '0.07', price: '49000.3', fee: '13.72' }),
    ];
    for (const f of fills) {
      ledger.applyFill(f, 'ema');
      pf.applyFill(f, 'ema');
    }
    const s = store.snapshot();
    expect(cashOf(store)).toBe(pf.cashOf('USD').toFixed());
    expect(s.positions.map((p) => [p.id, p.quantity, p.entryCost, p.entryFees])).toEqual(pf.openPositions().map((p) => [p.signalId, p.quantity.toFixed(), p.entryCost.toFixed(), p.entryFees.toFixed()]));
    expect(s.totals).toEqual([{ currency: 'USD', realized: pf.realizedPnl.toFixed(), fees: pf.fees.toFixed() }]);
    expect(s.closedTrades.map((t) => [t.signalId, t.pnl, t.exitPrice])).toEqual(pf.closedTrades.map((t) => [t.signalId, t.pnl.toFixed(), t.exitPrice.toFixed()]));
  });

  it('when the ledger is loaded for recovery then cash, positions, closed trades and totals come back as exact domain values', () => {
    const { ledger } = setup('10000');
    ledger.applyFill(fill({ signalId: 'a', purpose: 'entry', qty: '0.1', price: '50000', fee: '20' }), 'ema');
    ledger.applyFill(fill({ signalId: 'b', purpose: 'entry', qty: '1', price: '100', fee: '0.4' }), 'rsi');
    ledger.markExiting('b', 'take_profit', { actor: 'bot', key: 'x-b' });
    ledger.applyFill(fill({ signalId: 'b', purpose: 'exit', qty: '1', price: '106', fee: '0.424' }), 'rsi');
    const l = ledger.load();
    expect(l.sequence).toBe(5);
    expect(l.cash.get('USD')!.toFixed()).toBe('4985.176');
    expect([...l.positions.keys()]).toEqual(['a']);
    expect(l.positions.get('a')).toMatchObject({ signalId: 'a', strategy: 'ema', quote: 'USD' });
    expect(l.positions.get('a')!.entryCost.toFixed()).toBe('5000');
    expect(l.closedTrades).toHaveLength(1);
    expect(l.closedTrades[0]).toMatchObject({ signalId: 'b', strategy: 'rsi', exitReason: 'take_profit', pnlRatio: 5.176 / 100 });
    expect(l.closedTrades[0]!.pnl.toFixed()).toBe('5.176');
    expect(l.realized.get('USD')!.toFixed()).toBe('5.176');
    expect(l.fees.get('USD')!.toFixed()).toBe('20.824');
    expect(l.marks.get('BTC/USD')!.price.toFixed()).toBe('106'); // the last fill of the pair
  });

  it('when an exit fill sells more than is held then it is refused and nothing changes, not even the sequence', () => {
    const { store, ledger } = setup();
    ledger.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '100', fee: '0' }), 's');
    const before = store.snapshot();
    expect(() => ledger.applyFill(fill({ purpose: 'exit', qty: '0.10000001', price: '100', fee: '0' }), 's')).toThrow(/sells 0.10000001 > held 0.1/);
    expect(store.snapshot()).toEqual(before);
  });

  it('when the bot delivers the same fill twice then the second is a no-op returning the first result', () => {
    const { store, ledger } = setup();
    const f = fill({ purpose: 'entry', qty: '0.1', price: '50000', fee: '20' });
    const first = ledger.applyFill(f, 's');
    const again = ledger.applyFill(f, 's');
    expect(again).toEqual({ ...first, repeated: true });
    expect(store.snapshot().sequence).toBe(2);
    expect(cashOf(store)).toBe('4980');
  });
});

describe('Ledger: operator commands', () => {
  it('when the operator buys then cash falls by amount × price + fee and the pair\'s operator position grows', () => {
    const { store, ledger } = setup();
    const r = ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '50000.1', fee: '2' }, op('b1'));
    expect(r).toMatchObject({ seq: 2, operation: 'buy', positionId: 'manual-BTCUSD', quantity: '0.1', cash: { USD: '4997.99' }, repeated: false });
    ledger.buy({ pair: 'BTC/USD', quantity: '0.05', price: '50000', fee: '0' }, op('b2'));
    expect(store.snapshot().positions[0]).toMatchObject({ id: 'manual-BTCUSD', quantity: '0.15', entryCost: '7500.01', entryFees: '2', signalId: null, strategy: 'manual' });
  });

  it('when a buy costs more than the cash then it is refused, naming the cash', () => {
    const { store, ledger } = setup('100');
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, op('b'))).toThrow(/insufficient USD cash: .* costs 500 USD, cash is 100/);
    expect(store.snapshot().sequence).toBe(1);
  });

  it('when amounts have more decimals than the pair allows, or are not amounts, then the command is refused naming the field', () => {
    const { ledger } = setup();
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '0.123456789', price: '1' }, op('x1'))).toThrow(/AMOUNT 0.123456789 has 9 decimals; BTC\/USD \(lot decimals\) allows 8/);
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '50000.12' }, op('x2'))).toThrow(/PRICE 50000.12 has 2 decimals; BTC\/USD \(price decimals\) allows 1/);
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '-1', price: '1' }, op('x3'))).toThrow(/AMOUNT "-1" is not a decimal amount/);
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '1e3', price: '1' }, op('x4'))).toThrow(/not a decimal amount/);
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '0', price: '1' }, op('x5'))).toThrow(/AMOUNT must be greater than 0/);
    expect(() => ledger.buy({ pair: 'NOPE/USD', quantity: '1', price: '1' }, op('x6'))).toThrow(/unknown pair NOPE\/USD/);
  });

  it('when no PRICE is given then the last stored mark of the pair is used, and without a mark the command is refused', () => {
    const { store, ledger } = setup();
    expect(() => ledger.buy({ pair: 'ETH/USD', quantity: '1' }, op('m1'))).toThrow(/no price for ETH\/USD: pass PRICE/);
    store.setMark({ pair: 'ETH/USD', price: '2000.5', ts: T0 });
    expect(ledger.buy({ pair: 'ETH/USD', quantity: '1' }, op('m2'))).toMatchObject({ price: '2000.5', cash: { USD: '7999.5' } });
  });

  it('when the operator sells part and then closes the rest then the position closes with pnl = proceeds − cost − fees, realized and in cash', () => {
    const { store, ledger } = setup('20000');
    ledger.buy({ pair: 'BTC/USD', quantity: '0.2', price: '50000', fee: '10' }, op('b'));
    expect(ledger.sell({ pair: 'BTC/USD', quantity: '0.05', price: '52000', fee: '1' }, op('s'))).toMatchObject({ quantity: '0.15', closed: null });
    const c = ledger.close({ positionId: 'manual-BTCUSD', price: '49000', fee: '2' }, op('c'));
    // proceeds 2600 + 7350 = 9950; cost 10000; fees 13 → −63
    expect(c).toMatchObject({ quantity: '0', closed: { pnl: '-63', fees: '13', exitReason: 'operator' } });
    const s = store.snapshot();
    expect(s.positions).toEqual([]);
    expect(s.totals).toEqual([{ currency: 'USD', realized: '-63', fees: '13' }]);
    expect(cashOf(store)).toBe('19937');
  });

  it('when selling from a position that does not exist or more than it holds then the command is refused and nothing changes', () => {
    const { store, ledger } = setup();
    expect(() => ledger.sell({ pair: 'BTC/USD', quantity: '0.1', price: '1' }, op('s1'))).toThrow(/no open position manual-BTCUSD/);
    ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '100' }, op('b'));
    const before = store.snapshot();
    expect(() => ledger.sell({ pair: 'BTC/USD', quantity: '0.2', price: '1' }, op('s2'))).toThrow(/sells 0.2 > held 0.1/);
    expect(() => ledger.close({ positionId: 'nope' }, op('c'))).toThrow(/no open position nope/);
    expect(store.snapshot()).toEqual(before);
  });

  it('when setcash has no reason then it is refused; with one, the balance is set and the audit row carries reason and actor', () => {
    const { store, ledger } = setup();
    expect(() => ledger.setCash({ currency: 'USD', amount: '5' }, op('k'))).toThrow(/setcash needs a reason/);
    expect(ledger.setCash({ currency: 'EUR', amount: '250.5' }, op('k2', 'deposit'))).toMatchObject({ currency: 'EUR', before: '0', after: '250.5' });
    const last = [...store.audit()].at(-1)!;
    expect(last).toMatchObject({ seq: 2, operation: 'setcash', actor: 'operator:test', reason: 'deposit', idempotencyKey: 'k2' });
    expect(JSON.parse(last.before)).toEqual({ cash: { EUR: null }, positions: {}, totals: {} });
    expect(JSON.parse(last.after)).toEqual({ cash: { EUR: '250.5' }, positions: {}, totals: {} });
  });
});

describe('Ledger: sequence, audit and idempotency', () => {
  it('when operations succeed and fail in any mix then the sequence is gapless and every audit row holds time, operation, actor, key and before/after', () => {
    const { store, clock, ledger } = setup();
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      try {
        if (i % 3 === 0) ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, op(`b${i}`));
        else if (i % 3 === 1) ledger.sell({ pair: 'BTC/USD', quantity: '0.02', price: '50000' }, op(`s${i}`));
        else ledger.setCash({ currency: 'USD', amount: String(10000 + i) }, op(`c${i}`, 'adjust'));
      } catch (e) {
        expect(e).toBeInstanceOf(LedgerRuleError);
      }
    }
    const rows = [...store.audit()];
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    expect(store.snapshot().sequence).toBe(rows.length);
    expect(rows.every((r) => r.ts >= T0 && r.actor === 'operator:test' && r.idempotencyKey !== null && r.before.startsWith('{') && r.after.startsWith('{'))).toBe(true);
    expect(verifyAudit(store, metaOf, () => new MemoryLedgerStore())).toEqual({ ok: true, rows: rows.length, sequence: rows.length, mismatch: null, mismatchSeq: null });
  });

  it('when any command is repeated with the same key then nothing changes and the first result is returned', () => {
    const { store, ledger } = setup();
    ledger.buy({ pair: 'ETH/USD', quantity: '2', price: '2000' }, op('pre'));
    const f = { ...fill({ purpose: 'entry', qty: '0.01', price: '1000', fee: '0' }), id: 'fixed-fill' };
    const cmds: Array<[string, () => unknown]> = [
      ['buy', () => ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, op('k-buy'))],
      ['sell', () => ledger.sell({ pair: 'ETH/USD', quantity: '1', price: '2100' }, op('k-sell'))],
      ['setcash', () => ledger.setCash({ currency: 'USD', amount: '7000' }, op('k-cash', 'fix'))],
      ['close', () => ledger.close({ positionId: 'manual-ETHUSD', price: '2200' }, op('k-close'))],
      ['import', () => ledger.importPortfolio({ cash: { EUR: '5' }, positions: [{ pair: 'SOL/USD', quantity: '3', entryPrice: '100' }] }, op('k-import'))],
      ['fill', () => ledger.applyFill(f, 's')],
    ];
    for (const [name, run] of cmds) {
      const first = run() as { seq: number; repeated: boolean };
      const snap = store.snapshot();
      const again = run();
      expect(again, name).toEqual({ ...first, repeated: true });
      expect(store.snapshot(), name).toEqual(snap);
    }
  });

  it('when a key is reused for a different command then it is refused as a conflict and nothing changes', () => {
    const { store, ledger } = setup();
    ledger.buy({ pair: 'BTC/USD', quantity: '0.01', price: '50000' }, op('k'));
    const before = store.snapshot();
    expect(() => ledger.buy({ pair: 'BTC/USD', quantity: '0.02', price: '50000' }, op('k'))).toThrow(IdempotencyConflictError);
    expect(() => ledger.setCash({ currency: 'USD', amount: '1' }, op('k', 'x'))).toThrow(/idempotency key "k" was already used for another request \(buy at sequence 2\)/);
    expect(store.snapshot()).toEqual(before);
  });

  it('when the log says one thing and the tables another then verify reports the first mismatch with its sequence number', () => {
    const { store, ledger } = setup();
    ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '50000' }, op('b'));
    ledger.setCash({ currency: 'USD', amount: '20000' }, op('c', 'deposit'));
    // tamper: the audit row of the buy now says another price
    const rows = [...store.audit()] as Array<{ input: string }>;
    rows[1]!.input = rows[1]!.input.replace('50000', '40000');
    const r = verifyAudit(store, metaOf, () => new MemoryLedgerStore());
    expect(r.ok).toBe(false);
    expect(r.mismatchSeq).toBe(2);
    expect(r.mismatch).toMatch(/audit row 2 \(buy\): state after differs/);
  });
});

describe('Ledger: import', () => {
  it('when a portfolio is imported then cash balances are set, positions added, and the summary shows difference 0 for every item, in one sequence number', () => {
    const { store, ledger } = setup('500');
    ledger.buy({ pair: 'BTC/USD', quantity: '0.001', price: '50000' }, op('b'));
    const r = ledger.importPortfolio({
      cash: { USD: '12000.5', EUR: '300' },
      positions: [
        { pair: 'BTC/USD', quantity: '0.5', entryPrice: '30000.1', fees: '12.5', id: 'btc-1', openedTs: T0 - 1000 },
        { pair: 'ETH/USD', quantity: '2', entryPrice: '1800' },
      ],
    }, op('imp', 'migration'));
    expect(r.seq).toBe(3);
    expect(r.checks).toEqual([
      { item: 'cash USD', before: '450', file: '12000.5', expected: '12000.5', after: '12000.5', difference: '0' },
      { item: 'cash EUR', before: '0', file: '300', expected: '300', after: '300', difference: '0' },
      { item: 'quantity BTC/USD', before: '0.001', file: '0.5', expected: '0.501', after: '0.501', difference: '0' },
      { item: 'quantity ETH/USD', before: '0', file: '2', expected: '2', after: '2', difference: '0' },
    ]);
    const s = store.snapshot();
    expect(s.positions.map((p) => [p.id, p.quantity, p.entryCost, p.openedTs])).toEqual([
      ['btc-1', '0.5', '15000.05', T0 - 1000],
      ['import-ETHUSD-2', '2', '3600', T0],
      ['manual-BTCUSD', '0.001', '50', T0],
    ]);
  });

  it('when one imported position is bad or already exists then the whole import is refused and nothing changes', () => {
    const { store, ledger } = setup();
    ledger.buy({ pair: 'BTC/USD', quantity: '0.001', price: '50000' }, op('b'));
    const before = store.snapshot();
    const good = { pair: 'ETH/USD', quantity: '2', entryPrice: '1800' };
    expect(() => ledger.importPortfolio({ cash: { USD: '1' }, positions: [good, { pair: 'BTC/USD', quantity: '0.1', entryPrice: '1', id: 'manual-BTCUSD' }] }, op('i1'))).toThrow(/position manual-BTCUSD already exists/);
    expect(() => ledger.importPortfolio({ cash: { USD: '1' }, positions: [good, { pair: 'BTC/USD', quantity: '0.1', entryPrice: '1.55' }] }, op('i2'))).toThrow(/entry price 1.55 has 2 decimals/);
    expect(() => ledger.importPortfolio({ cash: { usd: '1' }, positions: [] }, op('i3'))).toThrow(/currency "usd" is not a currency code/);
    expect(store.snapshot()).toEqual(before);
  });
});

describe('Ledger: mark exiting', () => {
  it('when the bot marks a position exiting then the reason is stored, audited, and names the closed trade', () => {
    const { store, ledger } = setup();
    ledger.applyFill(fill({ signalId: 'x', purpose: 'entry', qty: '1', price: '100', fee: '0' }), 's');
    ledger.markExiting('x', 'take_profit', { actor: 'bot', key: 'exit-x' });
    expect(store.snapshot().positions[0]!.exitReason).toBe('take_profit');
    const r = ledger.applyFill(fill({ signalId: 'x', purpose: 'exit', qty: '1', price: '110', fee: '0' }), 's');
    expect(r.closed).toMatchObject({ pnl: '10', exitReason: 'take_profit' });
    expect(() => ledger.markExiting('x', 'stop_loss', { actor: 'bot' })).toThrow(/no open position x/);
    expect(verifyAudit(store, metaOf, () => new MemoryLedgerStore()).ok).toBe(true);
  });
});

describe('a fill reported again', () => {
  it('is the same fill whatever time it was seen or who reported it: a no-op that returns the first result', () => {
    const markets = krakenMarkets();
    const ledger = new Ledger(new MemoryLedgerStore(), { now: () => 1_000 }, (p) => markets.get(p));
    ledger.setCash({ currency: 'USD', amount: '1000' }, { actor: 't', reason: 'start', key: 's' });
    const fill = { id: 'T1', orderId: 'tg1', signalId: 's1', pair: 'BTC/USD', side: 'buy' as const, quantity: dec('0.01'), price: dec('50000'), fee: dec('2'), liquidity: 'taker' as const, purpose: 'entry' as const, tsEvent: 10, tsInit: 11 };
    const first = ledger.applyFill(fill, 'ema_cross');
    const again = ledger.applyFill({ ...fill, tsInit: 99_999 }, 'reconciled', { actor: 'reconcile' });
    expect(again).toEqual({ ...first, repeated: true });
    expect(ledger.load().cash.get('USD')!.toFixed()).toBe('498');
    // a different fill under the same key is refused, not booked
    expect(() => ledger.applyFill({ ...fill, quantity: dec('0.02') }, 'ema_cross')).toThrow(/already used for another request/);
  });
});
