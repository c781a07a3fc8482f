/** Per-pair market facts the guards read from their snapshot: newest data time, last close, ATR/close. */
import { ATR } from 'trading-signals';
import type { Candle } from '../domain/types.ts';

interface PairContext {
  readonly atr: ATR;
  lastCloseTs: number;
  lastClose: number;
  volatility: number | null;
}

export class MarketContext {
  private readonly pairs = new Map<string, PairContext>();
  constructor(private readonly atrPeriod: number) {}

  onCandle(c: Candle): void {
    let p = this.pairs.get(c.pair);
    if (!p) {
      p = { atr: new ATR(this.atrPeriod), lastCloseTs: 0, lastClose: 0, volatility: null };
      this.pairs.set(c.pair, p);
    }
    const a = p.atr.add({ high: c.high, low: c.low, close: c.close });
    p.lastCloseTs = c.ts + c.intervalMs;
    p.lastClose = c.close;
    p.volatility = a !== null && p.atr.isStable && c.close > 0 ? a / c.close : null;
  }

  lastDataTs(pair: string): number | null {
    return this.pairs.get(pair)?.lastCloseTs ?? null;
  }
  lastClose(pair: string): number | null {
    return this.pairs.get(pair)?.lastClose ?? null;
  }
  volatility(pair: string): number | null {
    return this.pairs.get(pair)?.volatility ?? null;
  }
}
