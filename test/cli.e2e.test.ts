import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { BIN, BUNDLED, expectTradedWithin, readJsonl, tmp } from './helpers.ts';

function tollgate(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A small Kraken-format file for another pair and interval, with a gap and scientific notation. */
function ethFile(dir: string): string {
  const lines: string[] = [];
  let p = 300;
  for (let i = 0; i < 400; i++) {
    if (i === 100) continue; // a 15-minute bucket without trades
    const o = p;
    p = Math.round(p * (1 + Math.sin(i / 7) * 0.01) * 100) / 100;
    lines.push(`${1_600_000_000 + i * 900},${o},${Math.max(o, p) + 0.5},${Math.min(o, p) - 0.5},${p},${i % 50 === 0 ? '1E+1' : '3.5'},${5}`);
  }
  const f = join(dir, 'ETHUSD_15.csv');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('tollgate CLI', () => {
  it('when asked for help then it lists the commands', () => {
    const r = tollgate(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/replay/);
    expect(r.out).toMatch(/config/);
  });

  it('when replaying any Kraken OHLCVT file then the pair comes from the file name and the JSON summary has the LOGS.md fields', () => {
    const dir = tmp();
    const logs = join(dir, 'logs');
    const r = tollgate(['replay', '--data', ethFile(dir), '--logs', logs, '--json']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    for (const k of ['candles', 'signals', 'approved', 'blocked', 'blockedByCode', 'trades', 'realizedPnl', 'elapsedMs']) expect(s).toHaveProperty(k);
    expect(s.candles).toBe(399);
    expect(typeof s.realizedPnl).toBe('string');
    const started = readJsonl(join(logs, 'signal_bus.jsonl'))[0]!;
    expect(started).toMatchObject({ event: 'run.started', pair: 'ETH/USD', intervalMinutes: 15 });
  });

  it('when the data is gzip and bounded by --from/--to then only that range is replayed and progress goes to stderr as plain lines', () => {
    const dir = tmp();
    const r = tollgate(['replay', '--data', BUNDLED, '--pair', 'BTC/USD', '--from', '2019-01-01', '--to', '2019-02-01', '--logs', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/candles\s+74\d/);
    expect(r.out).toMatch(/realized PnL/);
    expect(r.err).toMatch(/replay: 100% \(/);
  });

  it('when the config is bad then one message names the field, the exit code is non-zero and nothing is written', () => {
    const dir = tmp();
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ guards: { COOLDOWN: { mode: 'sometimes' } } }));
    const logs = join(dir, 'logs');
    const r = tollgate(['replay', '--data', BUNDLED, '--config', cfg, '--logs', logs]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/guards\.COOLDOWN\.mode/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(logs)).toBe(false);
  });

  it('when the config file is not JSON then it says so', () => {
    const dir = tmp();
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, '{ nope');
    const r = tollgate(['config', 'check', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not valid JSON/);
  });

  it('when the config is valid then config check says ok', () => {
    const r = tollgate(['config', 'check', join(import.meta.dirname, '..', 'config.example.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ok/);
  });

  it('when the CSV is missing then it says so and writes nothing', () => {
    const dir = tmp();
    const logs = join(dir, 'logs');
    const r = tollgate(['replay', '--data', join(dir, 'nope_60.csv'), '--pair', 'BTC/USD', '--logs', logs]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no such file/);
    expect(existsSync(logs)).toBe(false);
  });

  it('when a CSV row is malformed then the message names the file and line and nothing is written; --skip-bad-rows skips and counts it', () => {
    const dir = tmp();
    const f = join(dir, 'XBTUSD_60.csv.gz');
    const rows = Array.from({ length: 200 }, (_, i) => `${1_500_000_000 + i * 3600},100,101,99,100.5,2,3`);
    rows[41] = `${1_500_000_000 + 41 * 3600},100,abc,99,100.5,2,3`;
    writeFileSync(f, gzipSync(rows.join('\n')));
    const logs = join(dir, 'logs');
    const bad = tollgate(['replay', '--data', f, '--logs', logs]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`${f}:42: field high is not a non-negative number: "abc"`);
    expect(existsSync(logs)).toBe(false);
    const skipped = tollgate(['replay', '--data', f, '--logs', logs, '--skip-bad-rows', '--json']);
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.out)).toMatchObject({ candles: 199 });
  });

  it('when the pair is unknown then it names what was tried and suggests the closest altnames, never a fixed default', () => {
    const dir = tmp();
    const logs = join(dir, 'logs');
    const r = tollgate(['replay', '--data', BUNDLED, '--pair', 'FOO/BAR', '--logs', logs]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown Kraken pair "FOO\/BAR": tried FOO\/BAR as a ccxt symbol.*closest altnames: /);
    expect(existsSync(logs)).toBe(false);
    const f = join(dir, 'STORJUSX_60.csv');
    writeFileSync(f, '1600000000,0.3,0.31,0.29,0.3,10,1\n');
    const byName = tollgate(['replay', '--data', f, '--logs', logs]);
    expect(byName.code).toBe(2);
    expect(byName.err).toContain(`tried "${f}" as a Kraken file name → STORJUSX`);
    expect(byName.err).toMatch(/closest altnames: STORJUSD \(STORJ\/USD\)/);
    expect(byName.err).not.toMatch(/pass --pair BTC\/USD/);
    expect(existsSync(logs)).toBe(false);
  });

  it('when a Kraken export of a tiny-priced coin (STORJUSD_60.csv, SHIBUSD_60.csv) is replayed then its pair comes from the file name and orders meet its minimums', () => {
    const dir = tmp();
    for (const [name, pair, start] of [['STORJUSD_60.csv', 'STORJ/USD', 0.31], ['SHIBUSD_60.csv', 'SHIB/USD', 0.0000123456]] as const) {
      const lines: string[] = [];
      let p = start;
      for (let i = 0; i < 600; i++) {
        if (i % 97 === 13) continue; // hours without trades
        const o = p;
        p = o * (1 + Math.sin(i / 9) * 0.02);
        const hi = Math.max(o, p) * 1.004;
        const lo = Math.min(o, p) * 0.996;
        // long decimals as Kraken writes them (up to 14 places for SHIB, 17-digit volumes), volume worth ~$400k an hour
        const volume = (400_000 / o + i / 7).toFixed(8);
        lines.push(`${1_600_000_000 + i * 3600},${o.toPrecision(9)},${hi.toPrecision(9)},${lo.toPrecision(9)},${p.toPrecision(9)},${volume},${3 + (i % 5)}`);
      }
      const f = join(dir, name);
      writeFileSync(f, lines.join('\n') + '\n');
      const logs = join(dir, `logs-${name}`);
      const r = tollgate(['replay', '--data', f, '--logs', logs, '--json']);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.code, r.err).toBe(0);
      const summary = JSON.parse(r.out);
      expect(summary.candles).toBeGreaterThan(500);
      expect(summary.trades, `${pair} closes trades`).toBeGreaterThan(0);
      const m = krakenMarkets().get(pair)!;
      expectTradedWithin(readJsonl(join(logs, 'signal_bus.jsonl')), pair, m);
      for (const d of readJsonl(join(logs, 'signal_decisions.jsonl'))) expect(d.pair).toBe(pair);
    }
  });

  it('when --logs points at a file then it says it cannot write there, without a stack trace', () => {
    const dir = tmp();
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const r = tollgate(['replay', '--data', BUNDLED, '--from', '2019-01-01', '--to', '2019-01-05', '--logs', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write logs there/);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
  });

  it('when startingCash holds several currencies then it is refused with a clear message', () => {
    const dir = tmp();
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ startingCash: { USD: '1000', EUR: '1000' } }));
    const r = tollgate(['replay', '--data', BUNDLED, '--config', cfg, '--logs', join(dir, 'logs')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exactly one currency/);
    expect(existsSync(join(dir, 'logs'))).toBe(false);
  });

  it('when a date is malformed then commander reports it and the exit code is non-zero', () => {
    const r = tollgate(['replay', '--data', BUNDLED, '--from', 'yesterday']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a date/);
  });
});
