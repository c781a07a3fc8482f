import { describe, expect, it } from 'vitest';
import { syncSimClock } from './sim-clock.ts';

/** a simulator whose clock starts at `origin` and runs `speed`× real time; requests take `rtt` real ms */
function fakeSim(origin: number, speed: number, rtt = 2) {
  let real = 0;
  let calls = 0;
  return {
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
    expect(Math.abs(clock.now() - truth)).toBeLessThanOrEqual(1_000 + 72_000);
    expect(sim.calls()).toBe(3);
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
  });
});
