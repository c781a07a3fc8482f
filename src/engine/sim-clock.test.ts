import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../adapters/clock/clocks.ts';
import { describeSpeed, SimClockFollower, syncSimClock } from './sim-clock.ts';

/** a simulator whose clock starts at `origin` and runs `speed`× real time; requests take `rtt` real ms */
function fakeSim(origin: number, speed: number, rtt = 0.02) {
  let real = 0;
  let calls = 0;
  return {
    simNow: () => origin + real * speed,
    setSpeed: (s: number) => {
      origin += real * (speed - s);
      speed = s;
    },
    elapsed: () => real,
    sleep: async (ms: number) => {
      real += ms;
    },
    fetchTime: async () => {
      calls++;
      real += rtt / 2;
      const t = Math.floor((origin + real * speed) / 1000) * 1000;
      real += rtt / 2;
      return t;
    },
    calls: () => calls,
  };
}

describe('syncSimClock', () => {
  it("starts at the simulator's time and runs at its speed when the speeds agree", async () => {
    const sim = fakeSim(Date.UTC(2019, 5, 1), 72_000);
    const clock = await syncSimClock({ ...sim, speed: 72_000 });
    expect(clock.speed).toBe(72_000);
    // within the whole-second resolution of Kraken's Time plus one request
    const truth = Date.UTC(2019, 5, 1) + sim.elapsed() * 72_000;
    expect(Math.abs(clock.now() - truth)).toBeLessThanOrEqual(1_000 + 0.02 * 72_000);
    expect(sim.calls()).toBe(7);
  });

  it('accepts a simulator on the wall clock at speed 1', async () => {
    const sim = fakeSim(Date.UTC(2026, 10, 21), 1);
    const clock = await syncSimClock({ ...sim, speed: 1 });
    expect(Math.abs(clock.now() - (Date.UTC(2026, 10, 21) + sim.elapsed()))).toBeLessThanOrEqual(1_000);
  });

  it('refuses a different speed, naming both', async () => {
    await expect(syncSimClock({ ...fakeSim(0, 72_000), speed: 1 })).rejects.toThrow(
      /runs at about 72,000× real time \(it advanced \d+ s in \d+ ms\), but this run expects real time: give tollgate run the simulator's --pace/,
    );
    await expect(syncSimClock({ ...fakeSim(0, 72_000), speed: 7_200 })).rejects.toThrow(/expects 7,200× real time/);
    await expect(syncSimClock({ ...fakeSim(0, 1), speed: 3_600 })).rejects.toThrow(/runs at about real time .* expects 3,600× real time/);
    // 5 % off is refused too: at 72,000× that is a candle of drift every real second
    await expect(syncSimClock({ ...fakeSim(0, 72_000), speed: 75_600 })).rejects.toThrow(/about 72,000× .* expects 75,600×/);
    await expect(syncSimClock({ ...fakeSim(0, 0), speed: 72_000 })).rejects.toThrow(/clock runs at about stopped \(it advanced 0 s in \d+ ms\)/);
  });

  it('names speeds plainly', () => {
    expect(describeSpeed(0)).toBe('stopped');
    expect(describeSpeed(1.01)).toBe('real time');
    expect(describeSpeed(0.6)).toBe('0.60× real time');
    expect(describeSpeed(72_000)).toBe('72,000× real time');
  });
});

describe('SimClockFollower', () => {
  it("follows a pace change (its speed and its time), never runs ahead of the simulator, never goes back, and reports a stopped simulator", async () => {
    const sim = fakeSim(Date.UTC(2019, 5, 1), 72_000);
    const clock = await syncSimClock({ ...sim, speed: 72_000 });
    const follow = new SimClockFollower(clock, sim.fetchTime, sim.elapsed);
    const truth = () => sim.simNow();
    expect((await follow.check()).state).toBe('ok');
    // the simulator's pace changed: 10 % faster
    sim.setSpeed(79_200);
    await sim.sleep(2_000);
    const faster = await follow.check();
    expect(faster).toMatchObject({ state: 'speed', was: 72_000 });
    expect(clock.speed / 79_200).toBeCloseTo(1, 2);
    expect(clock.now()).toBeLessThanOrEqual(truth() + 2_000); // within the readings' whole-second resolution
    await sim.sleep(2_000);
    expect((await follow.check()).state).toBe('ok');
    expect(clock.now()).toBeLessThanOrEqual(truth() + 2_000); // within the readings' whole-second resolution
    // now half as fast: the bot's clock must not run ahead (it stands still until the simulator catches up)
    sim.setSpeed(36_000);
    await sim.sleep(2_000);
    const before = clock.now();
    const slower = await follow.check();
    expect(slower.state).toBe('speed');
    expect(clock.speed / 36_000).toBeCloseTo(1, 2);
    expect(clock.now()).toBeGreaterThanOrEqual(before);
    // it ran 2 s at 79,200× while the simulator ran at 36,000×: a day ahead, which it waits out (2.4 s)
    await sim.sleep(3_000);
    await follow.check();
    expect(clock.now()).toBeLessThanOrEqual(truth() + 2_000); // within the readings' whole-second resolution
    expect(truth() - clock.now()).toBeLessThan(2_000 + 0.02 * 36_000);
    // the end of the data: the simulator's clock stops
    sim.setSpeed(0);
    await follow.check();
    await sim.sleep(500);
    expect((await follow.check()).state).toBe('stopped');
  });
});
