import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { SYSTEM_ACTOR, startTestApp, type TestApp } from './support/app.js';

const LIMIT = 4;
const ATTACKER = '203.0.113.7';
const NEIGHBOUR = '203.0.113.8';

function expectLimited(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body.slice(0, 200)).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, String(res.headers['retry-after'])).toBe(true);
  expect(res.json().error.code).toBe('RATE_LIMITED');
}

describe.each(DRIVERS)('token guessing is rate-limited per address on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: LIMIT, rateLimitSdk: 0 });
    await t.app.rampart.flags.create(SYSTEM_ACTOR, { key: 'guarded', enabled: true, rolloutBasisPoints: 10_000 });
  });
  afterAll(async () => t.close());

  /** A request from a given client address (Fastify's request.ip without a proxy). */
  const from = (remoteAddress: string, url: string, secret: string | null) =>
    t.app.inject({ method: 'GET', url, remoteAddress, headers: secret === null ? {} : { authorization: `Bearer ${secret}` } });

  it('answers repeated unknown tokens from one address with 401, then 429 with Retry-After, on admin and SDK routes', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await from(ATTACKER, '/api/admin/feature-flags', `rpt_guess_${i}_${'x'.repeat(40)}`);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('TOKEN_INVALID');
    }
    expectLimited(await from(ATTACKER, '/api/admin/feature-flags', 'rpt_guess_again'));
    // Evaluation routes are unlimited for valid tokens (RAMPART_RATE_LIMIT_SDK=0), not for guesses.
    expectLimited(await from(ATTACKER, '/api/evaluate/guarded?id=u1', 'rpt_guess_sdk'));
    expectLimited(await from(ATTACKER, '/api/sdk/config', null));
  });

  it('does not let one address’s failures touch a valid token, or another address’s budget', async () => {
    // The attacker's address is limited (previous test); a valid token from it still works,
    // because valid tokens are counted per token, not per address.
    expect((await from(ATTACKER, '/api/admin/feature-flags', t.tokens.VIEWER)).statusCode).toBe(200);
    expect((await from(ATTACKER, '/api/evaluate/guarded?id=u1', t.tokens.SDK)).statusCode).toBe(200);
    // Another address: its valid token is served, and its own mistakes start from zero.
    expect((await from(NEIGHBOUR, '/api/admin/feature-flags', t.tokens.OPERATOR)).statusCode).toBe(200);
    expect((await from(NEIGHBOUR, '/api/admin/feature-flags', 'rpt_typo')).statusCode).toBe(401);
  });
});
