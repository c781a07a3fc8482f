/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (never a downloaded browser).
 * Log in (a wrong password first), each tab populated from a replay of the bundled data, keyboard through the
 * tabs (Tab, Enter, arrow keys), filters, the price chart, live updates, a POST without the CSRF token refused,
 * a guard switched and entries paused in the UI (confirmed) and found in the audit of a real bot (`tollgate
 * run --mode sim` against the Kraken simulator, its HTTP face on 127.0.0.1), log out. Screenshots of each tab
 * go to test/screenshots/ (git-ignored). Without Chromium the suite is skipped with a message, except under CI
 * or TOLLGATE_REQUIRE_CHROMIUM=1 (`.ci/run` installs it and sets that).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { hashPassword } from '../src/dashboard/auth.ts';
import { createDashboard } from '../src/dashboard/server.ts';
import { ReadOnlyState } from '../src/adapters/sqlite/read-only.ts';
import { startKrakenSim, type KrakenSim } from '../src/sim/index.ts';
import { BIN, BUNDLED, bundledSlice, tmp } from './helpers.ts';

function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  if (process.env.CI || process.env.TOLLGATE_REQUIRE_CHROMIUM) throw new Error('chromium is not installed but CI / TOLLGATE_REQUIRE_CHROMIUM is set: .ci/run installs it (apt-get install chromium)');
  console.warn('test/dashboard.browser.test.ts skipped: no chromium on PATH (apt-get install chromium, or set CHROMIUM_PATH)');
}
const SHOTS = join(import.meta.dirname, 'screenshots');
const PASSWORD = 'a long dashboard passphrase';
const BOT_TOKEN = `bot-token-${randomBytes(12).toString('hex')}`;

/** `tollgate run --mode sim` against a paced simulator, serving its HTTP face (operator API) on 127.0.0.1 */
async function startSimBot(dir: string): Promise<{ sim: KrakenSim; child: ChildProcess; url: string; state: string; output: () => string }> {
  const apiKey = randomBytes(24).toString('base64url');
  const secret = randomBytes(64).toString('base64');
  const sim = await startKrakenSim({ apiKey, apiSecret: secret, series: [bundledSlice('2019-01-01', '2019-06-01')], balances: { USD: '10000', XBT: '0' }, pace: 1, startIndex: 800 });
  const state = join(dir, 'bot.db');
  const env = { ...process.env, NO_COLOR: '1', TOLLGATE_KRAKEN_API_KEY: apiKey, TOLLGATE_KRAKEN_API_SECRET: secret, TOLLGATE_HTTP_TOKEN: BOT_TOKEN };
  const child = spawn(process.execPath, [BIN, 'run', '--mode', 'sim', '--url', sim.url, '--pace', '1', '--state', state, '--logs', join(dir, 'bot-logs'), '--http', '127.0.0.1:0', '--dead-mans-switch', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const t0 = performance.now();
  while (!/http: listening on (http:\/\/\S+)/.test(out)) {
    if (performance.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`the sim bot did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /http: listening on (http:\/\/\S+)/.exec(out)![1]!;
  while ((await fetch(`${url}/health/ready`)).status !== 200) {
    if (performance.now() - t0 > 60_000) throw new Error(`the sim bot never got ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { sim, child, url, state, output: () => out };
}

describe.skipIf(!CHROMIUM)('the dashboard in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  let report: any;
  let logs: string;
  let bot: Awaited<ReturnType<typeof startSimBot>>;
  const pageErrors: string[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const botApi = async (path: string) => (await fetch(`${bot.url}/api/v1${path}`, { headers: { authorization: `Bearer ${BOT_TOKEN}` } })).json() as Promise<any>;

  beforeAll(async () => {
    const dir = tmp('tollgate-dashboard-browser-');
    logs = join(dir, 'logs');
    bot = await startSimBot(dir);
    execFileSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--from', '2019-01-01', '--to', '2019-05-30', '--logs', logs, '--state', join(dir, 'state.db'), '--no-progress'], { stdio: 'pipe' });
    report = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json'], { encoding: 'utf8' }));
    app = await createDashboard({ logsDir: logs, stateFile: join(dir, 'state.db'), passwordHash: await hashPassword(PASSWORD), host: '127.0.0.1', clock, bot: { url: bot.url, token: BOT_TOKEN }, liveEveryMs: 200 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // what the page itself got wrong: a script error, or something the Content-Security-Policy blocked
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`${page.url()}: ${m.text()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (bot) {
      const exited = new Promise((r) => bot.child.once('exit', r));
      bot.child.kill('SIGTERM');
      await exited;
      await bot.sim.stop();
    }
  }, 60_000);

  it('when the password is wrong then the login page says so; with the right one the Analytics tab opens', async () => {
    await page.goto(`${base}/analytics`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Password').fill('not it');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong password');
    await page.screenshot({ path: join(SHOTS, 'login-wrong-password.png') });
    clock.advance(1000); // the backoff after one failure
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/analytics`);
    const codes = await page.locator('#guards tbody tr td:first-child').allTextContents();
    expect(codes).toEqual(report.guards.map((g: any) => g.code));
    expect(await page.locator('#strategies tbody tr').count()).toBe(report.strategies.length);
    await page.screenshot({ path: join(SHOTS, 'analytics.png'), fullPage: true });
  });

  it('when a table header is clicked then its rows sort by the exact values', async () => {
    await page.locator('#guards th button', { hasText: 'Blocked' }).first().click();
    const blocked = (await page.locator('#guards tbody tr td:nth-child(3)').allTextContents()).map(Number);
    expect(blocked).toEqual([...blocked].sort((a, b) => a - b));
  });

  it('when moving through the tabs with the keyboard (arrow keys, Tab, Enter) then Performance and System open, populated', async () => {
    await page.locator('nav a[aria-current="page"]').focus(); // Analytics
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Trading');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Performance');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('System');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/performance`);
    expect(await page.locator('#equity-chart polyline').count()).toBe(2);
    expect(await page.locator('#drawdown-chart polyline').count()).toBe(1);
    // the price chart (lightweight-charts) with every entry, exit and blocked signal of the run marked
    await page.locator('#price-chart[data-ready="1"] canvas').first().waitFor();
    const trades = report.strategies.reduce((n: number, s: any) => n + s.realized.trades, 0);
    expect(trades).toBeGreaterThan(0);
    expect(Number(await page.locator('#price-chart').getAttribute('data-markers'))).toBe(2 * trades + report.pipeline.decisions.blocked);
    const days = await page.locator('#daily tbody tr td:nth-child(2)').allTextContents();
    expect(days.map(Number).reduce((a, b) => a + b, 0)).toBe(trades);
    await page.screenshot({ path: join(SHOTS, 'performance.png'), fullPage: true });
    await page.locator('nav a[aria-current="page"]').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/system`);
    expect(await page.locator('#state').textContent()).toContain('Closed trades');
    expect(((await page.locator('#log-tail').textContent()) ?? '').length).toBeGreaterThan(0);
    // from the running bot's operator API: its state, venue and health components
    expect(await page.locator('#bot-status').textContent()).toContain('sim');
    expect(await page.locator('#venue').textContent()).toMatch(/trading/);
    expect(await page.locator('#health tbody tr').count()).toBeGreaterThan(0);
    expect(await page.content()).not.toContain(BOT_TOKEN);
    await page.screenshot({ path: join(SHOTS, 'system.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1700 } });
  });

  it('when the Trading tab is opened then the recent signals show each guard verdict, and a strategy filter narrows them', async () => {
    await page.goto(`${base}/trading`);
    expect(await page.locator('#signals tbody tr').count()).toBeGreaterThan(0);
    await page.locator('#signals tbody tr details summary').first().click();
    expect(await page.locator('#signals tbody tr details li').first().isVisible()).toBe(true);
    expect(await page.locator('#signals tbody tr td:nth-child(7)').first().textContent()).toMatch(/^[a-z_]+$/); // its lifecycle state
    expect(await page.locator('#guard-controls tbody tr').count()).toBeGreaterThan(0);
    // the replay ends with a position open: its stop and target from the exit rules
    const position = page.locator('#open-positions tbody tr').first();
    expect(await position.locator('td:nth-child(7)').textContent()).toMatch(/^\d[\d,]*\.\d\d USD$/);
    await page.screenshot({ path: join(SHOTS, 'trading.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    await page.getByLabel('Strategy').selectOption('ema_cross');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/strategy=ema_cross/);
    const strategies = await page.locator('#signals tbody tr td:nth-child(3)').allTextContents();
    expect(strategies.length).toBeGreaterThan(0);
    expect(new Set(strategies)).toEqual(new Set(['ema_cross']));
  });

  it('when a guard is switched in the UI and confirmed then the bot applies it and its audit log names the dashboard and the reason', async () => {
    await page.goto(`${base}/trading`);
    expect((await botApi('/guards')).guards.find((g: any) => g.code === 'COOLDOWN').mode).toBe('enforce');
    await page.getByLabel('New mode of COOLDOWN').selectOption('observe');
    await page.getByRole('button', { name: 'Switch COOLDOWN…' }).click();
    await page.waitForURL(/\/trading\/confirm/);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe('Confirm: switch guard COOLDOWN from enforce to observe');
    expect((await botApi('/guards')).guards.find((g: any) => g.code === 'COOLDOWN').mode).toBe('enforce'); // nothing sent before Confirm
    await page.getByLabel("Reason (written to the bot's audit log)").fill('browser test: watch cooldown blocks');
    await page.screenshot({ path: join(SHOTS, 'confirm.png'), clip: { x: 0, y: 0, width: 1280, height: 360 } });
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${base}/trading`);
    expect(await page.locator('#flash').textContent()).toMatch(/Guard COOLDOWN: enforce → observe \(audit #\d+\)/);
    expect(await page.locator('#guard-controls tbody tr', { hasText: 'COOLDOWN' }).locator('td:nth-child(2)').textContent()).toBe('observe');
    expect((await botApi('/guards')).guards.find((g: any) => g.code === 'COOLDOWN').mode).toBe('observe');
    const audit = ReadOnlyState.open(bot.state);
    try {
      const row = audit.view(50).auditTail.find((a) => a.reason === 'browser test: watch cooldown blocks');
      expect(row).toMatchObject({ operation: 'control', actor: expect.stringMatching(/^http:dashboard@[0-9a-f]{8}$/) });
    } finally {
      audit.close();
    }
  });

  it('when entries are paused and resumed through the confirm step then the bot reports each', async () => {
    await page.goto(`${base}/trading`);
    await page.getByRole('button', { name: 'Pause entries…' }).click();
    await page.getByLabel("Reason (written to the bot's audit log)").fill('browser test pause');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${base}/trading`);
    expect(await page.locator('#entries').getAttribute('data-paused')).toBe('true');
    expect((await botApi('/status')).bot.paused).toMatchObject({ reason: 'browser test pause', by: expect.stringMatching(/^http:dashboard@/) });
    await page.getByRole('button', { name: 'Resume entries…' }).click();
    await page.getByLabel("Reason (written to the bot's audit log)").fill('browser test resume');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${base}/trading`);
    expect(await page.locator('#entries').getAttribute('data-paused')).toBe('false');
    expect((await botApi('/status')).bot.paused).toBeNull();
  });

  it('when a date filter is applied then the tab shows only signals since then', async () => {
    await page.goto(`${base}/analytics`);
    const all = Number(await page.locator('#pipeline dd').nth(1).getAttribute('data-value'));
    await page.getByLabel('Signals since (UTC)').fill('2019-04-01');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/since=2019-04-01/);
    const since = Number(await page.locator('#pipeline dd').nth(1).getAttribute('data-value'));
    expect(since).toBeGreaterThan(0);
    expect(since).toBeLessThan(all);
  });

  it('when the decisions log grows then the open Trading tab shows the new signal without a reload', async () => {
    await page.goto(`${base}/trading`);
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/live/);
    const last = JSON.parse(readFileSync(join(logs, 'signal_decisions.jsonl'), 'utf8').trim().split('\n').at(-1)!);
    const fresh = { ...last, ts: '2019-05-30T00:00:00.000Z', signalId: 'live-update-test-1' };
    appendFileSync(join(logs, 'signal_decisions.jsonl'), JSON.stringify(fresh) + '\n');
    await expect.poll(() => page.locator('#signals tbody tr').first().locator('td:nth-child(2)').textContent(), { timeout: 10_000 }).toBe('live-update-test-1');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1); // no reload
    expect(Number(await page.evaluate(() => document.body.dataset.updates))).toBeGreaterThan(0);
  });

  it('when the page posts without the CSRF token then the server refuses it and the session stays', async () => {
    const status = await page.evaluate(async () => (await fetch('/logout', { method: 'POST' })).status);
    expect(status).toBe(403);
    await page.goto(`${base}/analytics`);
    expect(new URL(page.url()).pathname).toBe('/analytics');
  });

  it('when logging out then the tabs need a login again', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}/system`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('when every tab has been used then no page had a script error or anything blocked by its Content-Security-Policy', () => {
    expect(pageErrors).toEqual([]);
  });
});
