/**
 * The bot's clock in sim mode. A paced Kraken simulator's clock is the data's (it starts at its start candle
 * and runs `pace × interval` times as fast as real time); the bot must read the same time, or every candle
 * looks like history (or like the future). `syncSimClock` reads the simulator's `Time`, starts a ScaledClock
 * there at the given speed, and checks over a second that the simulator really runs at that speed (within
 * 1 %). `SimClockFollower` then re-reads it every few seconds: an offset beyond the readings' uncertainty is
 * corrected (forward at once, backward by standing still), and a simulator whose clock stopped (the end of
 * its data, or pace 0) is reported so the run can end.
 */
import { ScaledClock, stopwatch } from '../adapters/clock/clocks.ts';

export class SimClockError extends Error {}

export interface SimClockOptions {
  /** the simulator's Time endpoint in epoch ms (whole seconds, as Kraken's `unixtime`) */
  readonly fetchTime: () => Promise<number>;
  /** simulated ms per real ms: pace (candles/s) × interval (s); 1 for a simulator on the wall clock */
  readonly speed: number;
  /** real ms between the first and the last readings (default 1,000) */
  readonly probeMs?: number;
  readonly elapsed?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function describeSpeed(speed: number): string {
  if (speed < 0.001) return 'stopped';
  if (Math.abs(speed - 1) < 0.05) return 'real time';
  return `${speed >= 10 ? Math.round(speed).toLocaleString('en-US') : speed.toPrecision(2)}× real time`;
}

interface Reading {
  /** the simulator's time (whole seconds) */
  readonly t: number;
  /** real time in the middle of the request */
  readonly at: number;
  /** the request's round trip, real ms */
  readonly rtt: number;
}

/** the reading of `n` with the shortest round trip: the least uncertain middle */
async function bestReading(fetchTime: () => Promise<number>, elapsed: () => number, n: number): Promise<Reading> {
  let best: Reading | null = null;
  for (let i = 0; i < n; i++) {
    const before = elapsed();
    const t = await fetchTime();
    const after = elapsed();
    const r = { t, at: (before + after) / 2, rtt: after - before };
    if (!best || r.rtt < best.rtt) best = r;
  }
  return best!;
}

/** `unixtime` is whole seconds: the time is somewhere in the next 1,000 ms; take the middle, at real time `now` */
function timeAt(r: Reading, now: number, speed: number): number {
  return r.t + 500 + (now - r.at) * speed;
}

/** how far off a reading can be: half a second of resolution, half the round trip at the clock's speed */
function uncertainty(r: Reading, speed: number): number {
  return 500 + (r.rtt / 2) * speed;
}

export async function syncSimClock(o: SimClockOptions): Promise<ScaledClock> {
  const elapsed = o.elapsed ?? stopwatch();
  const sleep = o.sleep ?? realSleep;
  // the first request opens the connection: its time is not a reading
  await o.fetchTime();
  const first = await bestReading(o.fetchTime, elapsed, 3);
  const clock = new ScaledClock(timeAt(first, elapsed(), o.speed), o.speed, elapsed);
  await sleep(o.probeMs ?? 1_000);
  const second = await bestReading(o.fetchTime, elapsed, 3);
  const real = second.at - first.at;
  const expected = real * o.speed;
  const measured = second.t - first.t;
  const tolerance = Math.max(2_000, 0.01 * expected, uncertainty(first, o.speed) + uncertainty(second, o.speed));
  if (Math.abs(measured - expected) > tolerance) {
    const actual = real > 0 ? measured / real : 0;
    throw new SimClockError(
      `the simulator's clock runs at about ${describeSpeed(actual)} (it advanced ${Math.round(measured / 1000)} s in ${Math.round(real)} ms), ` +
        `but this run expects ${describeSpeed(o.speed)}: ` +
        `give tollgate run the simulator's --pace (candles per second) and the same --interval`,
    );
  }
  return clock;
}

export type SimClockCheck =
  | { readonly state: 'ok'; readonly offsetMs: number }
  | { readonly state: 'adjusted'; readonly offsetMs: number }
  /** the simulator's speed changed (its pace was changed): the clock now runs at `speed` */
  | { readonly state: 'speed'; readonly offsetMs: number; readonly speed: number; readonly was: number }
  | { readonly state: 'stopped'; readonly at: number };

/** Re-reads the simulator's time and keeps the bot's clock on it. */
export class SimClockFollower {
  private prev: Reading | null = null;
  private readonly elapsed: () => number;

  constructor(
    private readonly clock: ScaledClock,
    private readonly fetchTime: () => Promise<number>,
    elapsed?: () => number,
  ) {
    this.elapsed = elapsed ?? stopwatch();
  }

  async check(): Promise<SimClockCheck> {
    const r = await bestReading(this.fetchTime, this.elapsed, 2);
    const prev = this.prev;
    this.prev = r;
    const was = this.clock.speed;
    // stopped: not a second further although more than two seconds of simulated time should have passed
    if (prev && r.t === prev.t && (r.at - prev.at) * was > 2_000) return { state: 'stopped', at: r.t };
    // the simulator's own speed between the two readings: followed when it differs by more than its uncertainty
    let speedChanged = false;
    if (prev && r.at - prev.at >= 500 && r.t > prev.t) {
      const measured = (r.t - prev.t) / (r.at - prev.at);
      const relUncertainty = (uncertainty(prev, measured) + uncertainty(r, measured)) / (r.t - prev.t);
      if (Math.abs(measured - was) / was > Math.max(0.005, 2 * relUncertainty)) {
        this.clock.setSpeed(measured);
        speedChanged = true;
      }
    }
    const speed = this.clock.speed;
    // aim a reading's uncertainty behind the simulator, never ahead: a bot ahead of the venue misreads what
    // has closed and when its orders were placed; one a moment behind only sees the close a moment later
    const offsetMs = timeAt(r, this.elapsed(), speed) - uncertainty(r, speed) - this.clock.now();
    const off = Math.abs(offsetMs) > Math.max(1_000, 2 * uncertainty(r, speed));
    if (off) this.clock.adjust(offsetMs);
    if (speedChanged) return { state: 'speed', offsetMs: off ? offsetMs : 0, speed, was };
    return off ? { state: 'adjusted', offsetMs } : { state: 'ok', offsetMs };
  }
}
