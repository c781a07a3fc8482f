import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { segmentName } from '../adapters/jsonl/segments.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { ChartIndex } from './chart-data.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const iso = (t: number) => new Date(t).toISOString();
const RUN = 'run-1';

const started = () => JSON.stringify({ schemaVersion: 1, ts: iso(T0), event: 'run.started', signalId: null, pair: 'BTC/USD', guards: { COOLDOWN: 'enforce' }, runId: RUN });
const trade = (i: number, pnl: string, strategy = 's1') =>
  JSON.stringify({ schemaVersion: 1, ts: iso(T0 + (i + 2) * H), event: 'trade.closed', signalId: `t${i}`, strategy, pair: 'BTC/USD', side: 'buy', quantity: '0.1', entryTs: iso(T0 + i * H), entryPrice: String(100 + i), exitTs: iso(T0 + (i + 2) * H), exitPrice: String(101 + i), exitReason: 'take_profit', fees: '0.1', pnl, runId: RUN });
const blocked = (i: number, strategy = 's1') =>
  JSON.stringify({ schemaVersion: 1, ts: iso(T0 + i * H), signalId: `b${i}`, strategy, pair: 'BTC/USD', side: 'buy', decision: 'blocked', guards: [{ code: 'COOLDOWN', mode: 'enforce', verdict: 'block', detail: 'a "quoted" detail' }], blockedBy: ['COOLDOWN'], observedBlocks: [], confidence: 0.8, price: String(200 + i), quantity: '0.1', cost: '20', runId: RUN });
const approved = (i: number) => blocked(i).replace('"decision":"blocked"', '"decision":"approved"');

let dir: string;
const bus = () => join(dir, LOG_FILES.bus);
const decisions = () => join(dir, LOG_FILES.decisions);
const lines = (xs: string[]) => xs.map((x) => `${x}\n`).join('');
const all = { runs: null };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-chart-'));
  writeFileSync(bus(), lines([started(), trade(0, '1.25'), trade(30, '-0.5', 's2')]));
  writeFileSync(decisions(), lines([blocked(1), approved(2), blocked(3, 's2')]));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the price chart index of a logs directory', () => {
  it('when read then it has each kind of marker, the run pair, and the daily PnL as exact sums per exit day', () => {
    const idx = new ChartIndex(dir);
    idx.update();
    const c = idx.chart(all);
    expect(c.pair).toBe('BTC/USD');
    expect(c.entries).toEqual([{ ts: T0, price: 100 }, { ts: T0 + 30 * H, price: 130 }]);
    expect(c.exits).toEqual([{ ts: T0 + 2 * H, price: 101 }, { ts: T0 + 32 * H, price: 131 }]);
    expect(c.blocked).toEqual([{ ts: T0 + H, price: 201 }, { ts: T0 + 3 * H, price: 203 }]);
    expect(c.daily).toEqual([{ day: '2024-01-01', trades: 1, pnl: '1.25' }, { day: '2024-01-02', trades: 1, pnl: '-0.5' }]);
    expect(c.days).toBe(2);
    expect(c.omitted).toBe(0);
    expect(c.markersFrom).toBeNull();
    const lastDay = idx.chart(all, null, 3000, 2000, 1); // the newest day only, the count of all
    expect([lastDay.daily, lastDay.days]).toEqual([[{ day: '2024-01-02', trades: 1, pnl: '-0.5' }], 2]);
    const s2 = idx.chart({ runs: new Set([RUN]), strategy: 's2' });
    expect([s2.entries.length, s2.blocked.length]).toEqual([1, 1]);
    expect(idx.chart({ runs: new Set(['another run']) }).blocked).toEqual([]);
    expect(idx.chart({ runs: null, strategy: 'never-logged' }).exits).toEqual([]);
  });

  it('when the logs grow then only the new lines are read, and an unfinished last line counts once it is whole', () => {
    const idx = new ChartIndex(dir);
    idx.update();
    appendFileSync(decisions(), `${blocked(5)}\n${blocked(6).slice(0, 40)}`); // the writer is mid-line
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([201, 203, 205]);
    appendFileSync(decisions(), `${blocked(6).slice(40)}\n`);
    appendFileSync(bus(), `${trade(40, '2')}\n`);
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([201, 203, 205, 206]);
    expect(idx.chart(all).daily.at(-1)).toEqual({ day: '2024-01-02', trades: 2, pnl: '1.5' });
    idx.update(); // nothing new: nothing twice
    expect(idx.chart(all).blocked).toHaveLength(4);
  });

  it('when a whole last line has no newline yet then it is shown, and not twice once the newline comes', () => {
    appendFileSync(decisions(), blocked(7));
    const idx = new ChartIndex(dir);
    idx.update();
    expect(idx.chart(all).blocked).toHaveLength(3);
    appendFileSync(decisions(), `\n${blocked(8)}\n`);
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([201, 203, 207, 208]);
  });

  it('when the live log is rotated into a segment then nothing is lost or read twice', () => {
    const idx = new ChartIndex(dir);
    idx.update();
    renameSync(decisions(), join(dir, segmentName(LOG_FILES.decisions, 1, false)));
    writeFileSync(decisions(), `${blocked(9)}\n`);
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([201, 203, 209]);
  });

  it('when a log is replaced by another (cut, or written anew) then it is read again from its start', () => {
    const idx = new ChartIndex(dir);
    idx.update();
    writeFileSync(decisions(), `${blocked(10)}\n`);
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([210]);
    writeFileSync(decisions(), lines([blocked(11), blocked(12), blocked(13), blocked(14)])); // longer than before, other bytes
    idx.update();
    expect(idx.chart(all).blocked.map((m) => m.price)).toEqual([211, 212, 213, 214]);
  });

  it('when the filter has more markers than the cap then the newest are kept, the rest counted, and the chart opens on them', () => {
    appendFileSync(decisions(), lines(Array.from({ length: 40 }, (_, i) => blocked(100 + i))));
    const idx = new ChartIndex(dir);
    idx.update();
    const c = idx.chart(all, null, 10, 2000);
    const kept = [...c.entries, ...c.exits, ...c.blocked];
    expect(kept).toHaveLength(10);
    expect(c.blocked.map((m) => m.price)).toEqual([330, 331, 332, 333, 334, 335, 336, 337, 338, 339]);
    expect(c.omitted).toBe(2 + 2 + 2 + 40 - 10);
    expect(c.markersFrom).toBe(T0 + 130 * H);
    appendFileSync(decisions(), lines([blocked(139, 's2'), blocked(139, 's3')])); // three markers at the newest time
    idx.update();
    const tied = idx.chart(all, null, 2, 2000);
    expect([tied.blocked.map((m) => m.ts), tied.omitted, tied.markersFrom]).toEqual([[T0 + 139 * H, T0 + 139 * H], 46, T0 + 139 * H]);
    // every kept marker sits on a point of the line; older marker-less times are still drawn
    for (const m of kept) expect(c.prices.some(([t]) => t === m.ts)).toBe(true);
    const narrow = idx.chart({ runs: null, until: T0 + 10 * H }, null, 10, 2000);
    expect([narrow.entries.length, narrow.exits.length, narrow.blocked.length, narrow.omitted]).toEqual([1, 1, 2, 0]);
  });

  it('when given the candles then the line is the candles of the filter and the runs span, thinned', () => {
    const idx = new ChartIndex(dir);
    idx.update();
    const candles = Array.from({ length: 100 }, (_, i) => [T0 + i * H, 1000 + (i % 7)] as const);
    const c = idx.chart({ runs: null, since: T0 + 10 * H, span: { from: T0, to: T0 + 50 * H } }, candles);
    expect(c.prices[0]![0]).toBe(T0 + 10 * H);
    expect(c.prices.at(-1)![0]).toBe(T0 + 50 * H);
    expect(c.entries).toEqual([{ ts: T0 + 30 * H, price: 130 }]);
  });
});
