/**
 * Reconciliation: what the ledger believes against what the venue says. Pure: both sides are passed in,
 * the differences come out with the action the configured policy asks for. The app applies them
 * (audit log, adoption, halting) — see src/engine/reconciliation.ts.
 */
import { Dec } from '../domain/money.ts';

export type Policy = 'adopt' | 'flag' | 'halt';

export interface ReconcilePolicies {
  /** an open order on the venue that Tollgate did not place (no known client order id) */
  readonly unknownOrder: Policy;
  /** the ledger holds more of an asset than the venue has: a phantom position */
  readonly phantomPosition: Policy;
  /** quote cash differs from the venue's balance */
  readonly balanceMismatch: Policy;
  /** a venue trade of one of our orders that the ledger does not have */
  readonly missingFill: Policy;
}

export const DEFAULT_POLICIES: ReconcilePolicies = { unknownOrder: 'flag', phantomPosition: 'halt', balanceMismatch: 'flag', missingFill: 'adopt' };

export interface LedgerSide {
  /** cash per currency (quote) */
  readonly cash: ReadonlyMap<string, Dec>;
  /** base quantity held per asset, summed over open positions */
  readonly held: ReadonlyMap<string, Dec>;
  /** client order ids Tollgate placed (any state) */
  readonly ourOrders: ReadonlySet<string>;
  /** fill (trade) ids the ledger has */
  readonly fills: ReadonlySet<string>;
}

export interface VenueSide {
  /** total balance per asset (free + held in orders), Kraken's asset codes mapped to ours */
  readonly balances: ReadonlyMap<string, Dec>;
  readonly openOrders: ReadonlyArray<{ readonly id: string; readonly clientOrderId: string | null; readonly pair: string; readonly side: string; readonly amount: string }>;
  /** recent trades of orders with a client order id */
  readonly trades: ReadonlyArray<{ readonly id: string; readonly clientOrderId: string | null; readonly orderId: string }>;
}

export type DifferenceKind = 'unknown_order' | 'phantom_position' | 'balance_mismatch' | 'missing_fill';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly policy: Policy;
  /** one line for the audit log and `tollgate status` */
  readonly detail: string;
  /** what it is about: an order id, an asset, a trade id */
  readonly subject: string;
}

export function reconcile(ledger: LedgerSide, venue: VenueSide, policies: ReconcilePolicies, tolerance = new Dec('0')): Difference[] {
  const out: Difference[] = [];
  for (const o of venue.openOrders) {
    if (o.clientOrderId && ledger.ourOrders.has(o.clientOrderId)) continue;
    out.push({
      kind: 'unknown_order', policy: policies.unknownOrder, subject: o.id,
      detail: `open order ${o.id} (${o.side} ${o.amount} ${o.pair}${o.clientOrderId ? `, cl_ord_id ${o.clientOrderId}` : ''}) was not placed by Tollgate`,
    });
  }
  for (const [asset, qty] of ledger.held) {
    const has = venue.balances.get(asset) ?? new Dec(0);
    if (qty.minus(has).gt(tolerance)) {
      out.push({ kind: 'phantom_position', policy: policies.phantomPosition, subject: asset, detail: `the ledger holds ${qty.toFixed()} ${asset} but the venue has ${has.toFixed()}` });
    }
  }
  for (const [ccy, cash] of ledger.cash) {
    const has = venue.balances.get(ccy);
    if (has === undefined) continue; // the venue does not report this currency at all: nothing to compare
    if (cash.minus(has).abs().gt(tolerance)) {
      out.push({ kind: 'balance_mismatch', policy: policies.balanceMismatch, subject: ccy, detail: `ledger cash ${cash.toFixed()} ${ccy}, venue balance ${has.toFixed()} ${ccy}` });
    }
  }
  for (const t of venue.trades) {
    if (!t.clientOrderId || !ledger.ourOrders.has(t.clientOrderId) || ledger.fills.has(t.id)) continue;
    out.push({ kind: 'missing_fill', policy: policies.missingFill, subject: t.id, detail: `venue trade ${t.id} of our order ${t.clientOrderId} is not in the ledger` });
  }
  return out;
}
