import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, signIn } from './support/browser.js';
import { startUiServer, type UiServer } from './support/server.js';

let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
  await server.call('POST', '/api/admin/feature-flags', { body: { key: 'surge_explainer', enabled: true, rolloutPercentage: 25, allowlist: ['pass_beta_001_2026'] } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('tokens and snapshots pages in Chromium (SUPER_ADMIN)', () => {
  it('creates a token whose secret is shown once and signs in, then revokes it and its session ends', async () => {
    const admin = await newPage(browser);
    const other = await newPage(browser);
    try {
      await signIn(admin.page, server.baseUrl, server.tokens.SUPER_ADMIN);
      await admin.page.goto(`${server.baseUrl}/admin/tokens`);
      await admin.page.getByRole('button', { name: 'New token' }).click();
      const create = admin.page.getByRole('dialog');
      await create.getByLabel('Name').fill('product-dashboard');
      await create.getByLabel('Role').selectOption('VIEWER');
      await create.getByRole('button', { name: 'Create token' }).click();
      const secretField = admin.page.getByLabel('Token secret');
      await secretField.waitFor();
      const secret = await secretField.inputValue();
      expect(secret).toMatch(/^rpt_/);
      await admin.page.getByRole('button', { name: 'I have stored it' }).click();
      // Shown once: the list never carries it.
      expect(await admin.page.locator('main').textContent()).not.toContain(secret);

      await signIn(other.page, server.baseUrl, secret);
      await expect.poll(() => other.page.locator('.who').textContent()).toContain('product-dashboard · VIEWER');

      const row = admin.page.getByRole('row', { name: /product-dashboard/ });
      await row.getByRole('button', { name: 'Revoke' }).click();
      const revoke = admin.page.getByRole('dialog');
      await revoke.getByLabel('Reason').fill('dashboard retired');
      await revoke.getByRole('button', { name: 'Revoke token' }).click();
      await revoke.waitFor({ state: 'hidden' });
      const listed = (await server.call('GET', '/api/admin/tokens')).json().tokens.find((x: { name: string }) => x.name === 'product-dashboard');
      expect(listed.revokedAt).not.toBeNull();
      // The revoked token's open session is signed out (its live stream ends, the retry gets 401).
      await other.page.getByLabel('API token').waitFor({ timeout: 15_000 });
    } finally {
      await admin.context.close();
      await other.context.close();
    }
  });

  it('takes a snapshot, shows the diff against live after a change, and restores it', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, server.baseUrl, server.tokens.SUPER_ADMIN);
      await page.goto(`${server.baseUrl}/admin/snapshots`);
      await page.getByRole('button', { name: 'New snapshot' }).click();
      const create = page.getByRole('dialog');
      await create.getByLabel('Label (optional)').fill('before the ramp');
      await create.getByRole('button', { name: 'Take snapshot' }).click();
      await create.waitFor({ state: 'hidden' });
      await expect.poll(() => page.locator('main').textContent()).toContain('before the ramp');

      await server.call('PUT', '/api/admin/feature-flags/surge_explainer', { body: { rolloutPercentage: 60, reason: 'ramp' } });
      await page.getByRole('button', { name: 'Diff against live' }).click();
      await expect.poll(() => page.locator('main').textContent()).toMatch(/surge_explainer[\s\S]*60 %[\s\S]*25 %/);

      await page.getByRole('button', { name: 'Restore', exact: true }).click();
      const restore = page.getByRole('dialog');
      const confirm = restore.getByRole('button', { name: 'Restore snapshot' });
      await expect.poll(() => restore.textContent()).toContain('surge_explainer');
      expect(await confirm.isDisabled()).toBe(true);
      await restore.getByLabel('Reason').fill('back to the known state');
      await confirm.click();
      await expect.poll(async () => (await server.call('GET', '/api/admin/feature-flags/surge_explainer')).json().rolloutBasisPoints).toBe(2500);
      const audit = (await server.call('GET', '/api/admin/audit')).json().events;
      expect(audit[0]).toMatchObject({ action: 'snapshot.restore', reason: 'back to the known state' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('tells an OPERATOR that tokens need SUPER_ADMIN, and offers no restore', async () => {
    const { context, page } = await newPage(browser);
    try {
      await signIn(page, server.baseUrl, server.tokens.OPERATOR);
      await page.goto(`${server.baseUrl}/admin/tokens`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('SUPER_ADMIN');
      expect(await page.getByRole('button', { name: 'New token' }).count()).toBe(0);
      await page.goto(`${server.baseUrl}/admin/snapshots`);
      await page.getByRole('button', { name: 'Diff against live' }).waitFor();
      expect(await page.getByRole('button', { name: 'Restore', exact: true }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
