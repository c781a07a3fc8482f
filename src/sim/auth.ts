/**
 * Kraken's private-call authentication: `API-Sign = base64(HMAC-SHA512(base64decode(secret),
 * path + SHA256(nonce + body)))`, a nonce that must increase with every call on a key, and the REST
 * rate counter per key (+1 most calls, +2 history calls, 0 for AddOrder/CancelOrder; decays per second).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';

export const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** true when `s` is non-empty canonical base64 (what Kraken issues as API secrets) */
export function isBase64(s: string): boolean {
  return s.length > 0 && s.length % 4 === 0 && B64.test(s);
}

export function krakenSignature(path: string, nonce: string, body: string, secretB64: string): string {
  const hash = createHash('sha256').update(nonce + body).digest();
  return createHmac('sha512', Buffer.from(secretB64, 'base64')).update(Buffer.concat([Buffer.from(path), hash])).digest('base64');
}

export interface RateLimitOptions {
  /** counter maximum (Starter 15, Intermediate/Pro 20) */
  readonly max: number;
  /** decay per second (Starter 0.33, Intermediate 0.5, Pro 1) */
  readonly decayPerSec: number;
}

/** Kraken's cost of a private REST call on the per-key counter */
export function restCost(method: string): number {
  if (method === 'AddOrder' || method === 'CancelOrder' || method === 'CancelAllOrdersAfter' || method === 'CancelAll') return 0;
  if (method === 'TradesHistory' || method === 'QueryTrades' || method === 'Ledgers' || method === 'QueryLedgers') return 2;
  return 1;
}

export type AuthResult = { ok: true } | { ok: false; error: string };

export class KeyAuth {
  private lastNonce: bigint | null = null;
  /** nonces accepted within the window below the highest one (each usable once) */
  private recent = new Set<bigint>();
  private counter = 0;
  private counterAt = 0;

  constructor(
    readonly apiKey: string,
    private readonly secretB64: string,
    private readonly clock: Clock,
    private rateLimit: RateLimitOptions | null,
    /** Kraken's per-key nonce window: a nonce up to this much below the highest is accepted once (default 0) */
    private readonly nonceWindow = 0n,
  ) {
    if (!isBase64(secretB64)) throw new Error('kraken-sim: the API secret must be base64');
  }

  setRateLimit(r: RateLimitOptions | null): void {
    this.rateLimit = r;
    this.counter = 0;
  }

  /** checks signature and nonce (in Kraken's order); an accepted nonce is consumed */
  verify(path: string, sign: string | undefined, nonce: string | undefined, body: string): AuthResult {
    if (!sign) return { ok: false, error: 'EAPI:Invalid signature' };
    const expected = Buffer.from(krakenSignature(path, nonce ?? '', body, this.secretB64), 'base64');
    const got = Buffer.from(sign, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, error: 'EAPI:Invalid signature' };
    if (nonce === undefined || !/^\d{1,20}$/.test(nonce)) return { ok: false, error: 'EAPI:Invalid nonce' };
    const n = BigInt(nonce);
    if (n > 0xffffffffffffffffn) return { ok: false, error: 'EAPI:Invalid nonce' };
    if (this.lastNonce !== null && n <= this.lastNonce) {
      if (this.nonceWindow === 0n || n <= this.lastNonce - this.nonceWindow || n === this.lastNonce || this.recent.has(n)) return { ok: false, error: 'EAPI:Invalid nonce' };
      this.recent.add(n);
      return { ok: true };
    }
    if (this.nonceWindow > 0n && this.lastNonce !== null) {
      this.recent.add(this.lastNonce);
      for (const r of this.recent) if (r <= n - this.nonceWindow) this.recent.delete(r);
    }
    this.lastNonce = n;
    return { ok: true };
  }

  /** charges the rate counter; an error string when the call would exceed it */
  charge(method: string): string | null {
    if (!this.rateLimit) return null;
    const now = this.clock.now();
    this.counter = Math.max(0, this.counter - ((now - this.counterAt) / 1000) * this.rateLimit.decayPerSec);
    this.counterAt = now;
    const cost = restCost(method);
    if (cost === 0) return null;
    if (this.counter + cost > this.rateLimit.max) return 'EAPI:Rate limit exceeded';
    this.counter += cost;
    return null;
  }

  get rateCounter(): number {
    return this.counter;
  }

  get lastAcceptedNonce(): bigint | null {
    return this.lastNonce;
  }
}
