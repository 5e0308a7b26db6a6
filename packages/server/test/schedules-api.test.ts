import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Database } from '../src/db/database.js';
import { DRIVERS, dumpState } from './support/databases.js';
import { startTestApp, testConfig, type TestApp } from './support/app.js';

const HOUR = 3_600_000;
const inHours = (h: number) => new Date(Date.now() + h * HOUR).toISOString();
const later = (iso: string, ms = 1_000) => new Date(Date.parse(iso) + ms);

async function dumpAll(db: Database): Promise<unknown> {
  return { ...((await dumpState(db)) as object), scheduled: await db.query('select * from scheduled_changes order by id') };
}

async function createFlag(t: TestApp, key: string, body: Record<string, unknown> = {}): Promise<void> {
  const res = await t.call('POST', '/api/admin/feature-flags', { as: 'OPERATOR', body: { key, ...body } });
  expect(res.statusCode).toBe(201);
}

async function schedule(t: TestApp, key: string, body: Record<string, unknown>, as: 'OPERATOR' | 'VIEWER' = 'OPERATOR') {
  return t.call('POST', `/api/admin/feature-flags/${key}/scheduled-changes`, { as, body });
}

async function auditOf(t: TestApp, key: string): Promise<Array<Record<string, unknown>>> {
  return (await t.call('GET', `/api/admin/feature-flags/${key}/audit`, { as: 'VIEWER' })).json().events;
}

async function insertLivePlan(db: Database, key: string): Promise<string> {
  const id = `plan_${key}`;
  await db.query(
    `insert into rollout_plans (id, flag_key, stages, rollback_policy, state, created_by, updated_by)
     values ($1, $2, '[{"percentage": 10}, {"percentage": 50}]'::jsonb, 'zero', 'active', 'test', 'test')`,
    [id, key],
  );
  return id;
}

describe.each(DRIVERS)('scheduled changes API on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t.close());

  it('creates, lists, and applies at the due time through the audited flag update, as scheduler', async () => {
    const key = 'sched_apply';
    await createFlag(t, key, { enabled: false, rolloutPercentage: 0 });
    const at = inHours(2);
    const created = await schedule(t, key, { at, enabled: true, rolloutPercentage: 5, reason: 'Phase 2 at nine' });
    expect(created.statusCode).toBe(201);
    const sc = created.json();
    expect(sc).toMatchObject({ flagKey: key, at, change: { enabled: true, rolloutPercentage: 5 }, reason: 'Phase 2 at nine', state: 'pending', createdBy: 'test-operator', result: null });
    expect(sc.id).toMatch(/^sc_/);
    expect(created.headers.location).toBe(`/api/admin/scheduled-changes/${sc.id}`);

    const forFlag = (await t.call('GET', `/api/admin/feature-flags/${key}/scheduled-changes`, { as: 'VIEWER' })).json();
    expect(forFlag.scheduledChanges.map((c: { id: string }) => c.id)).toEqual([sc.id]);
    const pending = (await t.call('GET', '/api/admin/scheduled-changes?state=pending', { as: 'VIEWER' })).json();
    expect(pending.scheduledChanges.map((c: { id: string }) => c.id)).toContain(sc.id);
    expect((await t.call('GET', `/api/admin/scheduled-changes/${sc.id}`, { as: 'VIEWER' })).json()).toEqual(sc);

    // Not due yet: nothing happens.
    expect(await t.app.schedules.applyDue(later(at, -1_000))).toEqual({ busy: false, applied: [], failed: [] });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ enabled: false, version: 1 });

    expect(await t.app.schedules.applyDue(later(at))).toEqual({ busy: false, applied: [sc.id], failed: [] });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ enabled: true, rolloutBasisPoints: 500, version: 2, updatedBy: 'scheduler' });
    const done = (await t.call('GET', `/api/admin/scheduled-changes/${sc.id}`, { as: 'VIEWER' })).json();
    expect(done).toMatchObject({ state: 'applied', result: { version: 2, changed: true } });
    expect(done.appliedAt).not.toBeNull();

    const events = await auditOf(t, key);
    expect(events.map((e) => e.action)).toEqual(['flag.update', 'schedule.create', 'flag.create']);
    expect(events[0]).toMatchObject({
      actor: 'scheduler',
      actorRole: 'OPERATOR',
      reason: `scheduled change ${sc.id}: Phase 2 at nine`,
      before: { enabled: false, rolloutBasisPoints: 0, version: 1 },
      after: { enabled: true, rolloutBasisPoints: 500, version: 2 },
    });
    expect(events[1]).toMatchObject({ actor: 'test-operator', target: sc.id, reason: 'Phase 2 at nine', after: { id: sc.id, state: 'pending' } });

    // A later pass finds nothing left to do.
    expect(await t.app.schedules.applyDue(later(at, HOUR))).toEqual({ busy: false, applied: [], failed: [] });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json().version).toBe(2);
  });

  it('applies a change exactly once when passes race, with or without the lock', async () => {
    const key = 'sched_race';
    await createFlag(t, key, { enabled: true, rolloutPercentage: 0 });
    for (const [pct, lock] of [[10, true], [20, false]] as const) {
      const at = inHours(1);
      const sc = (await schedule(t, key, { at, rolloutPercentage: pct })).json();
      const runs = await Promise.all([1, 2, 3].map(() => t.app.schedules.applyDue(later(at), { lock })));
      expect(runs.flatMap((r) => r.applied)).toEqual([sc.id]);
      expect(runs.flatMap((r) => r.failed)).toEqual([]);
    }
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ rolloutBasisPoints: 2000, version: 3 });
    const updates = (await auditOf(t, key)).filter((e) => e.action === 'flag.update');
    expect(updates).toHaveLength(2);
  });

  it('runs due changes to one flag in time order', async () => {
    const key = 'sched_order';
    await createFlag(t, key, { enabled: true });
    const second = (await schedule(t, key, { at: inHours(3), rolloutPercentage: 50 })).json();
    const first = (await schedule(t, key, { at: inHours(2), rolloutPercentage: 10 })).json();
    expect(await t.app.schedules.applyDue(later(inHours(4)))).toMatchObject({ applied: [first.id, second.id] });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ rolloutBasisPoints: 5000, version: 3 });
  });

  it('cancels a pending change, which then never applies; a second cancel is a 409', async () => {
    const key = 'sched_cancel';
    await createFlag(t, key);
    const sc = (await schedule(t, key, { at: inHours(1), enabled: true })).json();
    const cancelled = await t.call('DELETE', `/api/admin/scheduled-changes/${sc.id}`, { as: 'OPERATOR', body: { reason: 'not tonight' } });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: sc.id, state: 'cancelled', cancelledBy: 'test-operator' });
    expect(cancelled.json().cancelledAt).not.toBeNull();

    expect(await t.app.schedules.applyDue(later(inHours(2)))).toEqual({ busy: false, applied: [], failed: [] });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ enabled: false, version: 1 });
    const events = await auditOf(t, key);
    expect(events.map((e) => e.action)).toEqual(['schedule.cancel', 'schedule.create', 'flag.create']);
    expect(events[0]).toMatchObject({ actor: 'test-operator', target: sc.id, reason: 'not tonight', before: { state: 'pending' }, after: { state: 'cancelled' } });

    const before = await dumpAll(t.db);
    const again = await t.call('DELETE', `/api/admin/scheduled-changes/${sc.id}`, { as: 'OPERATOR' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'SCHEDULED_CHANGE_NOT_PENDING', details: { state: 'cancelled' } });
    const unknown = await t.call('DELETE', '/api/admin/scheduled-changes/sc_nope', { as: 'OPERATOR' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SCHEDULED_CHANGE_NOT_FOUND');
    expect((await t.call('GET', '/api/admin/scheduled-changes/sc_nope', { as: 'VIEWER' })).json().error.code).toBe('SCHEDULED_CHANGE_NOT_FOUND');
    expect(await dumpAll(t.db)).toEqual(before);
  });

  it('refuses to cancel an applied change', async () => {
    const key = 'sched_cancel_applied';
    await createFlag(t, key);
    const at = inHours(1);
    const sc = (await schedule(t, key, { at, enabled: true })).json();
    await t.app.schedules.applyDue(later(at));
    const res = await t.call('DELETE', `/api/admin/scheduled-changes/${sc.id}`, { as: 'OPERATOR' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'SCHEDULED_CHANGE_NOT_PENDING', details: { state: 'applied' } });
  });

  it('rejects bad input with 400 codes and writes nothing', async () => {
    const key = 'sched_bad';
    await createFlag(t, key);
    const before = await dumpAll(t.db);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ at: new Date(Date.now() - 60_000).toISOString(), enabled: true }, 'INVALID_SCHEDULE_TIME'],
      [{ at: inHours(24 * 366), enabled: true }, 'INVALID_SCHEDULE_TIME'],
      [{ at: inHours(1) }, 'VALIDATION_ERROR'],
      [{ at: inHours(1), reason: 'nothing to do' }, 'VALIDATION_ERROR'],
      [{ at: inHours(1), rolloutPercentage: 100.5 }, 'VALIDATION_ERROR'],
      [{ at: inHours(1), rolloutPercentage: 1.005 }, 'VALIDATION_ERROR'],
      [{ at: inHours(1), enabled: 'yes' }, 'VALIDATION_ERROR'],
      [{ at: inHours(1), enabled: true, allowlist: ['x'] }, 'VALIDATION_ERROR'],
      [{ at: '2030-01-01 10:00', enabled: true }, 'VALIDATION_ERROR'],
      [{ at: 'tomorrow', enabled: true }, 'VALIDATION_ERROR'],
      [{ enabled: true }, 'VALIDATION_ERROR'],
    ];
    for (const [body, code] of cases) {
      const res = await schedule(t, key, body);
      expect({ body, status: res.statusCode, code: res.json().error?.code }).toEqual({ body, status: 400, code });
    }
    const unknownFlag = await schedule(t, 'no_such_flag', { at: inHours(1), enabled: true });
    expect([unknownFlag.statusCode, unknownFlag.json().error.code]).toEqual([404, 'FLAG_NOT_FOUND']);
    const badKey = await schedule(t, 'Bad Key', { at: inHours(1), enabled: true });
    expect([badKey.statusCode, badKey.json().error.code]).toEqual([400, 'INVALID_FLAG_KEY']);
    const badState = await t.call('GET', '/api/admin/scheduled-changes?state=done', { as: 'VIEWER' });
    expect([badState.statusCode, badState.json().error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const viewer = await schedule(t, key, { at: inHours(1), enabled: true }, 'VIEWER');
    expect([viewer.statusCode, viewer.json().error.code]).toEqual([403, 'FORBIDDEN']);
    expect(await dumpAll(t.db)).toEqual(before);
  });

  it('lets VIEWER read but not cancel, and SDK tokens not even read', async () => {
    const key = 'sched_roles';
    await createFlag(t, key);
    const sc = (await schedule(t, key, { at: inHours(1), enabled: true })).json();
    expect((await t.call('GET', `/api/admin/feature-flags/${key}/scheduled-changes`, { as: 'VIEWER' })).statusCode).toBe(200);
    expect((await t.call('GET', '/api/admin/scheduled-changes', { as: 'SDK' })).statusCode).toBe(403);
    const denied = await t.call('DELETE', `/api/admin/scheduled-changes/${sc.id}`, { as: 'VIEWER' });
    expect([denied.statusCode, denied.json().error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await t.call('DELETE', `/api/admin/scheduled-changes/${sc.id}`, { as: 'SUPER_ADMIN' })).statusCode).toBe(200);
  });

  it('does not fight a rollout plan: a percentage change fails with the reason, enable/disable still applies', async () => {
    const key = 'sched_plan';
    await createFlag(t, key, { enabled: true, rolloutPercentage: 10 });
    const planId = await insertLivePlan(t.db, key);
    const at = inHours(1);
    const pctChange = (await schedule(t, key, { at, rolloutPercentage: 50, reason: 'jump to half' })).json();
    const killChange = (await schedule(t, key, { at: inHours(1.5), enabled: false })).json();
    const run = await t.app.schedules.applyDue(later(inHours(2)));
    expect(run).toEqual({ busy: false, applied: [killChange.id], failed: [pctChange.id] });

    const failed = (await t.call('GET', `/api/admin/scheduled-changes/${pctChange.id}`, { as: 'VIEWER' })).json();
    expect(failed).toMatchObject({ state: 'failed', result: { error: 'a rollout plan is active', planId } });
    expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ enabled: false, rolloutBasisPoints: 1000, version: 2 });
    const events = await auditOf(t, key);
    expect(events.map((e) => e.action)).toEqual(['flag.update', 'schedule.fail', 'schedule.create', 'schedule.create', 'flag.create']);
    expect(events[1]).toMatchObject({
      actor: 'scheduler',
      target: pctChange.id,
      reason: `scheduled change ${pctChange.id} failed: a rollout plan is active`,
      after: { state: 'failed', result: { error: 'a rollout plan is active' } },
    });
    const failedOnly = (await t.call('GET', `/api/admin/feature-flags/${key}/scheduled-changes?state=failed`, { as: 'VIEWER' })).json();
    expect(failedOnly.scheduledChanges.map((c: { id: string }) => c.id)).toEqual([pctChange.id]);
  });

  it('fails, audited, when the flag was archived before the change came due', async () => {
    const key = 'sched_archived';
    await createFlag(t, key);
    const at = inHours(1);
    const sc = (await schedule(t, key, { at, enabled: true })).json();
    expect((await t.call('DELETE', `/api/admin/feature-flags/${key}`, { as: 'OPERATOR' })).statusCode).toBe(200);
    expect(await t.app.schedules.applyDue(later(at))).toEqual({ busy: false, applied: [], failed: [sc.id] });
    const row = (await t.call('GET', `/api/admin/scheduled-changes/${sc.id}`, { as: 'VIEWER' })).json();
    expect(row).toMatchObject({ state: 'failed', result: { code: 'FLAG_NOT_FOUND', error: `No flag named ${key}.` } });
    expect((await auditOf(t, key))[0]).toMatchObject({ action: 'schedule.fail', actor: 'scheduler', target: sc.id });
  });

  it('records a change that found the flag already as asked, without bumping its version', async () => {
    const key = 'sched_noop';
    await createFlag(t, key, { enabled: true });
    const at = inHours(1);
    const sc = (await schedule(t, key, { at, enabled: true, reason: 'make sure' })).json();
    expect((await t.app.schedules.applyDue(later(at))).applied).toEqual([sc.id]);
    const row = (await t.call('GET', `/api/admin/scheduled-changes/${sc.id}`, { as: 'VIEWER' })).json();
    expect(row).toMatchObject({ state: 'applied', result: { version: 1, changed: false } });
    expect((await auditOf(t, key))[0]).toMatchObject({ action: 'schedule.apply', actor: 'scheduler', reason: `scheduled change ${sc.id}: make sure` });
  });
});

describe('scheduled changes across replicas (postgres)', () => {
  it.runIf(DRIVERS.includes('postgres'))('two app instances on one database apply each change exactly once', async () => {
    const primary = await startTestApp('postgres');
    const otherDb = await primary.testDb.openAnother();
    const replica = await buildApp(testConfig(), { db: otherDb });
    try {
      await primary.call('POST', '/api/admin/feature-flags', { body: { key: 'sched_replicas', enabled: false } });
      for (const [body, lock] of [[{ enabled: true }, true], [{ rolloutPercentage: 25 }, false]] as const) {
        const at = inHours(1);
        const sc = (await primary.call('POST', '/api/admin/feature-flags/sched_replicas/scheduled-changes', { body: { at, ...body } })).json();
        const runs = await Promise.all([
          primary.app.schedules.applyDue(later(at), { lock }),
          replica.schedules.applyDue(later(at), { lock }),
          primary.app.schedules.applyDue(later(at), { lock }),
          replica.schedules.applyDue(later(at), { lock }),
        ]);
        expect(runs.flatMap((r) => r.applied)).toEqual([sc.id]);
      }
      expect((await primary.call('GET', '/api/admin/feature-flags/sched_replicas')).json()).toMatchObject({ enabled: true, rolloutBasisPoints: 2500, version: 3 });
      const audit = (await primary.call('GET', '/api/admin/feature-flags/sched_replicas/audit')).json().events;
      expect(audit.filter((e: { action: string; actor: string }) => e.action === 'flag.update' && e.actor === 'scheduler')).toHaveLength(2);
    } finally {
      await replica.close();
      await primary.close();
    }
  });
});
