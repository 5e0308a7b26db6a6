import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, dumpState } from './support/databases.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';
import { trafficBatch } from './support/traffic.js';

const HOUR = 3_600_000;

/** A simulated clock 20 days back, so every hour of traffic it dates is accepted by ingestion. */
function simulatedClock() {
  let now = Date.now() - 20 * 24 * HOUR;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function setup(driver: 'pglite' | 'postgres', key: string) {
  const clock = simulatedClock();
  const t = await startTestApp(driver, { rateLimitIngest: 0 }, undefined, { clock: clock.now });
  await t.call('POST', '/api/admin/feature-flags', { body: { key, enabled: true, allowlist: BETA_IDS } });
  // Only the allowlist's two probes: the test is about plans, not determinism at scale.
  await t.call('PUT', `/api/admin/beta-monitor/${key}/settings`, { as: 'OPERATOR', body: { syntheticProbes: 0 } });
  return { t, clock };
}

/** One simulated interval: traffic at the current rollout, then a checkpoint. */
async function interval(t: TestApp, clock: ReturnType<typeof simulatedClock>, key: string, hours: number, exposed: { rate5xx: number; p95ms?: number } = { rate5xx: 0.005 }) {
  clock.advance(hours * HOUR);
  const flag = (await t.call('GET', `/api/admin/feature-flags/${key}`)).json();
  const share = flag.rolloutBasisPoints / 10_000;
  const total = 600_000;
  const batch = trafficBatch(key, clock.now() - 30 * 60_000, {
    exposed: { requests: Math.round(total * share), ...exposed },
    control: { requests: Math.round(total * (1 - share)), rate5xx: 0.005 },
  });
  expect((await t.call('POST', '/api/metrics', { as: 'SDK', body: batch })).statusCode).toBe(200);
  const cp = await t.call('POST', `/api/admin/beta-monitor/${key}/run`, { as: 'OPERATOR', body: {} });
  expect(cp.statusCode, cp.body).toBe(200);
  return cp.json();
}

const plan = async (t: TestApp, key: string) => (await t.call('GET', `/api/admin/rollouts/${key}`, { as: 'VIEWER' })).json().plan;

describe.each(DRIVERS)('rollout plans on %s', (driver) => {
  it('walks the runbook’s plan on a healthy flag, stage by stage, to 100 %', async () => {
    const key = 'passenger_favorites_matching';
    const { t, clock } = await setup(driver, key);
    try {
      const started = await t.call('POST', `/api/admin/rollouts/${key}`, { as: 'OPERATOR', body: { template: 'runbook-5-phase', reason: 'Phase 1' } });
      expect(started.statusCode).toBe(201);
      expect(started.json()).toMatchObject({ state: 'active', currentStage: 0, rollbackPolicy: 'zero', progress: { stage: 1, of: 7, percentage: 0, gate: 'approval' } });
      // Phase 1 → Phase 2 is the runbook's go/no-go: a person's decision.
      await t.call('POST', `/api/admin/rollouts/${key}/advance`, { as: 'OPERATOR', body: { reason: 'go/no-go: GO' } });
      const seen: number[] = [];
      for (let i = 0; i < 80 && (await plan(t, key)); i++) {
        const p = await plan(t, key);
        if (p.awaitingApproval) {
          expect(p.progress.percentage).toBe(50);
          await t.call('POST', `/api/admin/rollouts/${key}/approve`, { as: 'OPERATOR', body: {} });
          continue;
        }
        seen.push(p.progress.percentage);
        const cp = await interval(t, clock, key, 12);
        expect(cp.status, cp.report).not.toBe('FAIL');
      }
      const last = (await t.call('GET', `/api/admin/rollouts/${key}`)).json().history[0];
      expect(last.rollbackReason ?? 'none').toBe('none');
      expect([...new Set(seen)]).toEqual([1, 5, 10, 25, 50, 100]);
      const history = (await t.call('GET', `/api/admin/rollouts/${key}`)).json().history;
      expect(history[0].state).toBe('completed');
      expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ enabled: true, rolloutBasisPoints: 10_000 });
      const actions = (await t.call('GET', `/api/admin/feature-flags/${key}/audit?limit=200`)).json().events.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`);
      expect(actions).toContain('plan.advance:watchdog');
      expect(actions).toContain('plan.await_approval:watchdog');
      expect(actions).toContain('plan.start:test-operator');
    } finally {
      await t.close();
    }
    // Dozens of checkpoints over simulated days: ~4 s alone, 15–30 s when the whole suite loads both cores.
  }, 90_000);

  it('rolls a 5xx regression at 5 % back to the policy’s target within two checkpoints, and says why', async () => {
    const key = 'chat';
    const { t, clock } = await setup(driver, key);
    try {
      await t.call('POST', `/api/admin/rollouts/${key}`, {
        as: 'OPERATOR',
        body: { stages: [{ percentage: 1, minDwellMinutes: 60, minSample: 1000 }, { percentage: 5, minDwellMinutes: 600 }, { percentage: 100, minDwellMinutes: 0 }], rollbackPolicy: 'zero' },
      });
      for (let i = 0; i < 6 && (await plan(t, key))?.progress.percentage === 1; i++) await interval(t, clock, key, 1);
      expect((await plan(t, key)).progress.percentage).toBe(5);
      const checkpoints = [];
      for (let i = 0; i < 2 && (await plan(t, key)); i++) checkpoints.push(await interval(t, clock, key, 1, { rate5xx: 0.05 }));
      expect(await plan(t, key)).toBeNull();
      const ended = (await t.call('GET', `/api/admin/rollouts/${key}`)).json().history[0];
      expect(ended).toMatchObject({ state: 'rolled_back' });
      expect(ended.rollbackReason).toMatch(/ERROR_RATE_5XX|two consecutive|critical/i);
      expect(ended.lastRollbackMs).toBeLessThan(1000);
      expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json()).toMatchObject({ rolloutBasisPoints: 0, enabled: true, allowlistCount: BETA_IDS.length });
      const rollback = (await t.call('GET', `/api/admin/feature-flags/${key}/audit`)).json().events.find((e: { action: string }) => e.action === 'plan.rollback');
      expect(rollback).toMatchObject({ actor: 'watchdog' });
      expect(rollback.reason).toContain(checkpoints[checkpoints.length - 1].id);
      const report = await t.call('GET', `/api/admin/beta-monitor/checkpoints/${checkpoints[checkpoints.length - 1].id}`, { headers: { accept: 'text/markdown' } });
      expect(report.body).toContain('### Rollback');
      expect(report.body).toMatch(/rolled back by the watchdog under policy `zero`, \d+ ms after this checkpoint/);
    } finally {
      await t.close();
    }
  });

  it('waits at an approval stage until an OPERATOR approves', async () => {
    const key = 'gated';
    const { t, clock } = await setup(driver, key);
    try {
      await t.call('POST', `/api/admin/rollouts/${key}`, { as: 'OPERATOR', body: { stages: [{ percentage: 10, minDwellMinutes: 60, minSample: 100, gate: 'approval' }, { percentage: 50, minDwellMinutes: 60 }] } });
      for (let i = 0; i < 4; i++) await interval(t, clock, key, 1);
      const waiting = await plan(t, key);
      expect(waiting).toMatchObject({ awaitingApproval: true, currentStage: 0 });
      expect((await t.call('POST', `/api/admin/rollouts/${key}/approve`, { as: 'VIEWER', body: {} })).statusCode).toBe(403);
      await t.call('POST', `/api/admin/rollouts/${key}/approve`, { as: 'OPERATOR', body: { reason: 'looks good' } });
      expect(await plan(t, key)).toMatchObject({ currentStage: 1, awaitingApproval: false });
      expect((await t.call('GET', `/api/admin/feature-flags/${key}`)).json().rolloutBasisPoints).toBe(5000);
    } finally {
      await t.close();
    }
  });
});

describe.each(DRIVERS)('plan rules on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'ramp', enabled: true } });
  });
  afterAll(async () => t.close());

  const bad: [string, unknown, string][] = [
    ['no stages', { stages: [] }, 'PLAN_NO_STAGES'],
    ['neither template nor stages', {}, 'PLAN_NO_STAGES'],
    ['percentages out of order', { stages: [{ percentage: 10, minDwellMinutes: 0 }, { percentage: 5, minDwellMinutes: 0 }] }, 'PLAN_STAGES_OUT_OF_ORDER'],
    ['a negative dwell', { stages: [{ percentage: 10, minDwellMinutes: -5 }] }, 'INVALID_DWELL'],
    ['an unknown policy', { stages: [{ percentage: 10, minDwellMinutes: 0 }], rollbackPolicy: 'pray' }, 'UNKNOWN_ROLLBACK_POLICY'],
    ['an unknown template', { template: 'yolo' }, 'TEMPLATE_NOT_FOUND'],
    ['a percentage over 100', { stages: [{ percentage: 101, minDwellMinutes: 0 }] }, 'VALIDATION_ERROR'],
  ];
  it.each(bad)('rejects a plan with %s (%s… code %s) and writes nothing', async (_name, body, code) => {
    const before = await dumpState(t.db);
    const res = await t.call('POST', '/api/admin/rollouts/ramp', { as: 'OPERATOR', body });
    expect(res.json().error.code).toBe(code);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(await dumpState(t.db)).toEqual(before);
  });

  it('allows one live plan per flag, refuses manual percentage changes, but always honours the kill switch', async () => {
    const start = await t.call('POST', '/api/admin/rollouts/ramp', { as: 'OPERATOR', body: { template: 'chat-canary' } });
    expect(start.statusCode).toBe(201);
    expect((await t.call('GET', '/api/admin/feature-flags/ramp')).json().rolloutBasisPoints).toBe(1000);
    expect((await t.call('POST', '/api/admin/rollouts/ramp', { as: 'OPERATOR', body: { template: 'chat-canary' } })).json().error.code).toBe('PLAN_ALREADY_ACTIVE');
    const manual = await t.call('PUT', '/api/admin/feature-flags/ramp', { as: 'OPERATOR', body: { rolloutPercentage: 50 } });
    expect(manual.statusCode).toBe(409);
    expect(manual.json().error.code).toBe('PLAN_ACTIVE');
    const kill = await t.call('PUT', '/api/admin/feature-flags/ramp', { as: 'OPERATOR', rawBody: '{"enabled":false,"rolloutPercentage":0}' });
    expect(kill.statusCode).toBe(200);
    expect((await t.call('GET', '/api/admin/rollouts/ramp')).json().plan).toMatchObject({ state: 'paused' });
    const resumed = await t.call('POST', '/api/admin/rollouts/ramp/resume', { as: 'OPERATOR', body: {} });
    expect(resumed.json()).toMatchObject({ state: 'active' });
    expect((await t.call('GET', '/api/admin/feature-flags/ramp')).json()).toMatchObject({ enabled: true, rolloutBasisPoints: 1000 });
    const rolled = await t.call('POST', '/api/admin/rollouts/ramp/rollback', { as: 'OPERATOR', body: { reason: 'drill' } });
    expect(rolled.json()).toMatchObject({ state: 'rolled_back' });
    // chat-canary rolls back to the previous stable stage; none had passed, so 0 %.
    expect((await t.call('GET', '/api/admin/feature-flags/ramp')).json().rolloutBasisPoints).toBe(0);
    expect((await t.call('POST', '/api/admin/rollouts/ramp/pause', { as: 'OPERATOR', body: {} })).json().error.code).toBe('PLAN_NOT_FOUND');
  });

  it('ships the two templates and saves a team’s own', async () => {
    const list = (await t.call('GET', '/api/admin/plan-templates', { as: 'VIEWER' })).json().templates;
    expect(list.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['runbook-5-phase', 'chat-canary']));
    const runbook = list.find((x: { name: string }) => x.name === 'runbook-5-phase');
    expect(runbook.stages.map((s: { percentage: number }) => s.percentage)).toEqual([0, 1, 5, 10, 25, 50, 100]);
    const chat = list.find((x: { name: string }) => x.name === 'chat-canary');
    expect(chat.stages.map((s: { percentage: number; minDwellMinutes: number }) => [s.percentage, s.minDwellMinutes / 60])).toEqual([[10, 24], [25, 48], [50, 72], [100, 0]]);
    const saved = await t.call('PUT', '/api/admin/plan-templates/fast-lane', { as: 'OPERATOR', body: { stages: [{ percentage: 50, minDwellMinutes: 30 }, { percentage: 100, minDwellMinutes: 0 }], rollbackPolicy: 'halve' } });
    expect(saved.json()).toMatchObject({ name: 'fast-lane', rollbackPolicy: 'halve', builtin: false });
  });
});
