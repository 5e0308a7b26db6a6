import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/roles.js';
import { DRIVERS } from './support/databases.js';
import { SYSTEM_ACTOR, startTestApp, type TestApp } from './support/app.js';

const F = '/api/admin/feature-flags';
const EVAL = '/api/evaluate/limited?id=user-1';
const ADMIN_LIMIT = 5;
const SDK_LIMIT = 3;

function expectRateLimited(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body.slice(0, 200)).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['x-request-id']).toBeTruthy();
  expect(res.json().error).toMatchObject({ code: 'RATE_LIMITED', message: expect.any(String), requestId: res.headers['x-request-id'] });
}

describe.each(DRIVERS)('rate limits on %s', (driver) => {
  let t: TestApp;
  /** A token of its own per test, so one test's budget never leaks into another's. */
  const freshToken = async (role: Role) => ({ secret: (await t.app.rampart.tokens.create(SYSTEM_ACTOR, `rl-${role}-${Math.random()}`, role)).token });

  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: ADMIN_LIMIT, rateLimitSdk: SDK_LIMIT });
    await t.app.rampart.flags.create(SYSTEM_ACTOR, { key: 'limited', enabled: true, rolloutBasisPoints: 10_000 });
  });
  afterAll(async () => t.close());

  it('answers the sixth admin request within a minute with 429 RATE_LIMITED and Retry-After', async () => {
    const as = await freshToken('VIEWER');
    for (let i = 0; i < ADMIN_LIMIT; i++) expect((await t.call('GET', F, { as })).statusCode).toBe(200);
    expectRateLimited(await t.call('GET', F, { as }));
    expectRateLimited(await t.call('POST', F, { as, body: { key: 'x' } }));
  });

  it('caps guessing tokens per address, while a valid token keeps its own budget', async () => {
    for (let i = 0; i < ADMIN_LIMIT; i++) {
      const res = await t.call('GET', F, { as: { secret: `rpt_guess_${i}` } });
      expect(res.statusCode).toBe(401);
    }
    expectRateLimited(await t.call('GET', F, { as: { secret: 'rpt_guess_again' } }));
    expectRateLimited(await t.call('GET', F, { as: null }));
    expectRateLimited(await t.call('GET', EVAL, { as: { secret: 'rpt_guess_sdk' } }));
    expect((await t.call('GET', F, { as: await freshToken('OPERATOR') })).statusCode).toBe(200);
  });

  it('never limits /healthz, /readyz or /metrics, even for an address that is limited', async () => {
    for (let i = 0; i <= ADMIN_LIMIT; i++) await t.call('GET', F, { as: { secret: `rpt_burn_${i}` } });
    expectRateLimited(await t.call('GET', F, { as: null }));
    for (let i = 0; i < 4 * ADMIN_LIMIT; i++) {
      for (const url of ['/healthz', '/readyz', '/metrics']) expect((await t.call('GET', url, { as: null })).statusCode).toBe(200);
    }
  });

  it('limits evaluation with the SDK limit, apart from admin routes', async () => {
    const sdk = await freshToken('SDK');
    for (let i = 0; i < SDK_LIMIT; i++) expect((await t.call('GET', EVAL, { as: sdk })).statusCode).toBe(200);
    expectRateLimited(await t.call('GET', EVAL, { as: sdk }));
    expectRateLimited(await t.call('POST', '/api/evaluate', { as: sdk, body: { context: { id: 'user-1' } } }));
    const admin = await freshToken('OPERATOR');
    for (let i = 0; i < ADMIN_LIMIT; i++) expect((await t.call('GET', F, { as: admin })).statusCode).toBe(200);
  });

  it('does not let a token’s evaluation calls use up its admin budget', async () => {
    const as = await freshToken('OPERATOR');
    for (let i = 0; i < SDK_LIMIT; i++) expect((await t.call('GET', EVAL, { as })).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < ADMIN_LIMIT; i++) statuses.push((await t.call('GET', F, { as })).statusCode);
    expect(statuses).toEqual(Array(ADMIN_LIMIT).fill(200));
  });
});
