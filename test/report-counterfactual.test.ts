/**
 * `tollgate counterfactual --guard G` for an opt-in guard (TRADING_HOURS): accepted like the default chain's
 * guards when the config gives it, refused with the reason when it does not.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCounterfactual } from '../src/engine/counterfactual.ts';
import { InputError } from '../src/engine/wiring.ts';
import { bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const HOURS = { mode: 'enforce', timeZone: 'America/New_York', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:30', to: '16:00' }] };
const series = bundledSlice('2019-01-01', '2019-04-01');

describe('counterfactual of an opt-in guard', () => {
  it('when the config gives TRADING_HOURS then --guard TRADING_HOURS replays it enforcing, then observing, and compares what it alone blocked', () => {
    const { config, markets } = defaults({ guards: { TRADING_HOURS: HOURS } });
    const { result, dirs } = runCounterfactual('TRADING_HOURS', config, markets, series, tmp('tollgate-cf-hours-'));
    const started = (dir: string) => readJsonl(join(dir, 'signal_bus.jsonl')).find((l) => l.event === 'run.started')!;
    expect(started(dirs.enforce).guards.TRADING_HOURS).toBe('enforce');
    expect(started(dirs.observe).guards.TRADING_HOURS).toBe('observe');
    const sole = readJsonl(join(dirs.enforce, 'shadow_trade_outcomes.jsonl')).filter((s) => s.blockedBy.length === 1 && s.blockedBy[0] === 'TRADING_HOURS');
    expect(sole.length).toBeGreaterThan(0);
    expect(result.soleBlocked).toBe(sole.length);
    expect(result.matched + result.interactions + result.mismatched).toBe(result.soleBlocked);
  });

  it('when the config does not give TRADING_HOURS then --guard TRADING_HOURS is refused naming the missing section, and nothing is replayed', () => {
    const { config, markets } = defaults();
    const logs = tmp('tollgate-cf-hours-none-');
    expect(() => runCounterfactual('TRADING_HOURS', config, markets, series, logs)).toThrow(InputError);
    expect(() => runCounterfactual('TRADING_HOURS', config, markets, series, logs)).toThrow(/guards\.TRADING_HOURS/);
  });

  it('when the code is no guard at all then it is refused listing the codes, the opt-in ones included', () => {
    const { config, markets } = defaults();
    expect(() => runCounterfactual('NOT_A_GUARD', config, markets, series, tmp())).toThrow(/TRADING_HOURS/);
  });
});
