import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, signIn } from './support/browser.js';
import { startUiServer, type UiServer } from './support/server.js';

let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('signing in to the admin UI in Chromium', () => {
  for (const role of ['VIEWER', 'OPERATOR', 'SUPER_ADMIN'] as const) {
    it(`signs a ${role} in and shows who is signed in, with the navigation that role may use`, async () => {
      const { context, page, errors } = await newPage(browser);
      try {
        await signIn(page, server.baseUrl, server.tokens[role]);
        await expect.poll(() => page.locator('.who').textContent()).toContain(role);
        expect(page.url()).toMatch(/\/admin\/feature-flags$/);
        const nav = page.getByRole('navigation', { name: 'Main' });
        await expect.poll(() => nav.getByRole('link').allTextContents()).toEqual(
          role === 'SUPER_ADMIN' ? ['Feature flags', 'Beta monitor', 'Snapshots', 'Tokens'] : ['Feature flags', 'Beta monitor'],
        );
        // The session survives a reload of the tab.
        await page.reload();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('API token').waitFor();
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('refuses an SDK token with a message that says which tokens can sign in', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${server.baseUrl}/admin/`);
      await page.getByLabel('API token').fill(server.tokens.SDK);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/SDK token.*VIEWER, OPERATOR or SUPER_ADMIN/);
    } finally {
      await context.close();
    }
  });

  it('refuses an unknown token and a revoked one, and signs out a session whose token is revoked', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${server.baseUrl}/admin/`);
      await page.getByLabel('API token').fill('not-a-token-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not valid/);

      const created = (await server.call('POST', '/api/admin/tokens', { body: { name: 'soon-revoked', role: 'OPERATOR' } })).json();
      await signIn(page, server.baseUrl, created.token);
      await server.call('DELETE', `/api/admin/tokens/${created.id}`, { body: {} });
      // The live stream ends for a revoked token; its reconnect gets 401 and the UI signs out.
      await page.getByLabel('API token').waitFor({ timeout: 15_000 });
    } finally {
      await context.close();
    }
  });

  it('speaks Brazilian Portuguese to a pt-BR browser, and switches language on request', async () => {
    const { context, page } = await newPage(browser, { locale: 'pt-BR' });
    try {
      await page.goto(`${server.baseUrl}/admin/`);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Entrar no Rampart');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('pt-BR');
      await page.getByLabel('Idioma').selectOption('en');
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in to Rampart');
      await page.reload();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in to Rampart');
    } finally {
      await context.close();
    }
  });

  it('serves the pages with a CSP that forbids framing and foreign scripts, and assets as immutable', async () => {
    const res = await fetch(`${server.baseUrl}/admin/feature-flags/some_flag`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    const asset = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.baseUrl}${asset}`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.baseUrl}/admin/assets/missing-abc.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/admin/assets/..%2f..%2fpackage.json`)).status).toBeGreaterThanOrEqual(400);
  });
});
