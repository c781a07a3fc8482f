/**
 * Kraken's private `executions` channel through ccxt.pro (`watchMyTrades`, `watchOrders`) as a trigger:
 * every message means an order of ours changed (filled, partly filled, cancelled, expired), so the caller
 * polls the venue at once. The poll stays the only reader of fills — open orders, then trade history, each
 * fill once by trade id — so a fill is never taken from the socket and again from REST, and a socket that
 * drops loses nothing: the scheduled poll finds what happened. Dropped sockets reconnect with backoff.
 */
import { plainCause, realTimer } from './live-feed.ts';
import { seconds, Sleeper, watchLoop, type WatchLogLevel, type WatchTimer } from './ws-loop.ts';

export interface KrakenExecutionsApi {
  watchMyTrades?(): Promise<unknown>;
  watchOrders?(): Promise<unknown>;
  close?(): Promise<unknown>;
  readonly has?: Record<string, unknown>;
}

export interface ExecutionsWatchOptions {
  readonly exchange: KrakenExecutionsApi;
  readonly onLog?: (level: WatchLogLevel, message: string) => void;
  readonly timer?: WatchTimer;
  /** reconnect delays: base × 2^(attempt-1), at most max (default 1 s, 60 s) */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
}

export class ExecutionsWatch {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly sleeper: Sleeper;

  constructor(private readonly o: ExecutionsWatchOptions) {
    const has = o.exchange.has ?? {};
    if (has['watchMyTrades'] !== true || has['watchOrders'] !== true || typeof o.exchange.watchMyTrades !== 'function' || typeof o.exchange.watchOrders !== 'function') {
      throw new Error("executions: the websocket needs ccxt.pro's kraken (krakenClient with ws: true) and API keys");
    }
    this.sleeper = new Sleeper(o.timer ?? realTimer);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** `onActivity`: an order of ours changed on the venue — poll now */
  start(onActivity: (what: 'trade' | 'order') => void): void {
    if (this.running) return;
    this.running = true;
    const base = this.o.backoff?.baseMs ?? 1_000;
    const max = this.o.backoff?.maxMs ?? 60_000;
    const common = {
      fallback: 'orders are still polled', running: () => this.running, sleeper: this.sleeper,
      backoffMs: (n: number) => Math.min(max, base * 2 ** Math.min(n - 1, 30)),
      log: (l: WatchLogLevel, m: string) => this.o.onLog?.(l, m), duration: seconds, cause: plainCause,
    };
    const ex = this.o.exchange;
    this.loops = [
      watchLoop({ ...common, what: 'executions websocket (trades)', next: () => ex.watchMyTrades!(), onMessage: () => onActivity('trade') }),
      watchLoop({ ...common, what: 'executions websocket (orders)', next: () => ex.watchOrders!(), onMessage: () => onActivity('order') }),
    ];
  }

  /** ends the loops: closes the client's websockets (a pending watch then rejects), market data's too */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wakeAll();
    try {
      await this.o.exchange.close?.();
    } catch {
      // a socket that is already gone
    }
    await Promise.all(this.loops.splice(0));
  }
}
