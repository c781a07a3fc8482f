/** Deterministic identifiers: the same data and config always give the same ids (replay determinism,
 * and idempotent client order ids derived from the signal). */

/** FNV-1a 64-bit, hex. Not cryptographic; used to shorten ids to Kraken's cl_ord_id limit. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** `ema_cross-BTCUSD-1381093200`: strategy, pair without slash, event time in unix seconds. */
export function signalId(strategy: string, pair: string, tsMs: number): string {
  return `${strategy}-${pair.replace('/', '')}-${Math.floor(tsMs / 1000)}`;
}

/** Kraken `cl_ord_id` accepts ASCII text of at most 18 characters: `tg` + 16 hex of the signal id and purpose. */
export function clientOrderId(signalId: string, purpose: 'entry' | 'exit', attempt = 0): string {
  return 'tg' + fnv1a64(`${signalId}|${purpose}|${attempt}`);
}
