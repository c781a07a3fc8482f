/**
 * The read model says what dataset.ts' loadDataset says: the same report from the same bytes, however
 * the file is cut into chunks, whatever odd lines it holds (torn, non-ASCII, escaped, reordered,
 * duplicated keys, bad times and decimals, other runs), for every run selection and `since`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryLines } from '../adapters/jsonl/jsonl-reader.ts';
import { loadDataset, type LoadOptions } from './dataset.ts';
import { readLogs, type ByteSource } from './read-model.ts';
import { buildReport } from './report.ts';

type Files = { bus: string; decisions: string; shadow: string };
const NAMES = { bus: 'signal_bus.jsonl', decisions: 'signal_decisions.jsonl', shadow: 'shadow_trade_outcomes.jsonl' } as const;

/** bytes in chunks of `size`, each chunk a copy in one reused buffer (as the file reader does) */
function bytes(name: string, text: string, size: number): ByteSource {
  const all = Buffer.from(text, 'utf8');
  return {
    name, exists: true,
    *chunks() {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < all.length; i += size) {
        const n = all.copy(buf, 0, i, Math.min(all.length, i + size));
        yield buf.subarray(0, n);
      }
    },
  };
}
/** the same text as lines, split as JsonlFileSource splits it */
const lines = (name: string, text: string) => new MemoryLines(name, text.split('\n'));

function both(f: Files, load: LoadOptions, chunk: number) {
  const reference = buildReport(loadDataset({ bus: lines(NAMES.bus, f.bus), decisions: lines(NAMES.decisions, f.decisions), shadow: lines(NAMES.shadow, f.shadow) }, load), { bootstrapResamples: 200 });
  const model = buildReport(readLogs({ bus: bytes(NAMES.bus, f.bus, chunk), decisions: bytes(NAMES.decisions, f.decisions, chunk), shadow: bytes(NAMES.shadow, f.shadow, chunk) }, load), { bootstrapResamples: 200 });
  return { reference: JSON.stringify(reference), model: JSON.stringify(model) };
}

function fixture(name: string): Files {
  const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'report', name);
  const read = (f: string) => (readdirSync(dir).includes(`${f}.gz`) ? gunzipSync(readFileSync(join(dir, `${f}.gz`))).toString('utf8') : '');
  return { bus: read(NAMES.bus), decisions: read(NAMES.decisions), shadow: read(NAMES.shadow) };
}

const RUN1 = '7b9f4f81-d189-4698-ab68-813803752a47';
const LOADS: LoadOptions[] = [{}, { run: 'all' }, { run: RUN1 }, { run: 'nope' }, { run: 'all', since: Date.UTC(2019, 2, 20) }, { since: Date.UTC(2019, 3, 1, 12) }];

describe('read model against loadDataset on the golden fixtures', () => {
  const replay = fixture('replay');
  const synthetic = fixture('synthetic');
  for (const chunk of [4 << 20, 4096, 97]) {
    for (const load of LOADS) {
      it(`when the replay logs are read in ${chunk}-byte chunks with ${JSON.stringify(load)} then the report is the reference's`, () => {
        const r = both(replay, load, chunk);
        expect(r.model).toBe(r.reference);
      });
    }
    it(`when the benchmark's synthetic logs are read in ${chunk}-byte chunks then the report is the reference's`, () => {
      const r = both(synthetic, {}, chunk);
      expect(r.model).toBe(r.reference);
    });
  }
});

describe('read model against loadDataset on odd lines', () => {
  const RUN = 'r-1';
  const OTHER = 'r-2';
  const t = (h: number) => new Date(Date.UTC(2020, 0, 1, h)).toISOString();
  const dec = (id: string, o: Record<string, unknown> = {}) => JSON.stringify({ schemaVersion: 1, ts: t(1), signalId: id, strategy: 'ema', pair: 'BTC/USD', side: 'buy', decision: 'blocked', guards: [{ code: 'COOLDOWN', mode: 'enforce', verdict: 'block', detail: 'x' }], blockedBy: ['COOLDOWN'], observedBlocks: [], quantity: '0.1', runId: RUN, ...o });
  const sh = (id: string, o: Record<string, unknown> = {}) => JSON.stringify({ schemaVersion: 1, ts: t(5), signalId: id, strategy: 'ema', pair: 'BTC/USD', side: 'buy', blockedBy: ['COOLDOWN'], status: 'closed', decidedTs: t(1), entryTs: t(2), entryPrice: '100', exitTs: t(4), exitPrice: '101', exitReason: 'take_profit', quantity: '0.1', fees: '0.02', pnl: '0.08', pnlPct: 0.8, overlaps: false, runId: RUN, ...o });
  const bus = (o: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, signalId: null, runId: RUN, ...o });
  const started = (run: string, h: number) => bus({ ts: t(h), event: 'run.started', mode: 'replay', pair: 'BTC/USD', from: t(0), to: t(100), startingCash: { USD: '1000' }, guards: { COOLDOWN: 'enforce', MIN_CONFIDENCE: 'observe' }, runId: run });
  const trade = (id: string, o: Record<string, unknown> = {}) => bus({ ts: t(6), event: 'trade.closed', signalId: id, strategy: 'ema', pair: 'BTC/USD', side: 'buy', quantity: '0.1', entryTs: t(2), entryPrice: '100', exitTs: t(6), exitPrice: '99', exitReason: 'stop_loss', fees: '0.02', pnl: '-0.12', ...o });
  const reorder = (line: string) => {
    const { runId, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return JSON.stringify({ runId, ...rest });
  };
  const files: Files = {
    bus: [
      started(OTHER, 0), started(RUN, 1),
      bus({ ts: t(1), event: 'signal.received', signalId: 's1' }), bus({ ts: t(2), event: 'signal.transition', signalId: 's1', from: 'received', to: 'blocked', terminal: true }),
      trade('a1'), trade('a1', { pnl: '5' }), trade('a2', { pnl: 'x' }), trade('a1', { pnl: 'bad' }), reorder(trade('a3')), trade('a4', { runId: OTHER }),
      trade('a5', { strategy: 'émile' }), bus({ ts: t(7), event: 'warning', code: 'FEED_GAP', note: 'quote " and \\ slash' }),
      '{"schemaVersion":1,"ts":"' + t(8) + '","event":"bus.error","signalId":null,"runId":"' + RUN + '"}',
      trade('a6', { ts: '2020-02-30T00:00:00.000Z' }), trade('a7', { entryTs: '2020-01-01T02:00:00Z' }), '', 'not json', '{"runId":"r-1"}',
    ].join('\n') + '\n',
    decisions: [
      dec('s1'), dec('s2'), dec('s2', { strategy: 'other' }), dec('s3', { decision: 'maybe' }), dec('s4', { quantity: 3 }), dec('s5', { quantity: null }),
      dec('a1', { decision: 'approved', blockedBy: [], observedBlocks: ['MIN_CONFIDENCE'] }), dec('a1', { decision: 'approved', blockedBy: [], observedBlocks: ['MIN_CONFIDENCE'], side: 'sell' }),
      dec('a3', { decision: 'approved', blockedBy: [], observedBlocks: ['MIN_CONFIDENCE', 'COOLDOWN'] }), reorder(dec('s6')), dec('s7', { strategy: 'ünï' }), dec('s8', { runId: OTHER }),
      dec('s9', { blockedBy: ['COOLDOWN', 'MAX_OPEN_POSITIONS'] }), dec('s10', { ts: '2020-01-01T01:00:00+00:00' }), dec('s11', { signalId: 'with \\"escape' }),
      dec('s12', { blockedBy: [] }).replace('"blockedBy":[],', ''), dec('s13', { ts: '2020-13-01T00:00:00.000Z' }), dec('s14').slice(0, 60),
    ].join('\n'),
    shadow: [
      sh('s1'), sh('s2', { pnl: '-3.5', overlaps: true }), sh('s2', { pnl: '-4.5' }), sh('s9', { blockedBy: ['COOLDOWN', 'MAX_OPEN_POSITIONS'], status: 'open_at_end', exitTs: null }),
      sh('s6', { status: 'expired', quantity: '0', pnl: '0', entryTs: null, exitTs: null }), sh('s7', { strategy: 'ünï' }), sh('s8', { runId: OTHER }), reorder(sh('s10')),
      sh('s11', { overlaps: 'no' }), sh('s12', { pnl: '1e3' }), sh('s13', { pnl: 12 }), sh('s14', { decidedTs: null, entryTs: t(0) }), sh('s15', { quantity: '0.000' }),
      sh('s16', { exitReason: 'a "quoted" reason' }), sh('s17', { blockedBy: 'COOLDOWN' }), sh('s18', { status: 'closed', blockedBy: [] }),
    ].join('\n') + '\n',
  };
  const loads: LoadOptions[] = [{}, { run: 'all' }, { run: OTHER }, { since: Date.UTC(2020, 0, 1, 1, 30) }, { run: 'all', since: Date.UTC(2020, 0, 1, 0, 30) }];
  for (const chunk of [1 << 20, 50, 7]) {
    for (const load of loads) {
      it(`when read in ${chunk}-byte chunks with ${JSON.stringify(load)} then the report is the reference's`, () => {
        const r = both(files, load, chunk);
        expect(r.model).toBe(r.reference);
      });
    }
  }

  it('when read then the odd lines were really there to be skipped, counted and kept apart', () => {
    const r = JSON.parse(both(files, {}, 1 << 20).model) as { skippedLines: Record<string, number>; duplicateLines: Record<string, number>; observe: unknown[] };
    expect(Object.keys(r.skippedLines).sort()).toEqual([NAMES.bus, NAMES.decisions, NAMES.shadow].sort());
    expect(r.duplicateLines[NAMES.decisions]).toBeGreaterThan(0);
    expect(r.duplicateLines[NAMES.shadow]).toBeGreaterThan(0);
    expect(r.duplicateLines[NAMES.bus]).toBeGreaterThan(0);
    expect(r.observe.length).toBeGreaterThan(0);
  });
});
