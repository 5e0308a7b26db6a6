import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

/** A built UI of three files, so the test does not depend on `npm run build`. */
function fakeWebDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Rampart</title><script type="module" src="/admin/assets/app-1.js"></script>');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1);');
  return dir;
}

function expectUiHeaders(res: LightMyRequestResponse, what: string) {
  const csp = String(res.headers['content-security-policy'] ?? '');
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("object-src 'none'");
  expect(csp, what).toContain("base-uri 'self'");
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
  expect(res.headers['referrer-policy'], what).toBe('no-referrer');
  expect(res.headers['x-frame-options'], what).toBe('DENY');
}

describe.each(DRIVERS)('security headers of the admin UI on %s', (driver) => {
  let built: TestApp;
  let unbuilt: TestApp;
  beforeAll(async () => {
    built = await startTestApp(driver, { webDir: fakeWebDir() });
    unbuilt = await startTestApp(driver, { webDir: mkdtempSync(join(tmpdir(), 'rampart-no-ui-')) }, built.testDb);
  });
  afterAll(async () => {
    await unbuilt?.app.close();
    await built?.close();
  });

  it('sends CSP, nosniff, no-referrer and no framing on pages, deep links, files and assets', async () => {
    for (const url of ['/admin/', '/admin/feature-flags', '/admin/feature-flags/some_flag', '/admin/favicon.svg', '/admin/assets/app-1.js']) {
      const res = await built.call('GET', url, { as: null });
      expect(res.statusCode, url).toBe(200);
      expectUiHeaders(res, url);
    }
    expect((await built.call('GET', '/admin/assets/app-1.js', { as: null })).headers['content-type']).toMatch(/javascript/);
  });

  it('keeps them on a missing asset, which is a 404 and never the app’s HTML', async () => {
    const res = await built.call('GET', '/admin/assets/app-0-stale.js', { as: null });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).not.toContain('<!doctype html>');
    expectUiHeaders(res, '404');
  });

  it('keeps them on the 503 page of a server whose UI is not built', async () => {
    const res = await unbuilt.call('GET', '/admin/feature-flags', { as: null });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    expectUiHeaders(res, '503');
  });
});
