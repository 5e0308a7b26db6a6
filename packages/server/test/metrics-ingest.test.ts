import { HISTOGRAM_BUCKETS, addToHistogram, histogramBucket, type Histogram } from '@rampart/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';
import { dumpMetrics, minuteStart } from './support/metrics.js';

const KEY = 'passenger_favorites_matching';
const summary = async (t: TestApp, q = 'window=1h') => (await t.call('GET', `/api/admin/metrics/${KEY}/summary?${q}`, { as: 'VIEWER' })).json();

describe.each(DRIVERS)('metrics ingestion on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitIngest: 0 });
    await t.call('POST', '/api/admin/feature-flags', { body: { key: KEY, enabled: true, rolloutPercentage: 10 } });
  });
  afterAll(async () => t.close());

  it('counts raw exposures, HTTP outcomes and business metrics per cohort, with every figure of the runbook', async () => {
    const latencies = Array.from({ length: 200 }, (_, i) => 10 + i);
    const statuses = [...Array(190).fill(200), 401, 403, 429, 404, 404, 500, 503, 503, 302, 201];
    const events = [
      ...Array.from({ length: 125 }, () => ({ type: 'exposure', flag: KEY, cohort: 'exposed' })),
      ...latencies.map((ms, i) => ({ type: 'http', flag: KEY, cohort: 'exposed', status: statuses[i], latencyMs: ms })),
      ...Array.from({ length: 80 }, (_, i) => ({ type: 'rate', flag: KEY, cohort: 'exposed', metric: 'matching_success', success: i % 10 !== 0 })),
      ...Array.from({ length: 100 }, (_, i) => ({ type: 'value', flag: KEY, cohort: 'exposed', metric: 'time_to_match_ms', value: 1000 + 10 * i })),
      { type: 'http', flag: KEY, cohort: 'control', status: 200, latencyMs: 40 },
    ];
    const res = await t.call('POST', '/api/metrics', { as: 'SDK', body: { events } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: events.length, duplicate: false });
    const s = (await summary(t)).cohorts;
    const exposed = s.exposed;
    // The seeds' "Total requests: 0" beside "Matching: 125" cannot happen: one count, one source.
    expect(exposed.exposures).toBe(125);
    expect(exposed.requests).toBe(200);
    expect(exposed.status).toEqual({ '2xx': 191, '3xx': 1, '4xx': 5, '5xx': 3, '401': 1, '403': 1, '429': 1 });
    expect(exposed.errorRate).toBeCloseTo(8 / 200, 10);
    expect(exposed.errorRate5xx).toBeCloseTo(3 / 200, 10);
    // Nearest-rank percentiles of 10..209 are 109, 199, 207; the layout promises 2 %.
    expect(exposed.latencyMs.count).toBe(200);
    expect(Math.abs(exposed.latencyMs.p50 - 109) / 109).toBeLessThanOrEqual(0.02);
    expect(Math.abs(exposed.latencyMs.p95 - 199) / 199).toBeLessThanOrEqual(0.02);
    expect(Math.abs(exposed.latencyMs.p99 - 207) / 207).toBeLessThanOrEqual(0.02);
    expect(exposed.metrics.matching_success).toMatchObject({ kind: 'rate', count: 80, sum: 72, rate: 0.9 });
    expect(exposed.metrics.time_to_match_ms).toMatchObject({ kind: 'distribution', count: 100 });
    expect(Math.abs(exposed.metrics.time_to_match_ms.p95 - 1940) / 1940).toBeLessThanOrEqual(0.02);
    expect(s.control).toMatchObject({ requests: 1, errorRate: 0, exposures: 0 });
    // No data is never 0 %: the allowlist cohort had no requests.
    expect(s.allowlist).toMatchObject({ requests: 0, errorRate: null, errorRate5xx: null, latencyMs: { count: 0, p95: null } });
  });

  it('merges per-minute aggregates, as the SDK sends them, with what is already there', async () => {
    const before = (await summary(t)).cohorts.control;
    const histogram: Histogram = {};
    for (let i = 0; i < 50; i++) addToHistogram(histogram, 30);
    const minute = minuteStart(Date.now());
    const res = await t.call('POST', '/api/metrics', {
      as: 'SDK',
      body: {
        aggregates: [
          { flag: KEY, cohort: 'control', metric: '_exposures', minute, count: 70 },
          { flag: KEY, cohort: 'control', metric: '_http_latency_ms', minute, count: 50, sum: 1500, histogram },
          { flag: KEY, cohort: 'control', metric: '_http_status_2xx', minute, count: 48 },
          { flag: KEY, cohort: 'control', metric: '_http_status_5xx', minute, count: 2 },
          { flag: KEY, cohort: 'control', metric: 'matching_success', kind: 'rate', minute, count: 10, sum: 9 },
        ],
      },
    });
    expect(res.json()).toMatchObject({ accepted: 70 + 50 + 48 + 2 + 10, duplicate: false });
    const after = (await summary(t)).cohorts.control;
    expect(after.exposures).toBe(before.exposures + 70);
    expect(after.requests).toBe(before.requests + 50);
    expect(after.status['5xx']).toBe(2);
    expect(after.errorRate5xx).toBeCloseTo(2 / 51, 10);
    expect(after.metrics.matching_success).toMatchObject({ count: 10, sum: 9, rate: 0.9 });
  });

  it('counts a batch retried with the same idempotency key once, by body or by header', async () => {
    const body = { idempotencyKey: 'batch-0001-retry', events: [{ type: 'exposure', flag: KEY, cohort: 'off' }] };
    expect((await t.call('POST', '/api/metrics', { as: 'SDK', body })).json()).toMatchObject({ accepted: 1, duplicate: false });
    expect((await t.call('POST', '/api/metrics', { as: 'SDK', body })).json()).toMatchObject({ accepted: 0, duplicate: true });
    const viaHeader = { events: [{ type: 'exposure', flag: KEY, cohort: 'off' }] };
    const headers = { 'idempotency-key': 'header-key-0002' };
    await t.call('POST', '/api/metrics', { as: 'SDK', body: viaHeader, headers });
    expect((await t.call('POST', '/api/metrics', { as: 'SDK', body: viaHeader, headers })).json().duplicate).toBe(true);
    expect((await summary(t)).cohorts.off.exposures).toBe(2);
  });

  it('adds up concurrent batches exactly: upserts add, so replicas can ingest at once', async () => {
    const start = (await summary(t)).cohorts.allowlist.exposures;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        t.call('POST', '/api/metrics', { as: 'SDK', body: { events: Array.from({ length: 50 }, () => ({ type: 'exposure', flag: KEY, cohort: 'allowlist' })) } }),
      ),
    );
    expect((await summary(t)).cohorts.allowlist.exposures).toBe(start + 1000);
  });

  const minute = () => minuteStart(Date.now());
  const ex = (over: Record<string, unknown>) => ({ type: 'exposure', flag: KEY, cohort: 'exposed', ...over });
  const agg = (over: Record<string, unknown>) => ({ flag: KEY, cohort: 'exposed', metric: 'orders', kind: 'counter', minute: minute(), count: 1, ...over });
  const oversized: Histogram = Object.fromEntries(Array.from({ length: HISTOGRAM_BUCKETS + 1 }, (_, i) => [i, 1]));
  const cases: [string, () => { body?: unknown; rawBody?: string }, number, string][] = [
    ['a malformed event (no type)', () => ({ body: { events: [{ flag: KEY, cohort: 'exposed' }] } }), 400, 'MALFORMED_BATCH'],
    ['an event carrying a subject id', () => ({ body: { events: [ex({ subjectId: 'passenger-42' })] } }), 400, 'MALFORMED_BATCH'],
    ['a negative count', () => ({ body: { aggregates: [agg({ count: -5 })] } }), 400, 'NEGATIVE_COUNT'],
    ['an infinite value (1e999)', () => ({ rawBody: `{"events":[{"type":"value","flag":"${KEY}","cohort":"exposed","metric":"t_ms","value":1e999}]}` }), 400, 'NON_FINITE_VALUE'],
    ['an unknown cohort', () => ({ body: { events: [ex({ cohort: 'treatment' })] } }), 400, 'UNKNOWN_COHORT'],
    ['an oversized histogram', () => ({ body: { aggregates: [agg({ metric: 'lat_ms', kind: 'distribution', count: HISTOGRAM_BUCKETS + 1, histogram: oversized })] } }), 400, 'HISTOGRAM_TOO_LARGE'],
    ['a histogram index past the layout', () => ({ body: { aggregates: [agg({ metric: 'lat_ms', kind: 'distribution', count: 1, histogram: { [HISTOGRAM_BUCKETS]: 1 } })] } }), 400, 'HISTOGRAM_TOO_LARGE'],
    ['a histogram that disagrees with its count', () => ({ body: { aggregates: [agg({ metric: 'lat_ms', kind: 'distribution', count: 3, histogram: { [histogramBucket(5)]: 1 } })] } }), 400, 'MALFORMED_BATCH'],
    ['more than 10 000 events', () => ({ body: { events: Array.from({ length: 10_001 }, () => ex({})) } }), 413, 'BATCH_TOO_LARGE'],
    ['an invalid metric name', () => ({ body: { events: [{ type: 'rate', flag: KEY, cohort: 'exposed', metric: 'Matching-Success', success: true }] } }), 400, 'INVALID_METRIC_NAME'],
    ['a flag that does not exist', () => ({ body: { events: [ex({ flag: 'no_such_flag' })] } }), 400, 'UNKNOWN_FLAG'],
    ['a metric used with another kind', () => ({ body: { events: [{ type: 'value', flag: KEY, cohort: 'exposed', metric: 'matching_success', value: 3 }] } }), 409, 'METRIC_KIND_CONFLICT'],
    ['a timestamp older than 90 days', () => ({ body: { events: [ex({ at: Date.now() - 91 * 86_400_000 })] } }), 400, 'INVALID_TIMESTAMP'],
    ['an aggregate minute that is not a whole minute', () => ({ body: { aggregates: [agg({ minute: new Date(Date.now() - 1234).toISOString() })] } }), 400, 'INVALID_TIMESTAMP'],
    ['a rate with more successes than trials', () => ({ body: { aggregates: [agg({ metric: 'matching_success', kind: 'rate', count: 2, sum: 3 })] } }), 400, 'MALFORMED_BATCH'],
    ['an HTTP status outside 100..599', () => ({ body: { events: [{ type: 'http', flag: KEY, cohort: 'exposed', status: 999, latencyMs: 1 }] } }), 400, 'MALFORMED_BATCH'],
  ];
  it.each(cases)('rejects %s with %i %s and changes no rollup', async (_name, make, status, code) => {
    const before = await dumpMetrics(t.db);
    const res = await t.call('POST', '/api/metrics', { as: 'SDK', ...make() });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await dumpMetrics(t.db)).toEqual(before);
  });

  it('rejects a 51st application metric name for one flag with TOO_MANY_METRICS, writing nothing', async () => {
    const names = (await t.call('GET', `/api/admin/metrics/${KEY}/names`)).json().metrics;
    const have = Object.keys(names).length;
    const fill = Array.from({ length: 50 - have }, (_, i) => ({ type: 'rate', flag: KEY, cohort: 'off', metric: `m_${i}`, success: true }));
    expect((await t.call('POST', '/api/metrics', { as: 'SDK', body: { events: fill } })).statusCode).toBe(200);
    const before = await dumpMetrics(t.db);
    const res = await t.call('POST', '/api/metrics', { as: 'SDK', body: { events: [{ type: 'rate', flag: KEY, cohort: 'off', metric: 'one_too_many', success: true }] } });
    expect(res.json().error).toMatchObject({ code: 'TOO_MANY_METRICS', details: { limit: 50 } });
    expect(await dumpMetrics(t.db)).toEqual(before);
  });

  it('counts batches, events and rejects by code in /metrics', async () => {
    const text = (await t.call('GET', '/metrics', { as: null })).body;
    expect(text).toMatch(/rampart_ingest_batches_total\{result="accepted"\} \d+/);
    expect(text).toMatch(/rampart_ingest_batches_total\{result="duplicate"\} 2/);
    expect(text).toMatch(/rampart_ingest_rejects_total\{code="UNKNOWN_COHORT"\} 1/);
    expect(text).toMatch(/rampart_ingest_events_total \d+/);
  });

  it('stores no subject id anywhere', async () => {
    const dump = JSON.stringify(await dumpMetrics(t.db));
    expect(dump).not.toContain('passenger-42');
  });
});

describe('metrics ingestion limits', () => {
  it('rate-limits a flood of batches from one token with 429 and Retry-After', async () => {
    const t = await startTestApp('pglite', { rateLimitIngest: 3 });
    try {
      await t.call('POST', '/api/admin/feature-flags', { body: { key: KEY } });
      const body = { events: [{ type: 'exposure', flag: KEY, cohort: 'off' }] };
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await t.call('POST', '/api/metrics', { as: 'SDK', body })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const limited = await t.call('POST', '/api/metrics', { as: 'SDK', body });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      // Evaluation is not affected by the ingestion budget.
      expect((await t.call('GET', `/api/evaluate/${KEY}?id=u`, { as: 'SDK' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
