/** DAILY_LOSS_LIMIT — stop opening trades for the rest of the UTC day once the day's realized loss reaches the limit. */
import { Dec, ZERO } from '../domain/money.ts';
import { utcDayStart } from '../domain/time.ts';
import { allow, block, type GuardDefinition } from './types.ts';

export interface DailyLossLimitParams {
  /** fraction of the day's starting equity, e.g. 0.03 */
  readonly maxLossPct: number | null;
  /** absolute quote amount, e.g. "300" */
  readonly maxLoss: string | null;
}

export const dailyLossLimit: GuardDefinition<DailyLossLimitParams> = {
  code: 'DAILY_LOSS_LIMIT',
  describe: 'halt new entries after the day’s realized loss reaches the limit',
  create: (p) => (_signal, s, now) => {
    const dayStart = utcDayStart(now);
    let pnl = ZERO;
    const trades = s.closedTrades;
    for (let i = trades.length - 1; i >= 0; i--) {
      const t = trades[i]!;
      if (t.exitTs < dayStart) break;
      if (t.exitTs <= now) pnl = pnl.plus(t.pnl);
    }
    if (pnl.gte(ZERO)) return allow;
    const loss = pnl.neg();
    const limits: Dec[] = [];
    if (p.maxLoss !== null) limits.push(new Dec(p.maxLoss));
    if (p.maxLossPct !== null) limits.push(s.dayStartEquity.mul(p.maxLossPct));
    for (const limit of limits) {
      if (loss.gte(limit)) return block('DAILY_LOSS_LIMIT', `realized loss today ${loss.toFixed(2)} ≥ limit ${limit.toFixed(2)} ${s.meta.quote}`);
    }
    return allow;
  },
};
