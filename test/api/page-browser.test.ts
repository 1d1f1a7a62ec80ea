// The fleet page in a real browser: Debian's chromium, driven by playwright-core, against three
// real murmur processes on loopback (scripts/local-fleet.ts). The page must list the three
// devices, show a value set with `murmur set` and a killed device's death without a reload, let
// Identify through with the token, fit a phone's width, and log no console error. A screenshot
// is kept in test-artifacts/ for people to look at.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalFleet, type LocalFleet } from '../../scripts/local-fleet.js';
import { run } from '../cli/recording-io.js';

const CHROMIUM = process.env['MURMUR_CHROMIUM'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

let fleet: LocalFleet;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
let navigations = 0;

beforeAll(async () => {
  fleet = await startLocalFleet({ nodes: 3, http: '127.0.0.1:0', prefix: 'b', schedule: '*/2 * * * * *' });
  // Chromium refuses to run as root with its sandbox; CI runs as root.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  // A phone's screen.
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
});

const card = (id: string): string => `article.card[data-id="${id}"]`;

describe('fleet page in chromium, three nodes', () => {
  it('lists all three devices, alive, with their LEDs', async () => {
    await page.goto(fleet.urlWithToken);
    for (const id of ['b-1', 'b-2', 'b-3']) {
      await page.locator(`${card(id)}[data-status="alive"]`).waitFor({ timeout: 30_000 });
    }
    expect(await page.locator('article.card').count()).toBe(3);
    // Every device's LED is drawn from what it published (healthy, once the fleet has settled).
    // Locators, not waitForFunction: the page's CSP forbids eval, which waitForFunction's
    // in-page polling needs whenever its first check fails.
    for (const id of ['b-1', 'b-2', 'b-3']) {
      await page.locator(`${card(id)} .ledrow`).filter({ hasText: /LED: (healthy|degraded)/ }).waitFor({ timeout: 30_000 });
    }
    // Sensor readings with their plots, and the fleet-wide row per quantity.
    await page.locator('#aggregates tr[data-key="sensor/sim-env/temperature"]').waitFor({ timeout: 20_000 });
  });

  it('shows a value set with `murmur set` without a reload', async () => {
    const before = navigations;
    const r = await run(['set', 'greeting', 'hello-from-b2', '--state-dir', fleet.nodes[1]!.stateDir]);
    expect(r.code, r.err).toBe(0);
    await page.locator(`${card('b-2')} tr[data-key="greeting"]`, { hasText: 'hello-from-b2' }).waitFor({ timeout: 20_000 });
    expect(navigations).toBe(before);
  });

  it('Identify from the page makes the device identify itself, and its LED on the page says so', async () => {
    await page.locator(`${card('b-2')} button.identify`).click();
    await page.locator(`${card('b-2')} .ledrow`, { hasText: 'LED: identify' }).waitFor({ timeout: 20_000 });
    await page.locator(`${card('b-2')} button.identify`, { hasText: 'Stop identify' }).click();
    await page.locator(`${card('b-2')} .ledrow`, { hasText: /LED: (healthy|degraded)/ }).waitFor({ timeout: 20_000 });
  });

  it('turns a killed device dead, without a reload', async () => {
    const before = navigations;
    fleet.nodes[2]!.proc.kill('SIGKILL');
    await page.locator(`${card('b-3')}[data-status="dead"]`).waitFor({ timeout: 60_000 });
    await expect(page.locator(`${card('b-3')} .ledrow`).textContent()).resolves.toMatch(/LED: unknown/);
    expect(navigations).toBe(before);
  });

  it('fits a phone screen, is kept as a screenshot, and logged no console error', async () => {
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-page.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
