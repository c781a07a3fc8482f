/**
 * `tollgate digest`: periods, the figures of one day and one week of a replay of the bundled data and of a
 * state file (closed trades, reconciliation findings, operator actions), Markdown and JSON, once per period.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { runDigest } from '../src/cli/cli-digest.ts';
import { lastCompletePeriod, periodOf, type Digest } from '../src/digest/digest.ts';
import { runReplay } from '../src/engine/compose.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { BIN, bundledSlice, defaults, readJsonl, tmp } from './helpers.ts';

const T = (s: string) => Date.parse(s);

describe('digest periods (UTC)', () => {
  it('when it is 05:00 on 2024-01-17 then the last complete day is 2024-01-16 and the last complete week is 2024-W02 (Mon 8 to Mon 15 Jan)', () => {
    const now = T('2024-01-17T05:00:00Z');
    expect(lastCompletePeriod('day', now)).toEqual({ kind: 'day', key: '2024-01-16', from: T('2024-01-16T00:00:00Z'), to: T('2024-01-17T00:00:00Z') });
    expect(lastCompletePeriod('week', now)).toEqual({ kind: 'week', key: '2024-W02', from: T('2024-01-08T00:00:00Z'), to: T('2024-01-15T00:00:00Z') });
  });

  it('when the week straddles a new year then its ISO year is that of its Thursday', () => {
    expect(periodOf('week', T('2021-01-03T12:00:00Z')).key).toBe('2020-W53');
    expect(periodOf('week', T('2024-12-31T00:00:00Z'))).toMatchObject({ key: '2025-W01', from: T('2024-12-30T00:00:00Z') });
    expect(periodOf('week', T('2019-01-06T23:59:59Z'))).toMatchObject({ key: '2019-W01', from: T('2018-12-31T00:00:00Z') });
  });

  it('when the time is exactly midnight then it belongs to the day that starts there', () => {
    expect(periodOf('day', T('2024-03-01T00:00:00Z')).key).toBe('2024-03-01');
    expect(periodOf('week', T('2024-01-15T00:00:00Z')).key).toBe('2024-W03');
  });
});

describe('tollgate digest over a replay and a state file', () => {
  const logs = tmp('tollgate-digest-logs-');
  const { config, markets } = defaults();
  runReplay({ config, markets, series: bundledSlice('2019-01-01', '2019-03-01'), logsDir: logs });
  const decisions = readJsonl(join(logs, 'signal_decisions.jsonl'));
  const shadows = readJsonl(join(logs, 'shadow_trade_outcomes.jsonl'));

  // a state: a trade closed inside the week, one after it, a reconciliation finding and an operator pause
  const stateFile = join(tmp('tollgate-digest-state-'), 'state.db');
  const clock = new ManualClock(T('2019-01-14T09:00:00Z'));
  const store = SqliteStateStore.open(stateFile);
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'operator:alice', key: 'seed', reason: 'deposit' });
  const b1 = ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '3500', fee: '1.4' }, { actor: 'bot', key: 'b1' });
  clock.set(T('2019-01-16T12:00:00Z'));
  ledger.close({ positionId: String(b1.positionId), price: '3600.5', fee: '1.44' }, { actor: 'bot', key: 'c1' });
  ledger.recordReconciliation({ kind: 'balance', detail: 'BTC: ledger 0, venue 0.5', policy: 'flag' }, { actor: 'reconcile', key: 'r1' });
  ledger.recordControl('pause', { reason: 'FOMC' }, { actor: 'telegram:42', key: 'p1', reason: 'FOMC' });
  const b2 = ledger.buy({ pair: 'BTC/USD', quantity: '0.1', price: '3500', fee: '0' }, { actor: 'bot', key: 'b2' });
  clock.set(T('2019-01-22T12:00:00Z'));
  ledger.close({ positionId: String(b2.positionId), price: '3000', fee: '0' }, { actor: 'bot', key: 'c2' });
  store.close();

  const out = tmp('tollgate-digest-out-');
  const now = T('2019-03-05T06:00:00Z');
  const first = runDigest({ period: 'week', at: T('2019-01-16T00:00:00Z'), logs, state: stateFile, out, force: false, json: false, now });
  const digest = JSON.parse(readFileSync(first.files.json, 'utf8')) as Digest;
  const md = readFileSync(first.files.md, 'utf8');
  const from = T('2019-01-14T00:00:00Z');
  const to = T('2019-01-21T00:00:00Z');
  const inWeek = decisions.filter((d) => T(d.ts) >= from && T(d.ts) < to);

  it('when the week is digested then both files are written under the period key', () => {
    expect(first).toMatchObject({ status: 'written', key: '2019-W03' });
    expect(first.files.json.endsWith('digest-week-2019-W03.json')).toBe(true);
    expect(existsSync(first.files.md)).toBe(true);
    expect(digest.period).toEqual({ kind: 'week', key: '2019-W03', from: '2019-01-14T00:00:00.000Z', to: '2019-01-21T00:00:00.000Z' });
  });

  it('when the logs go on after the week then its counts are those of the signals decided in the week only', () => {
    expect(inWeek.length).toBeGreaterThan(0);
    expect(digest.logs!.approved + digest.logs!.blocked).toBe(inWeek.length);
    expect(digest.logs!.blocked).toBe(inWeek.filter((d) => d.decision === 'blocked').length);
    expect(digest.logs!.decidedAfterPeriod).toBeGreaterThan(0);
    expect(digest.pipeline!.notes.join('\n')).toContain('past the period end');
  });

  it('when guards blocked signals in the week then each one’s count and shadow PnL are those signals’ own, exactly', () => {
    const codes = new Set(inWeek.flatMap((d) => d.blockedBy as string[]));
    expect(codes.size).toBeGreaterThan(0);
    for (const code of codes) {
      const ids = new Set(inWeek.filter((d) => d.blockedBy.includes(code)).map((d) => d.signalId));
      const g = digest.guards.find((x) => x.code === code)!;
      expect(g.blocked, code).toBe(ids.size);
      const pnl = shadows.filter((s) => ids.has(s.signalId)).reduce<Decimal>((a, s) => a.plus(s.pnl), new Decimal(0));
      expect(new Decimal(g.shadowPnl).equals(pnl), `${code}: ${g.shadowPnl} vs ${pnl.toFixed()}`).toBe(true);
    }
  });

  it('when the state is given then the PnL is the trades closed in the week, exact, and the later trade is left out', () => {
    // (3600.5 − 3500) × 0.1 − 1.4 − 1.44
    expect(digest.ledger).toMatchObject({ closedTrades: 1, wins: 1, realizedPnl: { USD: '7.21' }, fees: { USD: '2.84' } });
    expect(digest.ledger!.now.openPositions).toBe(0);
  });

  it('when reconciliation found a difference in the week then it is listed, and the operator’s deposit and pause with their callers (the bot’s own bookings are not operator actions)', () => {
    expect(digest.reconciliation!.findings).toEqual([{ ts: '2019-01-16T12:00:00.000Z', kind: 'balance', policy: 'flag', detail: 'BTC: ledger 0, venue 0.5' }]);
    expect(digest.operatorActions.map((a) => `${a.actor} ${a.operation} ${a.reason}`)).toEqual(['operator:alice setcash deposit', 'telegram:42 control FOMC']);
  });

  it('when the Markdown is read then it has every section and the same figures', () => {
    for (const h of ['# Tollgate weekly digest 2019-W03', '## PnL', '## Guard costs', '## Pipeline health', '## Reconciliation', '## Operator actions']) expect(md).toContain(h);
    expect(md).toContain('realized +7.21 USD');
    expect(md).toContain('BTC: ledger 0, venue 0.5');
    for (const g of digest.guards) expect(md).toContain(`| ${g.code} |`);
  });

  it('when the same period is digested again then it says already processed and writes nothing; --force writes it again', () => {
    const before = statSync(first.files.json).mtimeMs;
    const again = runDigest({ period: 'week', at: T('2019-01-18T00:00:00Z'), logs, state: stateFile, out, force: false, json: false, now: now + 60_000 });
    expect(again).toMatchObject({ status: 'already_processed', key: '2019-W03', generatedAt: '2019-03-05T06:00:00.000Z' });
    expect(statSync(first.files.json).mtimeMs).toBe(before);
    const forced = runDigest({ period: 'week', at: T('2019-01-18T00:00:00Z'), logs, state: stateFile, out, force: true, json: false, now: now + 60_000 });
    expect(forced.status).toBe('written');
    const rewritten = JSON.parse(readFileSync(first.files.json, 'utf8')) as Digest;
    expect(rewritten.generatedAt).toBe('2019-03-05T06:01:00.000Z');
    expect({ ...rewritten, generatedAt: null }).toEqual({ ...digest, generatedAt: null });
  });

  it('when a day is digested from the logs alone then the ledger sections say no state was given', () => {
    const r = runDigest({ period: 'day', at: T('2019-01-15T00:00:00Z'), logs, out, force: false, json: false, now });
    const d = JSON.parse(readFileSync(r.files.json, 'utf8')) as Digest;
    const day = decisions.filter((x) => x.ts.startsWith('2019-01-15'));
    expect(d.logs!.approved + d.logs!.blocked).toBe(day.length);
    expect(d.ledger).toBeNull();
    expect(readFileSync(r.files.md, 'utf8')).toContain('no state given');
  });

  it('when run from the command line twice then the second run says already processed (exit 0)', () => {
    const dir = tmp('tollgate-digest-cli-');
    const run = () => execFileSync(process.execPath, [BIN, 'digest', '--period', 'day', '--at', '2019-01-15', '--logs', logs, '--state', stateFile, '--out', dir], { encoding: 'utf8' });
    expect(run()).toMatch(/^digest day 2019-01-15: written .*digest-day-2019-01-15\.md and .*digest-day-2019-01-15\.json\n$/);
    expect(run()).toMatch(/^digest day 2019-01-15: already processed \(.*digest-day-2019-01-15\.json, generated .*\); --force writes it again\n$/);
  });

  it('when the period is neither day nor week, or the state does not exist, then it refuses with one clear message', () => {
    const fail = (args: string[]) => {
      try {
        execFileSync(process.execPath, [BIN, 'digest', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return null;
      } catch (e) {
        return { status: (e as { status: number }).status, stderr: String((e as { stderr: string }).stderr) };
      }
    };
    expect(fail(['--period', 'month', '--logs', logs])).toMatchObject({ status: 2, stderr: expect.stringContaining('"month" is not a period (day or week)') });
    expect(fail(['--period', 'day', '--logs', logs, '--state', join(out, 'missing.db'), '--out', tmp()])).toMatchObject({ status: 2 });
  });
});
