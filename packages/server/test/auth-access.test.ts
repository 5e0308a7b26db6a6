import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/roles.js';
import { DRIVERS, dumpState } from './support/databases.js';
import { SYSTEM_ACTOR, startTestApp, type TestApp } from './support/app.js';

const F = '/api/admin/feature-flags';
type Who = Role | null;
const WHO: Who[] = ['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK', null];
const slug = (who: Who) => (who ?? 'nobody').toLowerCase().replace('_', '-');

/**
 * The one policy table: who may call what. Viewers read; operators change flags; only super
 * admins touch tokens; SDK tokens only evaluate; operations routes are public.
 */
type Policy = 'public' | 'evaluate' | 'read' | 'change-flags' | 'tokens';
const MAY: Record<Policy, readonly Who[]> = {
  public: WHO,
  evaluate: ['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK'],
  read: ['SUPER_ADMIN', 'OPERATOR', 'VIEWER'],
  'change-flags': ['SUPER_ADMIN', 'OPERATOR'],
  tokens: ['SUPER_ADMIN'],
};

interface RouteCase {
  readonly route: string;
  readonly policy: Policy;
  /** The status when allowed. */
  readonly ok: number;
  request(who: Who): { method: string; url: string; body?: unknown };
}

let revokeTarget = '';
const ROUTES: RouteCase[] = [
  { route: 'GET /api/admin/feature-flags', policy: 'read', ok: 200, request: () => ({ method: 'GET', url: F }) },
  { route: 'POST /api/admin/feature-flags', policy: 'change-flags', ok: 201, request: (w) => ({ method: 'POST', url: F, body: { key: `new-${slug(w)}` } }) },
  { route: 'GET /api/admin/feature-flags/:key', policy: 'read', ok: 200, request: () => ({ method: 'GET', url: `${F}/rbac` }) },
  { route: 'PUT /api/admin/feature-flags/:key', policy: 'change-flags', ok: 200, request: (w) => ({ method: 'PUT', url: `${F}/rbac`, body: { description: `by ${slug(w)}` } }) },
  { route: 'DELETE /api/admin/feature-flags/:key', policy: 'change-flags', ok: 200, request: (w) => ({ method: 'DELETE', url: `${F}/doomed-${slug(w)}`, body: {} }) },
  { route: 'POST /api/admin/feature-flags/:key/allowlist', policy: 'change-flags', ok: 200, request: (w) => ({ method: 'POST', url: `${F}/rbac/allowlist`, body: { ids: [`id-${slug(w)}`] } }) },
  { route: 'DELETE /api/admin/feature-flags/:key/allowlist', policy: 'change-flags', ok: 200, request: (w) => ({ method: 'DELETE', url: `${F}/rbac/allowlist`, body: { ids: [`id-${slug(w)}`] } }) },
  { route: 'GET /api/admin/feature-flags/:key/audit', policy: 'read', ok: 200, request: () => ({ method: 'GET', url: `${F}/rbac/audit` }) },
  { route: 'GET /api/admin/audit', policy: 'read', ok: 200, request: () => ({ method: 'GET', url: '/api/admin/audit' }) },
  { route: 'POST /api/admin/tokens', policy: 'tokens', ok: 201, request: (w) => ({ method: 'POST', url: '/api/admin/tokens', body: { name: `made-by-${slug(w)}`, role: 'VIEWER' } }) },
  { route: 'GET /api/admin/tokens', policy: 'tokens', ok: 200, request: () => ({ method: 'GET', url: '/api/admin/tokens' }) },
  { route: 'DELETE /api/admin/tokens/:id', policy: 'tokens', ok: 200, request: () => ({ method: 'DELETE', url: `/api/admin/tokens/${revokeTarget}`, body: {} }) },
  { route: 'GET /api/evaluate/:key', policy: 'evaluate', ok: 200, request: () => ({ method: 'GET', url: '/api/evaluate/rbac?id=user-1' }) },
  { route: 'POST /api/evaluate', policy: 'evaluate', ok: 200, request: () => ({ method: 'POST', url: '/api/evaluate', body: { context: { id: 'user-1' } } }) },
  { route: 'GET /api/flags', policy: 'evaluate', ok: 200, request: () => ({ method: 'GET', url: '/api/flags?id=user-1' }) },
  { route: 'GET /healthz', policy: 'public', ok: 200, request: () => ({ method: 'GET', url: '/healthz' }) },
  { route: 'GET /readyz', policy: 'public', ok: 200, request: () => ({ method: 'GET', url: '/readyz' }) },
  { route: 'GET /metrics', policy: 'public', ok: 200, request: () => ({ method: 'GET', url: '/metrics' }) },
];

const MATRIX = ROUTES.flatMap((r) =>
  WHO.map((who) => {
    const status = MAY[r.policy].includes(who) ? r.ok : who === null ? 401 : 403;
    return [`${who ?? 'a caller without a token'} calling ${r.route} gets ${status}`, r, who, status] as const;
  }),
);

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(res.json().error).toMatchObject({ code, requestId: res.headers['x-request-id'] });
}

describe.each(DRIVERS)('authentication and roles on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0 });
    for (const key of ['rbac', ...WHO.map((w) => `doomed-${slug(w)}`)]) {
      await t.app.rampart.flags.create(SYSTEM_ACTOR, { key, enabled: true, rolloutBasisPoints: 5_000 });
    }
    revokeTarget = (await t.app.rampart.tokens.create(SYSTEM_ACTOR, 'revoke-me', 'VIEWER')).id;
  });
  afterAll(async () => t.close());

  it('refuses a request without a token with 401 TOKEN_MISSING', async () => {
    expectError(await t.call('GET', F, { as: null }), 401, 'TOKEN_MISSING');
  });

  it.each([
    ['Basic credentials', 'Basic abc'],
    ['"Bearer" alone', 'Bearer'],
    ['"Bearer" and spaces', 'Bearer    '],
    ['an unknown token', 'Bearer rpt_0000000000000000000000000000000000000000000'],
    ['a token followed by junk', 'Bearer rpt_abc def'],
    ['a 600-character token', `Bearer ${'x'.repeat(600)}`],
  ])('refuses %s with 401 TOKEN_INVALID and writes nothing', async (_what, authorization) => {
    const before = await dumpState(t.db);
    expectError(await t.call('GET', F, { as: null, headers: { authorization } }), 401, 'TOKEN_INVALID');
    expectError(await t.call('POST', F, { as: null, headers: { authorization }, body: { key: 'sneaky' } }), 401, 'TOKEN_INVALID');
    expect(await dumpState(t.db)).toEqual(before);
  });

  it('refuses a bare secret without the Bearer scheme, and accepts a lower-case "bearer"', async () => {
    expectError(await t.call('GET', F, { as: null, headers: { authorization: t.tokens.VIEWER } }), 401, 'TOKEN_INVALID');
    expect((await t.call('GET', F, { as: null, headers: { authorization: `bearer ${t.tokens.VIEWER}` } })).statusCode).toBe(200);
  });

  it('stops a revoked token on the very next request, and its writes land nowhere', async () => {
    const created = (await t.call('POST', '/api/admin/tokens', { body: { name: 'leaked', role: 'OPERATOR' } })).json();
    const leaked = { secret: created.token as string };
    expect((await t.call('GET', F, { as: leaked })).statusCode).toBe(200);
    expect((await t.call('DELETE', `/api/admin/tokens/${created.id}`, { body: { reason: 'leaked in a log' } })).statusCode).toBe(200);
    expectError(await t.call('GET', F, { as: leaked }), 401, 'TOKEN_INVALID');
    const before = await dumpState(t.db);
    expectError(await t.call('PUT', `${F}/rbac`, { as: leaked, body: { enabled: false } }), 401, 'TOKEN_INVALID');
    expectError(await t.call('POST', '/api/admin/tokens', { as: leaked, body: { name: 'backdoor', role: 'SUPER_ADMIN' } }), 401, 'TOKEN_INVALID');
    expect(await dumpState(t.db)).toEqual(before);
  });

  it.each(MATRIX)('%s', async (_title, route, who, status) => {
    const { method, url, body } = route.request(who);
    const before = await dumpState(t.db);
    const res = await t.call(method, url, { as: who, ...(body === undefined ? {} : { body }) });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
    if (status === 401) expectError(res, 401, 'TOKEN_MISSING');
    if (status === 403) {
      expectError(res, 403, 'FORBIDDEN');
      expect(res.json().error.details).toMatchObject({ role: who });
    }
    if (status >= 400) expect(await dumpState(t.db)).toEqual(before);
  });

  it('answers 401 to a caller without a token even when the body is not valid JSON', async () => {
    expectError(await t.call('POST', F, { as: null, rawBody: '{"enabled":' }), 401, 'TOKEN_MISSING');
  });

  it('answers 401 to a caller without a token even when the flag key in the path is invalid', async () => {
    expectError(await t.call('GET', `${F}/NOT_A_KEY`, { as: null }), 401, 'TOKEN_MISSING');
  });

  it('answers 403 to an SDK token writing a flag even when the body is invalid', async () => {
    expectError(await t.call('PUT', `${F}/rbac`, { as: 'SDK', body: { enabled: 'yes' } }), 403, 'FORBIDDEN');
  });
});

describe.each(DRIVERS)('request ids on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0 });
  });
  afterAll(async () => t.close());

  it('puts an x-request-id on every response: 200, 401, 403, 404', async () => {
    const responses = [
      await t.call('GET', F, { as: 'VIEWER' }),
      await t.call('GET', '/healthz', { as: null }),
      await t.call('GET', F, { as: null }),
      await t.call('GET', F, { as: 'SDK' }),
      await t.call('GET', '/no/such/route'),
      await t.call('GET', `${F}/missing`),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 401, 403, 404, 404]);
    const ids = responses.map((r) => r.headers['x-request-id']);
    // A per-process random prefix and a sequence number.
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of responses.slice(2)) expect(r.json().error.requestId).toBe(r.headers['x-request-id']);
  });

  it('echoes a safe incoming x-request-id in the header and in the error body', async () => {
    for (const res of [
      await t.call('GET', '/no/such/route', { headers: { 'x-request-id': 'abc-123' } }),
      await t.call('GET', F, { as: null, headers: { 'x-request-id': 'abc-123' } }),
      await t.call('GET', `${F}/missing`, { headers: { 'x-request-id': 'trace:1.2_3' } }),
    ]) {
      expect(res.json().error.requestId).toBe(res.headers['x-request-id']);
      expect(['abc-123', 'trace:1.2_3']).toContain(res.headers['x-request-id']);
    }
  });

  it.each([
    ['one with spaces', 'abc 123'],
    ['one of 200 characters', 'a'.repeat(200)],
    ['one with markup', '<script>alert(1)</script>'],
    ['one with a newline escape', 'abc%0Ad'],
  ])('replaces an unsafe incoming x-request-id (%s) with a generated one', async (_what, given) => {
    const res = await t.call('GET', '/no/such/route', { headers: { 'x-request-id': given } });
    const id = res.headers['x-request-id'];
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    expect(res.json().error.requestId).toBe(id);
  });
});
