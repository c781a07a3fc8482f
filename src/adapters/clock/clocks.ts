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

/** Monotonic high-resolution stopwatch for measuring elapsed time (never used for event time). */
export function stopwatch(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e6;
}
