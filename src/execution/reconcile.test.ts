import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import { classifyHoldings, DEFAULT_POLICIES, externalChanges, reconcile, type LedgerSide, type VenueSide } from './reconcile.ts';

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

describe('external holdings: the venue balance the bot did not buy', () => {
  const bal = (btc: string) => new Map([['USD', d('9000')], ['BTC', d(btc)]]);
  const withExternal = (external: Record<string, string>, o: Partial<LedgerSide> = {}) =>
    ledger({ held: new Map([['BTC', d('0.1')]]), external: new Map(Object.entries(external).map(([k, v]) => [k, d(v)])), tracked: new Set(['BTC']), ...o });
  const changes = (l: LedgerSide, btc: string, tolerance?: Dec) => externalChanges(classifyHoldings(l, bal(btc), tolerance)).map((x) => x.detail);

  it('when the venue holds 1 BTC the bot did not buy beside its 0.1 then it is captured as external once, and it is never a difference', () => {
    expect(reconcile(withExternal({}), venue({ balances: bal('1.1') }), DEFAULT_POLICIES)).toEqual([]);
    expect(changes(withExternal({}), '1.1')).toEqual(['external BTC holdings captured: 1 (venue 1.1, bot positions 0.1): origin external, not managed']);
    // recorded: the next reconciliation finds venue = bot positions + external holdings, nothing to record
    expect(changes(withExternal({ BTC: '1' }), '1.1')).toEqual([]);
  });

  it('when the operator sells some of his own coins then the external figure follows, and nothing halts', () => {
    expect(reconcile(withExternal({ BTC: '1' }), venue({ balances: bal('0.6') }), DEFAULT_POLICIES)).toEqual([]);
    expect(changes(withExternal({ BTC: '1' }), '0.6')).toEqual(['external BTC holdings 1 → 0.5 (venue 0.6, bot positions 0.1)']);
  });

  it('when the venue holds less than the bot’s own positions then it is still a phantom, whatever was recorded as external', () => {
    const diffs = reconcile(withExternal({ BTC: '1' }), venue({ balances: bal('0.05') }), DEFAULT_POLICIES);
    expect(diffs.map((x) => [x.kind, x.policy, x.detail])).toEqual([
      ['phantom_position', 'halt', 'the ledger holds 0.1 BTC but the venue has 0.05'],
    ]);
    expect(changes(withExternal({ BTC: '1' }), '0.05')).toEqual(['external BTC holdings 1 → 0 (venue 0.05, bot positions 0.1)']);
  });

  it('the split puts the bot’s quantity first: external is the venue’s balance above it, never negative; a followed asset the bot holds none of is all external', () => {
    const splits = classifyHoldings({ held: new Map([['BTC', d('0.1')]]), external: new Map([['BTC', d('1')]]), tracked: new Set(['ETH']) }, new Map([['BTC', d('0.04')], ['ETH', d('2.5')]]));
    expect(splits.map((h) => ({ asset: h.asset, bot: h.bot.toFixed(), external: h.external.toFixed(), phantom: h.phantom, changed: h.changed }))).toEqual([
      { asset: 'BTC', bot: '0.1', external: '0', phantom: true, changed: true },
      { asset: 'ETH', bot: '0', external: '2.5', phantom: false, changed: true },
    ]);
  });

  it('within the tolerance a moved external figure is not recorded again', () => {
    expect(changes(withExternal({ BTC: '1' }), '1.1000001', d('0.001'))).toEqual([]);
    expect(changes(withExternal({ BTC: '1' }), '1.1000001')).toEqual(['external BTC holdings 1 → 1.0000001 (venue 1.1000001, bot positions 0.1)']);
  });
});
