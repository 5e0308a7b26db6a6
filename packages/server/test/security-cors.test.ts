import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';

// CORS is closed unless RAMPART_CORS_ORIGINS names origins, and then opens only the routes an
// SDK token may call. Browsers enforce it from these headers, so the tests read the headers.
const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';
const KEY = 'passenger_favorites_matching';

function preflight(t: TestApp, url: string, origin: string, method = 'GET') {
  return t.app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });
}

async function seed(t: TestApp) {
  const res = await t.call('POST', '/api/admin/feature-flags', { body: { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: BETA_IDS } });
  expect(res.statusCode).toBe(201);
}

describe('CORS, closed by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    await seed(t);
  });
  afterAll(async () => t?.close());

  it('answers no preflight and adds no CORS header, even on SDK routes', async () => {
    const pre = await preflight(t, '/api/sdk/config', APP);
    expect(pre.statusCode).toBe(404);
    expect(pre.json().error.code).toBe('NOT_FOUND');
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await t.call('GET', `/api/evaluate/${KEY}?id=${BETA_IDS[0]}`, { as: 'SDK', headers: { origin: APP } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS with RAMPART_CORS_ORIGINS', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp('pglite', { corsOrigins: [APP, 'http://localhost:5173'] });
    await seed(t);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => t?.close());

  it('answers preflights for every SDK route from an allowed origin', async () => {
    for (const [url, method] of [
      ['/api/sdk/config', 'GET'],
      ['/api/sdk/stream', 'GET'],
      [`/api/evaluate/${KEY}?id=x`, 'GET'],
      ['/api/evaluate', 'POST'],
      ['/api/evaluate/batch', 'POST'],
      ['/api/flags', 'GET'],
      ['/api/metrics', 'POST'],
    ] as const) {
      const res = await preflight(t, url, APP, method);
      expect(res.statusCode, url).toBe(204);
      expect(res.headers['access-control-allow-origin'], url).toBe(APP);
      expect(String(res.headers['access-control-allow-methods']), url).toContain(method);
      expect(String(res.headers['access-control-allow-headers']), url).toContain('authorization');
      expect(String(res.headers['access-control-allow-headers']), url).toContain('content-type');
      expect(res.headers['access-control-max-age'], url).toBe('600');
      expect(res.headers['access-control-allow-credentials'], url).toBeUndefined();
      expect(String(res.headers.vary), url).toMatch(/origin/i);
    }
  });

  it('refuses preflights for the admin API, and from origins not on the list', async () => {
    for (const [url, origin] of [
      ['/api/admin/feature-flags', APP],
      [`/api/admin/feature-flags/${KEY}`, APP],
      ['/api/admin/tokens', APP],
      ['/api/sdk/config', EVIL],
      [`/api/evaluate/${KEY}`, 'http://localhost:5174'],
    ] as const) {
      const res = await preflight(t, url, origin, 'PUT');
      expect(res.statusCode, `${url} from ${origin}`).toBe(404);
      expect(res.headers['access-control-allow-origin'], `${url} from ${origin}`).toBeUndefined();
    }
  });

  it('lets an allowed origin read evaluations over real HTTP, with ETag and request id exposed', async () => {
    const before = t.app.evaluationFastPath!.served();
    const res = await fetch(`${base}/api/evaluate/${KEY}?id=${BETA_IDS[0]}`, {
      headers: { authorization: `Bearer ${t.tokens.SDK}`, origin: APP },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ value: true, reason: 'ALLOWLIST' });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    // Answered by Fastify, not the fast path, which adds no CORS headers.
    expect(t.app.evaluationFastPath!.served()).toBe(before);
    const config = await fetch(`${base}/api/sdk/config`, { headers: { authorization: `Bearer ${t.tokens.SDK}`, origin: APP } });
    expect(config.status).toBe(200);
    expect(config.headers.get('access-control-expose-headers')).toMatch(/etag/);
    expect(config.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    // The stream takes the socket over from Fastify and must keep the CORS headers.
    const ac = new AbortController();
    const stream = await fetch(`${base}/api/sdk/stream`, { headers: { authorization: `Bearer ${t.tokens.SDK}`, origin: APP }, signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe(APP);
    ac.abort();
    // Without an Origin header the fast path still answers.
    await fetch(`${base}/api/flags?id=x`, { headers: { authorization: `Bearer ${t.tokens.SDK}` } });
    await fetch(`${base}/api/flags?id=x`, { headers: { authorization: `Bearer ${t.tokens.SDK}` } });
    expect(t.app.evaluationFastPath!.served()).toBeGreaterThan(before);
  });

  it('lets the browser read an SDK route’s error (a bad token), so the SDK can report it', async () => {
    const res = await t.call('GET', '/api/sdk/config', { as: { secret: 'rampart_nope' }, headers: { origin: APP } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('TOKEN_INVALID');
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });

  it('never adds CORS headers to the admin API or to a disallowed origin', async () => {
    const admin = await t.call('GET', '/api/admin/feature-flags', { headers: { origin: APP } });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    const evil = await t.call('GET', `/api/evaluate/${KEY}?id=x`, { as: 'SDK', headers: { origin: EVIL } });
    expect(evil.statusCode).toBe(200);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps its preflight route out of the OpenAPI document', async () => {
    const doc = (await t.call('GET', '/docs/json', { as: null })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.values(doc.paths).some((ops) => 'options' in ops)).toBe(false);
  });
});

describe('CORS with any origin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { corsOrigins: ['*'] });
    await seed(t);
  });
  afterAll(async () => t?.close());

  it('answers `*` on SDK routes and still nothing on the admin API', async () => {
    const pre = await preflight(t, '/api/sdk/stream', EVIL);
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect((await preflight(t, '/api/admin/snapshots', EVIL, 'POST')).statusCode).toBe(404);
  });
});

describe('RAMPART_CORS_ORIGINS', () => {
  it('takes a comma-separated list of origins, or *', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ RAMPART_CORS_ORIGINS: ` ${APP}, http://localhost:5173 ` }).corsOrigins).toEqual([APP, 'http://localhost:5173']);
    expect(loadConfig({ RAMPART_CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it('refuses anything that is not an origin, with a message saying what is expected', () => {
    for (const bad of ['app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'ftp://files.example.com', 'https://*.example.com']) {
      expect(() => loadConfig({ RAMPART_CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
    }
    expect(() => loadConfig({ RAMPART_CORS_ORIGINS: 'app.example.com' })).toThrow(/scheme, host and port only/);
  });
});
