import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, dumpState } from './support/databases.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';

const KEY = 'passenger_favorites_matching';
const path = `/api/admin/feature-flags/${KEY}`;

describe.each(DRIVERS)('flags API on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t.close());

  it('creates the runbook flag with its ten beta ids at 0 % and returns it with an ETag', async () => {
    const res = await t.call('POST', '/api/admin/feature-flags', {
      as: 'OPERATOR',
      body: { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: BETA_IDS, reason: 'Phase 1 beta' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(path);
    expect(res.json()).toMatchObject({ key: KEY, enabled: true, rolloutBasisPoints: 0, allowlistCount: 10, version: 1, salt: KEY });
  });

  it('refuses a second flag with the same key', async () => {
    const res = await t.call('POST', '/api/admin/feature-flags', { body: { key: KEY } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('FLAG_EXISTS');
  });

  it('reads one flag with ETag "<version>" and lists it without the allowlist', async () => {
    const one = await t.call('GET', path, { as: 'VIEWER' });
    expect(one.headers.etag).toBe('"1"');
    expect(one.json().allowlist).toEqual(BETA_IDS);
    const list = await t.call('GET', '/api/admin/feature-flags?q=favorites', { as: 'VIEWER' });
    expect(list.json().total).toBe(1);
    expect(list.json().flags[0].allowlist).toBeUndefined();
    expect(list.json().flags[0].allowlistCount).toBe(10);
    const none = await t.call('GET', '/api/admin/feature-flags?q=chat', { as: 'VIEWER' });
    expect(none.json().total).toBe(0);
  });

  it('raises the rollout to 1 % and records who, why, before and after in the audit trail', async () => {
    const res = await t.call('PUT', path, {
      as: 'OPERATOR',
      body: { enabled: true, rolloutPercentage: 1, reason: 'Phase 2 go' },
      headers: { 'if-match': '"1"', 'x-request-id': 'req-phase2' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.json()).toMatchObject({ rolloutBasisPoints: 100, rolloutPercentage: 1, version: 2, changed: true });
    const audit = (await t.call('GET', `${path}/audit`, { as: 'VIEWER' })).json();
    expect(audit.events[0]).toMatchObject({
      action: 'flag.update',
      actor: 'test-operator',
      actorRole: 'OPERATOR',
      flagKey: KEY,
      reason: 'Phase 2 go',
      requestId: 'req-phase2',
      before: { rolloutBasisPoints: 0, version: 1 },
      after: { rolloutBasisPoints: 100, version: 2 },
    });
  });

  it('rejects a stale If-Match with 409 and writes nothing', async () => {
    const before = await dumpState(t.db);
    const res = await t.call('PUT', path, { body: { enabled: false }, headers: { 'if-match': '"1"' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'VERSION_CONFLICT', details: { expected: 1, current: 2 } });
    expect(await dumpState(t.db)).toEqual(before);
  });

  it('treats a change to what is already true as a no-op: same version, no audit event', async () => {
    const auditBefore = (await t.call('GET', `${path}/audit`)).json().events.length;
    const res = await t.call('PUT', path, { body: { rolloutPercentage: 1 } });
    expect(res.json()).toMatchObject({ version: 2, changed: false });
    expect((await t.call('GET', `${path}/audit`)).json().events.length).toBe(auditBefore);
  });

  it('adds and removes allowlist ids idempotently', async () => {
    const add = await t.call('POST', `${path}/allowlist`, { as: 'OPERATOR', body: { ids: ['pass_beta_011_2026', BETA_IDS[0]] } });
    expect(add.json()).toMatchObject({ changed: true, added: 1, allowlistCount: 11, version: 3 });
    const again = await t.call('POST', `${path}/allowlist`, { as: 'OPERATOR', body: { ids: ['pass_beta_011_2026'] } });
    expect(again.json()).toMatchObject({ changed: false, added: 0, allowlistCount: 11, version: 3 });
    const rm = await t.call('DELETE', `${path}/allowlist`, { as: 'OPERATOR', body: { ids: ['pass_beta_011_2026', 'never-there'] } });
    expect(rm.json()).toMatchObject({ changed: true, removed: 1, allowlistCount: 10, version: 4 });
  });

  it('accepts the runbook’s level-1 rollback exactly as written', async () => {
    const res = await t.call('PUT', path, { as: 'OPERATOR', rawBody: '{"enabled":false,"rolloutPercentage":0}' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ enabled: false, rolloutBasisPoints: 0, allowlistCount: 10 });
    const evaluated = await t.call('GET', `/api/evaluate/${KEY}?id=${BETA_IDS[0]}`, { as: 'SDK' });
    expect(evaluated.json()).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('archives a flag: it evaluates as FLAG_NOT_FOUND and can be created again with a higher version', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'chat', enabled: true, rolloutPercentage: 10 } });
    const del = await t.call('DELETE', '/api/admin/feature-flags/chat', { as: 'OPERATOR', body: { reason: 'done' } });
    expect(del.json()).toMatchObject({ archived: true, version: 2 });
    expect((await t.call('GET', '/api/admin/feature-flags/chat')).statusCode).toBe(404);
    const ev = await t.call('GET', '/api/evaluate/chat?id=user-1', { as: 'SDK' });
    expect(ev.statusCode).toBe(404);
    expect(ev.json().error.code).toBe('FLAG_NOT_FOUND');
    const again = await t.call('POST', '/api/admin/feature-flags', { body: { key: 'chat' } });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ version: 3, archived: false, enabled: false });
    const all = (await t.call('GET', '/api/admin/audit?flag=chat')).json();
    expect(all.events.map((e: { action: string }) => e.action)).toEqual(['flag.create', 'flag.archive', 'flag.create']);
  });

  it('has exactly one winner among concurrent updates with the same If-Match, and the audit trail matches', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'race', enabled: true } });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        t.call('PUT', '/api/admin/feature-flags/race', { body: { rolloutBasisPoints: i + 1 }, headers: { 'if-match': '"1"' } }),
      ),
    );
    const winners = results.filter((r) => r.statusCode === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(24);
    const flag = (await t.call('GET', '/api/admin/feature-flags/race')).json();
    expect(flag).toMatchObject({ version: 2, rolloutBasisPoints: winners[0]!.json().rolloutBasisPoints });
    const events = (await t.call('GET', '/api/admin/feature-flags/race/audit')).json().events;
    expect(events).toHaveLength(2);
    expect(events[0].after).toMatchObject({ rolloutBasisPoints: flag.rolloutBasisPoints, version: 2 });
  });

  it('lands every one of many concurrent allowlist adds', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'busy', enabled: true } });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => t.call('POST', '/api/admin/feature-flags/busy/allowlist', { body: { ids: [`user-${i}`] } })),
    );
    const flag = (await t.call('GET', '/api/admin/feature-flags/busy')).json();
    expect(flag.allowlistCount).toBe(60);
    expect(flag.version).toBe(61);
  });
});
