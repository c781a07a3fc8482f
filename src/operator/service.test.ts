import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { composeBot } from '../engine/compose-bot.ts';
import { CONTROLS_KEY } from '../engine/controls.ts';
import { buildMarkets } from '../engine/wiring.ts';
import { parseConfig } from '../config/schema.ts';
import { Ledger, IdempotencyConflictError } from '../portfolio/ledger.ts';
import { bundledSlice, tmp } from '../../test/helpers.ts';
import { join } from 'node:path';
import { OperatorError, OperatorService } from './service.ts';

const config = parseConfig({});
const markets = buildMarkets(config);

function service(bot: Awaited<ReturnType<typeof composeBot>> | null = null) {
  const store = SqliteStateStore.open(join(tmp('tollgate-op-'), 'state.db'));
  const clock = new ManualClock(Date.UTC(2024, 0, 1));
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  return { store, ledger, op: new OperatorService({ ledger, clock, controls: store, bot, ledgerStatus: () => ({ sequence: store.snapshot().sequence }) }) };
}

const alice = { actor: 'operator:alice' };

describe('operator service', () => {
  it('when an operator books trades then each is in the ledger once, audited with its caller, and a repeated key answers the first answer', () => {
    const { op, store } = service();
    op.setCash({ ...alice, idempotencyKey: 'cash-1' }, { currency: 'usd', amount: '1000', reason: 'deposit' });
    const first = op.buy({ ...alice, idempotencyKey: 'buy-1' }, { pair: 'BTC/USD', quantity: '0.01', price: '20000' });
    const again = op.buy({ ...alice, idempotencyKey: 'buy-1' }, { pair: 'BTC/USD', quantity: '0.01', price: '20000' });
    expect(again.repeated).toBe(true);
    expect(again.seq).toBe(first.seq);
    expect(store.snapshot().cash.find((c) => c.currency === 'USD')?.amount).toBe('800');
    expect(() => op.buy({ ...alice, idempotencyKey: 'buy-1' }, { pair: 'BTC/USD', quantity: '0.02', price: '20000' })).toThrow(IdempotencyConflictError);
    const audit = [...store.audit()];
    expect(audit.map((a) => a.operation)).toEqual(['setcash', 'buy']);
    expect(audit.every((a) => a.actor === 'operator:alice')).toBe(true);
    store.close();
  });

  it('when entries are paused and resumed then both are audited with their reasons, kept in the state, and a repeated pause changes nothing', () => {
    const { op, store } = service();
    const p = op.pause({ ...alice, idempotencyKey: 'p1' }, 'news at 14:00');
    expect(p.paused).toMatchObject({ by: 'operator:alice', reason: 'news at 14:00' });
    expect(op.pause({ ...alice, idempotencyKey: 'p1' }, 'news at 14:00').repeated).toBe(true);
    expect(store.guardState<{ paused: unknown }>(CONTROLS_KEY)?.paused).toMatchObject({ reason: 'news at 14:00' });
    op.resume(alice, 'news out');
    expect(op.controls().paused).toBeNull();
    const audit = [...store.audit()].map((a) => [a.operation, a.actor, a.reason]);
    expect(audit).toEqual([['control', 'operator:alice', 'news at 14:00'], ['control', 'operator:alice', 'news out']]);
    store.close();
  });

  it('when a command is bad then it is refused with a message that names the problem and nothing is written', () => {
    const { op, store } = service();
    expect(() => op.pause(alice, '  ')).toThrow(/needs a reason/);
    expect(() => op.setGuardMode(alice, 'NOPE', 'off', 'x')).toThrow(/guard NOPE: not a guard code/);
    expect(() => op.setGuardMode(alice, 'COOLDOWN', 'sometimes', 'x')).toThrow(/mode sometimes: expected enforce, observe, off/);
    expect(() => op.pause({ actor: '' }, 'x')).toThrow(OperatorError);
    expect([...store.audit()]).toEqual([]);
    expect(store.guardState(CONTROLS_KEY)).toBeUndefined();
    store.close();
  });

  it('when a guard switch is sent twice under one idempotency key then the second is the same switch (answered, not a conflict), though the first changed what it switches from', () => {
    const { op, store } = service();
    const first = op.setGuardMode({ ...alice, idempotencyKey: 'g-1' }, 'COOLDOWN', 'observe', 'measure it');
    const again = op.setGuardMode({ ...alice, idempotencyKey: 'g-1' }, 'COOLDOWN', 'observe', 'measure it');
    expect(first).toMatchObject({ repeated: false, guard: { code: 'COOLDOWN', to: 'observe' } });
    expect(again).toMatchObject({ repeated: true, seq: first.seq, guard: { code: 'COOLDOWN', to: 'observe' } });
    expect([...store.audit()].filter((a) => a.operation === 'control')).toHaveLength(1);
    expect(() => op.setGuardMode({ ...alice, idempotencyKey: 'g-1' }, 'COOLDOWN', 'off', 'other')).toThrow(IdempotencyConflictError);
    store.close();
  });

  it('when a running replay bot is paused then every later signal is blocked by ENTRIES_PAUSED after all guards and shadowed; a guard switch applies from the next decision', async () => {
    const series = bundledSlice('2017-01-01', '2017-07-01');
    const bot = await composeBot({ mode: 'replay', config, markets, series, logsDir: null, pace: 4000 });
    const { op, store } = service(bot);
    await bot.start();
    await new Promise((r) => setTimeout(r, 300)); // some candles decided before the switch
    const decidedBeforeSwitch = bot.status().signals.received;
    const switched = op.setGuardMode(alice, 'COOLDOWN', 'off', 'testing');
    expect(switched).toMatchObject({ applied: true, guard: { code: 'COOLDOWN', from: 'enforce', to: 'off' } });
    op.pause(alice, 'maintenance');
    const decidedBeforePause = bot.status().signals.received; // a candle's signals are decided as it arrives
    expect(bot.status().paused?.reason).toBe('maintenance');
    expect(bot.status().components.entries).toEqual({ status: 'degraded', reason: 'entries paused by operator:alice: maintenance' });
    const result = await bot.done;
    const decisions = (result.log.decisions as unknown as { records: Array<{ ts: string; decision: string; blockedBy: string[]; guards: Array<{ code: string; mode: string }> }> }).records;
    const before = decisions.slice(0, decidedBeforeSwitch);
    const after = decisions.slice(decidedBeforePause);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    for (const d of before) expect(d.blockedBy).not.toContain('ENTRIES_PAUSED');
    for (const d of after) {
      expect(d.decision).toBe('blocked');
      expect(d.blockedBy).toContain('ENTRIES_PAUSED');
      expect(d.guards.at(-1)).toMatchObject({ code: 'ENTRIES_PAUSED', mode: 'enforce' });
      expect(d.guards.find((g) => g.code === 'COOLDOWN')?.mode).toBe('off');
    }
    const shadows = (result.log.shadow as unknown as { records: Array<{ blockedBy: string[] }> }).records;
    expect(shadows.filter((s) => s.blockedBy.includes('ENTRIES_PAUSED')).length).toBeGreaterThan(0);
    expect(bot.status().state).toBe('stopped');
    store.close();
  });
});
