/**
 * Builds ccxt's kraken for Tollgate: the nonce from NonceSource (strictly increasing), the rate limiter
 * on against Kraken (off only against the loopback simulator in tests), a base URL for the simulator
 * (`mode: sim`), and a request timeout. Credentials are passed in, never read here.
 */
import ccxt from 'ccxt';
import type { Clock } from '../../ports/clock.ts';
import { NonceSource } from './nonce.ts';

export interface KrakenClientOptions {
  readonly apiKey?: string | undefined;
  readonly secret?: string | undefined;
  /** e.g. http://127.0.0.1:7345 for the simulator; undefined = Kraken */
  readonly baseUrl?: string | undefined;
  readonly rateLimit?: boolean;
  readonly timeoutMs?: number;
  readonly clock: Clock;
  /** continue above a nonce persisted by an earlier process */
  readonly lastNonce?: number;
  /** keep each nonce (before it is used) so that a restart continues above it */
  readonly persistNonce?: (nonce: number) => void;
}

export interface KrakenClient {
  readonly exchange: InstanceType<typeof ccxt.kraken>;
  readonly nonces: NonceSource;
}

export function krakenClient(o: KrakenClientOptions): KrakenClient {
  const nonces = new NonceSource(o.clock, o.lastNonce ?? 0, o.persistNonce);
  const exchange = new ccxt.kraken({
    apiKey: o.apiKey,
    secret: o.secret,
    enableRateLimit: o.rateLimit ?? o.baseUrl === undefined,
    timeout: o.timeoutMs ?? 10_000,
  });
  exchange.nonce = () => nonces.next();
  if (o.baseUrl) {
    const api = exchange.urls['api'] as Record<string, string>;
    api['public'] = o.baseUrl;
    api['private'] = o.baseUrl;
  }
  return { exchange, nonces };
}
