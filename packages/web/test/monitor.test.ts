import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BETA_IDS } from '../../server/test/support/app.js';
import { trafficBatch } from '../../server/test/support/traffic.js';
import { launchBrowser, newPage, signIn } from './support/browser.js';
import { startUiServer, type UiServer } from './support/server.js';

const KEY = 'passenger_favorites_matching';
let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
  await server.call('POST', '/api/admin/feature-flags', { body: { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: BETA_IDS } });
  // An hour of traffic as the SDK reports it, so the charts have something to draw.
  const now = Date.now();
  for (let m = 60; m >= 1; m--) {
    const res = await server.call('POST', '/api/metrics', {
      as: 'SDK',
      body: trafficBatch(KEY, now - m * 60_000, { exposed: { requests: 120, rate5xx: m < 20 ? 0.04 : 0.004 }, control: { requests: 900, rate5xx: 0.004 } }),
    });
    expect(res.statusCode).toBe(200);
  }
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the beta monitor in Chromium, against a real server', () => {
  it('runs a checkpoint with Run now and shows the server’s verdict, health and report', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, server.baseUrl, server.tokens.OPERATOR);
      await page.goto(`${server.baseUrl}/admin/beta-monitor/${KEY}`);
      const run = page.getByRole('button', { name: 'Run now' });
      await run.click();
      const result = page.getByRole('status').filter({ hasText: 'Checkpoint just run' });
      await expect.poll(() => result.textContent(), { timeout: 20_000 }).toMatch(/Verdict (PASS|WARN|FAIL), health (GREEN|YELLOW|RED), decision \w+/);

      // What the page says is what the server recorded.
      const [latest] = (await server.call('GET', `/api/admin/beta-monitor/${KEY}/checkpoints`)).json().checkpoints;
      expect(latest.trigger).toBe('manual');
      expect(latest.actor).toBe('test-operator');
      expect(await result.textContent()).toContain(`Verdict ${latest.status}, health ${latest.health}, decision ${latest.decision}`);
      await expect.poll(() => page.getByTestId('health').textContent()).toContain(latest.health);
      await expect.poll(() => page.locator('.report').textContent()).toContain(latest.id);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('marks a rollback on the charts’ time axis after an operator rolls the plan back from the UI', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, server.baseUrl, server.tokens.OPERATOR);
      await server.call('POST', `/api/admin/rollouts/${KEY}`, {
        as: 'OPERATOR',
        body: { stages: [{ percentage: 5, minDwellMinutes: 60 }, { percentage: 100, minDwellMinutes: 0 }], rollbackPolicy: 'zero' },
      });
      await page.goto(`${server.baseUrl}/admin/beta-monitor/${KEY}`);
      await page.getByTestId('stage-mark').first().waitFor();
      // The charts draw the reported traffic: the error-rate legend carries the exposed cohort's figure.
      await expect.poll(() => page.locator('.uplot').first().textContent()).toMatch(/Exposed\s*\d+(\.\d+)?\s*%/);
      expect(await page.getByTestId('rollback-mark').count()).toBe(0);

      await page.getByRole('button', { name: 'Roll back…' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Reason').fill('exposed 5xx at 4 %');
      await dialog.getByRole('button', { name: 'Roll back now' }).click();
      await dialog.waitFor({ state: 'hidden' });

      expect((await server.call('GET', `/api/admin/feature-flags/${KEY}`)).json().rolloutBasisPoints).toBe(0);
      const mark = page.getByTestId('rollback-mark');
      await expect.poll(() => mark.count(), { timeout: 10_000 }).toBe(1);
      expect(await mark.textContent()).toMatch(/5 % → 0 %/);
      // The charts that carry the mark are drawn (the list is their text equivalent).
      expect(await page.locator('.uplot canvas').count()).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('records an operator signal, and a VIEWER sees neither Run now nor the signal form', async () => {
    const op = await newPage(browser);
    try {
      await signIn(op.page, server.baseUrl, server.tokens.OPERATOR);
      await op.page.goto(`${server.baseUrl}/admin/beta-monitor/${KEY}`);
      await op.page.getByLabel('Complaints').fill('3');
      await op.page.getByLabel('Note').fill('favourite driver shown as unavailable');
      await op.page.getByRole('button', { name: 'Record signal' }).click();
      await op.page.getByRole('dialog').getByRole('button', { name: 'Record signal' }).click();
      await expect.poll(() => op.page.locator('main').textContent()).toContain('favourite driver shown as unavailable');
      const signals = (await server.call('GET', `/api/admin/beta-monitor/${KEY}/signals`)).json().signals;
      expect(signals[0]).toMatchObject({ complaints: 3, note: 'favourite driver shown as unavailable', actor: 'test-operator' });
    } finally {
      await op.context.close();
    }
    const viewer = await newPage(browser);
    try {
      await signIn(viewer.page, server.baseUrl, server.tokens.VIEWER);
      await viewer.page.goto(`${server.baseUrl}/admin/beta-monitor/${KEY}`);
      await expect.poll(() => viewer.page.locator('main').textContent()).toContain('favourite driver shown as unavailable');
      expect(await viewer.page.getByRole('button', { name: 'Run now' }).count()).toBe(0);
      expect(await viewer.page.getByRole('button', { name: 'Record signal' }).count()).toBe(0);
      expect(await viewer.page.getByRole('button', { name: 'Roll back…' }).count()).toBe(0);
    } finally {
      await viewer.context.close();
    }
  });
});
