/** Deterministic identifiers: the same data and config always give the same ids (replay determinism,
 * and idempotent client order ids derived from the signal). */

/** FNV-1a 64-bit, hex. Not cryptographic; used to shorten ids to Kraken's cl_ord_id limit. The 64-bit
 * state is kept as two 32-bit halves in doubles (every intermediate stays below 2^53, so it is exact):
 * the same digits as BigInt arithmetic, without a BigInt per character. */
export function fnv1a64(text: string): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0; // a UTF-16 code unit touches the low half only
    // × 0x100000001b3 = × 0x1b3 plus a shift left by 40 (the low half's bits move into the high half, × 2^8)
    const low = lo * 0x1b3;
    const carry = Math.floor(low / 0x100000000);
    hi = (hi * 0x1b3 + carry + ((lo * 0x100) % 0x100000000)) % 0x100000000;
    lo = low % 0x100000000;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** `ema_cross-BTCUSD-1381093200`: strategy, pair without slash, event time in unix seconds. */
export function signalId(strategy: string, pair: string, tsMs: number): string {
  return `${strategy}-${pair.replace('/', '')}-${Math.floor(tsMs / 1000)}`;
}

/** Kraken `cl_ord_id` accepts ASCII text of at most 18 characters: `tg` + 16 hex of the signal id and purpose. */
export function clientOrderId(signalId: string, purpose: 'entry' | 'exit', attempt = 0): string {
  return 'tg' + fnv1a64(`${signalId}|${purpose}|${attempt}`);
}
