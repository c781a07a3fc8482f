import { describe, expect, it } from 'vitest';
import { dec, Dec } from '../domain/money.ts';
import type { Fill } from '../domain/types.ts';
import { Portfolio } from './portfolio.ts';

const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;
let seq = 0;
function fill(o: { signalId?: string; pair?: string; side?: 'buy' | 'sell'; purpose: 'entry' | 'exit'; qty: string; price: string; fee: string; ts?: number }): Fill {
  seq++;
  return {
    id: `F${seq}`, orderId: `O${seq}`, signalId: o.signalId ?? 'sig-1', pair: o.pair ?? 'BTC/USD',
    side: o.side ?? (o.purpose === 'entry' ? 'buy' : 'sell'),
    quantity: dec(o.qty), price: dec(o.price), fee: dec(o.fee), liquidity: 'taker', purpose: o.purpose,
    tsEvent: o.ts ?? T0, tsInit: o.ts ?? T0,
  };
}
const quoteOf = (pair: string) => pair.split('/')[1]!;
const newPf = (cash: Record<string, string> = { USD: '10000' }) => new Portfolio(cash, quoteOf);

describe('Portfolio: cash', () => {
  it('when created then cash and starting balance are the configured amounts; an unknown currency has 0', () => {
    const p = newPf({ USD: '10000.5', EUR: '200' });
    expect(p.cashOf('USD').toFixed()).toBe('10000.5');
    expect(p.cashOf('EUR').toFixed()).toBe('200');
    expect(p.cashOf('GBP').isZero()).toBe(true);
    expect(p.startingBalance.toFixed()).toBe('10200.5');
    expect(p.openCount).toBe(0);
    expect(p.fills).toBe(0);
  });

  it('when an entry fill is applied then cash drops by exactly quantity × price + fee', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.12345678', price: '50050.1', fee: '24.71605' }), 's');
    // 0.12345678 × 50050.1 = 6179.024184678 ; + 24.71605
    expect(p.cashOf('USD').toFixed()).toBe(new Dec('10000').minus('6179.024184678').minus('24.71605').toFixed());
    expect(p.cashOf('USD').toFixed()).toBe('3796.259765322');
  });

  it('when an exit fill is applied then cash rises by exactly quantity × price − fee', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '50000', fee: '20' }), 's');
    expect(p.cashOf('USD').toFixed()).toBe('4980');
    p.applyFill(fill({ purpose: 'exit', qty: '0.1', price: '51000.3', fee: '20.40012' }), 's');
    // 4980 + 5100.03 − 20.40012
    expect(p.cashOf('USD').toFixed()).toBe('10059.62988');
  });

  it('when a fill is in another quote currency then only that currency moves', () => {
    const p = newPf({ USD: '1000', EUR: '1000' });
    p.applyFill(fill({ pair: 'BTC/EUR', purpose: 'entry', qty: '0.01', price: '40000', fee: '1.6' }), 's');
    expect(p.cashOf('EUR').toFixed()).toBe('598.4');
    expect(p.cashOf('USD').toFixed()).toBe('1000');
  });
});

describe('Portfolio: positions and closed trades', () => {
  it('when an entry fills then a position opens with the entry cost, quantity, fee and open time', () => {
    const p = newPf();
    const eff = p.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '50000', fee: '20', ts: T0 + H }), 'ema');
    expect(eff.closed).toBeNull();
    expect(eff.position.quantity.toFixed()).toBe('0.1');
    const pos = p.position('sig-1')!;
    expect(pos.strategy).toBe('ema');
    expect(pos.entryCost.toFixed()).toBe('5000');
    expect(pos.entryFees.toFixed()).toBe('20');
    expect(pos.openedTs).toBe(T0 + H);
    expect(p.openCount).toBe(1);
    expect(p.openPositions().map((x) => x.signalId)).toEqual(['sig-1']);
  });

  it('when several entry fills arrive (partial fills) then the position grows and keeps the first open time', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.06', price: '50000', fee: '12', ts: T0 }), 's');
    p.applyFill(fill({ purpose: 'entry', qty: '0.04', price: '50100', fee: '8.016', ts: T0 + H }), 's');
    const pos = p.position('sig-1')!;
    expect(pos.quantity.toFixed()).toBe('0.1');
    expect(pos.entryCost.toFixed()).toBe('5004');
    expect(pos.entryFees.toFixed()).toBe('20.016');
    expect(pos.openedTs).toBe(T0);
  });

  it('when the exit sells the whole quantity then the position closes with pnl = proceeds − cost − all fees', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '50000', fee: '20', ts: T0 }), 'ema');
    p.markExiting('sig-1', 'take_profit');
    const eff = p.applyFill(fill({ purpose: 'exit', qty: '0.1', price: '52500', fee: '21', ts: T0 + 5 * H }), 'ema');
    const t = eff.closed!;
    expect(t).not.toBeNull();
    // 5250 − 5000 − (20 + 21) = 209
    expect(t.pnl.toFixed()).toBe('209');
    expect(t.fees.toFixed()).toBe('41');
    expect(t.pnlRatio).toBeCloseTo(209 / 5000, 12);
    expect(t.entryPrice.toFixed()).toBe('50000');
    expect(t.exitPrice.toFixed()).toBe('52500');
    expect(t.quantity.toFixed()).toBe('0.1');
    expect(t.entryTs).toBe(T0);
    expect(t.exitTs).toBe(T0 + 5 * H);
    expect(t.exitReason).toBe('take_profit');
    expect(t.side).toBe('buy');
    expect(t.strategy).toBe('ema');
    expect(p.position('sig-1')).toBeUndefined();
    expect(p.openCount).toBe(0);
    expect(p.realizedPnl.toFixed()).toBe('209');
    expect(p.fees.toFixed()).toBe('41');
    expect(p.fills).toBe(2);
    // cash ends at start + pnl
    expect(p.cashOf('USD').toFixed()).toBe('10209');
  });

  it('when a trade loses then pnl and pnlRatio are negative', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '1', price: '100', fee: '0.4' }), 's');
    const t = p.applyFill(fill({ purpose: 'exit', qty: '1', price: '97', fee: '0.388' }), 's').closed!;
    expect(t.pnl.toFixed()).toBe('-3.788');
    expect(t.pnlRatio).toBeCloseTo(-0.03788, 12);
  });

  it('when the exit reason was never marked then the closed trade says operator', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '1', price: '100', fee: '0' }), 's');
    expect(p.applyFill(fill({ purpose: 'exit', qty: '1', price: '100', fee: '0' }), 's').closed!.exitReason).toBe('operator');
  });

  it('when exits are partial then the position stays open until the quantity reaches zero, with volume-weighted prices', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.3', price: '100', fee: '0.12' }), 's');
    const e1 = p.applyFill(fill({ purpose: 'exit', qty: '0.1', price: '110', fee: '0.044' }), 's');
    expect(e1.closed).toBeNull();
    expect(p.position('sig-1')!.quantity.toFixed()).toBe('0.2');
    const e2 = p.applyFill(fill({ purpose: 'exit', qty: '0.15', price: '120', fee: '0.072' }), 's');
    expect(e2.closed).toBeNull();
    expect(e2.position.quantity.toFixed()).toBe('0.05');
    const t = p.applyFill(fill({ purpose: 'exit', qty: '0.05', price: '90', fee: '0.018' }), 's').closed!;
    // proceeds 11 + 18 + 4.5 = 33.5; cost 30; fees 0.12+0.044+0.072+0.018 = 0.254 → pnl 3.246
    expect(t.pnl.toFixed()).toBe('3.246');
    expect(t.exitPrice.toFixed()).toBe(new Dec('33.5').div('0.3').toFixed());
    expect(t.quantity.toFixed()).toBe('0.3');
    expect(p.cashOf('USD').toFixed()).toBe('10003.246');
  });

  it('when an exit sells more than is held then it throws and nothing changes', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '100', fee: '0' }), 's');
    expect(() => p.applyFill(fill({ purpose: 'exit', qty: '0.10000001', price: '100', fee: '0' }), 's')).toThrow(/sells 0.10000001 > held 0.1/);
    expect(p.position('sig-1')!.quantity.toFixed()).toBe('0.1');
    expect(p.cashOf('USD').toFixed()).toBe('9990');
    expect(p.fills).toBe(1);
  });

  it('when an exit arrives for a signal without a position then it throws', () => {
    expect(() => newPf().applyFill(fill({ signalId: 'nope', purpose: 'exit', qty: '1', price: '1', fee: '0' }), 's')).toThrow(/without an open position/);
  });

  it('when an entry fill is a sell then it throws (spot, long only)', () => {
    expect(() => newPf().applyFill(fill({ purpose: 'entry', side: 'sell', qty: '1', price: '1', fee: '0' }), 's')).toThrow(/must be a buy/);
  });

  it('when positions close in some order then closedTrades lists them in close order, not open order', () => {
    const p = newPf();
    for (const id of ['a', 'b', 'c']) p.applyFill(fill({ signalId: id, purpose: 'entry', qty: '1', price: '100', fee: '0' }), 's');
    for (const id of ['b', 'c', 'a']) p.applyFill(fill({ signalId: id, purpose: 'exit', qty: '1', price: '101', fee: '0' }), 's');
    expect(p.closedTrades.map((t) => t.signalId)).toEqual(['b', 'c', 'a']);
    expect(p.realizedPnl.toFixed()).toBe('3');
  });

  it('when a returned position snapshot is read later then it does not change with further fills', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '1', price: '100', fee: '0' }), 's');
    const snap = p.position('sig-1')!;
    p.applyFill(fill({ purpose: 'exit', qty: '0.5', price: '100', fee: '0' }), 's');
    expect(snap.quantity.toFixed()).toBe('1');
  });

  it('when markExiting names an unknown signal then nothing happens', () => {
    const p = newPf();
    expect(() => p.markExiting('nope', 'stop_loss')).not.toThrow();
  });
});

describe('Portfolio: equity', () => {
  it('when there are no positions then equity is the cash', () => {
    expect(newPf({ USD: '123.45' }).equity(() => 1).toFixed()).toBe('123.45');
  });

  it('when positions are open then equity is cash plus quantity × mark price', () => {
    const p = newPf();
    p.applyFill(fill({ signalId: 'a', purpose: 'entry', qty: '0.1', price: '50000', fee: '20' }), 's');
    p.applyFill(fill({ signalId: 'b', pair: 'ETH/USD', purpose: 'entry', qty: '2', price: '2000', fee: '16' }), 's');
    // cash = 10000 − 5020 − 4016 = 964
    const marks: Record<string, number> = { 'BTC/USD': 51000, 'ETH/USD': 1900 };
    expect(p.equity((pair) => marks[pair] ?? null).toFixed()).toBe(new Dec(964).plus(5100).plus(3800).toFixed());
  });

  it('when a mark price is unknown then the position counts at its entry cost', () => {
    const p = newPf();
    p.applyFill(fill({ purpose: 'entry', qty: '0.1', price: '50000', fee: '20' }), 's');
    expect(p.equity(() => null).toFixed()).toBe('9980');
  });

  // BUG: equity() values an open position with an unknown mark at p.entryCost, which by definition
  // (types.ts: "total quote paid for the quantity still held plus sold") includes the part already sold.
  // After a partial exit the sold part is counted twice: once as cash, once inside entryCost.
  it('when a position was partly sold and its mark is unknown then equity counts only the held part at entry price', () => {
    const p = newPf({ USD: '1000' });
    p.applyFill(fill({ purpose: 'entry', qty: '1', price: '100', fee: '0' }), 's');
    p.applyFill(fill({ purpose: 'exit', qty: '0.5', price: '100', fee: '0' }), 's');
    // cash 950 + held 0.5 × 100 = 1000 (nothing gained or lost); actual: 950 + 100 = 1050
    expect(p.equity(() => null).toFixed()).toBe('1000');
  });
});
