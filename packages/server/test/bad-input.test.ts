import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/roles.js';
import type { ErrorCode } from '../src/errors.js';
import { DRIVERS, dumpState } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

const F = '/api/admin/feature-flags';
const FLAG = `${F}/existing`;
const BIG = `${F}/big-list`;
const BODY_LIMIT = 256 * 1024;
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const attrs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'v']));
const query = (o: Record<string, string>) => new URLSearchParams(o).toString();

interface Bad {
  method: string;
  url: string;
  as?: Role;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  status: number;
  code: ErrorCode;
  /** A field name the error details must mention. */
  names?: string;
}

/** Every route that takes a body, with a body it would otherwise accept. */
const BODY_ROUTES: Array<[string, string, unknown]> = [
  ['POST', F, { key: 'fresh' }],
  ['PUT', FLAG, { enabled: true }],
  ['DELETE', FLAG, {}],
  ['POST', `${FLAG}/allowlist`, { ids: ['a'] }],
  ['DELETE', `${FLAG}/allowlist`, { ids: ['a'] }],
  ['POST', '/api/admin/tokens', { name: 'bot', role: 'VIEWER' }],
  ['DELETE', '/api/admin/tokens/tok_nope', {}],
  ['POST', '/api/evaluate', { context: { id: 'u1' } }],
];

/** Every route with a :key, with an otherwise valid request. */
const KEY_ROUTES: Array<[string, (key: string) => string, unknown, Role?]> = [
  ['GET', (k) => `${F}/${k}`, undefined],
  ['PUT', (k) => `${F}/${k}`, { enabled: true }],
  ['DELETE', (k) => `${F}/${k}`, {}],
  ['POST', (k) => `${F}/${k}/allowlist`, { ids: ['a'] }],
  ['DELETE', (k) => `${F}/${k}/allowlist`, { ids: ['a'] }],
  ['GET', (k) => `${F}/${k}/audit`, undefined],
  ['GET', (k) => `/api/evaluate/${k}?id=u1`, undefined, 'SDK'],
];

const BAD_KEYS: Record<string, string> = {
  uppercase: 'Checkout',
  'a leading underscore': '_checkout',
  'a space': 'check out',
  '129 characters': 'a'.repeat(129),
  unicode: 'prüfung',
  'a leading dash': '-checkout',
};

const cases: Array<[string, Bad]> = [];
const add = (title: string, bad: Bad) => cases.push([`${title} gets ${bad.status} ${bad.code}`, bad]);

for (const [method, url, body] of BODY_ROUTES) {
  const as: Role = url.startsWith('/api/evaluate') ? 'SDK' : 'SUPER_ADMIN';
  add(`malformed JSON on ${method} ${url}`, { method, url, as, rawBody: '{"enabled":', status: 400, code: 'INVALID_JSON' });
  add(`an XML body on ${method} ${url}`, {
    method, url, as, rawBody: '<flag/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE',
  });
  add(`a body over the configured limit on ${method} ${url}`, {
    method, url, as, rawBody: JSON.stringify({ ...(body as object), description: 'x'.repeat(BODY_LIMIT + 1) }), status: 413, code: 'PAYLOAD_TOO_LARGE',
  });
}
for (const [method, url] of [['POST', F], ['PUT', FLAG]] as const) {
  add(`a text/plain body on ${method} ${url}`, {
    method, url, rawBody: '{"key":"plain","enabled":true}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE',
  });
}

const RANGE: Array<[string, Record<string, unknown>, string]> = [
  ['a negative percentage', { rolloutPercentage: -1 }, 'rolloutPercentage'],
  ['a percentage over 100', { rolloutPercentage: 100.001 }, 'rolloutPercentage'],
  ['a percentage sent as a string', { rolloutPercentage: '5' }, 'rolloutPercentage'],
  ['a percentage with three decimals', { rolloutPercentage: 0.001 }, 'rolloutPercentage'],
  ['basis points over 10 000', { rolloutBasisPoints: 10_001 }, 'rolloutBasisPoints'],
  ['fractional basis points', { rolloutBasisPoints: 1.5 }, 'rolloutBasisPoints'],
  ['negative basis points', { rolloutBasisPoints: -1 }, 'rolloutBasisPoints'],
  ['a percentage and basis points that disagree', { rolloutPercentage: 5, rolloutBasisPoints: 400 }, 'rolloutPercentage'],
  ['an unknown field', { enabled: true, rollout: 5 }, 'rollout'],
  ['enabled sent as "yes"', { enabled: 'yes' }, 'enabled'],
  ['an allowlist of 10 001 ids', { allowlist: ids(10_001, 'u') }, 'allowlist'],
  ['a description with a NUL character', { description: 'a\u0000b' }, 'description'],
];
for (const [what, fields, field] of RANGE) {
  add(`${what} on create`, { method: 'POST', url: F, body: { key: 'fresh', ...fields }, status: 400, code: 'VALIDATION_ERROR', names: field });
  add(`${what} on update`, { method: 'PUT', url: FLAG, body: fields, status: 400, code: 'VALIDATION_ERROR', names: field });
}

for (const [what, key] of Object.entries({ ...BAD_KEYS, 'an empty string': '' })) {
  add(`a key with ${what} in the create body`, { method: 'POST', url: F, body: { key }, status: 400, code: 'INVALID_FLAG_KEY' });
}
for (const [what, key] of Object.entries(BAD_KEYS)) {
  for (const [method, url, body, as] of KEY_ROUTES) {
    const path = url(encodeURIComponent(key));
    add(`a key with ${what} in the path of ${method} ${url(':key')}`, { method, url: path, body, as, status: 400, code: 'INVALID_FLAG_KEY' });
  }
}

for (const method of ['POST', 'DELETE']) {
  add(`an empty ids array on ${method} allowlist`, { method, url: `${FLAG}/allowlist`, body: { ids: [] }, status: 400, code: 'VALIDATION_ERROR', names: 'ids' });
  add(`an empty id on ${method} allowlist`, { method, url: `${FLAG}/allowlist`, body: { ids: [''] }, status: 400, code: 'VALIDATION_ERROR', names: 'ids' });
  add(`10 001 ids on ${method} allowlist`, { method, url: `${FLAG}/allowlist`, body: { ids: ids(10_001, 'u') }, status: 400, code: 'VALIDATION_ERROR', names: 'ids' });
}
add('adding ids that push a 9 990-id allowlist past 10 000', {
  method: 'POST', url: `${BIG}/allowlist`, body: { ids: [...ids(5, 'member'), ...ids(11, 'newcomer')] }, status: 400, code: 'ALLOWLIST_TOO_LARGE',
});
add('an allowlist id with a NUL character', { method: 'POST', url: `${FLAG}/allowlist`, body: { ids: ['a\u0000b'] }, status: 400, code: 'VALIDATION_ERROR', names: 'ids' });

for (const [method, url, body] of [['PUT', FLAG, { enabled: true }], ['DELETE', FLAG, {}], ['POST', `${FLAG}/allowlist`, { ids: ['a'] }], ['DELETE', `${FLAG}/allowlist`, { ids: ['a'] }]] as const) {
  add(`If-Match: abc on ${method} ${url}`, { method, url, body, headers: { 'if-match': 'abc' }, status: 400, code: 'INVALID_IF_MATCH' });
}

for (const [method, suffix, body] of [['GET', '', undefined], ['PUT', '', { enabled: true }], ['DELETE', '', {}], ['POST', '/allowlist', { ids: ['a'] }], ['DELETE', '/allowlist', { ids: ['a'] }]] as const) {
  add(`an unknown flag on ${method} ${F}/:key${suffix}`, { method, url: `${F}/missing${suffix}`, body, status: 404, code: 'FLAG_NOT_FOUND' });
}
add('an unknown flag on GET /api/evaluate/:key', { method: 'GET', url: '/api/evaluate/missing?id=u1', as: 'SDK', status: 404, code: 'FLAG_NOT_FOUND' });
add('an unknown token id', { method: 'DELETE', url: '/api/admin/tokens/tok_nope', body: {}, status: 404, code: 'TOKEN_NOT_FOUND' });
add('a token id over 64 characters', { method: 'DELETE', url: `/api/admin/tokens/${'t'.repeat(65)}`, body: {}, status: 400, code: 'VALIDATION_ERROR', names: 'id' });
add('an invalid role on token create', { method: 'POST', url: '/api/admin/tokens', body: { name: 'bot', role: 'ROOT' }, status: 400, code: 'VALIDATION_ERROR', names: 'role' });
add('an empty token name', { method: 'POST', url: '/api/admin/tokens', body: { name: '', role: 'VIEWER' }, status: 400, code: 'VALIDATION_ERROR', names: 'name' });
add('a token name with a NUL character', { method: 'POST', url: '/api/admin/tokens', body: { name: 'bot\u0000', role: 'VIEWER' }, status: 400, code: 'VALIDATION_ERROR', names: 'name' });

for (const url of ['/api/admin/audit', `${FLAG}/audit`]) {
  for (const limit of ['0', '501', 'x']) add(`limit=${limit} on ${url}`, { method: 'GET', url: `${url}?limit=${limit}`, status: 400, code: 'VALIDATION_ERROR', names: 'limit' });
  add(`before=0 on ${url}`, { method: 'GET', url: `${url}?before=0`, status: 400, code: 'VALIDATION_ERROR', names: 'before' });
}
add('an unknown query parameter on the flag list', { method: 'GET', url: `${F}?sort=key`, status: 400, code: 'VALIDATION_ERROR', names: 'sort' });
add('includeArchived=yes on the flag list', { method: 'GET', url: `${F}?includeArchived=yes`, status: 400, code: 'VALIDATION_ERROR', names: 'includeArchived' });
add('a search with a NUL character', { method: 'GET', url: `${F}?q=a%00b`, status: 400, code: 'VALIDATION_ERROR', names: 'q' });
add('an unknown query parameter on the audit log', { method: 'GET', url: '/api/admin/audit?flagKey=x', status: 400, code: 'VALIDATION_ERROR', names: 'flagKey' });

add('33 context attributes on GET /api/evaluate/:key', { method: 'GET', url: `/api/evaluate/existing?${query(attrs(33))}`, as: 'SDK', status: 400, code: 'VALIDATION_ERROR' });
add('33 context attributes on GET /api/flags', { method: 'GET', url: `/api/flags?${query(attrs(33))}`, as: 'SDK', status: 400, code: 'VALIDATION_ERROR' });
add('a repeated context attribute', { method: 'GET', url: '/api/evaluate/existing?id=a&id=b', as: 'SDK', status: 400, code: 'VALIDATION_ERROR', names: 'id' });
const EVAL_BODIES: Array<[string, unknown, string]> = [
  ['33 context attributes', { context: attrs(33) }, 'context'],
  ['a bad key in flags', { context: { id: 'u1' }, flags: ['Checkout'] }, 'flags'],
  ['a context value that is an object', { context: { id: { nested: true } } }, 'context.id'],
  ['no context', { flags: ['existing'] }, 'context'],
  ['an unknown field', { context: { id: 'u1' }, subject: 'u1' }, 'subject'],
];
for (const [what, body, field] of EVAL_BODIES) {
  add(`${what} on POST /api/evaluate`, { method: 'POST', url: '/api/evaluate', as: 'SDK', body, status: 400, code: 'VALIDATION_ERROR', names: field });
}

add('an unknown route', { method: 'GET', url: '/api/nope', status: 404, code: 'NOT_FOUND' });
add('an unknown method on a known path', { method: 'PATCH', url: FLAG, body: { enabled: true }, status: 404, code: 'NOT_FOUND' });

function expectError(res: LightMyRequestResponse, status: number, code: ErrorCode): { code: string; details?: unknown; message: string } {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  const error = res.json().error;
  expect(error).toMatchObject({ code, message: expect.any(String) });
  expect(error.requestId).toBeTruthy();
  expect(error.requestId).toBe(res.headers['x-request-id']);
  return error;
}

describe.each(DRIVERS)('bad input on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { bodyLimitBytes: BODY_LIMIT, rateLimitAdmin: 0, rateLimitSdk: 0 });
    expect((await t.call('POST', F, { body: { key: 'existing', enabled: true } })).statusCode).toBe(201);
    expect((await t.call('POST', F, { body: { key: 'big-list', allowlist: ids(9_990, 'member') } })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it.each(cases)('%s, and nothing is written', async (_title, bad) => {
    const before = await dumpState(t.db);
    const res = await t.call(bad.method, bad.url, {
      as: bad.as ?? 'SUPER_ADMIN',
      ...(bad.body === undefined ? {} : { body: bad.body }),
      ...(bad.rawBody === undefined ? {} : { rawBody: bad.rawBody }),
      ...(bad.headers ? { headers: bad.headers } : {}),
    });
    const error = expectError(res, bad.status, bad.code);
    if (bad.names) expect(JSON.stringify(error.details)).toContain(bad.names);
    expect(await dumpState(t.db)).toEqual(before);
  });

  it.each([
    ['0 %', { rolloutPercentage: 0 }, 0],
    ['100 %', { rolloutPercentage: 100 }, 10_000],
    ['0.01 %', { rolloutPercentage: 0.01 }, 1],
    ['12.34 %', { rolloutPercentage: 12.34 }, 1_234],
    ['0.29 %', { rolloutPercentage: 0.29 }, 29],
    ['10 000 basis points', { rolloutBasisPoints: 10_000 }, 10_000],
    ['a percentage and basis points that agree', { rolloutPercentage: 12.34, rolloutBasisPoints: 1_234 }, 1_234],
  ])('accepts %s on create and on update', async (_what, fields, basisPoints) => {
    const key = `edge-${JSON.stringify(fields).replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
    const created = await t.call('POST', F, { as: 'OPERATOR', body: { key, ...fields } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ rolloutBasisPoints: basisPoints, rolloutPercentage: basisPoints / 100 });
    await t.call('PUT', `${F}/${key}`, { as: 'OPERATOR', body: { rolloutBasisPoints: 5_000 } });
    const updated = await t.call('PUT', `${F}/${key}`, { as: 'OPERATOR', body: fields });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({ rolloutBasisPoints: basisPoints, version: 3 });
  });

  it('accepts a 128-character key, the longest allowed, and serves it back by its path', async () => {
    const key = 'k'.repeat(128);
    expect((await t.call('POST', F, { body: { key } })).statusCode).toBe(201);
    const res = await t.call('GET', `${F}/${key}`);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.json().key).toBe(key);
  });

  it('lets an allowlist grow to exactly 10 000 ids', async () => {
    const res = await t.call('POST', `${BIG}/allowlist`, { as: 'OPERATOR', body: { ids: ids(10, 'newcomer') } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ changed: true, added: 10, allowlistCount: 10_000 });
  });

  it('archives a flag and revokes a token when the DELETE has no body at all', async () => {
    await t.call('POST', F, { body: { key: 'no-body' } });
    const archived = await t.call('DELETE', `${F}/no-body`, { as: 'OPERATOR' });
    expect(archived.statusCode, archived.body).toBe(200);
    const token = (await t.call('POST', '/api/admin/tokens', { body: { name: 'short-lived', role: 'VIEWER' } })).json();
    const revoked = await t.call('DELETE', `/api/admin/tokens/${token.id}`);
    expect(revoked.statusCode, revoked.body).toBe(200);
  });

  it('answers a path with broken percent-encoding with 400 and the standard error body', async () => {
    const res = await t.call('GET', `${F}/%E0%A4%A`);
    expect(res.statusCode).toBe(400);
    expect(['INVALID_FLAG_KEY', 'VALIDATION_ERROR']).toContain(res.json().error?.code);
    expect(res.json().error.requestId).toBe(res.headers['x-request-id']);
  });
});
