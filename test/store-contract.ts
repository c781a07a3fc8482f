/**
 * The state store contract: one suite of tests that every state adapter passes (SQLite and PostgreSQL run it
 * in store-contract.test.ts). What is specific to one adapter (SQLite's file checks and backup, PostgreSQL's
 * server and URL) is tested beside it.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../src/domain/money.ts';
import { FINAL_ORDER_STATUSES, ORDER_STATUSES, OrderTransitionError, type OrderStatus } from '../src/domain/order-status.ts';
import { Ledger, IdempotencyConflictError, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import type { StateStoreSurface } from '../src/adapters/postgres/state-store.ts';
import type { IntakeRow } from '../src/ports/intake.ts';

const markets = krakenMarkets();
export const metaOf = (p: string) => markets.get(p);
export const T0 = Date.UTC(2024, 0, 1);
export const op = (key: string, reason = 'test') => ({ actor: 'operator:test', key, reason });

export type ContractStore = StateStoreSurface;

export interface ContractBackend {
  readonly name: string;
  /** why this backend cannot run here (the suite is skipped), or null */
  readonly skip: () => string | null;
  /** a new, empty, migrated store; `reopen` gives a second instance on the same state (another process) */
  fresh(): Promise<{ store: ContractStore; reopen: () => ContractStore }>;
}

const signal = { strategy: 'ema', pair: 'BTC/USD', side: 'buy', signal: '{}', snapshot: '{"value":"open"}', updatedTs: T0 };
const intent = (clientOrderId: string, o: Partial<{ purpose: string; tsInit: number; signalId: string }> = {}) => ({
  id: clientOrderId, signalId: o.signalId ?? 's1', clientOrderId, pair: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.1', limitPrice: '50000',
  purpose: o.purpose ?? 'entry', exitReason: null, deadlineTs: null, tsEvent: T0, tsInit: o.tsInit ?? T0,
});
const orderRow = (clientOrderId: string, status: OrderStatus) => ({ clientOrderId, venueOrderId: null, status, filledQuantity: '0', detail: null, updatedTs: T0 });

export function storeContract(b: ContractBackend): void {
  const why = b.skip();
  const d = why ? describe.skip : describe;
  d(`state store contract: ${b.name}`, () => {
    const use = async <T>(fn: (s: ContractStore, reopen: () => ContractStore) => T | Promise<T>): Promise<T> => {
      const { store, reopen } = await b.fresh();
      try {
        return await fn(store, reopen);
      } finally {
        store.close();
      }
    };

    it('when ledger operations run on it then the state equals the same operations on the in-memory store, the audit log verifies, and amounts are the exact strings written', () =>
      use((s) => {
        const mem = new MemoryLedgerStore();
        for (const store of [s, mem]) {
          let t = T0;
          const l = new Ledger(store, { now: () => (t += 1000) }, metaOf);
          l.setCash({ currency: 'USD', amount: '123456789012.1234567891' }, op('a'));
          l.buy({ pair: 'BTC/USD', quantity: '0.5', price: '40000.5', fee: '80.001' }, op('b'));
          l.buy({ pair: 'ETH/USD', quantity: '3', price: '2500' }, op('c'));
          l.sell({ pair: 'BTC/USD', quantity: '0.2', price: '41000' }, op('d'));
          l.close({ positionId: 'manual-ETHUSD', price: '2400.01' }, op('e'));
          l.importPortfolio({ cash: { EUR: '10' }, positions: [{ pair: 'SOL/USD', quantity: '4', entryPrice: '100.25' }] }, op('f'));
          l.applyFill({ id: 'f1', orderId: 'o1', signalId: 's1', pair: 'BTC/USD', side: 'buy', quantity: dec('0.001'), price: dec('30000'), fee: dec('0.075'), liquidity: 'maker', purpose: 'entry', tsEvent: T0, tsInit: T0 }, 'ema');
        }
        const { marks: _a, ...a } = s.snapshot();
        const { marks: _b, ...b2 } = mem.snapshot();
        expect(a).toEqual(b2);
        expect(a.cash.find((c) => c.currency === 'USD')?.amount).toMatch(/^\d{12}\.\d{10}$/); // 22 significant digits: never through a float
        expect([...s.audit()]).toEqual([...mem.audit()]);
        expect(s.fills('s1')).toHaveLength(1);
        expect(verifyAudit(s, metaOf, () => new MemoryLedgerStore())).toMatchObject({ ok: true, rows: 7 });
      }));

    it('when an operation fails half way then the write rolls back: no state, no sequence number, no audit row, no idempotency key', () =>
      use((s) => {
        const l = new Ledger(s, { now: () => T0 }, metaOf);
        l.setCash({ currency: 'USD', amount: '100' }, op('a'));
        const before = s.snapshot();
        expect(() => l.importPortfolio({ cash: { USD: '5000' }, positions: [{ pair: 'BTC/USD', quantity: '1', entryPrice: '1' }, { pair: 'NOPE/USD', quantity: '1', entryPrice: '1' }] }, op('imp'))).toThrow(/unknown pair NOPE/);
        expect(s.snapshot()).toEqual(before);
        expect([...s.audit()].map((r) => r.seq)).toEqual([1]);
        // the key was not kept: a different, valid request under it is a new operation, not a conflict
        expect(l.setCash({ currency: 'USD', amount: '7' }, op('imp')).repeated).toBe(false);
        expect(s.snapshot().sequence).toBe(2);
        // a batch is one transaction too
        expect(() => l.batch(() => {
          l.buy({ pair: 'BTC/USD', quantity: '0.0001', price: '50000' }, op('x1'));
          l.buy({ pair: 'BTC/USD', quantity: '1', price: '50000' }, op('x2'));
        })).toThrow(/insufficient USD cash/);
        expect(s.snapshot().sequence).toBe(2);
        expect(s.snapshot().positions).toEqual([]);
      }));

    it('when a write inside a write fails and the outer one catches it then only the inner one is rolled back (a savepoint), and the outer commits', () =>
      use((s) => {
        s.write(() => {
          s.setGuardState('outer', 1, T0);
          expect(() => s.write(() => {
            s.setGuardState('inner', 2, T0);
            throw new Error('inner failed');
          })).toThrow(/inner failed/);
          s.setGuardState('after', 3, T0);
        });
        expect([s.guardState('outer'), s.guardState('inner'), s.guardState('after')]).toEqual([1, undefined, 3]);
        // a throw out of the outer write discards everything in it, inner writes included
        expect(() => s.write(() => {
          s.setGuardState('x', 1, T0);
          s.write(() => s.setGuardState('y', 1, T0));
          throw new Error('outer failed');
        })).toThrow(/outer failed/);
        expect([s.guardState('x'), s.guardState('y')]).toEqual([undefined, undefined]);
      }));

    it('when audit rows are appended then the sequence is gapless: a row that does not follow the stored sequence is refused and nothing is written', () =>
      use((s) => {
        const row = (seq: number) => ({ seq, ts: T0 + seq, operation: 'control', actor: 'test', reason: null, idempotencyKey: null, input: '{}', before: '{}', after: '{}' });
        s.write((tx) => tx.appendAudit(row(1)));
        expect(() => s.write((tx) => {
          tx.setCash('USD', '5');
          tx.appendAudit(row(3));
        })).toThrow(/audit row 3 does not follow the stored sequence/);
        s.write((tx) => tx.appendAudit(row(2)));
        expect([...s.audit()].map((r) => r.seq)).toEqual([1, 2]);
        expect(s.snapshot()).toMatchObject({ sequence: 2, updatedAt: T0 + 2, cash: [] });
      }));

    it('when a command is repeated under its idempotency key then the first result comes back and nothing is written; another request under it is refused', () =>
      use((s) => {
        const l = new Ledger(s, { now: () => T0 }, metaOf);
        const first = l.setCash({ currency: 'USD', amount: '1000' }, op('k1'));
        const again = l.setCash({ currency: 'USD', amount: '1000' }, op('k1'));
        expect(again).toMatchObject({ repeated: true, seq: first.seq });
        expect(s.snapshot().sequence).toBe(1);
        expect(() => l.setCash({ currency: 'USD', amount: '2000' }, op('k1'))).toThrow(IdempotencyConflictError);
        expect(s.snapshot().cash).toEqual([{ currency: 'USD', amount: '1000' }]);
      }));

    it('when the same fill arrives twice then it is booked once (the repeat is reported, nothing is written)', () =>
      use((s) => {
        const l = new Ledger(s, { now: () => T0 }, metaOf);
        l.setCash({ currency: 'USD', amount: '1000' }, op('c'));
        const fill = { id: 'fx', orderId: 'o1', signalId: 's1', pair: 'BTC/USD', side: 'buy' as const, quantity: dec('0.001'), price: dec('30000'), fee: dec('0.01'), liquidity: 'taker' as const, purpose: 'entry' as const, tsEvent: T0, tsInit: T0 };
        expect(l.applyFill(fill, 'ema').repeated).toBe(false);
        expect(l.applyFill(fill, 'ema').repeated).toBe(true);
        expect(s.fillIds()).toEqual(new Set(['fx']));
        expect(s.snapshot().sequence).toBe(2);
        // the port itself refuses a second row with the same id
        expect(s.write((tx) => tx.addFill({ ...s.fills('s1')[0]! }, 99))).toBe(false);
      }));

    it('when marks are set then the newer one is kept, whatever the order they arrive in', () =>
      use((s) => {
        s.setMark({ pair: 'BTC/USD', price: '50000.1', ts: T0 + 10 });
        s.setMark({ pair: 'BTC/USD', price: '49000', ts: T0 + 5 });
        s.setMark({ pair: 'ETH/USD', price: '2500', ts: T0 });
        expect(s.snapshot().marks).toEqual([{ pair: 'BTC/USD', price: '50000.1', ts: T0 + 10 }, { pair: 'ETH/USD', price: '2500', ts: T0 }]);
        s.setMark({ pair: 'BTC/USD', price: '51000', ts: T0 + 20 });
        expect(s.write((tx) => tx.mark('BTC/USD'))).toEqual({ pair: 'BTC/USD', price: '51000', ts: T0 + 20 });
      }));

    it('when signals, order intents, orders, shadow positions and guard state are saved then they read back; only non-terminal signals are open', () =>
      use((s) => {
        s.saveSignal({ ...signal, id: 's1', state: 'open', terminal: false, deadlineTs: T0 + 5 });
        s.saveSignal({ ...signal, id: 's2', state: 'closed', terminal: true, deadlineTs: null });
        s.saveSignal({ ...signal, id: 's2', state: 'closed', terminal: true, deadlineTs: null, updatedTs: T0 + 1 });
        expect(s.openSignals().map((x) => [x.id, x.terminal, x.deadlineTs])).toEqual([['s1', false, T0 + 5]]);
        expect(s.signal('s2')).toMatchObject({ terminal: true, updatedTs: T0 + 1 });
        expect(s.signalCounts()).toEqual({ open: 1, total: 2 });
        s.saveOrderIntent(intent('tgabc'));
        expect(() => s.saveOrderIntent({ ...intent('tgabc'), id: 'i2' })).toThrow(/unique/i);
        expect(s.orderIntentByClientId('tgabc')).toEqual(intent('tgabc'));
        s.saveOrder({ clientOrderId: 'tgabc', venueOrderId: 'OABC', status: 'accepted', filledQuantity: '0', detail: null, updatedTs: T0 });
        expect(s.order('tgabc')).toEqual({ clientOrderId: 'tgabc', venueOrderId: 'OABC', status: 'accepted', filledQuantity: '0', detail: null, updatedTs: T0 });
        s.saveShadowPosition('s3', 'open', { entry: '1.5' }, T0);
        expect(s.shadowPositions('open')).toEqual([{ signalId: 's3', status: 'open', data: { entry: '1.5' } }]);
        s.setGuardState('COOLDOWN:BTC/USD', { until: T0 }, T0);
        expect(s.guardState('COOLDOWN:BTC/USD')).toEqual({ until: T0 });
        expect(s.invariantViolation()).toBeNull();
        s.saveOrderIntent(intent('tgorphan', { signalId: 'nosuch' }));
        expect(s.invariantViolation()).toBe('order intent tgorphan has no approved decision');
      }));

    it('when an order is moved then only along the order state table: an illegal move names both statuses and writes nothing', () =>
      use((s) => {
        for (const id of ['tga', 'tgb', 'tgc']) s.saveOrderIntent(intent(id));
        expect(s.moveOrder(orderRow('tga', 'sending'))).toBe('initialized');
        expect(s.moveOrder(orderRow('tga', 'accepted'))).toBe('sending');
        expect(s.moveOrder(orderRow('tga', 'filled'))).toBe('accepted');
        expect(() => s.moveOrder({ ...orderRow('tga', 'cancelled'), detail: 'late' })).toThrow(/order tga: illegal order status move 'filled' → 'cancelled' \('filled' is final\)/);
        expect(s.order('tga')).toMatchObject({ status: 'filled', detail: null });
        expect(() => s.moveOrder(orderRow('tgb', 'filled'))).toThrow(OrderTransitionError);
        expect(s.order('tgb')).toBeUndefined();
        expect(() => s.write(() => {
          s.moveOrder(orderRow('tgc', 'sending'));
          s.moveOrder(orderRow('tgc', 'filled'));
        })).toThrow(/'sending' → 'filled'/);
        expect(s.order('tgc')).toBeUndefined();
      }));

    it('when orders are in every status then recovery sees those not final (or with no row) and the working ones are those still on the venue', () =>
      use((s) => {
        ORDER_STATUSES.forEach((status, i) => {
          for (const purpose of ['entry', 'exit'] as const) {
            const id = `tg-${purpose}-${status}`;
            s.saveOrderIntent(intent(id, { purpose, tsInit: T0 + i }));
            if (status !== 'initialized') s.saveOrder(orderRow(id, status));
          }
        });
        const notFinal = ORDER_STATUSES.filter((x) => !(FINAL_ORDER_STATUSES as readonly string[]).includes(x));
        expect(s.unresolvedOrderIntents().map((r) => [r.clientOrderId, r.status])).toEqual(
          notFinal.flatMap((x) => [[`tg-entry-${x}`, x === 'initialized' ? null : x], [`tg-exit-${x}`, x === 'initialized' ? null : x]]),
        );
        expect(s.orderIntentsWithStatus()).toHaveLength(ORDER_STATUSES.length * 2);
        expect(s.workingOrderIds('entry')).toEqual(['tg-entry-sending', 'tg-entry-accepted', 'tg-entry-unknown', 'tg-entry-resolved']);
        expect(s.workingOrderIds('exit')).toEqual(['tg-exit-sending', 'tg-exit-accepted', 'tg-exit-unknown', 'tg-exit-resolved']);
      }));

    it('when an alert is taken twice then the intake keeps the first, and its row moves on to submitted with its verdict', () =>
      use((s) => {
        const row: IntakeRow = { signalId: 'w1', dedupKey: 'k', bodyHash: 'h', source: 'tv', receivedTs: T0, signal: '{}', reply: '{"ok":true}', status: 'accepted', state: null, decision: null, blockedBy: null, detail: null, updatedTs: T0 };
        expect(s.intakeOnce(row, T0 - 1000).inserted).toBe(true);
        expect(s.intakeOnce({ ...row, signalId: 'w2', receivedTs: T0 + 1 }, T0 - 1000)).toEqual({ inserted: false, record: row });
        expect(s.pendingIntake().map((r) => r.signalId)).toEqual(['w1']);
        s.updateIntake('w1', { status: 'submitted', state: 'blocked', decision: 'block', blockedBy: ['COOLDOWN'] }, T0 + 2);
        expect(s.pendingIntake()).toEqual([]);
        expect(s.intake('w1')).toMatchObject({ status: 'submitted', state: 'blocked', blockedBy: '["COOLDOWN"]', reply: '{"ok":true}', updatedTs: T0 + 2 });
        expect(s.recentIntake(5).map((r) => r.signalId)).toEqual(['w1']);
      }));

    it('when external holdings are recorded then the last figure per asset reads back, and a position reads back outside a write', () =>
      use((s) => {
        s.putExternalHolding({ asset: 'BTC', quantity: '0.5', origin: 'external', managed: false, updatedTs: T0, detail: 'reconciliation' });
        s.putExternalHolding({ asset: 'ETH', quantity: '2', origin: 'external', managed: false, updatedTs: T0, detail: 'reconciliation' });
        s.putExternalHolding({ asset: 'BTC', quantity: '0.25', origin: 'external', managed: false, updatedTs: T0 + 1, detail: 'manage' });
        expect(s.externalHoldings()).toEqual([
          { asset: 'BTC', quantity: '0.25', origin: 'external', managed: false, updatedTs: T0 + 1, detail: 'manage' },
          { asset: 'ETH', quantity: '2', origin: 'external', managed: false, updatedTs: T0, detail: 'reconciliation' },
        ]);
        new Ledger(s, { now: () => T0 }, metaOf).importPortfolio({ cash: { USD: '1' }, positions: [{ pair: 'SOL/USD', quantity: '4', entryPrice: '100.25' }] }, op('i'));
        const id = s.snapshot().positions[0]!.id;
        expect(s.positionRow(id)).toEqual(s.snapshot().positions[0]);
        expect(s.positionRow('nope')).toBeUndefined();
      }));

    it('when a replay checkpoint is saved twice then the last one reads back', () =>
      use((s) => {
        expect(s.replayCheckpoint()).toBeUndefined();
        const c = { runId: 'r', fingerprint: 'f', candlesDone: 10, finished: false, logOffsets: { 'a.jsonl': 12 }, updatedTs: T0 };
        s.saveReplayCheckpoint(c);
        s.saveReplayCheckpoint({ ...c, candlesDone: 20, finished: true });
        expect(s.replayCheckpoint()).toEqual({ ...c, candlesDone: 20, finished: true });
      }));

    it('when two instances share the state then a write of one is seen by the other, and their writes never lose each other', () =>
      use((s, reopen) => {
        const other = reopen();
        try {
          const a = new Ledger(s, { now: () => T0 }, metaOf);
          const b = new Ledger(other, { now: () => T0 }, metaOf);
          for (let i = 0; i < 5; i++) {
            a.setCash({ currency: 'USD', amount: String(i) }, op(`a${i}`));
            b.setCash({ currency: 'EUR', amount: String(i) }, op(`b${i}`));
          }
          expect(other.snapshot().sequence).toBe(10);
          expect([...s.audit()].map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
          expect(verifyAudit(other, metaOf, () => new MemoryLedgerStore()).ok).toBe(true);
        } finally {
          other.close();
        }
      }));
  });
}
