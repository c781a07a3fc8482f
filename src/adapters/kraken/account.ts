/**
 * What the Kraken account holds, read through ccxt for reconciliation (the VenueAccount port): tradable
 * balances from Kraken's own exact strings by common code (src/kraken/assets.ts: every Kraken asset id;
 * spot and Auto Earn `.F` balances count, staked/earn/on-hold variants do not), open orders, and the
 * account's trades with the client order id of their order. Also the one place a ccxt trade becomes a
 * VenueTrade (exact figures from Kraken's strings where ccxt kept them); the venue's fills and
 * reconciliation's adopted fills are both made from it by domain's `fillFromTrade`.
 */
import { Dec } from '../../domain/money.ts';
import type { VenueTrade } from '../../domain/types.ts';
import { tradableBalances } from '../../kraken/assets.ts';
import type { AccountSnapshot, VenueAccount } from '../../ports/orders.ts';

export interface CcxtTrade {
  readonly id: string;
  readonly order?: string | undefined;
  readonly timestamp?: number | undefined;
  readonly price: number;
  readonly amount: number;
  readonly fee?: { cost?: number | undefined } | undefined;
  readonly takerOrMaker?: string | undefined;
  readonly info?: Record<string, any>;
}

interface CcxtOrder {
  readonly id: string;
  readonly clientOrderId?: string | undefined;
  readonly side?: string | undefined;
  readonly amount?: number | undefined;
  readonly info?: Record<string, any>;
}

/** The ccxt calls the account reader makes (ccxt's kraken implements them). */
export interface AccountApi {
  fetchBalance(): Promise<{ total?: Record<string, number | undefined>; info?: { result?: Record<string, { balance?: string }> } }>;
  fetchOpenOrders(symbol?: string): Promise<CcxtOrder[]>;
  fetchClosedOrders(symbol?: string): Promise<CcxtOrder[]>;
  fetchMyTrades(symbol?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<CcxtTrade[]>;
}

/** Kraken's order txid of a trade (ccxt's `order`, else Kraken's `ordertxid`). */
export function venueOrderIdOf(t: CcxtTrade): string {
  return t.order ?? t.info?.ordertxid;
}

/** A ccxt trade in exact figures: Kraken's own decimal strings where ccxt kept them, ccxt's numbers otherwise. */
export function venueTrade(t: CcxtTrade, clientOrderId: string | null): VenueTrade {
  return {
    id: t.id,
    venueOrderId: venueOrderIdOf(t),
    clientOrderId,
    quantity: new Dec(String(t.info?.vol ?? t.amount)),
    price: new Dec(String(t.info?.price ?? t.price)),
    fee: new Dec(String(t.info?.fee ?? t.fee?.cost ?? 0)),
    liquidity: t.takerOrMaker === 'maker' ? 'maker' : 'taker',
    ts: typeof t.timestamp === 'number' && Number.isFinite(t.timestamp) ? t.timestamp : null,
  };
}

const TRADES_PAGE = 50;

export class KrakenAccount implements VenueAccount {
  constructor(private readonly api: AccountApi) {}

  async balances(): Promise<Map<string, Dec>> {
    const bal = await this.api.fetchBalance();
    const exact = tradableBalances(bal.info?.result ?? {});
    return exact.size ? exact : tradableBalances(bal.total ?? {}, 'common');
  }

  async snapshot(pairs: readonly string[]): Promise<AccountSnapshot> {
    const balances = await this.balances();
    const clOf = (o: CcxtOrder) => o.clientOrderId ?? o.info?.cl_ord_id ?? null;
    const openOrders: Array<AccountSnapshot['openOrders'][number]> = [];
    const trades: VenueTrade[] = [];
    for (const pair of pairs) {
      const orderCl = new Map<string, string | null>();
      for (const o of await this.api.fetchOpenOrders(pair)) {
        orderCl.set(o.id, clOf(o));
        openOrders.push({ venueOrderId: o.id, clientOrderId: clOf(o), pair, side: o.side === 'sell' ? 'sell' : 'buy', amount: new Dec(String(o.info?.vol ?? o.amount ?? 0)) });
      }
      for (const o of await this.api.fetchClosedOrders(pair)) orderCl.set(o.id, clOf(o));
      for (let ofs = 0; ; ofs += TRADES_PAGE) {
        const page = await this.api.fetchMyTrades(pair, undefined, undefined, ofs ? { ofs } : {});
        for (const t of page) trades.push(venueTrade(t, orderCl.get(venueOrderIdOf(t)) ?? null));
        if (page.length < TRADES_PAGE) break;
      }
    }
    return { balances, openOrders, trades };
  }
}
