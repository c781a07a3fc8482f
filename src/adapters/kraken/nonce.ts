/**
 * Kraken's nonce must increase with every private call on a key. ccxt's default (Date.now()) repeats
 * under load; this source never does: max(last + 1, now). Calls are also sent one at a time per key, the
 * nonce taken only when a call is sent (PrivateCallQueue, see KrakenClient), so nonces reach Kraken in order.
 */
import type { Clock } from '../../ports/clock.ts';

export class NonceSource {
  private last = 0;
  /**
   * @param start a nonce an earlier process used (persisted): every nonce handed out is above it
   * @param persist called with each nonce before it is used (the state keeps the last one across restarts)
   */
  constructor(private readonly clock: Clock, start = 0, private readonly persist?: (nonce: number) => void) {
    this.last = start;
  }
  next(): number {
    this.last = this.peek();
    this.persist?.(this.last);
    return this.last;
  }
  /** the nonce `next()` would hand out now (nothing is taken) */
  peek(): number {
    const now = this.clock.now();
    return now > this.last ? now : this.last + 1;
  }
  /** the last nonce handed out (persist it to survive a restart with a clock that went backwards) */
  get current(): number {
    return this.last;
  }
}
