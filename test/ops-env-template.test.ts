/**
 * deploy/tollgate.env.example is read by three parsers: ours (src/ops/layout.ts: deploy, doctor), pm2's
 * ecosystem.config.cjs, and systemd's EnvironmentFile, which takes anything after `=` as the value. So a
 * value line carries no comment, and the template as shipped gives every app the settings it names.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readyUrlOf } from '../src/ops/deploy.ts';
import { parseEnvFile } from '../src/ops/layout.ts';
import { tmp } from './helpers.ts';

const REPO = join(import.meta.dirname, '..');
const TEMPLATE = join(REPO, 'deploy', 'tollgate.env.example');

describe('the env template', () => {
  it('when read as systemd reads it then every value line is KEY=value with nothing after the value', () => {
    const values = readFileSync(TEMPLATE, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(values.length).toBeGreaterThan(10);
    for (const l of values) expect(l, l).toMatch(/^[A-Z][A-Z0-9_]*=\S*$/);
  });

  it('when parsed by deploy and doctor then the health URL, the secret files and the dashboard are as documented', () => {
    const env = parseEnvFile(readFileSync(TEMPLATE, 'utf8'));
    expect(readyUrlOf(env.TOLLGATE_HTTP)).toBe('http://127.0.0.1:8080/health/ready');
    expect(env).toMatchObject({
      TOLLGATE_MODE: 'paper', TOLLGATE_CONFIG: 'config/config.json', TOLLGATE_STATE: 'data/tollgate.db', TOLLGATE_INTAKE_HTTP: '127.0.0.1:8081',
      TOLLGATE_WEBHOOK_PASSPHRASE_FILE: 'config/webhook-passphrase', TOLLGATE_HTTP_TOKEN_FILE: 'config/http-token',
      TOLLGATE_DASHBOARD_HTTP: '127.0.0.1:8501', TOLLGATE_DASHBOARD_PASSWORD_FILE: 'config/dashboard-password',
    });
    expect(Object.values(env).some((v) => v.includes('#'))).toBe(false);
  });

  /** the apps pm2 gets from ecosystem.config.cjs in `dir` (a release) with the template as its env file */
  function appsIn(dir: string): Array<{ name: string; args: string[] }> {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(join(dir, 'ecosystem.config.cjs'))}).apps))`], {
      env: { PATH: process.env.PATH, TOLLGATE_ENV_FILE: TEMPLATE }, encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Array<{ name: string; args: string[] }>;
  }

  it('when pm2 loads ecosystem.config.cjs with it then the bot, the intake and the dashboard get those settings; the dashboard reads the state only once there is one', () => {
    const release = tmp('tollgate-release-');
    copyFileSync(join(REPO, 'ecosystem.config.cjs'), join(release, 'ecosystem.config.cjs'));
    const apps = appsIn(release);
    expect(apps.map((a) => a.name)).toEqual(['tollgate-bot', 'tollgate-intake', 'tollgate-dashboard']);
    const args = (name: string, list = apps) => list.find((a) => a.name === name)!.args.join(' ');
    expect(args('tollgate-bot')).toContain('run --mode paper --pair BTC/USD --logs logs --state data/tollgate.db --http 127.0.0.1:8080 --config config/config.json');
    expect(args('tollgate-intake')).toContain('intake --http 127.0.0.1:8081 --store data/intake.db');
    // a paper bot writes no state file: the dashboard is started without one (it refuses a missing file)
    expect(args('tollgate-dashboard')).toBe('dashboard --host 127.0.0.1 --port 8501 --logs logs --password-file config/dashboard-password');
    mkdirSync(join(release, 'data'));
    writeFileSync(join(release, 'data', 'tollgate.db'), '');
    expect(args('tollgate-dashboard', appsIn(release))).toBe('dashboard --host 127.0.0.1 --port 8501 --logs logs --state data/tollgate.db --password-file config/dashboard-password');
  });
});
