import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { ADMIN, admin } from './support/server-process.js';

// The SDK in a real browser (Debian's Chromium), on a page served from another origin than
// Rampart, as a web application runs it: the published package bundled by Vite, CORS opened for
// that origin with RAMPART_CORS_ORIGINS, the config fetched and the change stream read over
// fetch, metrics posted back, and the OpenFeature web provider on top.
const CHROMIUM = process.env.RAMPART_CHROMIUM ?? '/usr/bin/chromium';
const KEY = 'passenger_favorites_matching';
const BETA = 'pass_beta_001_2026';

/** The page's script: packages/sdk/test/browser/page-app.ts bundled for browsers. */
async function bundlePageApp(): Promise<string> {
  const out = (await build({
    configFile: false,
    logLevel: 'silent',
    root: fileURLToPath(new URL('./browser/', import.meta.url)),
    build: {
      write: false,
      minify: false,
      lib: { entry: 'page-app.ts', formats: ['es'], fileName: 'app' },
    },
  })) as Rolldown.RolldownOutput[];
  const chunk = out[0]!.output.find((o) => o.type === 'chunk' && o.isEntry) as Rolldown.OutputChunk;
  return chunk.code;
}

/** A static site on its own origin: an empty page that loads the bundle. */
async function startPageServer(script: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script type="module" src="/app.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function openApp(browser: Browser, origin: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'rampart' in window);
  return page;
}

describe('the SDK in Chromium, cross-origin', () => {
  let browser: Browser;
  let rampart: RunningServer;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  let token: string;

  beforeAll(async () => {
    const script = await bundlePageApp();
    allowed = await startPageServer(script);
    other = await startPageServer(script);
    rampart = await startServer(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        RAMPART_DATA_DIR: 'memory://',
        RAMPART_ADMIN_TOKEN: ADMIN,
        LOG_LEVEL: 'silent',
        RAMPART_WATCHDOG_SCHEDULE: 'false',
        RAMPART_CORS_ORIGINS: allowed.origin,
      }),
    );
    await admin(rampart.url, 'POST', '/api/admin/feature-flags', { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: [BETA] });
    token = (await admin<{ token: string }>(rampart.url, 'POST', '/api/admin/tokens', { name: 'browser-app', role: 'SDK' })).token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await rampart?.close();
    for (const site of [allowed, other]) site?.server.close();
  });

  it('evaluates locally, follows a kill switch through the stream and posts its metrics back', { timeout: 60_000 }, async () => {
    const page = await openApp(browser, allowed.origin);
    const first = await page.evaluate(
      async ({ url, token, key, beta }) => {
        const client = window.rampart.createClient({ url, token, flushIntervalMs: 60_000 });
        (window as unknown as { client: typeof client }).client = client;
        const status = await client.ready;
        return { status, beta: client.evaluate(key, { id: beta }), stranger: client.evaluate(key, { id: 'passenger-42' }) };
      },
      { url: rampart.url, token, key: KEY, beta: BETA },
    );
    expect(first.status).toMatchObject({ state: 'READY', source: 'server' });
    expect(first.beta).toMatchObject({ value: true, reason: 'ALLOWLIST', cohort: 'allowlist' });
    expect(first.stranger).toMatchObject({ value: false, reason: 'NOT_IN_ROLLOUT' });
    await expect.poll(() => page.evaluate(() => (window as unknown as { client: { status(): { connection: string } } }).client.status().connection)).toBe('streaming');

    // The runbook's kill switch, flipped on the server: the page sees it without reloading.
    // The listener is in place before the change is made (a change could otherwise beat it).
    await page.evaluate((key) => {
      const w = window as unknown as { client: { on(e: 'changed', h: (c: { key: string }) => void): void }; changed: Promise<{ key: string }> };
      w.changed = new Promise((resolve) => w.client.on('changed', (c) => c.key === key && resolve(c)));
    }, KEY);
    await admin(rampart.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { enabled: false, rolloutPercentage: 0 });
    expect(await page.evaluate(() => (window as unknown as { changed: Promise<{ key: string }> }).changed)).toMatchObject({ key: KEY });
    const after = await page.evaluate(
      ({ key, beta }) => (window as unknown as { client: { evaluate(k: string, c: object): unknown } }).client.evaluate(key, { id: beta }),
      { key: KEY, beta: BETA },
    );
    expect(after).toMatchObject({ value: false, reason: 'DISABLED' });

    // Exposures and a business metric, flushed cross-origin on close().
    await page.evaluate(async ({ key, beta }) => {
      const client = (window as unknown as { client: { track(n: string, v: boolean, c: object): void; close(): Promise<void> } }).client;
      client.track('matching_success', true, { id: beta, flag: key });
      await client.close();
    }, { key: KEY, beta: BETA });
    const { cohorts } = await admin<{ cohorts: Record<string, { exposures: number }> }>(rampart.url, 'GET', `/api/admin/metrics/${KEY}/summary?window=1h`);
    expect(cohorts.allowlist?.exposures).toBe(1);
    expect(cohorts.off?.exposures).toBe(1);
  });

  it('serves the OpenFeature web provider in the browser', async () => {
    await admin(rampart.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { enabled: true, rolloutPercentage: 0 });
    const page = await openApp(browser, allowed.origin);
    const details = await page.evaluate(
      async ({ url, token, key, beta }) => {
        const { OpenFeature, RampartProvider } = window.rampart;
        await OpenFeature.setContext({ targetingKey: beta });
        await OpenFeature.setProviderAndWait(new RampartProvider({ url, token, flushIntervalMs: 60_000 }));
        const client = OpenFeature.getClient();
        const result = { on: client.getBooleanDetails(key, false), missing: client.getBooleanDetails('no_such_flag', true) };
        await OpenFeature.close();
        return result;
      },
      { url: rampart.url, token, key: KEY, beta: BETA },
    );
    expect(details.on).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(details.missing).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('is refused by the browser on an origin Rampart does not allow, and falls back to the default', async () => {
    const page = await openApp(browser, other.origin);
    const corsErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && /CORS/.test(m.text()) && corsErrors.push(m.text()));
    const result = await page.evaluate(
      async ({ url, token, key, beta }) => {
        const client = window.rampart.createClient({ url, token, flushIntervalMs: 60_000, backoff: { minMs: 50, maxMs: 100 } });
        await new Promise((r) => setTimeout(r, 500));
        const out = { status: client.status(), beta: client.evaluate(key, { id: beta }, true) };
        await client.close();
        return out;
      },
      { url: rampart.url, token, key: KEY, beta: BETA },
    );
    expect(result.status.state).toBe('NOT_READY');
    expect(result.beta).toMatchObject({ value: true, errorCode: 'NOT_READY' });
    expect(corsErrors.length).toBeGreaterThan(0);
  });
});
