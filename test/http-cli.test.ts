import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, BUNDLED, tmp } from './helpers.ts';

const env = {
  ...process.env, NO_COLOR: '1',
  TOLLGATE_WEBHOOK_PASSPHRASE: 'cli-passphrase-123456789', TOLLGATE_HTTP_TOKEN: 'cli-token-abcdefghijkl',
};

describe('tollgate replay --pace --http', () => {
  it('when a paced replay serves HTTP then the webhook, the signal API and health answer, SIGTERM stops it gracefully (exit 0, summary printed), and no secret is in the logs', async () => {
    const logs = tmp('tollgate-http-cli-');
    const child = spawn(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--from', '2017-01-01', '--to', '2017-06-01', '--pace', '20', '--http', '127.0.0.1:0', '--logs', logs, '--no-progress', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.stdout.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = performance.now();
    while (!/http: listening on (http:\/\/\S+)/.test(err)) {
      if (performance.now() - t0 > 30_000) throw new Error(`no listening line: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const base = /http: listening on (http:\/\/\S+)/.exec(err)![1]!;
    while ((await fetch(`${base}/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
    const body = JSON.stringify({ passphrase: env.TOLLGATE_WEBHOOK_PASSPHRASE, ticker: 'KRAKEN:XBTUSD', action: 'buy', price: '970.1', id: 'cli-1' }) + '\n';
    const r = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(202);
    const { signalId } = (await r.json()) as { signalId: string };
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      const s = await fetch(`${base}/api/v1/signals/${signalId}`, { headers: { authorization: `Bearer ${env.TOLLGATE_HTTP_TOKEN}` } });
      seen = s.status === 200 && ((await s.json()) as { webhook: { decision: string | null } }).webhook.decision !== null;
      if (!seen) await new Promise((res) => setTimeout(res, 20));
    }
    expect(seen).toBe(true);
    expect((await fetch(`${base}/webhook`, { method: 'POST', body: body.replace('cli-passphrase', 'xli-passphrase'), headers: { 'content-type': 'text/plain' } })).status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { signals: number };
    expect(summary.signals).toBeGreaterThan(0);
    const botLog = readFileSync(join(logs, 'bot.jsonl'), 'utf8');
    expect(botLog).toContain('"event":"webhook.accepted"');
    expect(botLog).toContain('"event":"http.request"');
    expect(botLog).not.toContain(env.TOLLGATE_WEBHOOK_PASSPHRASE);
    expect(botLog).not.toContain(env.TOLLGATE_HTTP_TOKEN);
    const decisions = readFileSync(join(logs, 'signal_decisions.jsonl'), 'utf8');
    expect(decisions).toContain(signalId); // the webhook signal went through the guard chain like any other
  }, 60_000);

  it('when --http comes without --pace, or a secret is weak, then it is one clear input error and nothing starts', () => {
    const logs = tmp('tollgate-http-cli-');
    const a = spawnSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--http', '127.0.0.1:0', '--logs', logs], { env, encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--http goes with --pace/);
    const b = spawnSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--pace', '5', '--http', 'nowhere', '--logs', logs], { env, encoding: 'utf8' });
    expect(b.stderr).toMatch(/--http nowhere: expected HOST:PORT/);
    const c = spawnSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--pace', '5', '--http', '127.0.0.1:0', '--logs', logs], { env: { ...env, TOLLGATE_HTTP_TOKEN: 'short' }, encoding: 'utf8' });
    expect(c.stderr).toMatch(/TOLLGATE_HTTP_TOKEN: too short/);
    expect(c.stderr).not.toContain('short\n');
  }, 60_000);
});
