/**
 * The bot's clock in sim mode. A paced Kraken simulator's clock is the data's (it starts at its start candle
 * and runs `pace × interval` times as fast as real time); the bot must read the same time, or every candle
 * looks like history (or like the future). `syncSimClock` reads the simulator's `Time`, starts a ScaledClock
 * there at the given speed, and checks on a second reading that the simulator really runs at that speed.
 */
import { ScaledClock, stopwatch } from '../adapters/clock/clocks.ts';

export class SimClockError extends Error {}

export interface SimClockOptions {
  /** the simulator's Time endpoint in epoch ms (whole seconds, as Kraken's `unixtime`) */
  readonly fetchTime: () => Promise<number>;
  /** simulated ms per real ms: pace (candles/s) × interval (s); 1 for a simulator on the wall clock */
  readonly speed: number;
  /** real ms between the two readings (default 300) */
  readonly probeMs?: number;
  readonly elapsed?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describeSpeed(speed: number): string {
  return speed < 1.5 ? 'real time' : `${Math.round(speed).toLocaleString('en-US')}× real time`;
}

export async function syncSimClock(o: SimClockOptions): Promise<ScaledClock> {
  const elapsed = o.elapsed ?? stopwatch();
  const sleep = o.sleep ?? realSleep;
  const probeMs = o.probeMs ?? 300;
  // each reading is placed in the middle of its request
  const read = async (): Promise<{ t: number; at: number }> => {
    const before = elapsed();
    const t = await o.fetchTime();
    return { t, at: (before + elapsed()) / 2 };
  };
  // the first request opens the connection: its time is not the reading's
  await o.fetchTime();
  const first = await read();
  // `unixtime` is whole seconds: the time is somewhere in the next 1,000 ms; start in the middle
  const clock = new ScaledClock(first.t + 500 + (elapsed() - first.at) * o.speed, o.speed, elapsed);
  await sleep(probeMs);
  const second = await read();
  const t1 = first.t;
  const t2 = second.t;
  const real = second.at - first.at;
  const expected = real * o.speed;
  const measured = t2 - t1;
  // ±1 s from the whole-second readings, ±10 % for the request times
  const tolerance = Math.max(2_000, 0.1 * expected);
  if (Math.abs(measured - expected) > tolerance) {
    const actual = real > 0 ? measured / real : 0;
    throw new SimClockError(
      `the simulator's clock runs at about ${describeSpeed(actual)} (it advanced ${Math.round(measured / 1000)} s in ${Math.round(real)} ms), ` +
        `but this run expects ${describeSpeed(o.speed)}: give tollgate run the simulator's --pace (candles per second) and the same --interval`,
    );
  }
  return clock;
}
