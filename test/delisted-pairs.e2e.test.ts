/**
 * Delisted Kraken pairs end to end (issue 17): a Kraken export named after a delisted pair replays with the
 * precision its recorded AssetPairs answer gave; paper, sim and live refuse the pair at start; the builder takes
 * each pair's facts from the newest recorded answer that lists it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDelisted, SOURCES } from '../scripts/build-delisted-pairs.ts';
import { composeBot } from '../src/engine/compose-bot.ts';
import { loadVenueMarkets, type MarketAnswers } from '../src/engine/venue-markets.ts';
import { delistedEntry } from '../src/kraken/delisted.ts';
import { krakenMarkets, rawAssetPairs, replayMarkets } from '../src/kraken/pairs.ts';
import type { RawAssetPair } from '../src/kraken/snapshot.ts';
import { memoryLogger } from '../src/ports/logger.ts';
import { BIN, defaults, expectTradedWithin, readJsonl, tmp } from './helpers.ts';
import { testSim } from './sim-helpers.ts';

function tollgate(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** an hourly Kraken OHLCVT file around `start`, swinging enough for the default strategies to trade */
function krakenFile(dir: string, name: string, start: number): string {
  const lines: string[] = [];
  let p = start;
  for (let i = 0; i < 600; i++) {
    if (i % 89 === 7) continue; // hours without trades
    const o = p;
    p = o * (1 + Math.sin(i / 9) * 0.02);
    const volume = (400_000 / o + i / 7).toFixed(8);
    lines.push(`${1_600_000_000 + i * 3600},${o.toPrecision(9)},${(Math.max(o, p) * 1.004).toPrecision(9)},${(Math.min(o, p) * 0.996).toPrecision(9)},${p.toPrecision(9)},${volume},${3 + (i % 5)}`);
  }
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('delisted Kraken pairs', () => {
  it('when a Kraken export of a delisted pair (EOSUSD_60.csv, MKRUSD_60.csv, KUJIUSD_60.csv) is replayed then it trades with the recorded decimals and minimums', () => {
    const dir = tmp('tollgate-delisted-');
    for (const [name, pair, start] of [['EOSUSD_60.csv', 'EOS/USD', 0.71], ['MKRUSD_60.csv', 'MKR/USD', 1523.4], ['KUJIUSD_60.csv', 'KUJI/USD', 0.318]] as const) {
      const logs = join(dir, `logs-${name}`);
      const r = tollgate(['replay', '--data', krakenFile(dir, name, start), '--logs', logs, '--json']);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.code, r.err).toBe(0);
      const summary = JSON.parse(r.out);
      expect(summary.candles).toBeGreaterThan(500);
      expect(summary.trades, `${pair} closes trades`).toBeGreaterThan(0);
      const m = replayMarkets().get(pair)!;
      expect(krakenMarkets().has(pair)).toBe(false);
      const bus = readJsonl(join(logs, 'signal_bus.jsonl'));
      expect(bus[0]).toMatchObject({ event: 'run.started', pair });
      expectTradedWithin(bus, pair, m);
    }
    // the recorded precision is what bounded them: MKR/USD prices to 1 decimal, KUJI/USD volumes to 5
    expect([replayMarkets().get('MKR/USD')!.priceDecimals, replayMarkets().get('KUJI/USD')!.lotDecimals]).toEqual([1, 5]);
  });

  it('when a delisted-looking file has no recorded answer (BSVUSD_60.csv) then the replay says what was tried and suggests the closest altnames, writing nothing', () => {
    const dir = tmp('tollgate-delisted-');
    const f = krakenFile(dir, 'BSVUSD_60.csv', 52.1);
    const r = tollgate(['replay', '--data', f, '--logs', join(dir, 'logs')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`tried "${f}" as a Kraken file name → BSVUSD; BSVUSD as a Kraken pair key, altname or wsname`);
    expect(r.err).toMatch(/or of its 15 delisted pairs kept for replay; closest altnames: [A-Z0-9]+ \(/);
    expect(r.err).not.toMatch(/internal error|pass --pair/);
    expect(existsSync(join(dir, 'logs'))).toBe(false);
  });

  it('when a delisted pair is replayed against the simulator (--venue sim) then it is refused with a clear error naming --venue paper, writing nothing', () => {
    const dir = tmp('tollgate-delisted-sim-');
    const f = krakenFile(dir, 'EOSUSD_60.csv', 2.5);
    const r = tollgate(['replay', '--data', f, '--venue', 'sim', '--logs', join(dir, 'logs'), '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('EOS/USD was delisted by Kraken');
    expect(r.err).toContain('replay it with --venue paper');
    expect(r.err).not.toMatch(/internal error/);
    expect(existsSync(join(dir, 'logs'))).toBe(false);
  });

  it('when paper mode is asked for a delisted pair then it refuses at start, whether the venue answers or the snapshot stands in', async () => {
    const { config, markets } = defaults();
    expect(markets.has('EOS/USD')).toBe(true); // a replay's markets
    const { sim } = await testSim();
    // a port nothing listens on: the venue cannot be asked, the bundled snapshot stands in
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    for (const url of [sim.url, `http://127.0.0.1:${closed}`]) {
      const logger = memoryLogger();
      const start = composeBot({ mode: 'paper', config, markets, pair: 'EOS/USD', intervalMs: 3_600_000, credentials: null, url, logsDir: join(tmp('tollgate-delisted-'), 'logs'), logger, pollMs: 200, deadMansSwitchMs: 0 })
        .then((bot) => bot.start());
      await expect(start, url).rejects.toThrow(/EOS\/USD was delisted by Kraken \(EOSUSD: last listed in an AssetPairs answer of \d{4}-\d\d-\d\d, gone by \d{4}-\d\d-\d\d\); replay only — paper, sim and live cannot trade it/);
    }
  });

  it('when the venue cannot be asked then the snapshot markets it falls back to hold no delisted pair', async () => {
    const { config, markets } = defaults();
    const api: MarketAnswers = { publicGetAssetPairs: async () => Promise.reject(new Error('offline')), publicGetAssets: async () => ({ result: {} }) };
    const logger = memoryLogger();
    const r = await loadVenueMarkets(api, config, markets, logger);
    expect(r.source).toBe('snapshot');
    expect([...r.markets.keys()].sort()).toEqual([...krakenMarkets().keys()].sort());
    expect(logger.records.find((x) => x.event === 'markets.snapshot')?.fields).toMatchObject({ pairs: krakenMarkets().size });
  });
});

describe('build-delisted-pairs', () => {
  const p = (key: string, base: string, ordermin: string) => ({ ...rawAssetPairs().STORJUSD!, altname: key, wsname: `${base}/USD`, base, ordermin });
  const src = (commit: string, day: string) => ({ repo: 'o/r', path: 'a.json', commit: commit.repeat(40), day });

  it('when answers of several dates list a delisted pair then its facts come from the newest, gone by the first later answer without it (else the snapshot date)', () => {
    const answers: Array<{ source: ReturnType<typeof src>; pairs: Record<string, RawAssetPair> }> = [
      { source: src('b', '2025-09-11'), pairs: { GONEUSD: p('GONEUSD', 'GONE', '7'), LATEUSD: p('LATEUSD', 'LATE', '3') } },
      { source: src('a', '2025-06-11'), pairs: { GONEUSD: p('GONEUSD', 'GONE', '5'), EARLYUSD: p('EARLYUSD', 'EARLY', '1'), STORJUSD: rawAssetPairs().STORJUSD! } },
    ];
    const kept = {
      _source: 'x',
      pairs: { OLDUSD: delistedEntry(p('OLDUSD', 'OLD', '2'), { lastSeen: '2024-01-01', goneBy: '2024-04-01', source: { kind: 'snapshot', file: 's.gz', captured: '2024-01-01' } }) },
      assets: {},
    };
    const set = buildDelisted(answers, rawAssetPairs(), '2026-01-12', kept);
    expect(Object.keys(set.pairs)).toEqual(['EARLYUSD', 'GONEUSD', 'LATEUSD', 'OLDUSD']);
    expect(set.pairs.GONEUSD).toMatchObject({ ordermin: '7', status: 'delisted' });
    expect(set.pairs.GONEUSD!._delisted).toMatchObject({ lastSeen: '2025-09-11', goneBy: '2026-01-12', source: { kind: 'repository', commit: 'b'.repeat(40) } });
    expect(set.pairs.EARLYUSD!._delisted).toMatchObject({ lastSeen: '2025-06-11', goneBy: '2025-09-11' });
    expect(set.pairs.OLDUSD).toBe(kept.pairs.OLDUSD);
  });

  it('the recorded sources name a commit and the date of each answer', () => {
    expect(SOURCES.length).toBeGreaterThan(0);
    for (const s of SOURCES) {
      expect(s.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(s.day).toMatch(/^\d{4}-\d\d-\d\d$/);
    }
  });
});
