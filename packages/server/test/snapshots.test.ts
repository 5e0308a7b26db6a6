import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, dumpState } from './support/databases.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';

const A = 'passenger_favorites_matching';
const flagPath = (key: string) => `/api/admin/feature-flags/${key}`;

interface FlagJson {
  key: string;
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  allowlist: string[];
  salt: string;
  stickiness: string;
  archived: boolean;
  version: number;
}

const FIELDS = ['key', 'description', 'enabled', 'rolloutBasisPoints', 'allowlist', 'salt', 'stickiness', 'archived'] as const;
const pick = (f: FlagJson) => Object.fromEntries(FIELDS.map((k) => [k, f[k]]));

describe.each(DRIVERS)('snapshots on %s', (driver) => {
  let t: TestApp;
  let id: string;
  let captured: FlagJson[];

  async function liveFlags(): Promise<FlagJson[]> {
    const rows = await t.db.query<FlagJson & { archivedAt: Date | null }>(
      `select key, description, enabled, rollout_basis_points as "rolloutBasisPoints", allowlist, salt, stickiness,
         archived_at is not null as archived, version from flags order by key`,
    );
    return rows;
  }
  async function plans() {
    return t.db.query<{ id: string; flag_key: string; state: string; current_stage: number; version: number }>(
      `select id, flag_key, state, current_stage, version from rollout_plans order by id`,
    );
  }
  const insertPlan = (planId: string, key: string, state: string, stage = 0) =>
    t.db.query(
      `insert into rollout_plans (id, flag_key, stages, rollback_policy, state, current_stage, created_by, updated_by)
       values ($1, $2, $3::jsonb, 'zero', $4, $5, 'test', 'test')`,
      [planId, key, JSON.stringify([{ percentage: 1 }, { percentage: 5 }, { percentage: 25 }]), state, stage],
    );

  beforeAll(async () => {
    t = await startTestApp(driver);
    const create = (body: Record<string, unknown>) => t.call('POST', '/api/admin/feature-flags', { body });
    await create({ key: A, enabled: true, rolloutPercentage: 1, allowlist: BETA_IDS, description: 'favorites matching' });
    await create({ key: 'chat', enabled: true, rolloutPercentage: 10 });
    await create({ key: 'old_flag', enabled: true });
    await t.call('DELETE', flagPath('old_flag'));
    await insertPlan('plan_a', A, 'active', 0);
    for (const [i, status] of ['WARN', 'PASS', 'PASS', 'PASS'].entries()) {
      await t.db.query(
        `insert into checkpoints (id, flag_key, at, trigger, actor, phase, label, status, alerts)
         values ($1, $2, now() - ($3 || ' minutes')::interval, 'manual', 'test', 'ROLLOUT_1PCT', $4, $5, $6::jsonb)`,
        [`cp_${i}`, A, String(40 - i * 10), `check-${i}`, status, JSON.stringify(status === 'WARN' ? [{ code: 'CONFIG_DRIFT', severity: 'warning', message: 'rollout 5%' }] : [])],
      );
    }
  });
  afterAll(async () => t.close());

  it('refuses a snapshot from a VIEWER', async () => {
    const res = await t.call('POST', '/api/admin/snapshots', { as: 'VIEWER', body: { label: 'nope' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });

  it('captures every flag, allowlists, live plans, the last 3 checkpoints and the server version (audited)', async () => {
    const res = await t.call('POST', '/api/admin/snapshots', { as: 'OPERATOR', body: { label: 'before drift fix', reason: 'risky change' } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ label: 'before drift fix', reason: 'risky change', createdBy: 'test-operator', serverVersion: '0.1.0', flagCount: 3, planCount: 1 });
    id = body.id;
    expect(id).toMatch(/^sn_/);
    expect(res.headers.location).toBe(`/api/admin/snapshots/${id}`);
    captured = await liveFlags();

    const full = (await t.call('GET', `/api/admin/snapshots/${id}`, { as: 'VIEWER' })).json();
    expect(full.content.flags.map((f: FlagJson) => f.key)).toEqual(['chat', 'old_flag', A]);
    expect(full.content.flags.find((f: FlagJson) => f.key === A).allowlist).toEqual(BETA_IDS);
    expect(full.content.flags.find((f: FlagJson) => f.key === 'old_flag').archived).toBe(true);
    expect(full.content.plans.map((p: { id: string }) => p.id)).toEqual(['plan_a']);
    expect(full.content.checkpoints[A].map((c: { id: string }) => c.id)).toEqual(['cp_3', 'cp_2', 'cp_1']);
    expect(full.content.serverVersion).toBe('0.1.0');

    const list = (await t.call('GET', '/api/admin/snapshots', { as: 'VIEWER' })).json();
    expect(list.snapshots).toHaveLength(1);
    expect(list.snapshots[0]).toMatchObject({ id, flagCount: 3 });
    expect(list.snapshots[0].content).toBeUndefined();

    const audit = (await t.call('GET', '/api/admin/audit?action=snapshot.create')).json().events;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target: id, actor: 'test-operator', reason: 'risky change' });
  });

  it('renders the OPS SNAPSHOT document with Accept: text/markdown', async () => {
    const res = await t.call('GET', `/api/admin/snapshots/${id}`, { as: 'VIEWER', headers: { accept: 'text/markdown' } });
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
    const md = res.body;
    for (const section of [
      '# OPS SNAPSHOT - ',
      '## 🎯 Purpose',
      'before drift fix',
      '## 🚀 Feature Flags',
      `### ${A}`,
      '"rollout_percentage": 1',
      '**Allowlist:** 10 id(s)',
      '### old_flag (archived)',
      '## 📊 Checkpoints (last 3 per flag)',
      '- Status: **PASS** ✅',
      '- Phase: `ROLLOUT_1PCT`',
      '- Label: `check-3`',
      '## 🔍 Analysis',
      '**Conclusion:**',
      '## 🔄 Rollback Instructions',
      `rampart snapshot restore ${id} --yes`,
      '## ✅ Validation after rollback',
    ]) {
      expect(md).toContain(section);
    }
    expect(md).not.toContain('check-0');
  });

  it('diff lists exactly the fields that changed after a chain of changes', async () => {
    const op = { as: 'OPERATOR' as const };
    await t.call('PUT', flagPath(A), { ...op, body: { rolloutPercentage: 5 } });
    await t.call('POST', `${flagPath(A)}/allowlist`, { ...op, body: { ids: ['pass_new_1', 'pass_new_2'] } });
    await t.call('DELETE', `${flagPath(A)}/allowlist`, { ...op, body: { ids: [BETA_IDS[3]] } });
    await t.call('POST', '/api/admin/feature-flags', { ...op, body: { key: 'brand_new', enabled: true, rolloutPercentage: 50 } });
    await t.call('POST', '/api/admin/feature-flags', { ...op, body: { key: 'old_flag', enabled: true } });
    await t.call('DELETE', flagPath('chat'), op);
    await t.call('PUT', flagPath(A), { ...op, rawBody: '{"enabled":false,"rolloutPercentage":0}' });
    await t.db.query(`update rollout_plans set state = 'aborted', ended_at = now() where id = 'plan_a'`);
    await insertPlan('plan_new', 'brand_new', 'active', 1);

    const diff = (await t.call('GET', `/api/admin/snapshots/${id}/diff`, { as: 'VIEWER' })).json();
    expect(diff.identical).toBe(false);
    const byKey = Object.fromEntries(diff.flags.map((f: { key: string }) => [f.key, f]));
    expect(Object.keys(byKey).sort()).toEqual(['brand_new', 'chat', 'old_flag', A]);
    expect(byKey[A]).toMatchObject({
      change: 'changed',
      fields: { enabled: { snapshot: true, live: false }, rollout: { snapshot: 1, live: 0 } },
      allowlist: { added: 2, removed: 1, addedIds: ['pass_new_1', 'pass_new_2'], removedIds: [BETA_IDS[3]], reordered: false },
    });
    expect(Object.keys(byKey[A].fields).sort()).toEqual(['enabled', 'rollout']);
    expect(byKey.chat).toMatchObject({ change: 'removed', fields: { archived: { snapshot: false, live: true } } });
    expect(Object.keys(byKey.chat.fields)).toEqual(['archived']);
    expect(byKey.brand_new).toMatchObject({ change: 'added' });
    expect(byKey.old_flag).toMatchObject({ change: 'added', fields: { archived: { snapshot: true, live: false } } });
    expect(diff.plans).toEqual([
      expect.objectContaining({ id: 'plan_new', change: 'added' }),
      expect.objectContaining({ id: 'plan_a', change: 'changed', fields: expect.objectContaining({ state: { snapshot: 'active', live: 'aborted' } }) }),
    ]);
    expect(diff.summary).toEqual({ flagsAdded: 2, flagsRemoved: 1, flagsChanged: 1, plansAdded: 1, plansRemoved: 0, plansChanged: 1 });

    const md = (await t.call('GET', `/api/admin/snapshots/${id}/diff`, { as: 'VIEWER', headers: { accept: 'text/markdown' } })).body;
    expect(md).toContain(`### ${A}: changed`);
    expect(md).toContain('| rollout | `1` | `0` |');
    expect(md).toContain('- Allowlist: +2 −1 since the snapshot');
    expect(md).toContain('### plan_new (brand_new): not in the snapshot (a restore aborts it)');
  });

  it('lets only a SUPER_ADMIN restore', async () => {
    const before = await dumpState(t.db);
    const res = await t.call('POST', `/api/admin/snapshots/${id}/restore`, { as: 'OPERATOR', body: {} });
    expect(res.statusCode).toBe(403);
    expect(await dumpState(t.db)).toEqual(before);
  });

  it('refuses to restore while a plan is rolling back, says which, and writes nothing', async () => {
    await t.db.query(`update rollout_plans set state = 'rolling_back', rollback_reason = 'error rate' where id = 'plan_new'`);
    const before = [await dumpState(t.db), await plans()];
    const res = await t.call('POST', `/api/admin/snapshots/${id}/restore`, { body: { reason: 'undo' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'RESTORE_REFUSED',
      details: { plans: [{ id: 'plan_new', flagKey: 'brand_new', state: 'rolling_back', rollbackReason: 'error rate' }] },
    });
    expect(res.json().error.message).toContain('plan_new');
    expect([await dumpState(t.db), await plans()]).toEqual(before);
    await t.db.query(`update rollout_plans set state = 'active', rollback_reason = null where id = 'plan_new'`);
  });

  it('restores flags, allowlists and plans in one transaction: live state equals the snapshot, versions only grow', async () => {
    const versionsBefore = new Map((await liveFlags()).map((f) => [f.key, f.version]));
    // The evaluation cache is warm with the killed flag.
    expect((await t.call('GET', `/api/evaluate/${A}?id=${BETA_IDS[0]}`, { as: 'SDK' })).json()).toMatchObject({ value: false, reason: 'DISABLED' });

    const res = await t.call('POST', `/api/admin/snapshots/${id}/restore`, { body: { reason: 'roll back the drift fix' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.changed).toBe(6);
    expect(body.flags.map((f: { key: string; action: string }) => `${f.key}:${f.action}`).sort()).toEqual(
      ['brand_new:archived', 'chat:revived', 'old_flag:archived', `${A}:restored`].sort(),
    );
    expect(body.plans).toEqual([
      { id: 'plan_new', flagKey: 'brand_new', action: 'aborted' },
      { id: 'plan_a', flagKey: A, action: 'restored' },
    ]);

    const live = await liveFlags();
    const expected = captured.map(pick);
    expect(live.filter((f) => f.key !== 'brand_new').map(pick)).toEqual(expected);
    expect(live.find((f) => f.key === 'brand_new')).toMatchObject({ archived: true });
    for (const f of live) expect(f.version).toBeGreaterThan(versionsBefore.get(f.key)!);

    const p = await plans();
    expect(p.find((x) => x.id === 'plan_a')).toMatchObject({ state: 'active', current_stage: 0 });
    expect(p.find((x) => x.id === 'plan_new')).toMatchObject({ state: 'aborted' });

    const audit = (await t.call('GET', '/api/admin/audit?action=snapshot.restore')).json().events;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target: id, actor: 'test-super_admin', reason: 'roll back the drift fix', after: { snapshotId: id, changed: 6 } });
    expect(audit[0].before.flags[A]).toMatchObject({ enabled: false, rolloutBasisPoints: 0 });
    expect(audit[0].after.flags[A]).toMatchObject({ enabled: true, rolloutBasisPoints: 100, allowlist: BETA_IDS });
    // No per-flag events were written by the restore.
    const last = (await t.call('GET', '/api/admin/audit?limit=1')).json().events[0];
    expect(last.action).toBe('snapshot.restore');

    // The evaluation API sees the restored state at once.
    expect((await t.call('GET', `/api/evaluate/${A}?id=${BETA_IDS[0]}`, { as: 'SDK' })).json()).toMatchObject({ value: true, reason: 'ALLOWLIST' });
    expect((await t.call('GET', `/api/evaluate/${A}?id=pass_new_1`, { as: 'SDK' })).json()).not.toMatchObject({ reason: 'ALLOWLIST' });
    expect((await t.call('GET', '/api/evaluate/brand_new?id=u1', { as: 'SDK' })).statusCode).toBe(404);
    expect((await t.call('GET', '/api/evaluate/chat?id=u1', { as: 'SDK' })).statusCode).toBe(200);
  });

  it('diff shows nothing after the restore, and a second restore changes nothing but the audit trail', async () => {
    const diff = (await t.call('GET', `/api/admin/snapshots/${id}/diff`, { as: 'VIEWER' })).json();
    expect(diff).toMatchObject({ identical: true, flags: [], plans: [] });
    const md = (await t.call('GET', `/api/admin/snapshots/${id}/diff?format=markdown`, { as: 'VIEWER' })).body;
    expect(md).toContain('**No differences:**');

    const flagsBefore = await liveFlags();
    const plansBefore = await plans();
    const again = await t.call('POST', `/api/admin/snapshots/${id}/restore`);
    expect(again.json()).toMatchObject({ changed: 0, flags: [], plans: [] });
    expect(await liveFlags()).toEqual(flagsBefore);
    expect(await plans()).toEqual(plansBefore);
    expect((await t.call('GET', '/api/admin/audit?action=snapshot.restore')).json().events).toHaveLength(2);
  });

  it('answers 404 SNAPSHOT_NOT_FOUND for an unknown id', async () => {
    for (const [method, url] of [
      ['GET', '/api/admin/snapshots/sn_nope'],
      ['GET', '/api/admin/snapshots/sn_nope/diff'],
      ['POST', '/api/admin/snapshots/sn_nope/restore'],
    ] as const) {
      const res = await t.call(method, url);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('SNAPSHOT_NOT_FOUND');
    }
  });
});
