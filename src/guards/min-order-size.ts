/** MIN_ORDER_SIZE — the sized order, rounded to Kraken's lot decimals, must meet `ordermin` and `costmin`. */
import { minimumViolation } from '../domain/market.ts';
import { allow, block, type GuardDefinition } from './types.ts';

export type MinOrderSizeParams = Record<string, never>;

export const minOrderSize: GuardDefinition<MinOrderSizeParams> = {
  code: 'MIN_ORDER_SIZE',
  describe: 'refuse orders below the exchange minimums after rounding',
  create: () => (signal, s) => {
    const why = minimumViolation(s.meta, s.proposal.quantity, s.proposal.price);
    return why === null ? allow : block('MIN_ORDER_SIZE', `${signal.pair}: ${why}`);
  },
};
