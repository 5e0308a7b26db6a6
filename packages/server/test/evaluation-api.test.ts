import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { DRIVERS, createTestDatabase } from './support/databases.js';
import { BETA_IDS, startTestApp, testConfig, type TestApp } from './support/app.js';

interface EvalCase {
  name: string;
  flag: { key: string; enabled: boolean; rolloutBasisPoints: number; allowlist: string[]; salt?: string; stickiness?: string } | null;
  context: Record<string, string | number> | null;
  env?: Record<string, string>;
  expected: { value: boolean; reason: string; bucket?: number };
}
const cases = JSON.parse(readFileSync(new URL('../../core/test/cases.json', import.meta.url), 'utf8')) as {
  evaluations: EvalCase[];
};
/** Cases the server can express: a valid flag, a context with a subject or none. */
const serverCases = cases.evaluations.filter((c) => c.flag !== null && c.expected.reason !== 'ERROR');

describe.each(DRIVERS)('evaluation API on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
    await t.call('POST', '/api/admin/feature-flags', {
      body: { key: 'passenger_favorites_matching', enabled: true, rolloutPercentage: 0, allowlist: BETA_IDS },
    });
  });
  afterAll(async () => t.close());

  it('turns the two probe ids ON by ALLOWLIST and leaves a stranger OFF, with buckets', async () => {
    const probe = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=pass_beta_001_2026', { as: 'SDK' });
    expect(probe.json()).toEqual({ flag: 'passenger_favorites_matching', value: true, reason: 'ALLOWLIST', version: 1, bucket: 2531 });
    const probe5 = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=pass_beta_005_2026', { as: 'SDK' });
    expect(probe5.json()).toMatchObject({ value: true, reason: 'ALLOWLIST', bucket: 2043 });
    const stranger = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=passenger-42', { as: 'SDK' });
    expect(stranger.json()).toMatchObject({ value: false, reason: 'NOT_IN_ROLLOUT', bucket: 5678 });
  });

  it('serves a change on the very next request: no stale cache', async () => {
    const before = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=passenger-42', { as: 'SDK' });
    expect(before.json().value).toBe(false);
    await t.call('PUT', '/api/admin/feature-flags/passenger_favorites_matching', { body: { rolloutPercentage: 56.79 } });
    const after = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=passenger-42', { as: 'SDK' });
    expect(after.json()).toMatchObject({ value: true, reason: 'ROLLOUT', bucket: 5678, version: 2 });
    await t.call('PUT', '/api/admin/feature-flags/passenger_favorites_matching', { body: { enabled: false } });
    const killed = await t.call('GET', '/api/evaluate/passenger_favorites_matching?id=pass_beta_001_2026', { as: 'SDK' });
    expect(killed.json()).toMatchObject({ value: false, reason: 'DISABLED', version: 3 });
  });

  it('returns every flag for one subject on /api/flags (the chat checklist’s /flags)', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'chat', enabled: true, rolloutPercentage: 100 } });
    const res = await t.call('GET', '/api/flags?id=user-1', { as: 'SDK' });
    expect(res.statusCode).toBe(200);
    expect(res.json().flags).toEqual({
      chat: { flag: 'chat', value: true, reason: 'ROLLOUT', version: 1, bucket: 6738 },
      passenger_favorites_matching: expect.objectContaining({ value: false, reason: 'DISABLED' }),
    });
  });

  it('evaluates a batch for one context, naming unknown flags FLAG_NOT_FOUND instead of failing', async () => {
    const res = await t.call('POST', '/api/evaluate', { as: 'SDK', body: { context: { id: 'user-2' }, flags: ['chat', 'nope'] } });
    expect(res.json().flags).toEqual({
      chat: { flag: 'chat', value: true, reason: 'ROLLOUT', version: 1, bucket: 4515 },
      nope: { flag: 'nope', value: false, reason: 'FLAG_NOT_FOUND', errorCode: 'FLAG_NOT_FOUND', version: null },
    });
  });

  it('evaluates many subjects in one batch, in order, with the same answers as one by one', async () => {
    const ids = ['user-1', 'user-2', 'üser-ñ', 'pass_beta_001_2026'];
    const res = await t.call('POST', '/api/evaluate/batch', { as: 'SDK', body: { contexts: ids.map((id) => ({ id })), flags: ['chat'] } });
    expect(res.statusCode).toBe(200);
    const batch = res.json().results.map((r: { flags: Record<string, unknown> }) => r.flags.chat);
    for (const [i, id] of ids.entries()) {
      expect(batch[i]).toEqual((await t.call('GET', `/api/evaluate/chat?id=${encodeURIComponent(id)}`, { as: 'SDK' })).json());
    }
    const tooMany = await t.call('POST', '/api/evaluate/batch', { as: 'SDK', body: { contexts: Array.from({ length: 1001 }, () => ({ id: 'x' })) } });
    expect(tooMany.json().error.code).toBe('VALIDATION_ERROR');
  });

  it('answers NO_SUBJECT when the context has no id', async () => {
    const res = await t.call('GET', '/api/evaluate/chat', { as: 'SDK' });
    expect(res.json()).toMatchObject({ value: false, reason: 'NO_SUBJECT' });
  });

  it('reproduces every conformance case of cases.json through HTTP', async () => {
    for (const [i, c] of serverCases.entries()) {
      const key = `case-${i}`;
      const f = c.flag!;
      const app = c.env ? await startTestApp(driver, { env: renameEnv(c.env, f.key, key) }, t.testDb) : t;
      try {
        await app.call('POST', '/api/admin/feature-flags', {
          body: { key, enabled: f.enabled, rolloutBasisPoints: f.rolloutBasisPoints, allowlist: f.allowlist, salt: f.salt ?? f.key, stickiness: f.stickiness },
        });
        const res = await app.call('POST', '/api/evaluate', { as: 'SDK', body: { context: c.context ?? {}, flags: [key] } });
        expect(res.json().flags[key], c.name).toMatchObject({ value: c.expected.value, reason: c.expected.reason });
        if (c.expected.bucket !== undefined) expect(res.json().flags[key].bucket, c.name).toBe(c.expected.bucket);
      } finally {
        if (app !== t) await app.app.close();
      }
    }
  });
});

/** Env master switch cases name the original key; the server test uses a per-case key. */
function renameEnv(env: Record<string, string>, from: string, to: string): Record<string, string> {
  const upper = (k: string) => 'FEATURE_' + k.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k === upper(from) ? upper(to) : k, v]));
}

describe('evaluation across replicas (postgres)', () => {
  it.runIf(DRIVERS.includes('postgres'))('a change on one replica reaches another replica’s next evaluations', async () => {
    const primary = await startTestApp('postgres');
    const otherDb = await primary.testDb.openAnother();
    // A long TTL proves the notification, not the timer, refreshed the other replica.
    const replica = await buildApp(testConfig({ configCacheTtlMs: 60_000 }), { db: otherDb });
    try {
      await primary.call('POST', '/api/admin/feature-flags', { body: { key: 'kill_me', enabled: true, rolloutPercentage: 100 } });
      const sdk = { authorization: `Bearer ${primary.tokens.SDK}` };
      const ask = async () => (await replica.inject({ url: '/api/evaluate/kill_me?id=u1', headers: sdk })).json();
      expect(await ask()).toMatchObject({ value: true, reason: 'ROLLOUT' });
      await primary.call('PUT', '/api/admin/feature-flags/kill_me', { body: { enabled: false } });
      const started = Date.now();
      let seen = await ask();
      while (seen.reason !== 'DISABLED' && Date.now() - started < 2000) {
        await new Promise((r) => setTimeout(r, 5));
        seen = await ask();
      }
      expect(seen).toMatchObject({ value: false, reason: 'DISABLED', version: 2 });
    } finally {
      await replica.close();
      await primary.close();
    }
  });

  it('applies the evaluating process’s FEATURE_<KEY> master switch', async () => {
    const testDb = await createTestDatabase('pglite');
    const app = await startTestApp('pglite', { env: { FEATURE_PASSENGER_FAVORITES_MATCHING: 'false' } }, testDb);
    try {
      await app.call('POST', '/api/admin/feature-flags', { body: { key: 'passenger_favorites_matching', enabled: true, allowlist: BETA_IDS } });
      const res = await app.call('GET', '/api/evaluate/passenger_favorites_matching?id=pass_beta_001_2026', { as: 'SDK' });
      expect(res.json()).toMatchObject({ value: false, reason: 'OVERRIDE' });
    } finally {
      await app.close();
      await testDb.drop();
    }
  });
});
