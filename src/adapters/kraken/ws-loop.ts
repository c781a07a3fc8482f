/**
 * One websocket watch loop (ccxt.pro's `watch*` calls resolve once per message batch): each batch goes to
 * `onMessage`; a retryable or ambiguous failure (socket closed, stalled, refused connection) is said once
 * plainly and the watch is retried after a backoff; a failure retrying cannot fix ends the loop with an
 * error line. The REST path (named in `fallback`) carries on meanwhile, so a socket is only ever a speed-up.
 * The loop ends when `running()` turns false; `Sleeper.wakeAll()` cuts a backoff wait short at a stop.
 */
import { classifyVenueError } from './errors.ts';

/** a wait as the logs write it: `20 ms`, `0.9 s`, `8 s`, `60 s` */
export function seconds(ms: number): string {
  if (ms < 100) return `${Math.round(ms)} ms`;
  if (ms >= 10_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 100) / 10} s`;
}

export type WatchLogLevel = 'info' | 'warn' | 'error';

/** Scheduling, injectable so tests drive it. `set` returns a handle for `clear`. */
export interface WatchTimer {
  set(fn: () => unknown, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Waits on a timer; every wait can be cut short at once (a stop). */
export class Sleeper {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly timer: WatchTimer) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let handle: unknown = null;
      const wake = () => {
        this.timer.clear(handle);
        this.waiting.delete(wake);
        resolve();
      };
      handle = this.timer.set(wake, ms);
      this.waiting.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}

export interface WatchLoopOptions<T> {
  /** what is watched, for the log: `BTC/USD candles websocket` */
  readonly what: string;
  /** what keeps working while the socket is down: `REST polling carries on` */
  readonly fallback: string;
  readonly next: () => Promise<T>;
  readonly onMessage: (m: T) => void;
  readonly running: () => boolean;
  /** wait before attempt n (1, 2, …) */
  readonly backoffMs: (attempt: number) => number;
  readonly sleeper: Sleeper;
  readonly log: (level: WatchLogLevel, message: string) => void;
  /** how a wait is written in the log */
  readonly duration: (ms: number) => string;
  /** the short cause of a failure (`NetworkError`, `ECONNREFUSED`, …) */
  readonly cause: (c: ReturnType<typeof classifyVenueError>) => string;
}

export async function watchLoop<T>(o: WatchLoopOptions<T>): Promise<void> {
  let failures = 0;
  while (o.running()) {
    try {
      const m = await o.next();
      if (!o.running()) return;
      o.onMessage(m);
      if (failures > 0) o.log('info', `${o.what} is back after ${failures} failed attempt${failures === 1 ? '' : 's'}`);
      failures = 0;
    } catch (e) {
      if (!o.running()) return;
      const c = classifyVenueError(e);
      if (c.kind !== 'retryable' && c.kind !== 'ambiguous') {
        o.log('error', `${o.what} refused (${o.cause(c)}: ${c.message}); ${o.fallback} without it`);
        return;
      }
      failures++;
      const delay = o.backoffMs(failures);
      o.log('warn', `${o.what} lost (${o.cause(c)}); ${o.fallback}; reconnecting in ${o.duration(delay)}`);
      await o.sleeper.sleep(delay);
    }
  }
}
