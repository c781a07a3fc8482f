import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { DEFAULT_POLICIES, reconcile, type LedgerSide, type VenueSide } from './reconcile.ts';

const d = (v: string) => new Dec(v);
const ledger = (o: Partial<LedgerSide> = {}): LedgerSide => ({
  cash: new Map([['USD', d('9000')]]), held: new Map([['BTC', d('0.02')]]), ourOrders: new Set(['tgA', 'tgB']), fills: new Set(['T1']), ...o,
});
const venue = (o: Partial<VenueSide> = {}): VenueSide => ({
  balances: new Map([['USD', d('9000')], ['BTC', d('0.02')]]), openOrders: [{ id: 'O1', clientOrderId: 'tgA', pair: 'BTC/USD', side: 'buy', amount: '0.01' }],
  trades: [{ id: 'T1', clientOrderId: 'tgB', orderId: 'O2' }], ...o,
});

describe('reconciliation of the ledger with the venue', () => {
  it('when both agree then there is nothing to report', () => {
    expect(reconcile(ledger(), venue(), DEFAULT_POLICIES)).toEqual([]);
  });

  it('an order placed on the venue behind the bot’s back is reported with the unknown-order policy', () => {
    const diffs = reconcile(ledger(), venue({ openOrders: [...venue().openOrders, { id: 'O9', clientOrderId: null, pair: 'BTC/USD', side: 'sell', amount: '0.5' }] }), { ...DEFAULT_POLICIES, unknownOrder: 'adopt' });
    expect(diffs).toEqual([{ kind: 'unknown_order', policy: 'adopt', subject: 'O9', detail: 'open order O9 (sell 0.5 BTC/USD) was not placed by Tollgate' }]);
  });

  it('a position the venue does not hold is a phantom: halt by default', () => {
    const diffs = reconcile(ledger(), venue({ balances: new Map([['USD', d('9000')], ['BTC', d('0.005')]]) }), DEFAULT_POLICIES);
    expect(diffs).toEqual([{ kind: 'phantom_position', policy: 'halt', subject: 'BTC', detail: 'the ledger holds 0.02 BTC but the venue has 0.005' }]);
  });

  it('more on the venue than in the ledger is not a phantom (the operator may hold coins outside the bot)', () => {
    expect(reconcile(ledger(), venue({ balances: new Map([['USD', d('9000')], ['BTC', d('3')]]) }), DEFAULT_POLICIES)).toEqual([]);
  });

  it('a changed balance is a balance mismatch, within a tolerance', () => {
    const v = venue({ balances: new Map([['USD', d('9100')], ['BTC', d('0.02')]]) });
    expect(reconcile(ledger(), v, DEFAULT_POLICIES).map((x) => [x.kind, x.detail])).toEqual([['balance_mismatch', 'ledger cash 9000 USD, venue balance 9100 USD']]);
    expect(reconcile(ledger(), v, DEFAULT_POLICIES, d('100'))).toEqual([]);
  });

  it('a venue trade of our order missing from the ledger is reported (adopted by default); another client’s trade is not ours', () => {
    const v = venue({ trades: [{ id: 'T1', clientOrderId: 'tgB', orderId: 'O2' }, { id: 'T2', clientOrderId: 'tgB', orderId: 'O2' }, { id: 'T3', clientOrderId: 'other', orderId: 'O7' }] });
    expect(reconcile(ledger(), v, DEFAULT_POLICIES)).toEqual([{ kind: 'missing_fill', policy: 'adopt', subject: 'T2', detail: 'venue trade T2 of our order tgB is not in the ledger' }]);
  });
});
