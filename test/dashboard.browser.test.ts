/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (never a downloaded browser).
 * Log in (a wrong password first), each tab populated from a replay of the bundled data, keyboard through the
 * tabs, a POST without the CSRF token refused, log out. Screenshots of each tab go to test/screenshots/
 * (git-ignored). Without Chromium the suite is skipped with a message, except under CI or TOLLGATE_REQUIRE_CHROMIUM=1 (`.ci/run` installs it and sets that).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { hashPassword } from '../src/dashboard/auth.ts';
import { createDashboard } from '../src/dashboard/server.ts';
import { BIN, BUNDLED, tmp } from './helpers.ts';

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

describe.skipIf(!CHROMIUM)('the dashboard in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  let report: any;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  beforeAll(async () => {
    const dir = tmp('tollgate-dashboard-browser-');
    const logs = join(dir, 'logs');
    execFileSync(process.execPath, [BIN, 'replay', '--data', BUNDLED, '--from', '2019-01-01', '--to', '2019-06-01', '--logs', logs, '--state', join(dir, 'state.db'), '--no-progress'], { stdio: 'pipe' });
    report = JSON.parse(execFileSync(process.execPath, [BIN, 'report', '--logs', logs, '--format', 'json'], { encoding: 'utf8' }));
    app = await createDashboard({ logsDir: logs, stateFile: join(dir, 'state.db'), passwordHash: await hashPassword(PASSWORD), host: '127.0.0.1', clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

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

  it('when moving through the tabs with the keyboard then Performance and System open, populated', async () => {
    await page.locator('nav a', { hasText: 'Performance' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/performance`);
    expect(await page.locator('#equity-chart polyline').count()).toBe(2);
    expect(await page.locator('#drawdown-chart polyline').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'performance.png'), fullPage: true });
    await page.locator('nav a[aria-current="page"]').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/system`);
    expect(await page.locator('#state').textContent()).toContain('Closed trades');
    expect(((await page.locator('#log-tail').textContent()) ?? '').length).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'system.png'), fullPage: true });
  });

  it('when the Trading tab is opened then the recent signals show each guard verdict', async () => {
    await page.goto(`${base}/trading`);
    expect(await page.locator('#signals tbody tr').count()).toBeGreaterThan(0);
    await page.locator('#signals tbody tr details summary').first().click();
    expect(await page.locator('#signals tbody tr details li').first().isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'trading.png'), fullPage: true });
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
});
