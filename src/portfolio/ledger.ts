/**
 * The durable portfolio ledger: every change of cash or positions is one operation that, in ONE store
 * transaction, writes the new state, takes the next gapless sequence number, appends an audit row (with the
 * touched state before and after) and remembers its idempotency key with its result. Repeating a key returns
 * the first result and changes nothing. The same operation functions re-apply the audit log to an empty
 * ledger (`verifyAudit`), so what the log says and what the tables hold can be compared line by line.
 *
 * Money rules are `rules.ts` (shared with the in-memory Portfolio); storage is the LedgerStore port.
 */
import { Dec } from '../domain/money.ts';
import { EXIT_REASONS, type ClosedTrade, type ExitReason, type Fill, type MarketMeta } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditRow, FillRow, LedgerStore, LedgerTx, PositionRow, TotalsRow } from '../ports/ledger.ts';
import { applyEntry, applyExit, emptyPosition, LedgerRuleError, type PositionState, type TradeEffect } from './rules.ts';

export { LedgerRuleError } from './rules.ts';

/** The same idempotency key was used before for a different request. */
export class IdempotencyConflictError extends LedgerRuleError {}

export interface OpContext {
  /** idempotency key; a repeat returns the first result. Fills default to `fill:<fill id>`. */
  readonly key?: string;
  /** who asked: `operator:<user>`, `bot`, `import` */
  readonly actor: string;
  readonly reason?: string;
}

export interface LedgerResult {
  readonly seq: number;
  readonly operation: string;
  /** true when this is a repeat of an idempotency key: nothing changed, this is the first result */
  readonly repeated: boolean;
  readonly [k: string]: unknown;
}

export interface TradeInput {
  readonly pair: string;
  /** base quantity, decimal string */
  readonly quantity: string;
  /** price in quote; default: the last stored mark of the pair */
  readonly price?: string;
  readonly fee?: string;
  /** default: the pair's operator position `manual-BTCUSD` */
  readonly positionId?: string;
  /** event time in ms (imports of past trades); default: now */
  readonly ts?: number;
}

export interface ImportPositionInput {
  readonly id?: string;
  readonly pair: string;
  readonly quantity: string;
  readonly entryPrice: string;
  readonly fees?: string;
  readonly openedTs?: number;
  readonly strategy?: string;
  readonly signalId?: string | null;
}

export interface ImportInput {
  /** currency → balance; import sets these balances */
  readonly cash: Readonly<Record<string, string>>;
  /** new positions; an id already in the ledger refuses the import */
  readonly positions: readonly ImportPositionInput[];
}

/** A line of the import validation summary: ledger before, what the file says, ledger after, difference. */
export interface ImportCheck {
  readonly item: string;
  readonly before: string;
  readonly file: string;
  readonly expected: string;
  readonly after: string;
  readonly difference: string;
}

export type Markets = (pair: string) => MarketMeta | undefined;

export function manualPositionId(pair: string): string {
  return `manual-${pair.replace('/', '')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Touched-state tracking: the before/after of every entity an operation writes, for the audit row.

type Snap = { cash: Record<string, string | null>; positions: Record<string, PositionRow | null>; totals: Record<string, TotalsRow | null> };

class Tracked {
  private readonly before: Snap = { cash: {}, positions: {}, totals: {} };
  private readonly written = { cash: new Set<string>(), positions: new Set<string>(), totals: new Set<string>() };
  constructor(readonly tx: LedgerTx, readonly ts: number, readonly markets: Markets) {}

  cash(ccy: string): Dec {
    const v = this.tx.cash(ccy);
    if (!(ccy in this.before.cash)) this.before.cash[ccy] = v ?? null;
    return new Dec(v ?? 0);
  }
  setCash(ccy: string, v: Dec): void {
    this.cash(ccy);
    this.written.cash.add(ccy);
    this.tx.setCash(ccy, v.toFixed());
  }
  position(id: string): PositionState | undefined {
    const row = this.tx.position(id);
    if (!(id in this.before.positions)) this.before.positions[id] = row ?? null;
    return row ? fromRow(row) : undefined;
  }
  putPosition(p: PositionState): void {
    this.position(p.id);
    this.written.positions.add(p.id);
    this.tx.putPosition(toRow(p));
  }
  deletePosition(id: string): void {
    this.position(id);
    this.written.positions.add(id);
    this.tx.deletePosition(id);
  }
  addTotals(ccy: string, realized: Dec, fees: Dec): void {
    const t = this.tx.totals(ccy);
    if (!(ccy in this.before.totals)) this.before.totals[ccy] = t ?? null;
    this.written.totals.add(ccy);
    this.tx.putTotals({ currency: ccy, realized: new Dec(t?.realized ?? 0).plus(realized).toFixed(), fees: new Dec(t?.fees ?? 0).plus(fees).toFixed() });
  }
  meta(pair: string): MarketMeta {
    const m = this.markets(pair);
    if (!m) throw new LedgerRuleError(`unknown pair ${pair}: not in the market metadata`);
    return m;
  }
  /** before/after JSON of the written entities, keys sorted (the audit row's canonical form) */
  beforeAfter(): { before: string; after: string } {
    const b: Snap = { cash: {}, positions: {}, totals: {} };
    const a: Snap = { cash: {}, positions: {}, totals: {} };
    for (const c of [...this.written.cash].sort()) { b.cash[c] = this.before.cash[c] ?? null; a.cash[c] = this.tx.cash(c) ?? null; }
    for (const id of [...this.written.positions].sort()) { b.positions[id] = this.before.positions[id] ?? null; a.positions[id] = this.tx.position(id) ?? null; }
    for (const c of [...this.written.totals].sort()) { b.totals[c] = this.before.totals[c] ?? null; a.totals[c] = this.tx.totals(c) ?? null; }
    return { before: JSON.stringify(b), after: JSON.stringify(a) };
  }
}

export function fromRow(r: PositionRow): PositionState {
  return {
    id: r.id, signalId: r.signalId, strategy: r.strategy, pair: r.pair, quote: r.quote,
    quantity: new Dec(r.quantity), entryCost: new Dec(r.entryCost), entryQuantity: new Dec(r.entryQuantity), entryFees: new Dec(r.entryFees),
    exitProceeds: new Dec(r.exitProceeds), exitQuantity: new Dec(r.exitQuantity), exitFees: new Dec(r.exitFees),
    openedTs: r.openedTs, exitReason: r.exitReason as ExitReason | null,
  };
}

export function toRow(p: PositionState): PositionRow {
  return {
    id: p.id, signalId: p.signalId, strategy: p.strategy, pair: p.pair, quote: p.quote,
    quantity: p.quantity.toFixed(), entryCost: p.entryCost.toFixed(), entryQuantity: p.entryQuantity.toFixed(), entryFees: p.entryFees.toFixed(),
    exitProceeds: p.exitProceeds.toFixed(), exitQuantity: p.exitQuantity.toFixed(), exitFees: p.exitFees.toFixed(),
    openedTs: p.openedTs, exitReason: p.exitReason,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Input validation: exact decimal strings within the pair's decimals.

const DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/;

/** Parses an unsigned decimal string; refuses anything else with a message naming the field. */
export function amount(name: string, v: string | undefined, o: { decimals?: number; decimalsOf?: string; positive?: boolean } = {}): Dec {
  if (v === undefined || !DECIMAL.test(v)) throw new LedgerRuleError(`${name} "${v ?? ''}" is not a decimal amount (digits with an optional decimal point, e.g. 0.015)`);
  const d = new Dec(v);
  if (o.decimals !== undefined && d.decimalPlaces() > o.decimals) {
    throw new LedgerRuleError(`${name} ${v} has ${d.decimalPlaces()} decimals; ${o.decimalsOf ?? 'the limit'} allows ${o.decimals}`);
  }
  if (o.positive && d.isZero()) throw new LedgerRuleError(`${name} must be greater than 0`);
  return d;
}

const CURRENCY = /^[A-Z][A-Z0-9]{1,9}$/;

// ---------------------------------------------------------------------------------------------------------
// The operations. Each takes the tracked transaction and its (JSON-safe) input, and returns its result
// payload. They are the only writers of cash and positions, live and in the audit replay alike.

type Op = (t: Tracked, input: any) => Record<string, unknown>;

function trade(t: Tracked, p: PositionState, effect: TradeEffect, fee: Dec): Record<string, unknown> {
  const quote = p.quote;
  t.setCash(quote, t.cash(quote).plus(effect.cashDelta));
  if (effect.closed) {
    t.deletePosition(p.id);
    t.tx.addClosedTrade({
      seq: t.tx.sequence() + 1, positionId: p.id, signalId: p.signalId, strategy: p.strategy, pair: p.pair,
      quantity: effect.closed.quantity.toFixed(), entryTs: effect.closed.entryTs, entryPrice: effect.closed.entryPrice.toFixed(),
      exitTs: effect.closed.exitTs, exitPrice: effect.closed.exitPrice.toFixed(), exitReason: effect.closed.exitReason,
      fees: effect.closed.fees.toFixed(), pnl: effect.closed.pnl.toFixed(),
    });
  } else {
    t.putPosition(effect.position);
  }
  t.addTotals(quote, effect.closed ? effect.closed.pnl : new Dec(0), fee);
  return {
    positionId: p.id, pair: p.pair,
    quantity: effect.position.quantity.toFixed(),
    cash: { [quote]: t.cash(quote).toFixed() },
    closed: effect.closed ? { pnl: effect.closed.pnl.toFixed(), fees: effect.closed.fees.toFixed(), exitPrice: effect.closed.exitPrice.toFixed(), exitReason: effect.closed.exitReason } : null,
  };
}

function priceOf(t: Tracked, meta: MarketMeta, price: string | undefined): string {
  if (price !== undefined) return price;
  const m = t.tx.mark(meta.pair);
  if (!m) throw new LedgerRuleError(`no price for ${meta.pair}: pass PRICE (no mark is stored for the pair yet)`);
  return m.price;
}

const OPS: Record<string, Op> = {
  fill(t, i: { fill: SerializedFill; strategy: string }) {
    const f = i.fill;
    const meta = t.meta(f.pair);
    const qty = amount('fill quantity', f.quantity, { positive: true });
    const price = amount('fill price', f.price, { positive: true });
    const fee = amount('fill fee', f.fee);
    let p = t.position(f.signalId);
    let effect: TradeEffect;
    if (f.purpose === 'entry') {
      if (f.side !== 'buy') throw new LedgerRuleError(`entry fill ${f.id} must be a buy (spot, long only)`);
      p ??= emptyPosition({ id: f.signalId, signalId: f.signalId, strategy: i.strategy, pair: f.pair, quote: meta.quote, openedTs: f.tsEvent });
      effect = applyEntry(p, qty, price, fee);
    } else {
      if (!p) throw new LedgerRuleError(`exit fill ${f.id} for signal ${f.signalId} without an open position`);
      effect = applyExit(p, qty, price, fee, f.tsEvent, `exit fill ${f.id}`);
    }
    if (!t.tx.addFill(f, t.tx.sequence() + 1)) throw new LedgerRuleError(`fill ${f.id} is already recorded (under another idempotency key)`);
    t.tx.putMark({ pair: f.pair, price: f.price, ts: f.tsEvent });
    return { fillId: f.id, ...trade(t, p, effect, fee) };
  },

  buy(t, i: TradeInput) {
    const meta = t.meta(i.pair);
    const qty = amount('AMOUNT', i.quantity, { decimals: meta.lotDecimals, decimalsOf: `${meta.pair} (lot decimals)`, positive: true });
    const priceStr = priceOf(t, meta, i.price);
    const price = amount('PRICE', priceStr, { decimals: meta.priceDecimals, decimalsOf: `${meta.pair} (price decimals)`, positive: true });
    const fee = amount('fee', i.fee ?? '0', { decimals: meta.costDecimals, decimalsOf: `${meta.quote} (cost decimals of ${meta.pair})` });
    const id = i.positionId ?? manualPositionId(meta.pair);
    const ts = i.ts ?? t.ts;
    let p = t.position(id);
    if (p && p.pair !== meta.pair) throw new LedgerRuleError(`position ${id} is ${p.pair}, not ${meta.pair}`);
    p ??= emptyPosition({ id, signalId: null, strategy: 'manual', pair: meta.pair, quote: meta.quote, openedTs: ts });
    const effect = applyEntry(p, qty, price, fee);
    const cashAfter = t.cash(meta.quote).plus(effect.cashDelta);
    if (cashAfter.isNeg()) {
      throw new LedgerRuleError(`insufficient ${meta.quote} cash: buying ${qty.toFixed()} ${meta.base} at ${price.toFixed()} costs ${effect.cashDelta.neg().toFixed()} ${meta.quote}, cash is ${t.cash(meta.quote).toFixed()}`);
    }
    t.tx.putMark({ pair: meta.pair, price: price.toFixed(), ts });
    return { price: price.toFixed(), ...trade(t, p, effect, fee) };
  },

  sell(t, i: TradeInput) {
    const meta = t.meta(i.pair);
    const qty = amount('AMOUNT', i.quantity, { decimals: meta.lotDecimals, decimalsOf: `${meta.pair} (lot decimals)`, positive: true });
    const id = i.positionId ?? manualPositionId(meta.pair);
    const p = t.position(id);
    if (!p) throw new LedgerRuleError(`no open position ${id} to sell from${i.positionId ? '' : ` (operator sells come from the pair's operator position; pass --position ID to sell from another, see tollgate status)`}`);
    if (p.pair !== meta.pair) throw new LedgerRuleError(`position ${id} is ${p.pair}, not ${meta.pair}`);
    const price = amount('PRICE', priceOf(t, meta, i.price), { decimals: meta.priceDecimals, decimalsOf: `${meta.pair} (price decimals)`, positive: true });
    const fee = amount('fee', i.fee ?? '0', { decimals: meta.costDecimals, decimalsOf: `${meta.quote} (cost decimals of ${meta.pair})` });
    const ts = i.ts ?? t.ts;
    const effect = applyExit(p.exitReason ? p : { ...p, exitReason: 'operator' }, qty, price, fee, ts, `sell of position ${id}`);
    t.tx.putMark({ pair: meta.pair, price: price.toFixed(), ts });
    return { price: price.toFixed(), ...trade(t, p, effect, fee) };
  },

  close(t, i: { positionId: string; price?: string; fee?: string }) {
    const p = t.position(i.positionId);
    if (!p) throw new LedgerRuleError(`no open position ${i.positionId} (see tollgate status)`);
    return OPS.sell!(t, { pair: p.pair, quantity: p.quantity.toFixed(), price: i.price, fee: i.fee, positionId: p.id });
  },

  setcash(t, i: { currency: string; amount: string }) {
    if (!CURRENCY.test(i.currency)) throw new LedgerRuleError(`currency "${i.currency}" is not a currency code (e.g. USD, EUR)`);
    const v = amount('AMOUNT', i.amount, { decimals: 10 });
    const before = t.cash(i.currency);
    t.setCash(i.currency, v);
    return { currency: i.currency, before: before.toFixed(), after: v.toFixed() };
  },

  /** An operator control (pause, resume, guard mode switch): recorded in the audit log with its caller, state unchanged. */
  control(_t, i: { command: string; detail: Record<string, unknown> }) {
    if (!i.command) throw new LedgerRuleError('a control record needs a command');
    return { command: i.command, ...i.detail };
  },

  /** A reconciliation finding: recorded in the audit log (sequence, time, what differed), state unchanged. */
  reconcile(_t, i: { kind: string; detail: string; policy: string }) {
    if (!i.kind || !i.detail) throw new LedgerRuleError('a reconciliation record needs a kind and a detail');
    return { kind: i.kind, policy: i.policy };
  },

  /**
   * Bot quantity released to external holdings (`tollgate unmanage`): no cash moves and no trade closes. What
   * stays keeps its average entry price: entry quantity, cost and fees shrink in proportion.
   */
  release(t, i: { positionId: string; quantity: string }) {
    const p = t.position(i.positionId);
    if (!p) throw new LedgerRuleError(`no open position ${i.positionId} (see tollgate status)`);
    const meta = t.meta(p.pair);
    const qty = amount('QTY', i.quantity, { decimals: meta.lotDecimals, decimalsOf: `${meta.pair} (lot decimals)`, positive: true });
    if (qty.gt(p.quantity)) throw new LedgerRuleError(`position ${p.id} holds ${p.quantity.toFixed()}: cannot release ${qty.toFixed()}`);
    if (!p.exitQuantity.isZero()) throw new LedgerRuleError(`position ${p.id} was partly sold already: close it, or release from another position`);
    if (qty.eq(p.quantity)) {
      t.deletePosition(p.id);
      return { positionId: p.id, pair: p.pair, released: qty.toFixed(), quantity: '0' };
    }
    const keep = p.entryQuantity.minus(qty);
    const scale = (v: Dec) => v.mul(keep).div(p.entryQuantity);
    t.putPosition({ ...p, quantity: p.quantity.minus(qty), entryQuantity: keep, entryCost: scale(p.entryCost), entryFees: scale(p.entryFees) });
    return { positionId: p.id, pair: p.pair, released: qty.toFixed(), quantity: p.quantity.minus(qty).toFixed() };
  },

  mark_exiting(t, i: { positionId: string; reason: ExitReason }) {
    if (!(EXIT_REASONS as readonly string[]).includes(i.reason)) throw new LedgerRuleError(`exit reason "${i.reason}" is not one of ${EXIT_REASONS.join(', ')}`);
    const p = t.position(i.positionId);
    if (!p) throw new LedgerRuleError(`no open position ${i.positionId}`);
    t.putPosition({ ...p, exitReason: i.reason });
    return { positionId: p.id, exitReason: i.reason };
  },

  import(t, i: ImportInput) {
    const cashBefore = new Map<string, Dec>();
    const qtyBefore = new Map<string, Dec>();
    const qtyFile = new Map<string, Dec>();
    for (const [ccy, v] of Object.entries(i.cash)) {
      if (!CURRENCY.test(ccy)) throw new LedgerRuleError(`currency "${ccy}" is not a currency code (e.g. USD, EUR)`);
      cashBefore.set(ccy, t.cash(ccy));
      t.setCash(ccy, amount(`cash ${ccy}`, v, { decimals: 10 }));
    }
    const ids = new Set<string>();
    for (const [n, r] of i.positions.entries()) {
      const meta = t.meta(r.pair);
      const what = `position ${n + 1} (${r.pair})`;
      const qty = amount(`${what} quantity`, r.quantity, { decimals: meta.lotDecimals, decimalsOf: `${meta.pair} (lot decimals)`, positive: true });
      const price = amount(`${what} entry price`, r.entryPrice, { decimals: meta.priceDecimals, decimalsOf: `${meta.pair} (price decimals)`, positive: true });
      const fees = amount(`${what} fees`, r.fees ?? '0', { decimals: meta.costDecimals, decimalsOf: `${meta.quote} (cost decimals)` });
      const id = r.id ?? `import-${meta.pair.replace('/', '')}-${n + 1}`;
      if (ids.has(id)) throw new LedgerRuleError(`${what}: id ${id} appears twice in the file`);
      ids.add(id);
      if (t.position(id)) throw new LedgerRuleError(`${what}: position ${id} already exists in the ledger`);
      if (!qtyBefore.has(meta.pair)) qtyBefore.set(meta.pair, pairQuantity(t, meta.pair));
      qtyFile.set(meta.pair, (qtyFile.get(meta.pair) ?? new Dec(0)).plus(qty));
      const p = emptyPosition({ id, signalId: r.signalId ?? null, strategy: r.strategy ?? 'import', pair: meta.pair, quote: meta.quote, openedTs: r.openedTs ?? t.ts });
      t.putPosition(applyEntry(p, qty, price, fees).position);
    }
    // The validation summary, computed from the written state: after − (expected) must be 0 everywhere.
    const checks: ImportCheck[] = [];
    for (const [ccy, v] of Object.entries(i.cash)) {
      const after = new Dec(t.tx.cash(ccy) ?? 0);
      const expected = new Dec(v);
      checks.push({ item: `cash ${ccy}`, before: cashBefore.get(ccy)!.toFixed(), file: expected.toFixed(), expected: expected.toFixed(), after: after.toFixed(), difference: after.minus(expected).toFixed() });
    }
    for (const [pair, q] of qtyFile) {
      const before = qtyBefore.get(pair)!;
      const after = pairQuantity(t, pair);
      const expected = before.plus(q);
      checks.push({ item: `quantity ${pair}`, before: before.toFixed(), file: q.toFixed(), expected: expected.toFixed(), after: after.toFixed(), difference: after.minus(expected).toFixed() });
    }
    const bad = checks.find((c) => !new Dec(c.difference).isZero());
    if (bad) throw new LedgerRuleError(`import refused: ${bad.item} differs by ${bad.difference} after import (expected ${bad.expected}, got ${bad.after})`);
    return { checks, positions: [...ids] };
  },
};

/** Total quantity of `pair` over the positions this transaction has seen plus the stored ones. */
function pairQuantity(t: Tracked, pair: string): Dec {
  let q = new Dec(0);
  for (const id of t.tx.positionIdsOfPair(pair)) q = q.plus(t.position(id)?.quantity ?? 0);
  return q;
}

/** A fill as JSON-safe strings: the audit input of a fill and its stored row. */
export type SerializedFill = FillRow;

export function serializeFill(f: Fill): SerializedFill {
  return {
    id: f.id, orderId: f.orderId, signalId: f.signalId, pair: f.pair, side: f.side,
    quantity: f.quantity.toFixed(), price: f.price.toFixed(), fee: f.fee.toFixed(),
    liquidity: f.liquidity, purpose: f.purpose, tsEvent: f.tsEvent, tsInit: f.tsInit,
  };
}

/** Runs one operation inside an open transaction and appends its audit row. */
function runOp(tx: LedgerTx, markets: Markets, operation: string, input: unknown, ts: number, ctx: OpContext): { payload: Record<string, unknown>; audit: AuditRow } {
  const op = OPS[operation];
  if (!op) throw new LedgerRuleError(`unknown ledger operation ${operation}`);
  const t = new Tracked(tx, ts, markets);
  const payload = op(t, input);
  const { before, after } = t.beforeAfter();
  const audit: AuditRow = {
    seq: tx.sequence() + 1, ts, operation, actor: ctx.actor, reason: ctx.reason ?? null,
    idempotencyKey: ctx.key ?? null, input: JSON.stringify(input), before, after,
  };
  tx.appendAudit(audit);
  return { payload, audit };
}

// ---------------------------------------------------------------------------------------------------------

export class Ledger {
  constructor(private readonly store: LedgerStore, private readonly clock: Clock, private readonly markets: Markets) {}

  /** Several operations in one transaction: all of them are committed, or none (imports). */
  batch<T>(fn: () => T): T {
    return this.store.write(() => fn());
  }

  /**
   * @param identity what makes two requests the same operation (default: the whole input). A fill is the
   * same fill whatever time we saw it or which component reported it: only its economic content counts.
   */
  private execute(operation: string, input: unknown, ctx: OpContext, identity: unknown = input): LedgerResult {
    if (ctx.key !== undefined && ctx.key.length === 0) throw new LedgerRuleError('idempotency key must not be empty');
    const request = JSON.stringify({ operation, input: identity });
    return this.store.write((tx) => {
      if (ctx.key !== undefined) {
        const seen = tx.idempotency(ctx.key);
        if (seen) {
          if (seen.request !== request) {
            throw new IdempotencyConflictError(`idempotency key "${ctx.key}" was already used for another request (${seen.operation} at sequence ${seen.seq}); use a new key`);
          }
          return { ...(JSON.parse(seen.result) as LedgerResult), repeated: true };
        }
      }
      const { payload, audit } = runOp(tx, this.markets, operation, input, this.clock.now(), ctx);
      const result: LedgerResult = { seq: audit.seq, operation, repeated: false, ...payload };
      if (ctx.key !== undefined) tx.putIdempotency({ key: ctx.key, seq: audit.seq, operation, request, result: JSON.stringify(result) });
      return result;
    });
  }

  /** A venue fill of a signal's entry or exit. Idempotency key default: `fill:<fill id>`. */
  applyFill(fill: Fill, strategy: string, ctx: Partial<OpContext> = {}): LedgerResult {
    const f = serializeFill(fill);
    const identity = { id: f.id, orderId: f.orderId, signalId: f.signalId, pair: f.pair, side: f.side, purpose: f.purpose, quantity: f.quantity, price: f.price, fee: f.fee };
    return this.execute('fill', { fill: f, strategy }, { actor: ctx.actor ?? 'bot', key: ctx.key ?? `fill:${fill.id}`, reason: ctx.reason }, identity);
  }

  /** Record a reconciliation difference in the audit log (no state change). */
  recordReconciliation(input: { kind: string; detail: string; policy: string }, ctx: OpContext): LedgerResult {
    return this.execute('reconcile', input, ctx);
  }

  /** Record an operator control (pause, resume, guard switch) in the audit log (no ledger change). */
  /** @param sameAs what makes a repeat the same command (default: the whole detail), e.g. without a `from` the first call changed */
  recordControl(command: string, detail: Record<string, unknown>, ctx: OpContext, sameAs: Record<string, unknown> = detail): LedgerResult {
    return this.execute('control', { command, detail }, ctx, { command, detail: sameAs });
  }

  /** Bot quantity released to external holdings (`tollgate unmanage`): the position shrinks, cash does not move. */
  release(input: { positionId: string; quantity: string }, ctx: OpContext): LedgerResult {
    return this.execute('release', input, ctx);
  }

  markExiting(positionId: string, reason: ExitReason, ctx: OpContext): LedgerResult {
    return this.execute('mark_exiting', { positionId, reason }, ctx);
  }

  buy(input: TradeInput, ctx: OpContext): LedgerResult {
    return this.execute('buy', clean(input), ctx);
  }

  sell(input: TradeInput, ctx: OpContext): LedgerResult {
    return this.execute('sell', clean(input), ctx);
  }

  close(input: { positionId: string; price?: string; fee?: string }, ctx: OpContext): LedgerResult {
    return this.execute('close', clean(input), ctx);
  }

  setCash(input: { currency: string; amount: string }, ctx: OpContext): LedgerResult {
    if (!ctx.reason || ctx.reason.trim() === '') throw new LedgerRuleError('setcash needs a reason (--reason TEXT): it is written to the audit log');
    return this.execute('setcash', input, ctx);
  }

  importPortfolio(input: ImportInput, ctx: OpContext): LedgerResult {
    return this.execute('import', input, ctx);
  }

  /** Everything the ledger holds, in domain types (recovery). */
  load(): LoadedLedger {
    return loadLedger(this.store);
  }
}

/** drops undefined fields so that the stored request and the audit input are canonical */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The ledger's state in domain types, for recovery at start-up (`Ledger.load()`). */
export interface LoadedLedger {
  readonly sequence: number;
  readonly updatedAt: number | null;
  readonly cash: ReadonlyMap<string, Dec>;
  /** open positions by id (the signal id for bot positions) */
  readonly positions: ReadonlyMap<string, PositionState>;
  readonly closedTrades: readonly ClosedTrade[];
  readonly realized: ReadonlyMap<string, Dec>;
  readonly fees: ReadonlyMap<string, Dec>;
  readonly marks: ReadonlyMap<string, { price: Dec; ts: number }>;
}

export function loadLedger(store: LedgerStore): LoadedLedger {
  const s = store.snapshot();
  return {
    sequence: s.sequence,
    updatedAt: s.updatedAt,
    cash: new Map(s.cash.map((c) => [c.currency, new Dec(c.amount)])),
    positions: new Map(s.positions.map((r) => [r.id, fromRow(r)])),
    closedTrades: s.closedTrades.map((t) => {
      const pnl = new Dec(t.pnl);
      const entryPrice = new Dec(t.entryPrice);
      const quantity = new Dec(t.quantity);
      const cost = entryPrice.mul(quantity);
      return {
        signalId: t.signalId ?? t.positionId, strategy: t.strategy, pair: t.pair, side: 'buy' as const, quantity,
        entryTs: t.entryTs, entryPrice, exitTs: t.exitTs, exitPrice: new Dec(t.exitPrice), exitReason: t.exitReason as ExitReason,
        fees: new Dec(t.fees), pnl, pnlRatio: cost.isZero() ? 0 : pnl.div(cost).toNumber(),
      };
    }),
    realized: new Map(s.totals.map((t) => [t.currency, new Dec(t.realized)])),
    fees: new Map(s.totals.map((t) => [t.currency, new Dec(t.fees)])),
    marks: new Map(s.marks.map((m) => [m.pair, { price: new Dec(m.price), ts: m.ts }])),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Audit verification: re-apply every audit row, in sequence order, to an empty in-memory ledger.

export interface VerifyReport {
  readonly ok: boolean;
  readonly rows: number;
  readonly sequence: number;
  /** the first mismatch, in words */
  readonly mismatch: string | null;
  readonly mismatchSeq: number | null;
}

export function verifyAudit(store: LedgerStore, markets: Markets, fresh: () => LedgerStore): VerifyReport {
  const replay = fresh();
  const stored = store.snapshot();
  let rows = 0;
  let expectedSeq = 1;
  const fail = (seq: number | null, m: string): VerifyReport => ({ ok: false, rows, sequence: stored.sequence, mismatch: m, mismatchSeq: seq });
  for (const row of store.audit()) {
    if (row.seq !== expectedSeq) return fail(row.seq, `audit row ${row.seq} follows ${expectedSeq - 1}: the sequence has a gap`);
    expectedSeq++;
    rows++;
    let again: AuditRow;
    try {
      again = replay.write((tx) => runOp(tx, markets, row.operation, JSON.parse(row.input), row.ts, { actor: row.actor, reason: row.reason ?? undefined, key: row.idempotencyKey ?? undefined }).audit);
    } catch (e) {
      return fail(row.seq, `audit row ${row.seq} (${row.operation}) cannot be re-applied: ${(e as Error).message}`);
    }
    if (again.before !== row.before) return fail(row.seq, `audit row ${row.seq} (${row.operation}): state before differs\n  log:    ${row.before}\n  replay: ${again.before}`);
    if (again.after !== row.after) return fail(row.seq, `audit row ${row.seq} (${row.operation}): state after differs\n  log:    ${row.after}\n  replay: ${again.after}`);
  }
  const r = replay.snapshot();
  if (r.sequence !== stored.sequence) return fail(null, `stored sequence ${stored.sequence} but the audit log ends at ${r.sequence}`);
  const cmp = (what: string, a: unknown, b: unknown): string | null => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x === y ? null : `${what} differ from the audit replay\n  stored: ${x}\n  replay: ${y}`;
  };
  const m =
    cmp('cash balances', stored.cash, r.cash) ??
    cmp('positions', stored.positions, r.positions) ??
    cmp('realized PnL and fee totals', stored.totals, r.totals) ??
    cmp('closed trades', stored.closedTrades, r.closedTrades);
  return m ? fail(null, m) : { ok: true, rows, sequence: stored.sequence, mismatch: null, mismatchSeq: null };
}
