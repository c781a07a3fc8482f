import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { BIN, BUNDLED, tmp } from './helpers.ts';

/** ccxt's Balance typed loosely: balance[kind][currency] */
function amount(b: unknown, kind: 'total' | 'used' | 'free', code: string): number | undefined {
  return ((b as Record<string, Record<string, number> | undefined>)[kind] ?? {})[code];
}

const SECRET = Buffer.from('e2e secret for the kraken simulator').toString('base64');

describe('tollgate kraken-sim (the CLI)', () => {
  it('when started on port 0 then it prints its URL, answers Time and signed calls, and never prints the secret', async () => {
    const dir = tmp('tollgate-sim-');
    const data = join(dir, 'XBTUSD_60.csv.gz');
    copyFileSync(BUNDLED, data);
    const child = spawn(process.execPath, [BIN, 'kraken-sim', '--port', '0', '--data', data, '--api-key', 'K1', '--api-secret', SECRET, '--balance', 'USD=5000,XBT=0.1', '--control'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed; stderr: ${err}`)), 20_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      expect(out).toContain('BTC/USD');
      const time = (await (await fetch(`${url}/0/public/Time`)).json()) as { error: string[]; result: { unixtime: number } };
      expect(time.error).toEqual([]);
      expect(Number.isInteger(time.result.unixtime)).toBe(true);
      const ex = new ccxt.kraken({ apiKey: 'K1', secret: SECRET, enableRateLimit: false });
      ex.urls['api'] = { ...(ex.urls['api'] as Record<string, string>), public: url, private: url };
      let n = Date.now() * 1000;
      ex.nonce = () => ++n;
      const b = await ex.fetchBalance();
      expect(amount(b, 'total', 'USD')).toBe(5000);
      expect(amount(b, 'total', 'BTC')).toBe(0.1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(out + err).not.toContain(SECRET);
  });

  it('when the secret is not base64 then it refuses with exit 2 and does not echo it', () => {
    const r = spawnSync(process.execPath, [BIN, 'kraken-sim', '--port', '0', '--data', BUNDLED, '--api-key', 'K1', '--api-secret', 'not*base64*secret'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--api-secret must be base64');
    expect(r.stderr + r.stdout).not.toContain('not*base64*secret');
  });

  it('when the pair cannot be told from the file name then it asks for --pair (exit 2)', () => {
    const r = spawnSync(process.execPath, [BIN, 'kraken-sim', '--port', '0', '--data', join(tmp(), 'prices.csv'), '--api-key', 'K1', '--api-secret', SECRET], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--pair');
  });
});
