/**
 * Reconciliation with the venue, at start-up and on a schedule: the ledger (cash, positions, our orders,
 * our fills) against Kraken (balances, open orders, trades). Every difference goes to the audit log
 * (ledger operation `reconcile`, once per distinct finding), is kept for `tollgate status`, and is handled
 * by its policy: `adopt` (missing fill → booked; balance → the venue's figure; unknown order → recorded and
 * followed like ours), `flag` (recorded only), `halt` (the bot must stop trading: the result says so).
 */
import type { KrakenVenue } from '../adapters/kraken/kraken-venue.ts';
import type { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { Dec } from '../domain/money.ts';
import type { Fill, MarketMeta } from '../domain/types.ts';
import { reconcile, type Difference, type ReconcilePolicies } from '../execution/reconcile.ts';
import { tradableBalances } from '../kraken/assets.ts';
import type { Ledger } from '../portfolio/ledger.ts';
import type { Clock } from '../ports/clock.ts';

/** The ccxt calls reconciliation reads (ccxt's kraken implements them). */
export interface ReconcileApi {
  fetchBalance(): Promise<{ total?: Record<string, number | undefined>; info?: { result?: Record<string, { balance?: string }> } }>;
  fetchOpenOrders(symbol?: string): Promise<Array<{ id: string; clientOrderId?: string; symbol?: string; side?: string; amount?: number; info?: Record<string, any> }>>;
  fetchClosedOrders(symbol?: string): Promise<Array<{ id: string; clientOrderId?: string; info?: Record<string, any> }>>;
  fetchMyTrades(symbol?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<Array<{ id: string; order?: string; timestamp?: number; price: number; amount: number; side?: string; fee?: { cost?: number }; takerOrMaker?: string; info?: Record<string, any> }>>;
}

export interface ReconcileResult {
  readonly ts: number;
  readonly differences: readonly Difference[];
  readonly halted: boolean;
  readonly adopted: number;
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

interface ReconcileDeps {
  readonly api: ReconcileApi;
  readonly store: SqliteStateStore;
  readonly ledger: Ledger;
  readonly venue: KrakenVenue;
  readonly markets: ReadonlyMap<string, MarketMeta>;
  readonly pairs: readonly string[];
  readonly policies: ReconcilePolicies;
  readonly clock: Clock;
}

interface Compared {
  readonly differences: Difference[];
  readonly rawTrades: Map<string, Awaited<ReturnType<ReconcileApi['fetchMyTrades']>>[number]>;
  readonly orderCl: Map<string, string | null>;
  readonly openOrders: Array<{ id: string; clientOrderId: string | null; pair: string; side: string; amount: string }>;
  readonly balances: Map<string, Dec>;
}

async function compareOnce(d: ReconcileDeps): Promise<Compared> {
  const { store, ledger } = d;
  const state = ledger.load();
  const held = new Map<string, Dec>();
  for (const p of state.positions.values()) {
    const base = p.pair.split('/')[0]!;
    held.set(base, (held.get(base) ?? new Dec(0)).plus(p.quantity));
  }
  const intents = store.db.prepare('SELECT client_order_id AS id, signal_id AS signalId FROM order_intents').all() as Array<{ id: string; signalId: string }>;
  const signalOf = new Map(intents.map((r) => [r.id, r.signalId]));
  const fills = new Set(store.db.prepare('SELECT id FROM fills').pluck().all() as string[]);

  // the venue: exact balances from Kraken's own strings when ccxt kept them, by common code (src/kraken/assets.ts:
  // every Kraken asset id; spot and Auto Earn `.F` balances count, staked/earn/on-hold variants do not)
  const bal = await d.api.fetchBalance();
  let balances = tradableBalances(bal.info?.result ?? {});
  if (!balances.size) balances = tradableBalances(bal.total ?? {}, 'common');
  const clOf = (o: { clientOrderId?: string; info?: Record<string, any> }) => o.clientOrderId ?? o.info?.cl_ord_id ?? null;
  const openOrders: Compared['openOrders'] = [];
  const orderCl = new Map<string, string | null>();
  const tradesOut: Array<{ id: string; clientOrderId: string | null; orderId: string }> = [];
  const rawTrades = new Map<string, Awaited<ReturnType<ReconcileApi['fetchMyTrades']>>[number]>();
  for (const pair of d.pairs) {
    for (const o of await d.api.fetchOpenOrders(pair)) {
      orderCl.set(o.id, clOf(o));
      openOrders.push({ id: o.id, clientOrderId: clOf(o), pair, side: o.side ?? '?', amount: String(o.info?.vol ?? o.amount ?? '?') });
    }
    for (const o of await d.api.fetchClosedOrders(pair)) orderCl.set(o.id, clOf(o));
    for (let ofs = 0; ; ofs += 50) {
      const page = await d.api.fetchMyTrades(pair, undefined, undefined, ofs ? { ofs } : {});
      for (const t of page) {
        const orderId = t.order ?? t.info?.ordertxid;
        tradesOut.push({ id: t.id, clientOrderId: orderCl.get(orderId) ?? null, orderId });
        rawTrades.set(t.id, t);
      }
      if (page.length < 50) break;
    }
  }

  const differences = reconcile({ cash: state.cash, held, ourOrders: new Set(signalOf.keys()), fills }, { balances, openOrders, trades: tradesOut }, d.policies);
  return { differences, rawTrades, orderCl, openOrders, balances };
}

function record(d: ReconcileDeps, x: Difference): void {
  // the same finding is recorded once, however often reconciliation runs while it lasts
  d.ledger.recordReconciliation({ kind: x.kind, detail: x.detail, policy: x.policy }, { actor: 'reconcile', key: `reconcile:${x.kind}:${x.policy}:${x.subject}:${x.detail}` });
}

function adoptFill(d: ReconcileDeps, c: Compared, x: Difference): void {
  record(d, x);
  const t = c.rawTrades.get(x.subject)!;
  const cl = c.orderCl.get(t.order ?? t.info?.ordertxid)!;
  const intent = d.store.orderIntentByClientId(cl)!;
  const f: Fill = {
    id: t.id, orderId: cl, signalId: intent.signalId, pair: intent.pair, side: intent.side as Fill['side'],
    quantity: new Dec(String(t.info?.vol ?? t.amount)), price: new Dec(String(t.info?.price ?? t.price)), fee: new Dec(String(t.info?.fee ?? t.fee?.cost ?? 0)),
    liquidity: t.takerOrMaker === 'maker' ? 'maker' : 'taker', purpose: intent.purpose as Fill['purpose'], tsEvent: t.timestamp ?? d.clock.now(), tsInit: d.clock.now(),
  };
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
      ledger.setCash({ currency: x.subject, amount: c.balances.get(x.subject)!.toFixed() }, { actor: 'reconcile', reason: `reconcile: adopt the venue's balance (${x.detail})`, key: `reconcile-adopt:${x.subject}:${x.detail}` });
      adopted++;
    } else if (x.kind === 'unknown_order') {
      // followed like ours from now on: an operator order whose fills land in an operator position
      const o = c.openOrders.find((y) => y.id === x.subject)!;
      const now = d.clock.now();
      const intent = {
        id: `adopted:${o.id}`, signalId: `operator-${o.id}`, clientOrderId: o.clientOrderId ?? o.id, pair: o.pair, side: o.side as 'buy' | 'sell', type: 'limit' as const,
        quantity: new Dec(o.amount), purpose: 'entry' as const, tsEvent: now, tsInit: now,
      };
      store.saveOrderIntent({ ...intent, quantity: intent.quantity.toFixed(), limitPrice: null, exitReason: null, deadlineTs: null });
      await d.venue.recover(intent, now - 86_400_000, o.id);
      adopted++;
    }
  }
  const result: ReconcileResult = { ts: d.clock.now(), differences: [...earlier, ...c.differences], halted, adopted };
  store.setGuardState('reconciliation', result, result.ts);
  return result;
}
