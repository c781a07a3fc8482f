/**
 * The live loop runs the same pipeline as a replay: fed the same candles one by one, as a live feed
 * delivers them, it ends where a replay ends.
 */
import { describe, expect, it } from 'vitest';
import { runLive } from '../src/app/live.ts';
import { runReplay } from '../src/app/replay.ts';
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
