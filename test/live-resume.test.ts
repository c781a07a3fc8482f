/**
 * What a live restart does with each kind of signal it finds in flight (resumeRun), on a real pipeline
 * and a real SQLite state: decided while the bot was down → settled; still holding → adopted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { SignalBus } from '../src/bus/bus.ts';
import { resumeRun } from '../src/engine/live-state.ts';
import { LiveSeries, prepareReplay, type PipelineParts } from '../src/engine/compose.ts';
import { Dec } from '../src/domain/money.ts';
import { LifecycleRegistry } from '../src/lifecycle/registry.ts';
import type { SignalEvent } from '../src/lifecycle/machine.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { defaults, tmp } from './helpers.ts';

const { config, markets } = defaults();
const T = Date.UTC(2020, 0, 1);
const PATHS: Record<string, SignalEvent[]> = {
  approved: [{ type: 'VALIDATE' }, { type: 'GUARD', approved: true, blockedBy: [] }, { type: 'APPROVE' }],
  submitted: [{ type: 'VALIDATE' }, { type: 'GUARD', approved: true, blockedBy: [] }, { type: 'APPROVE' }, { type: 'SUBMIT', clientOrderId: 'x' }],
  open: [{ type: 'VALIDATE' }, { type: 'GUARD', approved: true, blockedBy: [] }, { type: 'APPROVE' }, { type: 'SUBMIT', clientOrderId: 'x' }, { type: 'FILL', quantity: '0.01' }, { type: 'OPEN' }],
};
PATHS.exiting = [...PATHS.open!, { type: 'EXIT', reason: 'stop_loss', clientOrderId: 'y' }];

function setup(cases: Array<{ id: string; state: keyof typeof PATHS; position?: boolean; exitReason?: 'stop_loss' }>) {
  const clock = new ManualClock(T);
  const store = SqliteStateStore.open(join(tmp('tollgate-resume-'), 'state.db'));
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
  const reg = new LifecycleRegistry(new SignalBus(() => clock.now()), clock);
  for (const c of cases) {
    reg.create(c.id);
    for (const e of PATHS[c.state]!) reg.send(c.id, e);
    store.saveSignal({ id: c.id, strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', state: c.state, terminal: false, signal: '{}', snapshot: JSON.stringify(reg.persisted(c.id)), deadlineTs: null, updatedTs: T });
    if (c.position) {
      ledger.applyFill({ id: `F-${c.id}`, orderId: `o-${c.id}`, signalId: c.id, pair: 'BTC/USD', side: 'buy', quantity: new Dec('0.01'), price: new Dec('7000'), fee: new Dec('0.28'), liquidity: 'taker', purpose: 'entry', tsEvent: T, tsInit: T }, 'ema_cross');
      if (c.exitReason) ledger.markExiting(c.id, c.exitReason, { actor: 'bot', key: `exit:${c.id}` });
    }
  }
  const series = new LiveSeries('BTC/USD', 3_600_000, 'live:test');
  let parts!: PipelineParts;
  prepareReplay({ config: { ...config, startingCash: { USD: ledger.load().cash.get('USD')!.toFixed() } } as typeof config, markets, series, logsDir: null, mode: 'sim', onPipeline: (p) => (parts = p) });
  const r = resumeRun(parts, store, ledger, 'state.db');
  return { parts, r, store };
}

describe('resuming a live run', () => {
  it('settles what was decided while the bot was down and adopts what it still holds', () => {
    const { parts, r, store } = setup([
      { id: 'ema_cross-BTCUSD-1', state: 'approved' },
      { id: 'ema_cross-BTCUSD-2', state: 'submitted', position: true },
      { id: 'ema_cross-BTCUSD-3', state: 'submitted' },
      { id: 'ema_cross-BTCUSD-4', state: 'exiting' },
      { id: 'ema_cross-BTCUSD-5', state: 'open' },
      { id: 'ema_cross-BTCUSD-6', state: 'exiting', position: true, exitReason: 'stop_loss' },
    ]);
    const st = (id: string) => parts.registry.state(id) ?? 'final';
    expect(st('ema_cross-BTCUSD-1')).toBe('final'); // expired: never sent
    expect(st('ema_cross-BTCUSD-2')).toBe('open'); // filled while down: open and held
    expect(st('ema_cross-BTCUSD-3')).toBe('final'); // not filled: expired
    expect(st('ema_cross-BTCUSD-4')).toBe('final'); // sold while down: closed
    expect(st('ema_cross-BTCUSD-5')).toBe('final'); // gone outside the bot: closed
    expect(st('ema_cross-BTCUSD-6')).toBe('exiting'); // still to sell: its exit is retried
    expect(r).toEqual({ restoredSignals: 6, adoptedPositions: 2 });
    expect(parts.portfolio.openPositions().map((p) => p.signalId).sort()).toEqual(['ema_cross-BTCUSD-2', 'ema_cross-BTCUSD-6']);
    expect(parts.kernel.hasHolding('ema_cross', 'BTC/USD')).toBe(true);
    store.close();
  });

  it('brings back what the guards look back over: closed trades and recent signals', () => {
    const clock = new ManualClock(T);
    const store = SqliteStateStore.open(join(tmp('tollgate-resume-guards-'), 'state.db'));
    const ledger = new Ledger(store, clock, (p) => markets.get(p));
    ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', reason: 'start', key: 'start' });
    const fill = (id: string, purpose: 'entry' | 'exit', price: string) => ledger.applyFill({ id, orderId: `o-${id}`, signalId: 'ema_cross-BTCUSD-7', pair: 'BTC/USD', side: purpose === 'entry' ? 'buy' : 'sell', quantity: new Dec('0.01'), price: new Dec(price), fee: new Dec('0.28'), liquidity: 'taker', purpose, tsEvent: T, tsInit: T }, 'ema_cross');
    fill('F1', 'entry', '7000');
    ledger.markExiting('ema_cross-BTCUSD-7', 'stop_loss', { actor: 'bot', key: 'exit:7' });
    fill('F2', 'exit', '6800');
    const recent = [{ id: 'ema_cross-BTCUSD-7', strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy' as const, ts: T - 3_600_000 }];
    store.setGuardState('live.recentSignals', recent, T);
    let parts!: PipelineParts;
    prepareReplay({ config, markets, series: new LiveSeries('BTC/USD', 3_600_000, 'live:test'), logsDir: null, onPipeline: (p) => (parts = p) });
    resumeRun(parts, store, ledger, 'state.db');
    expect(parts.portfolio.closedTrades.map((t) => [t.signalId, t.exitReason, t.pnl.toFixed()])).toEqual([['ema_cross-BTCUSD-7', 'stop_loss', '-2.56']]);
    expect(parts.kernel.recentSignals()).toEqual(recent);
    store.close();
  });

  it('a snapshot that cannot be restored refuses the start', () => {
    const clock = new ManualClock(T);
    const store = SqliteStateStore.open(join(tmp('tollgate-resume-bad-'), 'state.db'));
    const ledger = new Ledger(store, clock, (p) => markets.get(p));
    store.saveSignal({ id: 'ema_cross-BTCUSD-9', strategy: 'ema_cross', pair: 'BTC/USD', side: 'buy', state: 'open', terminal: false, signal: '{}', snapshot: '{"value":"blocked","status":"done"}', deadlineTs: null, updatedTs: T });
    let parts!: PipelineParts;
    prepareReplay({ config, markets, series: new LiveSeries('BTC/USD', 3_600_000, 'live:test'), logsDir: null, onPipeline: (p) => (parts = p) });
    expect(() => resumeRun(parts, store, ledger, 'state.db')).toThrow(/cannot be restored from its stored snapshot/);
    store.close();
  });
});
