/**
 * `unmanage` end to end over the ledger's audited `release` operation (src/portfolio/ledger.ts): bot-managed
 * quantity goes back to external holdings, cash does not move, the audit names the caller and replays.
 * Runs once the ledger has the operation (see the README's External holdings section).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { HoldingsService } from '../src/execution/holdings.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { Ledger, verifyAudit } from '../src/portfolio/ledger.ts';
import { MemoryLedgerStore } from '../src/portfolio/memory-ledger-store.ts';

const markets = krakenMarkets();
const meta = (p: string) => markets.get(p);

describe('unmanage: bot-managed quantity released to external holdings', () => {
  it('when 0.3 of an adopted 0.5 BTC is released then the position keeps 0.2 at its entry price, external grows by 0.3, cash is unchanged, the audit replays; a repeat changes nothing; more than held is refused', () => {
    const store = SqliteStateStore.memory();
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const ledger = new Ledger(store, clock, meta);
    ledger.setCash({ currency: 'USD', amount: '1000' }, { actor: 'test', reason: 'start', key: 'start' });
    store.putExternalHolding({ asset: 'BTC', quantity: '1', origin: 'external', managed: false, updatedTs: clock.now(), detail: 'captured' });
    const h = new HoldingsService({ ledger: ledger as never, store, clock });
    const m = h.manage({ actor: 'operator:alice', idempotencyKey: 'm' }, { pair: 'BTC/USD', quantity: '0.5', price: '31000' });
    const u = h.unmanage({ actor: 'operator:bob', idempotencyKey: 'u' }, { pair: 'BTC/USD', quantity: '0.3', reason: 'to cold storage' });
    expect(u).toMatchObject({ command: 'unmanage', repeated: false, quantity: '0.3', positions: m.positions, external: '0.8' });
    const p = ledger.load().positions.get(m.positions[0]!)!;
    expect([p.quantity.toFixed(), p.entryCost.div(p.entryQuantity).toFixed()]).toEqual(['0.2', '31000']);
    expect(ledger.load().cash.get('USD')!.toFixed()).toBe('1000');
    expect([...store.audit()].at(-1)).toMatchObject({ operation: 'release', actor: 'operator:bob', reason: `unmanage: 0.3 BTC of bot position ${m.positions[0]} released to external holdings: to cold storage` });
    expect(h.unmanage({ actor: 'operator:bob', idempotencyKey: 'u' }, { pair: 'BTC/USD', quantity: '0.3' })).toMatchObject({ repeated: true, external: '0.8' });
    expect(() => h.unmanage({ actor: 'operator:bob' }, { pair: 'BTC/USD', quantity: '0.5' })).toThrow("the bot's operator-managed BTC/USD positions hold 0.2");
    expect(h.unmanage({ actor: 'operator:bob' }, { pair: 'BTC/USD', quantity: '0.2' })).toMatchObject({ external: '1' });
    expect(ledger.load().positions.size).toBe(0);
    expect(verifyAudit(store, meta, () => new MemoryLedgerStore())).toMatchObject({ ok: true });
  });
});
