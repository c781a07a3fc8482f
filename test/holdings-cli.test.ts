/**
 * `tollgate manage` / `unmanage` / `status` on a state file with external holdings (issue 16): the command
 * line goes through the same HoldingsService as the Bot and the operator API; refused commands exit 2 with
 * one message and change nothing.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { cliInProcess } from './cli-capture.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { tmp } from './helpers.ts';

const markets = krakenMarkets();

/** `tollgate ARGS` through the CLI's entry point, stdout and stderr captured */
const cli = cliInProcess;

/** a state whose last reconciliation recorded 1.5 BTC external beside a bot position of 0.1 BTC */
function seeded(): string {
  const file = join(tmp('tollgate-holdings-cli-'), 'state.db');
  const store = SqliteStateStore.open(file);
  const ledger = new Ledger(store, new SystemClock(), (p) => markets.get(p));
  ledger.setCash({ currency: 'USD', amount: '5000' }, { actor: 'test', reason: 'start', key: 'start' });
  ledger.importPortfolio({ cash: {}, positions: [{ id: 'bot-1', pair: 'BTC/USD', quantity: '0.1', entryPrice: '30000', strategy: 'ema_cross', signalId: 'ema_cross-BTCUSD-1' }] }, { actor: 'test', key: 'seed' });
  store.putExternalHolding({ asset: 'BTC', quantity: '1.5', origin: 'external', managed: false, updatedTs: Date.UTC(2026, 0, 1), detail: 'reconciliation: captured' });
  store.close();
  return file;
}

describe('tollgate manage / unmanage / status', () => {
  it('when the operator manages 0.5 BTC at a price then a bot-managed position holds it, external drops to 1, status shows both apart, and the audit names the operator', async () => {
    const file = seeded();
    const r = await cli(['manage', 'BTC/USD', '0.5', '--price', '31000', '--reason', 'cold wallet top-up', '--idempotency-key', 'k1', '--state', file]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^sequence 3: manage 0\.5 BTC\/USD → bot position managed-BTCUSD-[0-9a-f]{12} at 31000 \(given\); external BTC now 1\n$/);
    const again = await cli(['manage', 'BTC/USD', '0.5', '--price', '31000', '--idempotency-key', 'k1', '--state', file]);
    expect(again.out).toContain('(repeat of the idempotency key: nothing changed)');
    const st = await cli(['status', '--json', '--state', file]);
    const j = JSON.parse(st.out) as { positions: Array<{ id: string; origin: string; managed: boolean; quantity: string }>; externalHoldings: Array<{ asset: string; quantity: string; managed: boolean }> };
    expect(j.positions.map((p) => [p.origin, p.managed, p.quantity]).sort()).toEqual([['adopted', true, '0.5'], ['bot', true, '0.1']]);
    expect(j.externalHoldings.map((h) => [h.asset, h.quantity, h.managed])).toEqual([['BTC', '1', false]]);
    const text = await cli(['status', '--state', file]);
    expect(text.out).toContain('(bot-managed, adopted)');
    expect(text.out).toContain('external      1 BTC  — on the venue, not bought by the bot');
    const store = SqliteStateStore.open(file);
    try {
      const row = [...store.audit()].at(-1)!;
      expect(row).toMatchObject({ seq: 3, operation: 'import', actor: expect.stringMatching(/^operator:/), idempotencyKey: 'k1' });
      expect(row.reason).toMatch(/^manage: 0\.5 BTC of external holdings adopted into bot position managed-BTCUSD-\w+ at 31000 \(given\): cold wallet top-up$/);
    } finally {
      store.close();
    }
    const verify = await cli(['audit', 'verify', '--state', file]);
    expect([verify.code, verify.out]).toEqual([0, expect.stringContaining('audit verify: ok')]);
  });

  it('when the quantity is not there then manage and unmanage exit 2 with one message and the state is unchanged', async () => {
    const file = seeded();
    const m = await cli(['manage', 'BTC/USD', '2', '--price', '31000', '--state', file]);
    expect([m.code, m.err.trim()]).toEqual([2, 'tollgate: manage 2 BTC/USD: the external BTC holdings are 1.5 (as last reconciled with the venue); nothing changed']);
    const noMark = await cli(['manage', 'BTC/USD', '0.1', '--state', file]);
    expect([noMark.code, noMark.err.trim()]).toEqual([2, 'tollgate: manage 0.1 BTC/USD: no mark is stored for BTC/USD yet; pass the entry price (--price P)']);
    const u = await cli(['unmanage', 'BTC/USD', '0.1', '--state', file]);
    expect([u.code, u.err.trim()]).toEqual([2, "tollgate: unmanage 0.1 BTC/USD: the bot's operator-managed BTC/USD positions hold 0 (positions a strategy signal follows are not released); nothing changed"]);
    const bad = await cli(['manage', 'BTC/USD', '-1', '--price', '31000', '--state', file]);
    expect(bad.code).toBe(2);
    const store = SqliteStateStore.open(file);
    try {
      expect(store.snapshot().sequence).toBe(2);
      expect(store.externalHoldings().map((h) => h.quantity)).toEqual(['1.5']);
    } finally {
      store.close();
    }
  });
});
