/** The digest's ledger section shows the bot's own positions and the external holdings apart (issue 16). */
import { describe, expect, it } from 'vitest';
import { buildDigest, periodOf, renderDigestMd } from '../src/digest/digest.ts';
import type { ExternalHoldingRow, LedgerSnapshot, PositionRow } from '../src/ports/ledger.ts';

const T = (iso: string) => Date.parse(iso);
const position = (id: string, pair: string, quantity: string, signalId: string | null): PositionRow => ({
  id, signalId, strategy: signalId ? 'ema_cross' : 'managed', pair, quote: 'USD', quantity, entryCost: '0', entryQuantity: quantity, entryFees: '0',
  exitProceeds: '0', exitQuantity: '0', exitFees: '0', openedTs: T('2024-01-09T00:00:00Z'), exitReason: null,
});
const snapshot: LedgerSnapshot = {
  sequence: 7, updatedAt: T('2024-01-10T00:00:00Z'), cash: [{ currency: 'USD', amount: '900' }], totals: [], closedTrades: [], marks: [],
  positions: [position('ema_cross-BTCUSD-1', 'BTC/USD', '0.1', 'ema_cross-BTCUSD-1'), position('managed-BTCUSD-abc', 'BTC/USD', '0.4', null), position('manual-ETHUSD', 'ETH/USD', '2', null)],
};
const digestOf = (externalHoldings?: ExternalHoldingRow[]) =>
  buildDigest({
    period: periodOf('week', T('2024-01-10T00:00:00Z')), generatedAt: T('2024-01-16T06:00:00Z'), report: null, afterEnd: null,
    ledger: { snapshot, audit: [], reconciliation: null, ...(externalHoldings ? { externalHoldings } : {}) }, sources: { logs: null, state: 'state.db' },
  });

describe('the digest and external holdings', () => {
  it('when the state records 1 BTC external beside 0.5 BTC of bot positions then the digest shows both apart, in JSON and Markdown', () => {
    const d = digestOf([
      { asset: 'BTC', quantity: '1', origin: 'external', managed: false, updatedTs: T('2024-01-10T00:00:00Z'), detail: 'reconciliation' },
      { asset: 'ETH', quantity: '0', origin: 'external', managed: false, updatedTs: T('2024-01-10T00:00:00Z'), detail: 'manage' },
    ]);
    expect(d.ledger!.now.managed).toEqual({ 'BTC/USD': '0.5', 'ETH/USD': '2' });
    expect(d.ledger!.now.external).toEqual({ BTC: '1' });
    expect(renderDigestMd(d)).toContain("- bot-managed positions: 0.5 BTC/USD, 2 ETH/USD; external holdings (not the bot's, never sold by it): 1 BTC\n");
  });

  it('when the state keeps no external holdings then the digest says so instead of claiming none', () => {
    const d = digestOf();
    expect(d.ledger!.now.external).toBeNull();
    expect(renderDigestMd(d)).toContain('external holdings (not the bot\'s, never sold by it): not kept in this state');
  });
});

describe('tollgate digest over a state file with external holdings', () => {
  it('when the state records an external BTC balance then the written digest lists it apart from the bot positions', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { SqliteStateStore } = await import('../src/adapters/sqlite/state-store.ts');
    const { runDigest } = await import('../src/cli/cli-digest.ts');
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-holdings-digest-'));
    const state = join(dir, 'state.db');
    const store = SqliteStateStore.open(state);
    store.putExternalHolding({ asset: 'BTC', quantity: '1.25', origin: 'external', managed: false, updatedTs: T('2024-01-10T00:00:00Z'), detail: 'reconciliation' });
    store.close();
    const r = runDigest({ period: 'week', at: T('2024-01-10T00:00:00Z'), logs: join(dir, 'logs'), state, out: join(dir, 'out'), force: false, json: false, now: T('2024-01-16T06:00:00Z') });
    const json = JSON.parse(readFileSync(r.files.json, 'utf8')) as { ledger: { now: { external: Record<string, string> | null } } };
    expect(json.ledger.now.external).toEqual({ BTC: '1.25' });
    expect(readFileSync(r.files.md, 'utf8')).toContain("external holdings (not the bot's, never sold by it): 1.25 BTC");
  });
});
