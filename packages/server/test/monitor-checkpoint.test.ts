import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';

const KEY = 'passenger_favorites_matching';
const F = `/api/admin/feature-flags/${KEY}`;
const M = `/api/admin/beta-monitor/${KEY}`;
const codes = (cp: { alerts: { code: string }[] }) => cp.alerts.map((a) => a.code);

describe.each(DRIVERS)('watchdog checkpoints on %s', (driver) => {
  let t: TestApp;
  const run = async (body: unknown = { phase: 'phase1_beta' }, as: 'OPERATOR' | 'VIEWER' = 'OPERATOR') => t.call('POST', `${M}/run`, { as, body });

  beforeAll(async () => {
    t = await startTestApp(driver);
    // The seeds' Phase 1: ten beta passengers plus two added later, at 0 %.
    await t.call('POST', '/api/admin/feature-flags', {
      body: { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: [...BETA_IDS, 'pass_beta_011_2026', 'pass_beta_012_2026'] },
    });
    await t.call('PUT', `${M}/settings`, { as: 'OPERATOR', body: { probeIds: ['pass_beta_001_2026', 'pass_beta_005_2026', 'passenger-42'], syntheticProbes: 50 } });
  });
  afterAll(async () => t.close());

  it('runs the runbook’s call as written and validates the probe ids as IN ALLOWLIST', async () => {
    const res = await t.call('POST', `${M}/run`, { as: 'OPERATOR', rawBody: '{"phase":"phase1_beta"}' });
    expect(res.statusCode).toBe(200);
    const cp = res.json();
    expect(cp).toMatchObject({ phase: 'phase1_beta', trigger: 'api', actor: 'test-operator' });
    expect(codes(cp)).not.toContain('DETERMINISM_FAIL');
    expect(cp.report).toContain('- **pass_beta_001_2026:** ✅ IN ALLOWLIST');
    expect(cp.report).toContain('- **pass_beta_005_2026:** ✅ IN ALLOWLIST');
    expect(cp.report).toMatch(/Resolver consistency:\*\* ✅ 3 probes × 3 evaluations/);
  });

  it('says INSUFFICIENT_DATA / EXTEND when there is no traffic, never PASS', async () => {
    const cp = (await run()).json();
    expect(cp.status).toBe('WARN');
    expect(cp.decision).toBe('EXTEND');
    expect(codes(cp)).toContain('INSUFFICIENT_DATA');
  });

  it('replays Phase 2 (0 → 1 % through the API, then checkpoints) without CONFIG_DRIFT', async () => {
    await t.call('PUT', F, { as: 'OPERATOR', body: { enabled: true, rolloutPercentage: 1, reason: 'Phase 2' } });
    const validation = (await run({ phase: 'phase1_beta', label: 'rollout-1pct-validation' })).json();
    expect(codes(validation)).not.toContain('CONFIG_DRIFT');
    expect(validation.report).toContain('- **config drift:** none');
    expect(validation.report).toContain('- **rollout_percentage:** 1%');
    expect(validation.report).toContain('- **allowlist_count:** 12');
    const hourly = (await run({ phase: 'phase2_rollout' })).json();
    expect(codes(hourly)).not.toContain('CONFIG_DRIFT');
    // The OPS snapshot's validation: --expected-rollout=1 agrees with the live 1 %.
    const explicit = (await run({ phase: 'phase2_rollout', label: 'manual', expectedRollout: 1 })).json();
    expect(codes(explicit)).not.toContain('CONFIG_DRIFT');
  });

  it('raises CONFIG_DRIFT (FAIL) for a direct SQL edit that bypassed the audited path', async () => {
    await t.db.query(`update flags set rollout_basis_points = 500 where key = $1`, [KEY]);
    const cp = (await run()).json();
    expect(cp.status).toBe('FAIL');
    expect(cp.decision).toBe('NO_GO');
    const drift = cp.alerts.find((a: { code: string }) => a.code === 'CONFIG_DRIFT');
    expect(drift.severity).toBe('FAIL');
    expect(cp.report).toMatch(/config drift:\*\* ❌ rolloutPercentage 5, expected 1/);
    // Putting it right through the API makes the expectation match again.
    await t.call('PUT', F, { as: 'OPERATOR', body: { rolloutPercentage: 1, reason: 'undo the SQL edit' } });
    expect(codes((await run()).json())).not.toContain('CONFIG_DRIFT');
  });

  it('flags an allowlist that shrank outside the audited path', async () => {
    await t.db.query(`update flags set allowlist = allowlist[1:9] where key = $1`, [KEY]);
    const cp = (await run()).json();
    expect(cp.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'CONFIG_DRIFT', severity: 'FAIL' })]));
    await t.call('POST', `${F}/allowlist`, { as: 'OPERATOR', body: { ids: [...BETA_IDS, 'pass_beta_011_2026', 'pass_beta_012_2026'] } });
  });

  it('turns a critical complaint into a FAIL with CRITICAL_COMPLAINT, and shows the signals', async () => {
    const signal = await t.call('POST', `${M}/signals`, { as: 'OPERATOR', body: { complaints: 2, critical: true, note: 'passenger charged twice' } });
    expect(signal.statusCode).toBe(201);
    const cp = (await run()).json();
    expect(cp.status).toBe('FAIL');
    expect(codes(cp)).toContain('CRITICAL_COMPLAINT');
    expect(cp.report).toContain('- **Complaints (last 6h):** 2');
    expect(cp.report).toContain('passenger charged twice');
  });

  it('writes a report in the runbook layout with nothing left to manual review', async () => {
    const list = (await t.call('GET', `${M}/checkpoints`, { as: 'VIEWER' })).json().checkpoints;
    expect(list.length).toBeGreaterThanOrEqual(7);
    const md = await t.call('GET', `/api/admin/beta-monitor/checkpoints/${list[0].id}`, { as: 'VIEWER', headers: { accept: 'text/markdown' } });
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    for (const section of ['### Feature Flag State', '### Metrics', '### Determinism Validation', '### Operational Signals', '### Decision', '**Per-metric judgement**']) {
      expect(md.body).toContain(section);
    }
    expect(md.body.toLowerCase()).not.toContain('manual review');
    const json = (await t.call('GET', `/api/admin/beta-monitor/checkpoints/${list[0].id}`, { as: 'VIEWER' })).json();
    expect(json).toMatchObject({ id: list[0].id, flag: KEY });
    expect(json.determinism.probes).toBe(3);
  });

  it('refuses a run by a VIEWER (403) and for an unknown flag (404)', async () => {
    expect((await run(undefined, 'VIEWER')).statusCode).toBe(403);
    const unknown = await t.call('POST', '/api/admin/beta-monitor/nope/run', { as: 'OPERATOR', body: {} });
    expect(unknown.json().error.code).toBe('FLAG_NOT_FOUND');
  });

  it('never runs two checkpoints for one flag at once', async () => {
    const [a, b] = await Promise.all([run(), run()]);
    const statuses = [a.statusCode, b.statusCode].sort();
    expect(statuses).toEqual([200, 409]);
    expect([a, b].find((r) => r.statusCode === 409)!.json().error.code).toBe('CHECKPOINT_RUNNING');
  });

  it('runs each scheduled slot once and records slots missed while nothing ran', async () => {
    const scheduler = t.app.watchdog.scheduler;
    await t.call('PUT', `${M}/settings`, { as: 'OPERATOR', body: { schedule: '0 * * * *' } });
    const base = new Date();
    base.setUTCMinutes(5, 0, 0);
    const first = await scheduler.tick(base);
    expect(first.ran).toHaveLength(1);
    expect((await scheduler.tick(new Date(base.getTime() + 10 * 60_000))).ran).toHaveLength(0);
    const later = await scheduler.tick(new Date(base.getTime() + 3 * 3_600_000));
    expect(later).toMatchObject({ missed: 2 });
    expect(later.ran).toHaveLength(1);
    const list = (await t.call('GET', `${M}/checkpoints?limit=100`, { as: 'VIEWER' })).json().checkpoints;
    const scheduled = list.filter((c: { trigger: string }) => c.trigger === 'schedule' || c.trigger === 'missed');
    expect(scheduled.map((c: { status: string }) => c.status).filter((s: string) => s === 'MISSED')).toHaveLength(2);
    const settings = await t.call('PUT', `${M}/settings`, { as: 'OPERATOR', body: { schedule: 'every hour' } });
    expect(settings.statusCode).toBe(400);
  });
});

describe('watchdog with metrics from Prometheus', () => {
  it('counts a metric query that fails as METRIC_QUERY_ERROR (WARN), never as a FAIL or a zero', async () => {
    const t = await startTestApp('pglite');
    try {
      await t.call('POST', '/api/admin/feature-flags', { body: { key: KEY, enabled: true, rolloutPercentage: 1 } });
      const def = await t.call('PUT', '/api/admin/metric-definitions/checkout_errors', {
        as: 'OPERATOR',
        body: { kind: 'rate', source: 'prometheus', query: 'sum(rate(errors_total{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}]))', prometheusUrl: 'http://127.0.0.1:9' },
      });
      expect(def.statusCode).toBeLessThan(300);
      const cp = (await t.call('POST', `${M}/run`, { as: 'OPERATOR', body: {} })).json();
      const alert = cp.alerts.find((a: { code: string }) => a.code === 'METRIC_QUERY_ERROR');
      expect(alert).toMatchObject({ severity: 'WARN', metric: 'checkout_errors' });
      expect(cp.status).not.toBe('FAIL');
      expect(cp.report).toContain('**Metrics from Prometheus**');
      expect(cp.report).toMatch(/\| checkout_errors \| rate \| – \| – \| ⚠️ query failed/);
    } finally {
      await t.close();
    }
  });
});
