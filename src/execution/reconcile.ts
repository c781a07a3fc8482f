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
  /** external holdings as last recorded, per asset (quantity the bot did not buy); none: nothing recorded yet */
  readonly external?: ReadonlyMap<string, Dec>;
  /** assets whose external holdings are followed even while the bot holds none (the bases of the reconciled pairs) */
  readonly tracked?: ReadonlySet<string>;
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
  for (const h of classifyHoldings(ledger, venue.balances, tolerance)) {
    // what was recorded as external is gone too: externalChanges says so (… → 0)
    if (h.phantom) out.push({ kind: 'phantom_position', policy: policies.phantomPosition, subject: h.asset, detail: `the ledger holds ${h.bot.toFixed()} ${h.asset} but the venue has ${h.venue.toFixed()}` });
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

/** One asset's venue balance split into the bot's positions and external holdings. */
export interface HoldingSplit {
  readonly asset: string;
  /** the venue's total balance of the asset */
  readonly venue: Dec;
  /** what the bot's positions hold (the ledger) */
  readonly bot: Dec;
  /** external holdings as recorded before (null: never recorded) */
  readonly recorded: Dec | null;
  /** external holdings now: the venue's balance above the bot's positions, never negative */
  readonly external: Dec;
  /** the bot's positions hold more than the venue has (beyond the tolerance): a real discrepancy */
  readonly phantom: boolean;
  /** the external figure differs from the recorded one (beyond the tolerance), or is captured for the first time */
  readonly changed: boolean;
}

/**
 * The venue's balance of each asset against the bot's positions plus the recorded external holdings. The
 * bot's own quantity comes first: what the venue holds above it is external (the operator's coins, never a
 * phantom, never sold by an exit); what it holds below it is a phantom, whatever was recorded as external.
 * An external figure that moved (the operator bought, sold or withdrew his own coins) is reported, not halted on.
 */
export function classifyHoldings(ledger: Pick<LedgerSide, 'held' | 'external' | 'tracked'>, balances: ReadonlyMap<string, Dec>, tolerance = new Dec('0')): HoldingSplit[] {
  const assets = new Set<string>([...ledger.held.keys(), ...(ledger.external?.keys() ?? []), ...(ledger.tracked ?? [])]);
  const out: HoldingSplit[] = [];
  for (const asset of [...assets].sort()) {
    const venue = balances.get(asset) ?? new Dec(0);
    const bot = ledger.held.get(asset) ?? new Dec(0);
    const recorded = ledger.external?.get(asset) ?? null;
    const above = venue.minus(bot);
    const external = above.isNeg() ? new Dec(0) : above;
    const phantom = bot.minus(venue).gt(tolerance);
    const changed = recorded === null ? external.gt(0) : external.minus(recorded).abs().gt(tolerance);
    out.push({ asset, venue, bot, recorded, external, phantom, changed });
  }
  return out;
}

/** An external holdings figure to record: captured for the first time, or moved since the last reconciliation. */
export interface ExternalChange {
  readonly asset: string;
  readonly before: Dec | null;
  readonly after: Dec;
  /** one line for the audit log (reconcile kind `external_holding`) and the holdings record */
  readonly detail: string;
}

/**
 * What to record of the external holdings after a comparison. Not a difference: the operator's own coins are
 * bookkeeping, not a discrepancy (nothing to adopt, flag or halt on), so they never count in `differences`.
 */
export function externalChanges(splits: readonly HoldingSplit[]): ExternalChange[] {
  return splits.filter((h) => h.changed).map((h) => ({
    asset: h.asset, before: h.recorded, after: h.external,
    detail: h.recorded === null
      ? `external ${h.asset} holdings captured: ${h.external.toFixed()} (venue ${h.venue.toFixed()}, bot positions ${h.bot.toFixed()}): origin external, not managed`
      : `external ${h.asset} holdings ${h.recorded.toFixed()} → ${h.external.toFixed()} (venue ${h.venue.toFixed()}, bot positions ${h.bot.toFixed()})`,
  }));
}
