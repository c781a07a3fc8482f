/**
 * The portfolio ledger (in memory for the spine; the durable SQLite ledger of issue 4 replaces the
 * storage, not the rules). Cash and positions change only through fills, exactly, in Decimal.
 */
import { Dec } from '../domain/money.ts';
import { heldCost, type ClosedTrade, type ExitReason, type Fill, type Position } from '../domain/types.ts';

interface MutablePosition {
  signalId: string;
  strategy: string;
  pair: string;
  quote: string;
  quantity: Dec;
  entryCost: Dec;
  entryQuantity: Dec;
  entryFees: Dec;
  exitProceeds: Dec;
  exitQuantity: Dec;
  exitFees: Dec;
  openedTs: number;
  exitReason: ExitReason | null;
}

export interface FillEffect {
  readonly position: Position;
  readonly closed: ClosedTrade | null;
}

export class Portfolio {
  private readonly cash = new Map<string, Dec>();
  private readonly positions = new Map<string, MutablePosition>();
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

  cashOf(currency: string): Dec {
    return this.cash.get(currency) ?? new Dec(0);
  }

  cashBalances(): ReadonlyMap<string, Dec> {
    return this.cash;
  }

  /** Apply one fill. Entry fills open or grow the signal's position; exit fills shrink it and close it at zero. */
  applyFill(fill: Fill, strategy: string): FillEffect {
    const quote = this.quoteOf(fill.pair);
    const notional = fill.quantity.mul(fill.price);
    let p = this.positions.get(fill.signalId);
    if (fill.purpose === 'entry') {
      if (fill.side !== 'buy') throw new Error(`entry fill ${fill.id} must be a buy (spot, long only)`);
      if (!p) {
        p = {
          signalId: fill.signalId, strategy, pair: fill.pair, quote,
          quantity: new Dec(0), entryCost: new Dec(0), entryQuantity: new Dec(0), entryFees: new Dec(0),
          exitProceeds: new Dec(0), exitQuantity: new Dec(0), exitFees: new Dec(0),
          openedTs: fill.tsEvent, exitReason: null,
        };
        this.positions.set(fill.signalId, p);
      }
      this.cash.set(quote, this.cashOf(quote).minus(notional).minus(fill.fee));
      p.quantity = p.quantity.plus(fill.quantity);
      p.entryCost = p.entryCost.plus(notional);
      p.entryQuantity = p.entryQuantity.plus(fill.quantity);
      p.entryFees = p.entryFees.plus(fill.fee);
    } else {
      if (!p) throw new Error(`exit fill ${fill.id} for signal ${fill.signalId} without an open position`);
      if (fill.quantity.gt(p.quantity)) throw new Error(`exit fill ${fill.id} sells ${fill.quantity.toFixed()} > held ${p.quantity.toFixed()}`);
      this.cash.set(quote, this.cashOf(quote).plus(notional).minus(fill.fee));
      p.quantity = p.quantity.minus(fill.quantity);
      p.exitProceeds = p.exitProceeds.plus(notional);
      p.exitQuantity = p.exitQuantity.plus(fill.quantity);
      p.exitFees = p.exitFees.plus(fill.fee);
    }
    this.feesPaid = this.feesPaid.plus(fill.fee);
    this.fillCount++;
    let closed: ClosedTrade | null = null;
    if (fill.purpose === 'exit' && p.quantity.isZero()) {
      const fees = p.entryFees.plus(p.exitFees);
      const pnl = p.exitProceeds.minus(p.entryCost).minus(fees);
      closed = {
        signalId: p.signalId, strategy: p.strategy, pair: p.pair, side: 'buy',
        quantity: p.entryQuantity,
        entryTs: p.openedTs, entryPrice: p.entryCost.div(p.entryQuantity),
        exitTs: fill.tsEvent, exitPrice: p.exitProceeds.div(p.exitQuantity),
        exitReason: p.exitReason ?? 'operator',
        fees, pnl, pnlRatio: pnl.div(p.entryCost).toNumber(),
      };
      this.closed.push(closed);
      this.realized = this.realized.plus(pnl);
      this.positions.delete(p.signalId);
    }
    return { position: { ...p }, closed };
  }

  markExiting(signalId: string, reason: ExitReason): void {
    const p = this.positions.get(signalId);
    if (p) p.exitReason = reason;
  }

  position(signalId: string): Position | undefined {
    const p = this.positions.get(signalId);
    return p ? { ...p } : undefined;
  }

  openPositions(): Position[] {
    return [...this.positions.values()].map((p) => ({ ...p }));
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
      eq = eq.plus(m === null ? heldCost(p) : p.quantity.mul(m));
    }
    return eq;
  }
}
