import { describe, expect, it } from 'vitest';
import { Dec } from '../domain/money.ts';
import type { OrderEvent, OrderIntent } from '../domain/types.ts';
import {
  canTransitionOrder,
  endsOrder,
  FINAL_ORDER_STATUSES,
  INITIAL_ORDER_STATUS,
  isFinalOrderStatus,
  isOrderStatus,
  ORDER_STATUSES,
  orderStatusAfter,
  OrderTransitionError,
  TRANSITIONS,
  transitionOrder,
  WORKING_ORDER_STATUSES,
  type OrderStatus,
} from './order-status.ts';

/** The specification, written out independently of the table: every legal move; every other pair is refused. */
const LEGAL = new Set([
  'initialized→sending', 'initialized→accepted', 'initialized→not_sent',
  'sending→accepted', 'sending→rejected', 'sending→unknown', 'sending→not_sent',
  'accepted→accepted', 'accepted→filled', 'accepted→cancelled', 'accepted→not_sent',
  'unknown→unknown', 'unknown→resolved', 'unknown→accepted', 'unknown→cancelled', 'unknown→rejected', 'unknown→not_sent',
  'resolved→accepted', 'resolved→unknown', 'resolved→rejected', 'resolved→not_sent',
]);

const intent: OrderIntent = {
  id: 's:entry', signalId: 's', clientOrderId: 'tg1', pair: 'BTC/USD', side: 'buy', type: 'limit', quantity: new Dec('0.1'), purpose: 'entry', tsEvent: 0, tsInit: 0,
};
const EVENTS: OrderEvent[] = [
  { kind: 'accepted', order: intent, ts: 0 },
  { kind: 'rejected', order: intent, reason: 'EOrder:Insufficient funds', ts: 0 },
  { kind: 'filled', order: intent, filledQty: new Dec('0.1'), ts: 0 },
  { kind: 'cancelled', order: intent, filledQty: new Dec('0'), reason: 'entry timeout', ts: 0 },
  { kind: 'unknown', order: intent, reason: 'RequestTimeout', ts: 0 },
  { kind: 'resolved', order: intent, how: 'found', ts: 0 },
];

describe('order status table — exhaustive walk', () => {
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      const legal = LEGAL.has(`${from}→${to}`);
      it(`when an order in ${from} moves to ${to} then it is ${legal ? 'allowed' : 'refused, naming both'}`, () => {
        expect(canTransitionOrder(from, to)).toBe(legal);
        if (legal) expect(transitionOrder(from, to)).toBe(to);
        else {
          expect(() => transitionOrder(from, to, 'order tg1')).toThrow(OrderTransitionError);
          expect(() => transitionOrder(from, to, 'order tg1')).toThrow(`order tg1: illegal order status move '${from}' → '${to}'`);
        }
      });
    }
  }

  it('when the table is read then it holds exactly the specified moves, each once', () => {
    const moves = ORDER_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from}→${to}`));
    expect(new Set(moves).size).toBe(moves.length);
    expect(new Set(moves)).toEqual(LEGAL);
  });

  it('when an order is in a final status then it has no way out, not even to the same status', () => {
    for (const f of FINAL_ORDER_STATUSES) {
      expect(TRANSITIONS[f]).toEqual([]);
      for (const to of ORDER_STATUSES) expect(() => transitionOrder(f, to)).toThrow(`'${f}' is final`);
    }
  });

  it('when the final statuses are listed then they are exactly the statuses with no outgoing move', () => {
    expect([...FINAL_ORDER_STATUSES].sort()).toEqual(ORDER_STATUSES.filter((s) => TRANSITIONS[s].length === 0).sort());
    for (const s of ORDER_STATUSES) expect(isFinalOrderStatus(s)).toBe(TRANSITIONS[s].length === 0);
  });

  it('when walked from the initial status then every status is reachable', () => {
    const seen = new Set<OrderStatus>([INITIAL_ORDER_STATUS]);
    const queue: OrderStatus[] = [INITIAL_ORDER_STATUS];
    while (queue.length) for (const to of TRANSITIONS[queue.shift()!]) if (!seen.has(to)) (seen.add(to), queue.push(to));
    expect([...seen].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it('when nothing moves into the initial status then it is only ever the start', () => {
    for (const s of ORDER_STATUSES) expect(TRANSITIONS[s]).not.toContain(INITIAL_ORDER_STATUS);
  });

  it('when an order may still be working on the venue then its status is stored and not final', () => {
    expect(WORKING_ORDER_STATUSES).toEqual(['sending', 'accepted', 'unknown', 'resolved']);
  });

  it('when a stored status is not an order status then the move is refused, naming it', () => {
    expect(isOrderStatus('open')).toBe(false);
    expect(isFinalOrderStatus('open')).toBe(false);
    expect(isFinalOrderStatus(null)).toBe(false);
    expect(() => transitionOrder('open' as OrderStatus, 'accepted', 'order tg1')).toThrow("order tg1: stored status 'open' is not an order status");
    expect(() => transitionOrder('accepted', 'closed' as OrderStatus)).toThrow("'closed' is not an order status");
  });
});

describe('order status policy', () => {
  it('when the venue reports an event then the order moves to the status of the same name, and only filled, cancelled and rejected end it', () => {
    expect(EVENTS.map((e) => [e.kind, orderStatusAfter(e), endsOrder(e)])).toEqual([
      ['accepted', 'accepted', false],
      ['rejected', 'rejected', true],
      ['filled', 'filled', true],
      ['cancelled', 'cancelled', true],
      ['unknown', 'unknown', false],
      ['resolved', 'resolved', false],
    ]);
  });

  // the sequences the durable path stores (Kraken venue tests, recovery, reconciliation's adoption)
  const PATHS: Array<[string, OrderStatus[]]> = [
    ['placed and filled', ['sending', 'accepted', 'filled']],
    ['placed, cancelled at its deadline', ['sending', 'accepted', 'cancelled']],
    ['refused before or by the venue', ['sending', 'rejected']],
    ['a timeout after Kraken accepted: looked up, found', ['sending', 'unknown', 'resolved', 'accepted', 'filled']],
    ['nowhere after every send', ['sending', 'unknown', 'resolved', 'unknown', 'resolved', 'unknown', 'rejected']],
    ['the lookup itself failed, then a restart found it', ['sending', 'unknown', 'unknown', 'accepted', 'filled']],
    ['nowhere, cancelled meanwhile: never sent again', ['sending', 'unknown', 'cancelled']],
    ['resent and refused', ['sending', 'unknown', 'resolved', 'rejected']],
    ['accepted, then re-adopted after a restart', ['sending', 'accepted', 'accepted', 'cancelled']],
    ['the process died before the send', ['sending', 'not_sent']],
    ['recorded intent with no order row, adopted by reconciliation', ['accepted', 'filled']],
  ];
  for (const [name, path] of PATHS) {
    it(`when an order is ${name} then every move is legal`, () => {
      let s: OrderStatus = INITIAL_ORDER_STATUS;
      for (const to of path) s = transitionOrder(s, to);
      expect(s).toBe(path.at(-1));
    });
  }
});
