/** Signal validation: what makes a signal invalid (→ failed) before any guard looks at it. */
import type { MarketMeta, Signal } from './types.ts';

export function invalidReason(signal: Signal, meta: MarketMeta | undefined, now: number): string | null {
  if (!signal.id || signal.id.length > 128) return 'signal id missing or longer than 128 characters';
  if (!signal.strategy) return 'strategy missing';
  if (meta === undefined) return `unknown pair ${signal.pair}`;
  if (meta.status !== 'online') return `${signal.pair} is ${meta.status}, not online`;
  if (signal.side !== 'buy') return `side ${signal.side}: spot entries are long only; exits come from the exit rules`;
  if (!Number.isFinite(signal.price) || signal.price <= 0) return `price ${signal.price} is not a positive number`;
  if (!Number.isFinite(signal.confidence) || signal.confidence < 0 || signal.confidence > 1) return `confidence ${signal.confidence} is outside [0, 1]`;
  if (signal.tsEvent > now) return `signal time ${signal.tsEvent} is in the future (now ${now})`;
  return null;
}
