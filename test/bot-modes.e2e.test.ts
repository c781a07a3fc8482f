/**
 * One composition for every mode: `composeBot` builds the replay, paper, sim and live bots from the same
 * pipeline (kernel, bus, lifecycle registry, guard chain, shadow engine, tracker); the modes differ only in
 * the injected clock, feed, venue and store. Each bot is started, reaches `running` with its pipeline in
 * place, writes `run.started` with its mode to the same contract logs, and stops cleanly. The exchange is
 * the project's simulator on 127.0.0.1 (live mode is pointed at it, never at Kraken).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignalBus } from '../src/bus/bus.ts';
import { composeBot, type BotOptions } from '../src/engine/compose-bot.ts';
import { Kernel } from '../src/engine/kernel.ts';
import { LifecycleRegistry } from '../src/lifecycle/registry.ts';
import { Portfolio } from '../src/portfolio/portfolio.ts';
import { memoryLogger } from '../src/ports/logger.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

const DENSE = {
  strategies: [
    { kind: 'ema_cross', fast: 2, slow: 3 },
    { kind: 'rsi_reversion', period: 2, oversold: 45, overbought: 55 },
    { kind: 'donchian_breakout', entryPeriod: 3, exitPeriod: 2 },
  ],
};

describe('every mode comes from the one composition', () => {
  it('replay, paper, sim and live bots share the pipeline and differ only in clock, feed, venue and store', async () => {
    const { config, markets } = defaults(DENSE);
    const { sim, apiKey, secret } = await testSim({ from: '2019-01-01', to: '2019-03-01', pace: 20, startIndex: 800 });
    const credentials = { apiKey, secret, source: 'test' };
    const dir = tmp('tollgate-modes-');
    const common = { config, markets, pollMs: 200, deadMansSwitchMs: 0 };
    const options: Record<string, BotOptions> = {
      replay: { mode: 'replay', config, markets, series: bundledSlice('2019-01-01', '2019-02-01'), logsDir: join(dir, 'replay') },
      paper: { ...common, mode: 'paper', pair: 'BTC/USD', intervalMs: 3_600_000, credentials: null, url: sim.url, logsDir: join(dir, 'paper') },
      sim: { ...common, mode: 'sim', pair: 'BTC/USD', intervalMs: 3_600_000, credentials, url: sim.url, pace: 20, maxCandles: 10, stateFile: join(dir, 'sim.db'), logsDir: join(dir, 'sim') },
      live: { ...common, mode: 'live', pair: 'BTC/USD', intervalMs: 3_600_000, credentials, url: sim.url, stateFile: join(dir, 'live.db'), logsDir: join(dir, 'live') },
    };
    const seen: Record<string, unknown> = {};
    for (const [mode, o] of Object.entries(options)) {
      const logger = memoryLogger();
      const bot = await composeBot({ ...o, logger });
      expect(bot.status().state).toBe('created');
      await bot.start();
      const parts = bot.pipeline!;
      expect(parts.kernel).toBeInstanceOf(Kernel);
      expect(parts.bus).toBeInstanceOf(SignalBus);
      expect(parts.registry).toBeInstanceOf(LifecycleRegistry);
      expect(parts.portfolio).toBeInstanceOf(Portfolio);
      expect(bot.guardModes().map((g) => g.code)).toEqual(Object.keys(config.guards));
      const status = bot.status();
      expect(status.mode).toBe(mode);
      expect(['running', 'stopped']).toContain(status.state);
      const result = mode === 'replay' || mode === 'sim' ? await bot.done : await bot.stop('test');
      expect(bot.status().state).toBe('stopped');
      const bus = readJsonl(join(o.logsDir!, 'signal_bus.jsonl'));
      expect(bus[0]).toMatchObject({ event: 'run.started', mode, pair: 'BTC/USD' });
      expect(bus.at(-1)).toMatchObject({ event: 'run.finished' });
      expect(logger.records.map((r) => r.event)).toContain('bot.started');
      expect(logger.records.map((r) => r.event)).toContain('bot.stopped');
      // paper, sim and live read the venue's own AssetPairs at start (the simulator serves Kraken's)
      if (mode !== 'replay') expect(logger.records.find((r) => r.event === 'markets.loaded')?.fields, mode).toMatchObject({ source: 'venue', pairs: 1434 });
      seen[mode] = { venue: status.venue.name, reconciled: status.reconciliation !== null, signals: result.summary.signals };
    }
    // what differs: the venue and the store (reconciliation only where a venue holds our money)
    expect(seen).toMatchObject({
      replay: { venue: 'paper', reconciled: false },
      paper: { venue: 'paper', reconciled: false },
      sim: { venue: 'kraken', reconciled: true },
      live: { venue: 'kraken', reconciled: true },
    });
    expect((seen.replay as { signals: number }).signals).toBeGreaterThan(0);
  });
});

describe('a signal from outside (a webhook) between two candles', () => {
  it('when a paper bot is given a signal stamped with its run clock (ahead of the last candle) then it is decided at that time, not failed as "in the future"', async () => {
    const { config, markets } = defaults();
    const { sim } = await testSim({ from: '2019-01-01', to: '2019-03-01', pace: 20, startIndex: 800 });
    const dir = tmp('tollgate-outside-signal-');
    const bot = await composeBot({ config, markets, pollMs: 200, deadMansSwitchMs: 0, mode: 'paper', pair: 'BTC/USD', intervalMs: 3_600_000, credentials: null, url: sim.url, logsDir: dir, logger: memoryLogger() });
    await bot.start();
    try {
      const parts = bot.pipeline!;
      const deadline = Date.now() + 20_000;
      while (parts.clock.now() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(bot.now()).toBeGreaterThan(parts.clock.now()); // the run's clock is ahead of the last candle's close
      const t = bot.now();
      bot.submitSignal({ id: 'webhook-between-candles', strategy: 'tradingview', pair: 'BTC/USD', side: 'buy', confidence: 0.9, price: 3700, reason: 'test alert', source: 'webhook', tsEvent: t, tsInit: t });
      expect(parts.clock.now()).toBeGreaterThanOrEqual(t);
    } finally {
      await bot.stop('test');
    }
    const moves = readJsonl(join(dir, 'signal_bus.jsonl')).filter((e) => e.signalId === 'webhook-between-candles' && e.event === 'signal.transition').map((e) => e.to);
    expect(moves).toContain('guarded');
    expect(moves).not.toContain('failed');
    const decision = readJsonl(join(dir, 'signal_decisions.jsonl')).find((d) => d.signalId === 'webhook-between-candles');
    expect(decision?.decision).toMatch(/^(approved|blocked)$/);
  });
});
