import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BETA_IDS } from '../../server/test/support/app.js';
import { launchBrowser, newPage, signIn } from './support/browser.js';
import { startUiServer, type UiServer } from './support/server.js';

const KEY = 'passenger_favorites_matching';
let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function flagNow(key: string) {
  return (await server.call('GET', `/api/admin/feature-flags/${key}`)).json();
}

/** Runs `fn` on a signed-in page of a fresh browser context, and closes it afterwards. */
async function asRole<T>(role: 'VIEWER' | 'OPERATOR' | 'SUPER_ADMIN', fn: (page: Page, errors: string[]) => Promise<T>, opts: { width?: number } = {}): Promise<T> {
  const { context, page, errors } = await newPage(browser, opts);
  try {
    await signIn(page, server.baseUrl, server.tokens[role]);
    return await fn(page, errors);
  } finally {
    await context.close();
  }
}

describe('the flags pages in Chromium, against a real server', () => {
  it('creates the runbook’s flag with its 10 beta ids at 0 %, and the tester shows the probes ON by ALLOWLIST and a stranger OFF', async () => {
    await asRole('OPERATOR', async (page, errors) => {
      await page.getByRole('button', { name: 'New flag' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create a flag' });
      await dialog.getByLabel('Key').fill(KEY);
      await dialog.getByLabel('Rollout %').fill('0');
      // Pasted as the runbook lists them: one per line, with a duplicate and blank lines.
      await dialog.getByLabel(/^Allowlist/).fill(`${BETA_IDS.join('\n')}\n\n${BETA_IDS[0]}\n`);
      await expect.poll(() => dialog.locator('.preview-line').textContent()).toBe(`create ${KEY}: enabled, rollout 0 %, 10 allowlisted ids`);
      await dialog.getByLabel('Reason').fill('Phase 1: internal beta');
      await dialog.getByRole('button', { name: 'Create flag' }).click();

      await page.waitForURL(`**/admin/feature-flags/${KEY}`);
      await expect.poll(() => page.locator('#allowlist').textContent()).toContain('10 ids');
      expect(await flagNow(KEY)).toMatchObject({ enabled: true, rolloutBasisPoints: 0, allowlist: BETA_IDS });

      const tester = page.locator('#eval');
      for (const [subject, expected] of [
        [BETA_IDS[0]!, /true.*ALLOWLIST/s],
        [BETA_IDS[6]!, /true.*ALLOWLIST/s],
        ['pass_stranger_0001', /false.*NOT_IN_ROLLOUT/s],
      ] as const) {
        await tester.getByLabel('Subject id').fill(subject);
        await tester.getByRole('button', { name: 'Evaluate' }).click();
        await expect.poll(() => tester.textContent()).toMatch(expected);
        // The bucket shown is the server's own answer for that subject.
        const { bucket } = (await server.call('GET', `/api/evaluate/${KEY}?id=${subject}`)).json();
        await expect.poll(() => tester.textContent()).toContain(String(bucket));
      }
      expect(errors).toEqual([]);
    });
  });

  it('raises the rollout to 1 % after showing what will change, and the audit entry appears with its diff', async () => {
    await asRole('OPERATOR', async (page) => {
      await page.goto(`${server.baseUrl}/admin/feature-flags/${KEY}`);
      const rollout = page.locator('#rollout');
      await rollout.getByRole('button', { name: '1 %', exact: true }).click();
      await rollout.getByRole('button', { name: 'Apply rollout…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Change the rollout' });
      await expect.poll(() => dialog.textContent()).toContain('rollout 0 % → 1 %');
      // Nothing is written before the confirmation.
      expect((await flagNow(KEY)).rolloutBasisPoints).toBe(0);
      await dialog.getByLabel('Reason').fill('Phase 2: 1 %');
      await dialog.getByRole('button', { name: 'Change rollout' }).click();
      await dialog.waitFor({ state: 'hidden' });

      expect(await flagNow(KEY)).toMatchObject({ rolloutBasisPoints: 100, version: 2 });
      const history = page.locator('#audit');
      await expect.poll(() => history.locator('li').first().textContent()).toContain('Phase 2: 1 %');
      const first = history.locator('li').first();
      expect(await first.textContent()).toContain('flag.update');
      expect(await first.locator('.diff-del').allTextContents()).toContain('− rolloutBasisPoints: 0 (0 %)');
      expect(await first.locator('.diff-add').allTextContents()).toContain('+ rolloutBasisPoints: 100 (1 %)');
    });
  });

  it('shows a conflict with a reload when someone changed the flag while the dialog was open, and writes nothing', async () => {
    await asRole('OPERATOR', async (page) => {
      await page.goto(`${server.baseUrl}/admin/feature-flags/${KEY}`);
      await page.getByRole('button', { name: 'Kill flag' }).click();
      const dialog = page.getByRole('dialog', { name: 'Kill this flag' });
      await dialog.getByLabel('Reason').fill('matching errors');
      // Meanwhile, someone else changes the description.
      await server.call('PUT', `/api/admin/feature-flags/${KEY}`, { body: { description: 'changed meanwhile' } });
      const before = await flagNow(KEY);
      await dialog.getByRole('button', { name: 'Disable for everyone' }).click();
      await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('Someone changed this first');
      expect(await flagNow(KEY)).toEqual(before);
      await dialog.getByRole('button', { name: 'Reload' }).click();
      await expect.poll(() => page.locator('main').textContent()).toContain('changed meanwhile');
    });
  });

  it('kills the flag with a required reason; every open page sees it OFF without a refresh', async () => {
    const watcher = await newPage(browser);
    try {
      await signIn(watcher.page, server.baseUrl, server.tokens.VIEWER);
      await expect.poll(() => watcher.page.locator('.flag-row', { hasText: KEY }).textContent()).toContain('ON');
      await asRole('OPERATOR', async (page) => {
        await page.goto(`${server.baseUrl}/admin/feature-flags/${KEY}`);
        await page.getByRole('button', { name: 'Kill flag' }).click();
        const dialog = page.getByRole('dialog', { name: 'Kill this flag' });
        const confirm = dialog.getByRole('button', { name: 'Disable for everyone' });
        expect(await confirm.isDisabled()).toBe(true);
        await dialog.getByLabel('Reason').fill('Level 1: kill switch');
        await confirm.click();
        await dialog.waitFor({ state: 'hidden' });
      });
      expect(await flagNow(KEY)).toMatchObject({ enabled: false });
      // The viewer's list, opened before the change, follows it through the live stream.
      await expect.poll(() => watcher.page.locator('.flag-row', { hasText: KEY }).textContent(), { timeout: 10_000 }).toContain('OFF');
    } finally {
      await watcher.context.close();
    }
    await server.call('PUT', `/api/admin/feature-flags/${KEY}`, { body: { enabled: true } });
  });

  it('shows a VIEWER no control that changes anything, and a forced change gets 403 and writes nothing', async () => {
    await asRole('VIEWER', async (page) => {
      await page.goto(`${server.baseUrl}/admin/feature-flags/${KEY}`);
      await page.locator('#audit li').first().waitFor();
      expect(await page.getByRole('note').textContent()).toContain('Read-only');
      const buttons = await page.locator('main button').allTextContents();
      for (const forbidden of ['Kill flag', 'Apply rollout…', 'Add ids…', 'Remove ids…', 'Start a plan…', 'Schedule a change…']) expect(buttons).not.toContain(forbidden);
      await page.goto(`${server.baseUrl}/admin/feature-flags`);
      await page.locator('.flag-row a').first().waitFor();
      expect(await page.getByRole('button', { name: 'New flag' }).count()).toBe(0);
      // The evaluation tester stays available: reading is what a VIEWER may do.
      await page.goto(`${server.baseUrl}/admin/feature-flags/${KEY}`);
      await page.locator('#eval').getByRole('button', { name: 'Evaluate' }).waitFor();

      const before = await flagNow(KEY);
      const forced = await page.evaluate(async (key) => {
        const { token } = JSON.parse(sessionStorage.getItem('rampart.session')!);
        const res = await fetch(`/api/admin/feature-flags/${key}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ enabled: false }),
        });
        return { status: res.status, code: (await res.json()).error?.code };
      }, KEY);
      expect(forced).toEqual({ status: 403, code: 'FORBIDDEN' });
      expect(await flagNow(KEY)).toEqual(before);
    });
  });

  it('refuses a flag key that breaks the pattern with the server’s code, and creates nothing', async () => {
    await asRole('OPERATOR', async (page) => {
      await page.getByRole('button', { name: 'New flag' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create a flag' });
      await dialog.getByLabel('Key').fill('Bad Key!');
      await dialog.getByRole('button', { name: 'Create flag' }).click();
      // Either the browser's own pattern check or the server's 400 stops it.
      await page.waitForTimeout(500);
      expect(await dialog.isVisible()).toBe(true);
      expect((await server.call('GET', '/api/admin/feature-flags')).json().flags.map((f: { key: string }) => f.key)).not.toContain('Bad Key!');
    });
  });
});
