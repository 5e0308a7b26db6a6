import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createTestDatabase } from './support/databases.js';
import { BETA_IDS, SYSTEM_ACTOR, startTestApp, testConfig, type TestApp } from './support/app.js';

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite');
  });
  afterAll(async () => t.close());

  it('answers /healthz and /readyz without a token', async () => {
    expect((await t.call('GET', '/healthz', { as: null })).json()).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/readyz', { as: null })).json()).toEqual({ status: 'ready', database: 'pglite' });
  });

  it('exposes Prometheus metrics: requests by route and status, latency histogram, evaluations by flag and decision', async () => {
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'chat', enabled: true, rolloutPercentage: 50, allowlist: ['vip'] } });
    await t.call('GET', '/api/evaluate/chat?id=vip', { as: 'SDK' });
    await t.call('GET', '/api/evaluate/chat?id=user-1', { as: 'SDK' });
    await t.call('GET', '/api/evaluate/chat?id=user-2', { as: 'SDK' });
    await t.call('GET', '/api/admin/feature-flags/nope');
    const res = await t.call('GET', '/metrics', { as: null });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/rampart_http_requests_total\{method="GET",route="\/api\/evaluate\/:key",status="200"\} 3/);
    expect(text).toMatch(/rampart_http_requests_total\{method="GET",route="\/api\/admin\/feature-flags\/:key",status="404"\} 1/);
    expect(text).toMatch(/rampart_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/evaluate\/:key"\} \d+/);
    expect(text).toContain('rampart_evaluations_total{flag="chat",decision="ALLOWLIST"} 1');
    // user-1 is bucket 6738 (OFF at 50 %), user-2 is 4515 (ON).
    expect(text).toContain('rampart_evaluations_total{flag="chat",decision="OFF"} 1');
    expect(text).toContain('rampart_evaluations_total{flag="chat",decision="ROLLOUT"} 1');
    expect(text).not.toMatch(/user-1|vip/);
  });

  it('serves an OpenAPI document generated from the validating schemas, and a browsable page', async () => {
    const doc = (await t.call('GET', '/docs/json', { as: null })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const put = doc.paths['/api/admin/feature-flags/{key}'].put;
    const body = put.requestBody.content['application/json'].schema;
    expect(body.properties.rolloutPercentage).toMatchObject({ type: 'number', minimum: 0, maximum: 100 });
    expect(body.additionalProperties).toBe(false);
    for (const path of ['/api/admin/feature-flags', '/api/admin/tokens', '/api/evaluate/{key}', '/api/flags', '/api/admin/audit']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const page = await t.call('GET', '/docs/', { as: null });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger');
  });
});

describe('watchdog metrics', () => {
  it('report the latest checkpoint from the database on every replica, and drop archived flags', async () => {
    const a = await startTestApp('pglite');
    const b = await startTestApp('pglite', {}, a.testDb);
    try {
      await a.call('POST', '/api/admin/feature-flags', { body: { key: 'chat', enabled: true, allowlist: ['vip'] } });
      await a.call('PUT', '/api/admin/beta-monitor/chat/settings', { as: 'OPERATOR', body: { syntheticProbes: 5 } });
      // No traffic: INSUFFICIENT_DATA, WARN, YELLOW.
      expect((await a.call('POST', '/api/admin/beta-monitor/chat/run', { as: 'OPERATOR', body: {} })).json()).toMatchObject({ status: 'WARN', health: 'YELLOW' });
      const scrape = async (t: TestApp) => (await t.call('GET', '/metrics', { as: null })).body;
      const onA = await scrape(a);
      expect(onA).toContain('rampart_watchdog_health{flag="chat"} 1');
      expect(onA).toMatch(/rampart_watchdog_last_checkpoint_timestamp_seconds\{flag="chat"\} \d{10}\n/);
      expect(onA).toContain('rampart_checkpoints_total{flag="chat",verdict="WARN"} 1');
      // Replica b ran nothing, yet reports the same health; its counter stays its own.
      const onB = await scrape(b);
      expect(onB).toContain('rampart_watchdog_health{flag="chat"} 1');
      expect(onB).not.toContain('rampart_checkpoints_total{flag="chat"');
      expect((await a.call('DELETE', '/api/admin/feature-flags/chat', { body: { reason: 'done' } })).statusCode).toBe(200);
      expect(await scrape(b)).not.toContain('rampart_watchdog_health{flag="chat"}');
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('readiness without a database', () => {
  it('reports not ready with 503 DATABASE_UNAVAILABLE once the database is gone, while staying alive', async () => {
    const testDb = await createTestDatabase('pglite');
    const app = await buildApp(testConfig(), { db: testDb.db });
    await testDb.db.close();
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe('DATABASE_UNAVAILABLE');
    expect(ready.headers['retry-after']).toBe('5');
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    // /metrics still answers: the watchdog gauges keep their last values.
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
    await app.close();
  });
});

describe('logs', () => {
  it('are JSON lines with the runbook’s decision format and never a subject id or token in clear', async () => {
    const testDb = await createTestDatabase('pglite');
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const app = await buildApp(testConfig({ logLevel: 'debug' }), { db: testDb.db, logStream: stream });
    try {
      const sdk = (await app.rampart.tokens.create(SYSTEM_ACTOR, 'sdk', 'SDK')).token;
      await app.rampart.flags.create(SYSTEM_ACTOR, { key: 'passenger_favorites_matching', enabled: true, allowlist: BETA_IDS });
      const headers = { authorization: `Bearer ${sdk}` };
      await app.inject({ url: '/api/evaluate/passenger_favorites_matching?id=pass_beta_001_2026', headers });
      await app.inject({ url: '/api/evaluate/passenger_favorites_matching?id=passenger-42', headers });
      await app.inject({ url: '/api/flags?id=passenger-42', headers });
      await new Promise((r) => setTimeout(r, 50));
      const all = lines.join('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const decisions = lines.map((l) => JSON.parse(l).msg as string).filter((m) => m.startsWith('feature_key='));
      expect(decisions[0]).toMatch(/^feature_key=passenger_favorites_matching decision=ALLOWLIST subject=[0-9a-f]{16}$/);
      expect(decisions[1]).toMatch(/^feature_key=passenger_favorites_matching decision=OFF subject=[0-9a-f]{16}$/);
      // The same subject hashes the same way, so log lines can still be correlated.
      expect(decisions[2]!.split('subject=')[1]).toBe(decisions[1]!.split('subject=')[1]);
      expect(all).not.toContain('pass_beta_001_2026');
      expect(all).not.toContain('passenger-42');
      expect(all).not.toContain(sdk);
    } finally {
      await app.close();
      await testDb.drop();
    }
  });
});
