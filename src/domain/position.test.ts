import { describe, expect, it } from 'vitest';
import { dec, ZERO } from './money.ts';
import { closedTradeOf, entryPriceOf, withEntry, withExit, type PositionAmounts } from './position.ts';
import type { Position } from './types.ts';

const empty: PositionAmounts = { quantity: ZERO, entryCost: ZERO, entryQuantity: ZERO, entryFees: ZERO, exitProceeds: ZERO, exitQuantity: ZERO, exitFees: ZERO };
const position = (a: PositionAmounts): Position => ({ ...a, signalId: 's1', strategy: 'x', pair: 'BTC/USD', openedTs: 0 });

describe('position: average prices', () => {
  it('when a position is bought in one fill and sold in one fill then its entry and exit prices are those fills\' prices', () => {
    const bought = withEntry(empty, dec('0.01234567'), dec('43123.4'), dec('0.5'));
    expect(entryPriceOf(bought).toFixed()).toBe('43123.4');
    const sold = withExit(bought, dec('0.01234567'), dec('44000.1'), dec('0.5'));
    const t = closedTradeOf(position(sold), 1, 'take_profit');
    expect(t.entryPrice.toFixed()).toBe('43123.4');
    expect(t.exitPrice.toFixed()).toBe('44000.1');
  });

  it('when fills are many, repeated or too long for exact products then every average equals the decimal division', () => {
    const cases = [
      [['0.5', '100.1'], ['0.25', '100.3'], ['0.125', '99.7']],
      [['3', '1']],
      [['0.00000001', '123456.7']],
      // 25 + 25 digits: the product is rounded to 40 digits, so the price is not exactly cost ÷ quantity
      [['1.234567890123456789012347', '9876543210.987654321098761']],
      [['3.3333333333333333333333333', '7.7777777777777777777777']],
      [['7', '0.1'], ['7', '0.1']],
    ];
    for (const fills of cases) {
      let p = empty;
      for (const [q, px] of fills) p = withEntry(p, dec(q!), dec(px!), ZERO);
      let sold = p;
      for (const [q, px] of fills) sold = withExit(sold, dec(q!), dec(px!).plus('0.3'), ZERO);
      const want = { entry: p.entryCost.div(p.entryQuantity).toFixed(), exit: sold.exitProceeds.div(sold.exitQuantity).toFixed() };
      for (let ask = 0; ask < 2; ask++) {
        expect(entryPriceOf(p).toFixed(), fills.join(' ')).toBe(want.entry);
        const t = closedTradeOf(position(sold), 1, 'max_hold');
        expect({ entry: t.entryPrice.toFixed(), exit: t.exitPrice.toFixed() }, fills.join(' ')).toEqual(want);
      }
    }
  });

  it('when quantity × price is too long to be exact then the entry price is the division, not the fill price', () => {
    const p = withEntry(empty, dec('3.3333333333333333333333333'), dec('7.7777777777777777777777'), ZERO);
    expect(entryPriceOf(p).toFixed()).toBe('7.777777777777777777777700000000000000001');
  });
});
