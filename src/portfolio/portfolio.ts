/**
 * The in-memory portfolio the replay kernel uses. Cash and positions change only through fills, exactly,
 * in Decimal; the money rules are `rules.ts`, shared with the durable SQLite ledger (`ledger.ts`).
 */
import { Dec, decOfNumber } from '../domain/money.ts';
import { heldCost, type ClosedTrade, type ExitReason, type Fill, type Position } from '../domain/types.ts';
import { applyEntry, applyExit, emptyPosition, type PositionState } from './rules.ts';

export interface FillEffect {
  readonly position: Position;
  readonly closed: ClosedTrade | null;
}

export class Portfolio {
  private readonly cash = new Map<string, Dec>();
  private readonly positions = new Map<string, PositionState>();
  private readonly closed: ClosedTrade[] = [];
  private realized = new Dec(0);
  private feesPaid = new Dec(0);
  private fillCount = 0;
  readonly startingBalance: Dec;

  constructor(startingCash: Readonly<Record<string, string>>, private readonly quoteOf: (pair: string) => string) {
    let total = new Dec(0);
    for (const [ccy, amount] of Object.entries(startingCash)) {
      this.cash.set(ccy, new Dec(amount));
      total = total.plus(amount);
    }
    this.startingBalance = total;
  }

  /**
   * A position carried over from the durable ledger at a live restart. Cash is not touched: the portfolio
   * already starts from the ledger's cash, which paid for it.
   */
  adopt(p: PositionState): void {
    if (this.positions.has(p.id)) throw new Error(`position ${p.id} is already held`);
    this.positions.set(p.id, p);
  }

  /** A live restart: the closed trades of the runs before (the guards look back over them). */
  restoreClosed(trades: readonly ClosedTrade[]): void {
    for (const t of trades) {
      this.closed.push(t);
      this.realized = this.realized.plus(t.pnl);
      this.feesPaid = this.feesPaid.plus(t.fees);
    }
  }

  cashOf(currency: string): Dec {
    return this.cash.get(currency) ?? new Dec(0);
  }

  cashBalances(): ReadonlyMap<string, Dec> {
    return this.cash;
  }

  /** Apply one fill. Entry fills open or grow the signal's position; exit fills shrink it and close it at zero. */
  applyFill(fill: Fill, strategy: string): FillEffect {
    const quote = this.quoteOf(fill.pair);
    let p = this.positions.get(fill.signalId);
    let effect;
    if (fill.purpose === 'entry') {
      if (fill.side !== 'buy') throw new Error(`entry fill ${fill.id} must be a buy (spot, long only)`);
      p ??= emptyPosition({ id: fill.signalId, signalId: fill.signalId, strategy, pair: fill.pair, quote, openedTs: fill.tsEvent });
      effect = applyEntry(p, fill.quantity, fill.price, fill.fee);
    } else {
      if (!p) throw new Error(`exit fill ${fill.id} for signal ${fill.signalId} without an open position`);
      effect = applyExit(p, fill.quantity, fill.price, fill.fee, fill.tsEvent, `exit fill ${fill.id}`);
    }
    this.cash.set(quote, this.cashOf(quote).plus(effect.cashDelta));
    this.feesPaid = this.feesPaid.plus(fill.fee);
    this.fillCount++;
    if (effect.closed) {
      this.closed.push(effect.closed);
      this.realized = this.realized.plus(effect.closed.pnl);
      this.positions.delete(fill.signalId);
    } else {
      this.positions.set(fill.signalId, effect.position);
    }
    return { position: toPosition(effect.position), closed: effect.closed };
  }

  markExiting(signalId: string, reason: ExitReason): void {
    const p = this.positions.get(signalId);
    if (p) this.positions.set(signalId, { ...p, exitReason: reason });
  }

  position(signalId: string): Position | undefined {
    const p = this.positions.get(signalId);
    return p ? toPosition(p) : undefined;
  }

  openPositions(): Position[] {
    return [...this.positions.values()].map(toPosition);
  }

  get openCount(): number {
    return this.positions.size;
  }

  /** closed trades, in close order */
  get closedTrades(): readonly ClosedTrade[] {
    return this.closed;
  }

  get realizedPnl(): Dec {
    return this.realized;
  }

  get fees(): Dec {
    return this.feesPaid;
  }

  get fills(): number {
    return this.fillCount;
  }

  /** Cash plus open positions marked at `markPrice(pair)`. */
  equity(markPrice: (pair: string) => number | null): Dec {
    let eq = new Dec(0);
    for (const c of this.cash.values()) eq = eq.plus(c);
    for (const p of this.positions.values()) {
      const m = markPrice(p.pair);
      eq = eq.plus(m === null ? heldCost(toPosition(p)) : p.quantity.mul(decOfNumber(m)));
    }
    return eq;
  }

}

function toPosition(p: PositionState): Position {
  return {
    signalId: p.signalId ?? p.id, strategy: p.strategy, pair: p.pair, quantity: p.quantity,
    entryCost: p.entryCost, entryQuantity: p.entryQuantity, entryFees: p.entryFees,
    exitProceeds: p.exitProceeds, exitQuantity: p.exitQuantity, exitFees: p.exitFees, openedTs: p.openedTs,
  };
}
