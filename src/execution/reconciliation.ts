/**
 * Reconciliation with the venue, at start-up and on a schedule: the ledger (cash, positions, our orders,
 * our fills) against Kraken (balances, open orders, trades). Every difference goes to the audit log
 * (ledger operation `reconcile`, once per distinct finding), is kept for `tollgate status`, and is handled
 * by its policy: `adopt` (missing fill → booked; balance → the venue's figure; unknown order → recorded and
 * followed like ours), `flag` (recorded only), `halt` (the bot must stop trading: the result says so).
 */
import type { Fill } from '../domain/types.ts';
import { fillFromTrade } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { AccountSnapshot, OrderLedger, OrderStore, VenueAccount, VenueOrders } from '../ports/orders.ts';
import type { HoldingsStore } from '../ports/ledger.ts';
import { classifyHoldings, externalChanges, reconcile, type Difference, type ExternalChange, type HoldingSplit, type ReconcilePolicies } from './reconcile.ts';
import { Dec } from '../domain/money.ts';

export interface ReconcileResult {
  readonly ts: number;
  readonly differences: readonly Difference[];
  readonly halted: boolean;
  readonly adopted: number;
  /** external holdings recorded by this run (captured, or moved since the last one); never differences */
  readonly external: readonly { readonly asset: string; readonly before: string | null; readonly after: string; readonly detail: string }[];
}

export async function runReconciliation(d: ReconcileDeps): Promise<ReconcileResult> {
  // fills the ledger missed explain cash and position differences: book them first, then compare again
  const first = await compareOnce(d);
  const missing = first.differences.filter((x) => x.kind === 'missing_fill' && x.policy === 'adopt');
  if (!missing.length) return settle(d, first, 0);
  for (const x of missing) adoptFill(d, first, x);
  const second = await compareOnce(d);
  return settle(d, second, missing.length, missing);
}

export interface ReconcileDeps {
  /** what the venue's account holds */
  readonly account: VenueAccount;
  readonly store: OrderStore;
  readonly ledger: OrderLedger;
  /** the live venue: an adopted unknown order is followed like ours */
  readonly venue: Pick<VenueOrders, 'recover'>;
  readonly pairs: readonly string[];
  readonly policies: ReconcilePolicies;
  readonly clock: Clock;
  /**
   * where external holdings are recorded: the venue's balance above the bot's positions is captured as
   * external (origin external, not managed) and never called a phantom. Without it, a surplus is only ignored.
   */
  readonly holdings?: HoldingsStore;
}

interface Compared {
  readonly differences: Difference[];
  readonly snapshot: AccountSnapshot;
  /** each followed asset's venue balance split into bot positions and external holdings */
  readonly splits: readonly HoldingSplit[];
}

async function compareOnce(d: ReconcileDeps): Promise<Compared> {
  const { store, ledger } = d;
  const state = ledger.load();
  const held = new Map<string, Dec>();
  for (const p of state.positions.values()) {
    const base = p.pair.split('/')[0]!;
    held.set(base, (held.get(base) ?? new Dec(0)).plus(p.quantity));
  }
  const ourOrders = new Set(store.orderIntentsWithStatus().map((r) => r.clientOrderId));
  const fills = store.fillIds();
  // the venue: exact balances by common code, open orders and trades with their client order ids (src/adapters/kraken/account.ts)
  const snapshot = await d.account.snapshot(d.pairs);
  const external = d.holdings ? new Map(d.holdings.externalHoldings().map((h) => [h.asset, new Dec(h.quantity)])) : undefined;
  const tracked = new Set(d.pairs.map((p) => p.split('/')[0]!));
  const side = { cash: state.cash, held, ourOrders, fills, ...(external ? { external, tracked } : {}) };
  const differences = reconcile(
    side,
    {
      balances: snapshot.balances,
      openOrders: snapshot.openOrders.map((o) => ({ id: o.venueOrderId, clientOrderId: o.clientOrderId, pair: o.pair, side: o.side, amount: o.amount.toFixed() })),
      trades: snapshot.trades.map((t) => ({ id: t.id, clientOrderId: t.clientOrderId, orderId: t.venueOrderId })),
    },
    d.policies,
  );
  return { differences, snapshot, splits: external ? classifyHoldings(side, snapshot.balances) : [] };
}

function record(d: ReconcileDeps, x: Difference): void {
  // the same finding is recorded once, however often reconciliation runs while it lasts
  d.ledger.recordReconciliation({ kind: x.kind, detail: x.detail, policy: x.policy }, { actor: 'reconcile', key: `reconcile:${x.kind}:${x.policy}:${x.subject}:${x.detail}` });
}

function adoptFill(d: ReconcileDeps, c: Compared, x: Difference): void {
  record(d, x);
  const t = c.snapshot.trades.find((y) => y.id === x.subject)!;
  const intent = d.store.orderIntentByClientId(t.clientOrderId!)!;
  const f: Fill = fillFromTrade(t, { ...intent, side: intent.side as Fill['side'], purpose: intent.purpose as Fill['purpose'] }, d.clock.now());
  d.ledger.applyFill(f, 'reconciled', { actor: 'reconcile' });
}

async function settle(d: ReconcileDeps, c: Compared, adoptedFills: number, earlier: readonly Difference[] = []): Promise<ReconcileResult> {
  const { store, ledger } = d;
  let halted = false;
  let adopted = adoptedFills;
  for (const x of c.differences) {
    if (x.kind === 'missing_fill' && x.policy === 'adopt') continue; // booked in the first pass
    record(d, x);
    if (x.policy === 'halt') halted = true;
    if (x.policy !== 'adopt') continue;
    if (x.kind === 'balance_mismatch') {
      ledger.setCash({ currency: x.subject, amount: c.snapshot.balances.get(x.subject)!.toFixed() }, { actor: 'reconcile', reason: `reconcile: adopt the venue's balance (${x.detail})`, key: `reconcile-adopt:${x.subject}:${x.detail}` });
      adopted++;
    } else if (x.kind === 'unknown_order') {
      // followed like ours from now on: an operator order whose fills land in an operator position
      const o = c.snapshot.openOrders.find((y) => y.venueOrderId === x.subject)!;
      const now = d.clock.now();
      const intent = {
        id: `adopted:${o.venueOrderId}`, signalId: `operator-${o.venueOrderId}`, clientOrderId: o.clientOrderId ?? o.venueOrderId, pair: o.pair, side: o.side, type: 'limit' as const,
        quantity: o.amount, purpose: 'entry' as const, tsEvent: now, tsInit: now,
      };
      store.saveOrderIntent({ ...intent, quantity: intent.quantity.toFixed(), limitPrice: null, exitReason: null, deadlineTs: null });
      await d.venue.recover(intent, now - 86_400_000, o.venueOrderId);
      adopted++;
    }
  }
  const external = externalChanges(c.splits).map((x) => recordExternal(d, x));
  const result: ReconcileResult = { ts: d.clock.now(), differences: [...earlier, ...c.differences], halted, adopted, external };
  store.setGuardState('reconciliation', result, result.ts);
  return result;
}

/** the venue's balance above the bot's positions: the operator's own coins, recorded as such (and once in the audit log) */
function recordExternal(d: ReconcileDeps, x: ExternalChange) {
  const now = d.clock.now();
  d.holdings!.putExternalHolding({ asset: x.asset, quantity: x.after.toFixed(), origin: 'external', managed: false, updatedTs: now, detail: `reconciliation: ${x.detail}` });
  d.ledger.recordReconciliation({ kind: 'external_holding', detail: x.detail, policy: 'record' }, { actor: 'reconcile', key: `reconcile:external_holding:${x.asset}:${now}:${x.detail}` });
  return { asset: x.asset, before: x.before?.toFixed() ?? null, after: x.after.toFixed(), detail: x.detail };
}
