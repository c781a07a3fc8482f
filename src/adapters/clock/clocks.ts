/** The only place that reads the wall clock (ARCHITECTURE rule 2). */
import type { Clock } from '../../ports/clock.ts';

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/** Replay and test clock: time moves only when told, and never backwards. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t < this.t) throw new Error(`clock cannot go back from ${this.t} to ${t}`);
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Monotonic high-resolution stopwatch for measuring elapsed time (event time only through ScaledClock). */
export function stopwatch(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * A clock that runs `speed` times as fast as real time from `origin` (epoch ms): the Kraken simulator's
 * paced clock, and the bot's clock in sim mode at the same pace. Elapsed time is measured monotonically, so a
 * wall-clock step (NTP) does not move it. `setSpeed` keeps the reading continuous; speed 0 stops it.
 */
export class ScaledClock implements Clock {
  private origin: number;
  private start: number;
  private _speed: number;
  private last = -Infinity;

  constructor(origin: number, speed: number, private readonly elapsed: () => number = stopwatch()) {
    if (!Number.isFinite(origin)) throw new Error(`clock origin must be a time, got ${origin}`);
    ScaledClock.check(speed);
    this.origin = origin;
    this._speed = speed;
    this.start = elapsed();
  }

  private static check(speed: number): void {
    if (!(Number.isFinite(speed) && speed >= 0)) throw new Error(`clock speed must be a number >= 0, got ${speed}`);
  }

  get speed(): number {
    return this._speed;
  }

  /** never goes backwards: after an `adjust` back it stands still until it catches up */
  now(): number {
    const t = Math.floor(this.origin + (this.elapsed() - this.start) * this._speed);
    if (t < this.last) return this.last;
    this.last = t;
    return t;
  }

  /** moves the reading by `deltaMs` (a re-sync); forward at once, backward by standing still meanwhile */
  adjust(deltaMs: number): void {
    if (!Number.isFinite(deltaMs)) throw new Error(`clock adjustment must be a number, got ${deltaMs}`);
    this.origin += deltaMs;
  }

  setSpeed(speed: number): void {
    ScaledClock.check(speed);
    const t = this.origin + (this.elapsed() - this.start) * this._speed;
    this.origin = t;
    this.start = this.elapsed();
    this._speed = speed;
  }

  /** real milliseconds until this clock reads `t` (Infinity while stopped) */
  realMsUntil(t: number): number {
    const d = t - this.now();
    if (d <= 0) return 0;
    return this._speed === 0 ? Infinity : d / this._speed;
  }
}
