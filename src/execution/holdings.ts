/**
 * Bot-managed positions and external holdings (issue 16): what the venue holds of an asset is split into
 * the bot's own positions (the ledger; exits size from them, guards count them) and external holdings (the
 * venue's balance above them, captured by reconciliation as `origin: external, managed: false`; never sold
 * by an exit, never in the bot's equity or exposure).
 *
 *   manage PAIR QTY [price]  adopts QTY of the external holdings into a new bot position `managed-<PAIR>-<id>`
 *                            at the given price or the pair's current mark (the result says which), through
 *                            the ledger's audited `import` operation: cash is unchanged, the audit row names
 *                            who, when and what; the external record goes down by QTY in the same transaction.
 *   unmanage PAIR QTY        releases QTY of the bot's operator-managed positions of PAIR (not those a strategy
 *                            signal follows: their exit would sell them) back to external holdings, through the
 *                            ledger's audited `release` operation.
 *
 * Both refuse, changing nothing, when the quantity is not there. A repeat of an idempotency key changes
 * nothing and answers the first result.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import type { Clock } from '../ports/clock.ts';
import type { ExternalHoldingRow, HoldingsStore, LedgerStore } from '../ports/ledger.ts';
import type { HoldingsLedger } from '../ports/orders.ts';

/** A command refused: the quantity is not there, bad input, or the ledger cannot book it. Nothing changed. */
export class HoldingsError extends Error {}

export interface HoldingsCaller {
  readonly actor: string;
  readonly idempotencyKey?: string;
}

export interface ManageCommand {
  readonly pair: string;
  readonly quantity: string;
  /** the entry price of the adopted quantity; default: the pair's current mark */
  readonly price?: string;
  readonly reason?: string;
}

export interface UnmanageCommand {
  readonly pair: string;
  readonly quantity: string;
  /** release from this position only (default: the pair's operator-managed positions, newest first) */
  readonly positionId?: string;
  readonly reason?: string;
}

export interface HoldingsResult {
  readonly command: 'manage' | 'unmanage';
  readonly repeated: boolean;
  /** the audit rows the command wrote (the first answer's, on a repeat) */
  readonly seq: number;
  readonly pair: string;
  readonly asset: string;
  readonly quantity: string;
  /** manage: the adopted quantity's entry price and where it came from */
  readonly price?: string;
  readonly priceSource?: string;
  /** the bot positions written */
  readonly positions: readonly string[];
  /** external holdings of the asset after the command */
  readonly external: string;
}

export interface ManagedPositionView {
  readonly positionId: string;
  readonly pair: string;
  readonly quantity: string;
  readonly origin: 'bot' | 'adopted' | 'operator';
  readonly managed: true;
  readonly signalId: string | null;
}

export interface HoldingsView {
  /** the bot's positions: what exits sell and guards count */
  readonly managed: readonly ManagedPositionView[];
  /** the venue's balances above them: never sold by the bot, not its risk budget */
  readonly external: ReadonlyArray<ExternalHoldingRow & { readonly updatedAt: string }>;
}

const DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/;
const PAIR = /^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/;

function quantityOf(v: string, what: string): Dec {
  if (!DECIMAL.test(v)) throw new HoldingsError(`${what} "${v}" is not a decimal amount (digits with an optional decimal point, e.g. 0.015)`);
  const q = new Dec(v);
  if (q.isZero()) throw new HoldingsError(`${what} must be greater than 0`);
  return q;
}

function pairOf(p: string): { pair: string; base: string } {
  if (!PAIR.test(p)) throw new HoldingsError(`pair "${p}" is not BASE/QUOTE (e.g. BTC/USD)`);
  return { pair: p, base: p.split('/')[0]! };
}

const MANAGED_PREFIX = 'managed-';

/** what a ledger position is to the holdings split: a strategy's (`bot`), adopted by `manage`, or booked by an operator */
export function originOf(p: { readonly id: string; readonly signalId: string | null }): ManagedPositionView['origin'] {
  return p.signalId !== null ? 'bot' : p.id.startsWith(MANAGED_PREFIX) ? 'adopted' : 'operator';
}

export class HoldingsService {
  /** @param d.store the external holdings and the ledger's store (a repeated unmanage is told by its idempotency keys) */
  constructor(private readonly d: { readonly ledger: HoldingsLedger; readonly store: HoldingsStore & Pick<LedgerStore, 'write'>; readonly clock: Clock }) {}

  view(): HoldingsView {
    const managed = [...this.d.ledger.load().positions.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({ positionId: p.id, pair: p.pair, quantity: p.quantity.toFixed(), origin: originOf(p), managed: true as const, signalId: p.signalId }));
    const external = this.d.store.externalHoldings().map((h) => ({ ...h, updatedAt: isoTime(h.updatedTs) }));
    return { managed, external };
  }

  private external(asset: string): Dec {
    const row = this.d.store.externalHoldings().find((h) => h.asset === asset);
    return new Dec(row?.quantity ?? 0);
  }

  manage(caller: HoldingsCaller, c: ManageCommand): HoldingsResult {
    const { pair, base } = pairOf(c.pair);
    const qty = quantityOf(c.quantity, 'QTY');
    const key = caller.idempotencyKey ?? randomUUID();
    const positionId = `${MANAGED_PREFIX}${pair.replace('/', '')}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
    let price: string;
    let priceSource: string;
    if (c.price !== undefined) {
      quantityOf(c.price, 'PRICE');
      price = c.price;
      priceSource = 'given';
    } else {
      const m = this.d.ledger.load().marks.get(pair);
      if (!m) throw new HoldingsError(`manage ${qty.toFixed()} ${pair}: no mark is stored for ${pair} yet; pass the entry price (--price P)`);
      price = m.price.toFixed();
      priceSource = `the current mark (${isoTime(m.ts)})`;
    }
    return this.d.ledger.batch(() => {
      const r = this.d.ledger.importPortfolio(
        { cash: {}, positions: [{ id: positionId, pair, quantity: qty.toFixed(), entryPrice: price, strategy: 'managed', signalId: null }] },
        { actor: caller.actor, key, reason: `manage: ${qty.toFixed()} ${base} of external holdings adopted into bot position ${positionId} at ${price} (${priceSource})${c.reason ? `: ${c.reason}` : ''}` },
      );
      const result = (external: Dec): HoldingsResult => ({ command: 'manage', repeated: r.repeated, seq: r.seq, pair, asset: base, quantity: qty.toFixed(), price, priceSource, positions: [positionId], external: external.toFixed() });
      const had = this.external(base);
      if (r.repeated) return result(had);
      // checked inside the transaction: a refusal rolls the import (and its audit row) back
      if (qty.gt(had)) throw new HoldingsError(`manage ${qty.toFixed()} ${pair}: the external ${base} holdings are ${had.toFixed()} (as last reconciled with the venue); nothing changed`);
      const left = had.minus(qty);
      this.d.store.putExternalHolding({ asset: base, quantity: left.toFixed(), origin: 'external', managed: false, updatedTs: this.d.clock.now(), detail: `manage by ${caller.actor} (audit ${r.seq}): ${qty.toFixed()} adopted into ${positionId}` });
      return result(left);
    });
  }

  unmanage(caller: HoldingsCaller, c: UnmanageCommand): HoldingsResult {
    const { pair, base } = pairOf(c.pair);
    const qty = quantityOf(c.quantity, 'QTY');
    const key = caller.idempotencyKey ?? randomUUID();
    const first = this.repeatOf(key, pair, base, qty);
    if (first) return first;
    const all = [...this.d.ledger.load().positions.values()].filter((p) => p.pair === pair);
    let from = all.filter((p) => p.signalId === null).sort((a, b) => b.openedTs - a.openedTs || b.id.localeCompare(a.id));
    if (c.positionId !== undefined) {
      const p = all.find((x) => x.id === c.positionId);
      if (!p) throw new HoldingsError(`unmanage: no open ${pair} position ${c.positionId} (see tollgate status)`);
      if (p.signalId !== null) throw new HoldingsError(`unmanage: position ${p.id} is followed by its strategy signal (its exit sells it); only operator-managed positions are released`);
      from = [p];
    }
    const held = from.reduce((s, p) => s.plus(p.quantity), new Dec(0));
    if (qty.gt(held)) {
      throw new HoldingsError(`unmanage ${qty.toFixed()} ${pair}: the bot's operator-managed ${pair} positions hold ${held.toFixed()}${c.positionId ? ` (${c.positionId})` : ''} (positions a strategy signal follows are not released); nothing changed`);
    }
    const release = this.d.ledger.release.bind(this.d.ledger);
    return this.d.ledger.batch(() => {
      let rest = qty;
      const touched: string[] = [];
      let seq = 0;
      let repeated = false;
      for (const p of from) {
        if (rest.isZero()) break;
        const take = Dec.min(rest, p.quantity);
        const r = release({ positionId: p.id, quantity: take.toFixed() }, { actor: caller.actor, key: `${key}:${touched.length}`, reason: `unmanage: ${take.toFixed()} ${base} of bot position ${p.id} released to external holdings${c.reason ? `: ${c.reason}` : ''}` });
        seq = r.seq;
        repeated = r.repeated;
        touched.push(p.id);
        rest = rest.minus(take);
      }
      const had = this.external(base);
      const after = repeated ? had : had.plus(qty);
      if (!repeated) this.d.store.putExternalHolding({ asset: base, quantity: after.toFixed(), origin: 'external', managed: false, updatedTs: this.d.clock.now(), detail: `unmanage by ${caller.actor} (audit ${seq}): ${qty.toFixed()} released from ${touched.join(', ')}` });
      return { command: 'unmanage', repeated, seq, pair, asset: base, quantity: qty.toFixed(), positions: touched, external: after.toFixed() };
    });
  }

  /** A repeated unmanage: the releases its key booked (`KEY:0`, `KEY:1`, …), answered without a change; null when the key is new. */
  private repeatOf(key: string, pair: string, base: string, qty: Dec): HoldingsResult | null {
    const rows = this.d.store.write((tx) => {
      const out: Array<{ seq: number; request: string }> = [];
      for (let seen = tx.idempotency(`${key}:0`); seen; seen = tx.idempotency(`${key}:${out.length}`)) out.push(seen);
      return out;
    });
    if (!rows.length) return null;
    const inputs = rows.map((r) => (JSON.parse(r.request) as { input: { positionId: string; quantity: string } }).input);
    const total = inputs.reduce((s, i) => s.plus(i.quantity), new Dec(0));
    if (!total.eq(qty)) throw new HoldingsError(`idempotency key "${key}" was already used for unmanage of ${total.toFixed()} ${pair}; use a new key`);
    return { command: 'unmanage', repeated: true, seq: rows.at(-1)!.seq, pair, asset: base, quantity: qty.toFixed(), positions: inputs.map((i) => i.positionId), external: this.external(base).toFixed() };
  }
}
