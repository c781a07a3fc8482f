/**
 * Builds ccxt's kraken for Tollgate: the nonce from NonceSource (strictly increasing), the rate limiter
 * on against Kraken (off only against the loopback simulator in tests), a base URL for the simulator
 * (`mode: sim`), and a request timeout. Credentials are passed in, never read here. Every private call goes
 * through one PrivateCallQueue per client (one at a time, order entry first, the nonce taken when it is sent;
 * with the key's nonce window, order entry beside the calls in flight).
 *
 * With `ws` (or a `wsUrl`) it builds ccxt.pro's kraken instead, which extends the REST one (every REST call
 * works as before) and adds `watchOHLCV`, `watchTicker`, … over Kraken's public WebSocket v2; `wsUrl` points
 * that socket elsewhere (the simulator's `sim.wsUrl`). `wsAuthUrl` points Kraken's private WebSocket v2
 * (`watchMyTrades`, `watchOrders`: ccxt keeps the GetWebSocketsToken token on its `private` URL's client and connects
 * to `privateV2`, so both are set) elsewhere (the simulator's `sim.wsAuthUrl`); otherwise they stay Kraken's.
 */
import { Agent } from 'node:http';
import ccxt from 'ccxt';
import type { Clock } from '../../ports/clock.ts';
import { NonceSource } from './nonce.ts';
import { nodeCrypto } from './signing.ts';
import { markQueued, PrivateCallQueue, priorityOf } from './private-queue.ts';

export interface KrakenClientOptions {
  readonly apiKey?: string | undefined;
  readonly secret?: string | undefined;
  /** e.g. http://127.0.0.1:7345 for the simulator; undefined = Kraken */
  readonly baseUrl?: string | undefined;
  /** build ccxt.pro's kraken (websocket market data); implied by `wsUrl` */
  readonly ws?: boolean | undefined;
  /** Kraken's public WebSocket v2 URL, e.g. ws://127.0.0.1:7345/v2 for the simulator; undefined = Kraken's */
  readonly wsUrl?: string | undefined;
  /** Kraken's private WebSocket v2 URL, e.g. ws://127.0.0.1:7345/v2/auth for the simulator; undefined = Kraken's */
  readonly wsAuthUrl?: string | undefined;
  readonly rateLimit?: boolean;
  readonly timeoutMs?: number;
  readonly clock: Clock;
  /** continue above a nonce persisted by an earlier process */
  readonly lastNonce?: number;
  /** keep each nonce (before it is used) so that a restart continues above it */
  readonly persistNonce?: (nonce: number) => void;
  /** order calls in a row before one waiting private read goes (default 4) */
  readonly orderBurst?: number;
  /**
   * the nonce window set on this key at Kraken (nonce units: ms with this client's nonces; default 0, Kraken's
   * default). Given, order calls go beside the calls in flight instead of after them (PrivateCallQueue); it
   * must not exceed the key's real window, or a call overtaken by an order is refused with EAPI:Invalid nonce.
   */
  readonly nonceWindow?: number;
}

export interface KrakenClient {
  /** ccxt's kraken, or ccxt.pro's (a subclass) when websocket was asked for */
  readonly exchange: InstanceType<typeof ccxt.kraken>;
  readonly nonces: NonceSource;
  /** the one-at-a-time order of this key's private calls, order entry first (every private call of `exchange` goes through it) */
  readonly privateCalls: PrivateCallQueue;
}

type Fetch2 = (path: string, api?: unknown, method?: string, params?: Record<string, unknown>, headers?: unknown, body?: unknown, config?: Record<string, unknown>) => Promise<unknown>;

/**
 * Every private REST call of `exchange` through `queue`: ccxt builds and signs a request (taking its nonce) in
 * `fetch2`, so `fetch2` runs only when the call leaves the queue. ccxt's rate limiter (on against Kraken) is
 * waited on before the call joins the queue, never while holding the slot, so an order never waits behind a
 * read that is only sleeping for the limiter; AddOrder and CancelOrder cost 0 there, as on Kraken's counter,
 * and skip it (its queue is first come first served, whatever the cost).
 */
function queuePrivateCalls(exchange: InstanceType<typeof ccxt.kraken>, queue: PrivateCallQueue): void {
  const ex = exchange as unknown as { fetch2: Fetch2; enableRateLimit: boolean; throttle(cost: number): Promise<unknown>; calculateRateLimiterCost(...a: unknown[]): number };
  const fetch2 = ex.fetch2.bind(exchange) as Fetch2;
  const unlimited = (...a: Parameters<Fetch2>) => {
    // fetch2 reads enableRateLimit before its first await: off for this call only
    const limited = ex.enableRateLimit;
    ex.enableRateLimit = false;
    try {
      return fetch2(...a);
    } finally {
      ex.enableRateLimit = limited;
    }
  };
  ex.fetch2 = async (path, api = 'public', method = 'GET', params = {}, headers = undefined, body = undefined, config = {}) => {
    if (api !== 'private') return fetch2(path, api, method, params, headers, body, config);
    if (ex.enableRateLimit) {
      // a call that costs nothing (AddOrder, CancelOrder) does not queue behind reads sleeping in the limiter
      const cost = ex.calculateRateLimiterCost(api, method, path, params, config);
      if (cost > 0) await ex.throttle(cost);
    }
    return queue.run(priorityOf(path), () => unlimited(path, api, method, params, headers, body, config));
  };
  markQueued(exchange, queue);
}

export function krakenClient(o: KrakenClientOptions): KrakenClient {
  for (const [name, url] of [['wsUrl', o.wsUrl], ['wsAuthUrl', o.wsAuthUrl]] as const) {
    if (o.ws === false && url !== undefined) throw new Error(`krakenClient: ${name} was given with ws: false; drop one of them`);
    if (url !== undefined && !/^wss?:\/\/[^/\s]+/.test(url)) throw new Error(`krakenClient: ${name} must be a ws:// or wss:// URL, got "${url}"`);
  }
  const nonces = new NonceSource(o.clock, o.lastNonce ?? 0, o.persistNonce);
  const Kraken = o.ws === true || o.wsUrl !== undefined || o.wsAuthUrl !== undefined ? ccxt.pro.kraken : ccxt.kraken;
  const exchange: InstanceType<typeof ccxt.kraken> = new Kraken({
    apiKey: o.apiKey,
    secret: o.secret,
    enableRateLimit: o.rateLimit ?? o.baseUrl === undefined,
    timeout: o.timeoutMs ?? 10_000,
  });
  exchange.nonce = () => nonces.next();
  nodeCrypto(exchange); // ccxt still signs; its HMAC and hash run in node:crypto (signing.ts)
  const privateCalls = new PrivateCallQueue({ ...(o.orderBurst === undefined ? {} : { orderBurst: o.orderBurst }), nonceWindow: o.nonceWindow ?? 0, nonces });
  queuePrivateCalls(exchange, privateCalls);
  if (o.baseUrl) {
    const api = exchange.urls['api'] as Record<string, string>;
    api['public'] = o.baseUrl;
    api['private'] = o.baseUrl;
  }
  if (o.wsUrl !== undefined || o.wsAuthUrl !== undefined) {
    const api = exchange.urls['api'] as Record<string, unknown>;
    api['ws'] = {
      ...(api['ws'] as Record<string, string>),
      ...(o.wsUrl !== undefined ? { publicV2: o.wsUrl } : {}),
      ...(o.wsAuthUrl !== undefined ? { private: o.wsAuthUrl, privateV2: o.wsAuthUrl } : {}),
    };
    // ccxt connects to a plain ws:// URL only through an http agent of its own (it has none by default);
    // a bare Agent carries no proxy, so REST calls are unchanged
    if (o.wsUrl?.startsWith('ws://') || o.wsAuthUrl?.startsWith('ws://')) exchange.httpAgent = new Agent();
  }
  return { exchange, nonces, privateCalls };
}
