import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { DRIVERS, createTestDatabase, dumpState } from './support/databases.js';
import { startTestApp, testConfig, type TestApp } from './support/app.js';

const T = '/api/admin/tokens';
const F = '/api/admin/feature-flags';
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

interface TokenJson {
  id: string;
  name: string;
  role: string;
  revokedAt: string | null;
  token?: string;
}

describe.each(DRIVERS)('API tokens on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0 });
  });
  afterAll(async () => t.close());

  const create = async (name: string, role: string) => {
    const res = await t.call('POST', T, { body: { name, role, reason: 'test' } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as TokenJson & { token: string };
  };

  it('shows a new token’s secret once, prefixed rpt_, and never again in the list', async () => {
    const created = await create('ci-deployer', 'OPERATOR');
    expect(created.token).toMatch(/^rpt_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci-deployer', role: 'OPERATOR', createdBy: 'test-super_admin', revokedAt: null });
    const list = await t.call('GET', T);
    expect(list.statusCode).toBe(200);
    const tokens = list.json().tokens as TokenJson[];
    expect(tokens.find((x) => x.id === created.id)).toMatchObject({ name: 'ci-deployer', role: 'OPERATOR' });
    for (const x of tokens) expect(Object.keys(x)).not.toContain('token');
    expect(list.body).not.toContain(created.token);
    expect(list.body).not.toContain(sha256(created.token));
  });

  it('stores only the SHA-256 hex of the secret', async () => {
    const created = await create('hash-check', 'VIEWER');
    const rows = await t.db.query<{ token_hash: string }>('select * from api_tokens where id = $1', [created.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256(created.token));
    expect(JSON.stringify(rows)).not.toContain(created.token);
    expect(JSON.stringify(rows)).not.toContain(created.token.slice(4));
  });

  it.each([
    ['OPERATOR', [['POST', F, { key: 'made-by-new-operator' }, 201], ['GET', T, undefined, 403]]],
    ['VIEWER', [['GET', F, undefined, 200], ['PUT', `${F}/made-by-new-operator`, { enabled: true }, 403]]],
    ['SDK', [['GET', '/api/flags?id=user-1', undefined, 200], ['GET', F, undefined, 403]]],
    ['SUPER_ADMIN', [['GET', T, undefined, 200], ['POST', F, { key: 'made-by-new-admin' }, 201]]],
  ] as const)('lets a new %s token work at once, with exactly its role', async (role, calls) => {
    const { token } = await create(`fresh-${role.toLowerCase()}`, role);
    for (const [method, url, body, status] of calls) {
      const res = await t.call(method, url, { as: { secret: token }, ...(body ? { body } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 200)}`).toBe(status);
    }
  });

  it('audits token creation and revocation without ever recording the secret', async () => {
    const created = await create('audited', 'VIEWER');
    const revoke = await t.call('DELETE', `${T}/${created.id}`, { body: { reason: 'rotation' }, headers: { 'x-request-id': 'rotate-1' } });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json().revokedAt).toEqual(expect.any(String));
    const made = (await t.call('GET', '/api/admin/audit?action=token.create')).json().events;
    expect(made.find((e: { target: string }) => e.target === created.id)).toMatchObject({
      actor: 'test-super_admin',
      actorRole: 'SUPER_ADMIN',
      after: { id: created.id, name: 'audited', role: 'VIEWER' },
      reason: 'test',
    });
    const revoked = (await t.call('GET', '/api/admin/audit?action=token.revoke')).json().events;
    expect(revoked.find((e: { target: string }) => e.target === created.id)).toMatchObject({
      before: { revoked: false },
      after: { revoked: true, role: 'VIEWER' },
      reason: 'rotation',
      requestId: 'rotate-1',
    });
    const audit = JSON.stringify(await t.db.query('select * from audit_events'));
    expect(audit).not.toContain(created.token);
    expect(audit).not.toContain(created.token.slice(4));
    expect(audit).not.toContain(sha256(created.token));
  });

  it('treats revoking a revoked token again as a no-op', async () => {
    const created = await create('twice', 'SDK');
    const first = (await t.call('DELETE', `${T}/${created.id}`)).json();
    const before = await dumpState(t.db);
    const again = await t.call('DELETE', `${T}/${created.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.json().revokedAt).toBe(first.revokedAt);
    expect(await dumpState(t.db)).toEqual(before);
  });

  it('refuses to revoke the last active SUPER_ADMIN with 409 LAST_SUPER_ADMIN, and the token keeps working', async () => {
    const second = await create('second-admin', 'SUPER_ADMIN');
    const tokens = (await t.call('GET', T)).json().tokens as TokenJson[];
    const mine = tokens.find((x) => x.name === 'test-super_admin')!;
    for (const other of tokens.filter((x) => x.role === 'SUPER_ADMIN' && !x.revokedAt && x.id !== mine.id)) {
      expect((await t.call('DELETE', `${T}/${other.id}`)).statusCode).toBe(200);
    }
    expect((await t.call('GET', T, { as: { secret: second.token } })).statusCode).toBe(401);
    const before = await dumpState(t.db);
    const res = await t.call('DELETE', `${T}/${mine.id}`, { body: { reason: 'oops' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'LAST_SUPER_ADMIN', requestId: res.headers['x-request-id'] });
    expect(await dumpState(t.db)).toEqual(before);
    expect((await t.call('GET', T)).statusCode).toBe(200);
  });
});

describe.each(DRIVERS)('first-start bootstrap on %s', (driver) => {
  async function emptyApp() {
    const testDb = await createTestDatabase(driver);
    const app = await buildApp(testConfig({ rateLimitAdmin: 0 }), { db: testDb.db });
    const count = async () => (await testDb.db.query<{ n: number }>('select count(*)::int as n from api_tokens'))[0]!.n;
    const call = (secret: string, method: 'GET' | 'POST' = 'GET', payload?: unknown) =>
      app.inject({ method, url: T, headers: { authorization: `Bearer ${secret}` }, ...(payload ? { payload: payload as object } : {}) });
    return { testDb, app, count, call, close: async () => (await app.close(), await testDb.drop()) };
  }

  it('creates one SUPER_ADMIN on an empty database and hands out its secret only once', async () => {
    const e = await emptyApp();
    try {
      expect(await e.count()).toBe(0);
      const first = await e.app.rampart.tokens.bootstrap(undefined);
      expect(first.createdSecret).toMatch(/^rpt_/);
      const second = await e.app.rampart.tokens.bootstrap(undefined);
      expect(second.createdSecret).toBeUndefined();
      expect(await e.count()).toBe(1);
      const res = await e.call(first.createdSecret!);
      expect(res.statusCode).toBe(200);
      expect(res.json().tokens).toMatchObject([{ role: 'SUPER_ADMIN', revokedAt: null }]);
      const rows = await e.testDb.db.query<{ token_hash: string }>('select token_hash from api_tokens');
      expect(rows[0]!.token_hash).toBe(sha256(first.createdSecret!));
    } finally {
      await e.close();
    }
  });

  it('turns a RAMPART_ADMIN_TOKEN secret into one working SUPER_ADMIN token, however often it starts', async () => {
    const e = await emptyApp();
    try {
      const secret = `env-admin-${randomBytes(24).toString('hex')}`;
      for (let i = 0; i < 2; i++) {
        const r = await e.app.rampart.tokens.bootstrap(secret);
        expect(r.createdSecret).toBeUndefined();
      }
      const rows = await e.testDb.db.query<{ role: string; token_hash: string }>('select role, token_hash from api_tokens');
      expect(rows).toEqual([{ role: 'SUPER_ADMIN', token_hash: sha256(secret) }]);
      expect((await e.app.rampart.tokens.bootstrap(undefined)).createdSecret).toBeUndefined();
      expect((await e.call(secret)).statusCode).toBe(200);
      const made = await e.call(secret, 'POST', { name: 'from-env-admin', role: 'VIEWER' });
      expect(made.statusCode).toBe(201);
    } finally {
      await e.close();
    }
  });
});
