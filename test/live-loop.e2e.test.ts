/**
 * The live loop runs the same pipeline as a replay: fed the same candles one by one, as a live feed
 * delivers them, it ends where a replay ends.
 */
import { describe, expect, it } from 'vitest';
import { runLive } from '../src/engine/live.ts';
import { runReplay } from '../src/engine/compose.ts';
import type { Candle } from '../src/domain/types.ts';
import { bundledSlice, defaults } from './helpers.ts';

describe('live loop', () => {
  it('when a feed delivers recorded candles one by one then the paper run ends exactly where the replay of the same candles ends', async () => {
    const { config, markets } = defaults();
    const series = bundledSlice('2019-01-01', '2019-04-01');
    const replay = runReplay({ config, markets, series, logsDir: null, runId: 'r' });
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const feed = {
      start: (onCandle: (c: Candle) => Promise<void>) => {
        void (async () => {
          for (let i = 0; i < series.length; i++) await onCandle(series.at(i));
          stop();
        })();
      },
      stop: () => {},
    };
    const live = await runLive({ config, markets, pair: series.pair, intervalMs: series.intervalMs, mode: 'paper', logsDir: null, feed, until });
    const pick = ({ elapsedMs: _e, runId: _r, ...rest }: typeof replay.summary) => rest;
    expect(pick(live.summary)).toEqual(pick(replay.summary));
    expect(live.summary.trades).toBeGreaterThan(5);
  });
});

describe('live loop and venue activity', () => {
  it('polls the venue when it reports activity, one poll queued at most however many messages come, and stops the watch at the end', async () => {
    const { config, markets } = defaults();
    let polls = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    // a venue whose first poll waits for the test: messages arriving meanwhile queue one poll, not ten
    const venue = {
      poll: async () => {
        polls++;
        await gate;
      },
      idle: async () => {},
      deadMansSwitch: async () => true,
      haltReason: null,
    };
    let notify!: () => void;
    let watching = false;
    const activity = {
      start: (on: () => void) => {
        notify = on;
        watching = true;
      },
      stop: async () => {
        watching = false;
      },
    };
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const run = runLive({
      config, markets, pair: 'BTC/USD', intervalMs: 3_600_000, mode: 'sim', logsDir: null, until,
      feed: { start: () => {}, stop: () => {} },
      asyncVenue: () => venue as never, venueActivity: activity,
    });
    expect(watching).toBe(true);
    notify();
    await new Promise((r) => setTimeout(r, 10));
    expect(polls).toBe(1);
    for (let i = 0; i < 10; i++) notify();
    await new Promise((r) => setTimeout(r, 10));
    expect(polls).toBe(1);
    release();
    gate = Promise.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(polls).toBe(2);
    stop();
    await run;
    expect(watching).toBe(false);
  });
});
