import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BETA_IDS } from '../../server/test/support/app.js';
import { axeViolations, launchBrowser, newPage, signIn } from './support/browser.js';
import { startUiServer, type UiServer } from './support/server.js';

const KEY = 'passenger_favorites_matching';
let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
  await server.call('POST', '/api/admin/feature-flags', { body: { key: KEY, description: 'Favourite drivers first', enabled: true, rolloutPercentage: 1, allowlist: BETA_IDS } });
  await server.call('POST', `/api/admin/rollouts/${KEY}`, { body: { template: 'chat-canary' } });
  await server.call('POST', `/api/admin/beta-monitor/${KEY}/run`, { body: {} });
  await server.call('POST', '/api/admin/snapshots', { body: { label: 'known good' } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const PAGES = [
  { name: 'flags list', path: '/admin/feature-flags', ready: '.flag-row a' },
  { name: 'flag page', path: `/admin/feature-flags/${KEY}`, ready: '#audit li' },
  { name: 'beta monitor', path: `/admin/beta-monitor/${KEY}`, ready: '.report' },
  { name: 'snapshots', path: '/admin/snapshots', ready: 'text=known good' },
  { name: 'tokens', path: '/admin/tokens', ready: 'text=test-viewer' },
];

describe('accessibility and small screens', () => {
  for (const width of [1280, 390]) {
    for (const p of PAGES) {
      it(`${p.name} at ${width} px: no serious or critical axe-core violation, nothing wider than the screen`, async () => {
        const { context, page, errors } = await newPage(browser, { width, bypassCSP: true });
        try {
          await signIn(page, server.baseUrl, server.tokens.SUPER_ADMIN);
          await page.goto(`${server.baseUrl}${p.path}`);
          await page.locator(p.ready).first().waitFor();
          await page.waitForFunction(() => !Array.from(document.querySelectorAll('.state-loading')).some((e) => e.checkVisibility()));
          expect(await axeViolations(page)).toEqual([]);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow).toBeLessThanOrEqual(0);
          expect(errors).toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('is usable from the keyboard: skip link, then Tab reaches the flag and Enter opens it', async () => {
    const { context, page } = await newPage(browser);
    try {
      await signIn(page, server.baseUrl, server.tokens.OPERATOR);
      await page.locator('.flag-row a').first().waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      // Tab until the flag's link has focus (a handful of header controls come first).
      for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.textContent)) !== KEY; i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/admin/feature-flags/${KEY}`);
      // The kill switch dialog opens, traps focus in itself and closes on Escape.
      await page.getByRole('button', { name: 'Kill flag' }).focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Kill this flag' });
      await dialog.waitFor();
      expect(await page.evaluate(() => !!document.activeElement?.closest('dialog'))).toBe(true);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect((await server.call('GET', `/api/admin/feature-flags/${KEY}`)).json().enabled).toBe(true);
    } finally {
      await context.close();
    }
  });
});
