import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../src/metrics/retention.js';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const http = (flag: string, cohort: string, status: number, latencyMs: number, at: number) => ({ type: 'http', flag, cohort, status, latencyMs, at });

describe.each(DRIVERS)('metrics queries, downsampling and baselines on %s', (driver) => {
  let t: TestApp;
  const now = Date.now();
  const ingest = async (events: unknown[]) => {
    const res = await t.call('POST', '/api/metrics', { as: 'SDK', body: { events } });
    expect(res.statusCode, res.body).toBe(200);
  };
  const summary = async (key: string, q: string) => (await t.call('GET', `/api/admin/metrics/${key}/summary?${q}`, { as: 'VIEWER' })).json();

  beforeAll(async () => {
    t = await startTestApp(driver, { minuteRetentionMs: 6 * HOUR, rateLimitIngest: 0 });
    for (const key of ['history', 'ramp', 'weekly', 'never']) await t.call('POST', '/api/admin/feature-flags', { body: { key, enabled: true } });
  });
  afterAll(async () => t.close());

  it('keeps every total when minutes past their retention are downsampled to hours', async () => {
    const old = now - 30 * HOUR;
    await ingest([
      ...Array.from({ length: 40 }, (_, i) => http('history', 'exposed', i < 4 ? 503 : 200, 20 + i, old + i * 60_000)),
      ...Array.from({ length: 10 }, (_, i) => http('history', 'exposed', 200, 50, now - 20 * 60_000 + i * 1000)),
    ]);
    const before = await summary('history', 'window=2d');
    const minutesBefore = await t.db.query(`select count(*)::int as n from metric_rollups_minute where flag_key = 'history'`);
    const { minutesDropped } = await applyRetention(t.db, 6 * HOUR);
    expect(minutesDropped).toBeGreaterThan(0);
    const minutesAfter = await t.db.query<{ n: number }>(`select count(*)::int as n from metric_rollups_minute where flag_key = 'history'`);
    expect(minutesAfter[0]!.n).toBeLessThan((minutesBefore[0] as { n: number }).n);
    const after = await summary('history', 'window=2d');
    expect(after.cohorts).toEqual(before.cohorts);
    expect(after.cohorts.exposed).toMatchObject({ requests: 50, status: { '5xx': 4 } });
    expect(after.cohorts.exposed.errorRate5xx).toBeCloseTo(4 / 50, 10);
  });

  it('widens a window that starts among downsampled minutes to whole hours, and says so', async () => {
    const from = new Date(now - 30 * HOUR + 17 * 60_000).toISOString();
    const s = await summary('history', `from=${encodeURIComponent(from)}`);
    expect(new Date(s.from).getUTCMinutes()).toBe(0);
    expect(Date.parse(s.from)).toBeLessThanOrEqual(Date.parse(from));
  });

  it('returns a per-minute series with sample counts', async () => {
    const res = await t.call('GET', '/api/admin/metrics/history/series?metric=_http_latency_ms&cohort=exposed&window=1h', { as: 'VIEWER' });
    const points = res.json().points as { count: number; value: number }[];
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(10);
    expect(points.every((p) => p.value === 50)).toBe(true);
    expect(res.json()).toMatchObject({ kind: 'distribution', step: 'minute' });
  });

  it('cuts a window into slices whose summaries add up to the window’s, with each slice’s own error rate and p95', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'sliced', enabled: true } });
    const start = Math.floor((now - 60 * 60_000) / 60_000) * 60_000;
    // First half healthy and fast, second half 10 % 5xx and slow: the slices must tell them apart.
    await ingest(
      Array.from({ length: 60 }, (_, m) =>
        Array.from({ length: 10 }, (_, i) => http('sliced', 'exposed', m >= 30 && i === 0 ? 503 : 200, m >= 30 ? 900 : 100, start + m * 60_000 + i * 1000)),
      ).flat(),
    );
    const from = new Date(start).toISOString();
    const to = new Date(start + 60 * 60_000).toISOString();
    const res = await t.call('GET', `/api/admin/metrics/sliced/timeline?from=${from}&to=${to}&buckets=2`, { as: 'VIEWER' });
    expect(res.statusCode).toBe(200);
    const tl = res.json();
    expect(tl).toMatchObject({ flag: 'sliced', from, to, bucketMs: 30 * 60_000 });
    const [early, late] = tl.buckets;
    expect(early.cohorts.exposed).toMatchObject({ requests: 300, errorRate5xx: 0 });
    expect(late.cohorts.exposed.requests).toBe(300);
    expect(late.cohorts.exposed.errorRate5xx).toBeCloseTo(0.1, 10);
    expect(early.cohorts.exposed.latencyMs.p95).toBeLessThan(120);
    expect(late.cohorts.exposed.latencyMs.p95).toBeGreaterThan(800);
    const whole = await summary('sliced', `from=${from}&to=${to}`);
    expect(early.cohorts.exposed.requests + late.cohorts.exposed.requests).toBe(whole.cohorts.exposed.requests);
    for (const q of ['buckets=0', 'buckets=201', 'buckets=x', 'window=1h&nope=1']) {
      const bad = await t.call('GET', `/api/admin/metrics/sliced/timeline?${q}`, { as: 'VIEWER' });
      expect(bad.statusCode, q).toBe(400);
      expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('fills every slice of a window spanning whole hours (minutes are sliced, not their hourly totals)', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'hourly', enabled: true } });
    const start = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
    await ingest(Array.from({ length: 180 }, (_, m) => http('hourly', 'control', 200, 100, start + m * 60_000 + 5_000)));
    const q = `from=${new Date(start).toISOString()}&to=${new Date(start + 3 * HOUR).toISOString()}&buckets=12`;
    const tl = (await t.call('GET', `/api/admin/metrics/hourly/timeline?${q}`, { as: 'VIEWER' })).json();
    expect(tl.buckets.map((b: { cohorts: { control: { requests: number } } }) => b.cohorts.control.requests)).toEqual(Array(12).fill(15));
  });

  it('rejects an inverted window with INVALID_WINDOW and a malformed one with VALIDATION_ERROR', async () => {
    const from = new Date(now).toISOString();
    const to = new Date(now - HOUR).toISOString();
    const inverted = await t.call('GET', `/api/admin/metrics/history/summary?from=${from}&to=${to}`);
    expect(inverted.json().error.code).toBe('INVALID_WINDOW');
    expect((await t.call('GET', '/api/admin/metrics/history/summary?window=soon')).json().error.code).toBe('VALIDATION_ERROR');
    expect((await t.call('GET', '/api/admin/metrics/history/summary?window=100d')).json().error.code).toBe('INVALID_WINDOW');
  });

  it('captures the baseline from the window before the first non-zero rollout', async () => {
    await ingest(Array.from({ length: 30 }, (_, i) => http('ramp', 'control', i < 3 ? 500 : 200, 40, now - 40 * 60_000 + i * 1000)));
    await t.call('PUT', '/api/admin/feature-flags/ramp', { as: 'OPERATOR', body: { rolloutPercentage: 1 } });
    // After the rollout starts, new traffic must not leak into the pre-rollout baseline.
    await new Promise((r) => setTimeout(r, 20));
    await ingest([http('ramp', 'exposed', 500, 900, Date.now())]);
    const res = await t.call('POST', '/api/admin/metrics/ramp/baselines', { as: 'OPERATOR', body: { mode: 'pre_rollout', hours: 2, reason: 'Phase 2' } });
    expect(res.statusCode).toBe(201);
    const b = res.json();
    expect(b).toMatchObject({ flag: 'ramp', mode: 'pre_rollout', capturedBy: 'test-operator', weeks: null });
    expect(b.id).toMatch(/^bl_/);
    expect(Date.parse(b.to) - Date.parse(b.from)).toBe(2 * HOUR);
    expect(b.summary.all).toMatchObject({ requests: 30, status: { '5xx': 3 } });
    expect(b.summary.all.errorRate5xx).toBeCloseTo(0.1, 10);
    expect(b.summary.exposed.requests).toBe(0);
    const audit = (await t.call('GET', '/api/admin/feature-flags/ramp/audit')).json().events[0];
    expect(audit).toMatchObject({ action: 'baseline.capture', target: b.id, reason: 'Phase 2' });
  });

  it('captures an explicit window, and the same hour of the last N weeks', async () => {
    const from = new Date(now - 2 * HOUR).toISOString();
    // The window ends a minute past the last event (dated when it was sent, not at file load),
    // so a minute boundary between the two cannot push that event out.
    const to = new Date(Date.now() + 60_000).toISOString();
    const explicit = await t.call('POST', '/api/admin/metrics/ramp/baselines', { body: { mode: 'window', from, to } });
    expect(explicit.json().summary.all.requests).toBe(31);
    await ingest([
      ...Array.from({ length: 5 }, () => http('weekly', 'off', 200, 10, now - 7 * DAY - 30 * 60_000)),
      ...Array.from({ length: 7 }, () => http('weekly', 'off', 200, 10, now - 14 * DAY - 30 * 60_000)),
      ...Array.from({ length: 100 }, () => http('weekly', 'off', 200, 10, now - 7 * DAY - 3 * HOUR)),
    ]);
    const weekly = await t.call('POST', '/api/admin/metrics/weekly/baselines', { body: { mode: 'weekly', weeks: 2, hours: 1 } });
    expect(weekly.statusCode).toBe(201);
    expect(weekly.json()).toMatchObject({ mode: 'weekly', weeks: 2, summary: { all: { requests: 12 } } });
  });

  it('lists baselines newest first with their age, shows one, and names what is missing', async () => {
    const list = (await t.call('GET', '/api/admin/metrics/ramp/baselines', { as: 'VIEWER' })).json().baselines;
    expect(list.map((b: { mode: string }) => b.mode)).toEqual(['window', 'pre_rollout']);
    expect(list[0].ageSeconds).toBeGreaterThanOrEqual(0);
    const one = await t.call('GET', `/api/admin/baselines/${list[1].id}`, { as: 'VIEWER' });
    expect(one.json()).toMatchObject({ id: list[1].id, mode: 'pre_rollout' });
    expect((await t.call('GET', '/api/admin/baselines/bl_nope')).json().error.code).toBe('BASELINE_NOT_FOUND');
    const never = await t.call('POST', '/api/admin/metrics/never/baselines', { body: { mode: 'pre_rollout' } });
    expect(never.statusCode).toBe(409);
    expect(never.json().error.code).toBe('NO_ROLLOUT_YET');
    expect((await t.call('POST', '/api/admin/metrics/ramp/baselines', { as: 'VIEWER', body: { mode: 'pre_rollout' } })).statusCode).toBe(403);
  });
});
