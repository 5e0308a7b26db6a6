import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { createPrometheusClient } from '../src/prometheus/client.js';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';
import { freePort, startPrometheus, startScrapeTarget, startSilentServer, type Running } from './support/prometheus.js';

const FLAG = 'passenger_favorites_matching';
const D = '/api/admin/metric-definitions';

/** What the application under rollout exposes: request counts per flag, cohort and status. */
const EXPOSITION = `# TYPE app_requests_total counter
app_requests_total{flag="${FLAG}",cohort="exposed",code="200"} 93
app_requests_total{flag="${FLAG}",cohort="exposed",code="500"} 7
app_requests_total{flag="${FLAG}",cohort="control",code="200"} 198
app_requests_total{flag="${FLAG}",cohort="control",code="500"} 2
app_requests_total{flag="${FLAG}",cohort="off",code="500"} 0
app_requests_total{flag="say \\"hi\\"",cohort="exposed",code="500"} 3
app_requests_total{flag="back\\\\slash",cohort="exposed",code="500"} 4
`;

// The counters are static, so max_over_time reads them as they are: exact numbers to check.
const sel = (extra = '') => `app_requests_total{flag="{{flag}}",cohort="{{cohort}}"${extra}}`;
const ERROR_RATE = `sum(max_over_time(${sel(',code=~"5.."')}[{{window}}])) / sum(max_over_time(${sel()}[{{window}}]))`;
const REQUESTS = `max_over_time(${sel()}[{{window}}])`;
const ERRORS = `sum(max_over_time(${sel(',code=~"5.."')}[{{window}}]))`;

let target: Running;
let prometheus: Running;
let unreachable: string;

beforeAll(async () => {
  target = await startScrapeTarget(EXPOSITION);
  prometheus = await startPrometheus(target.url, `app_requests_total{flag="${FLAG}"}`);
  unreachable = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await prometheus?.stop();
  await target?.stop();
});

/** Every table a metric-definition request could write. */
async function dump(db: Database): Promise<unknown> {
  const [definitions, audit] = await Promise.all([
    db.query('select * from metric_definitions order by name'),
    db.query('select * from audit_events order by id'),
  ]);
  return { definitions, audit };
}

describe.each(DRIVERS)('metric definitions read from Prometheus on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver, { prometheusUrl: prometheus.url });
  });
  afterAll(async () => t.close());

  const put = (name: string, body: Record<string, unknown>, as: 'OPERATOR' | 'VIEWER' = 'OPERATOR') =>
    t.call('PUT', `${D}/${name}`, { as, body: { kind: 'rate', source: 'prometheus', ...body } });
  const query = (name: string, body: Record<string, unknown>, as: 'VIEWER' | 'SDK' = 'VIEWER') =>
    t.call('POST', `${D}/${name}/query`, { as, body: { flag: FLAG, windowSeconds: 300, ...body } });

  it('saves a definition, audited, and reads it back; the same PUT again changes nothing', async () => {
    const res = await put('error_rate_5xx', { query: ERROR_RATE, description: '5xx share', reason: 'watch 5xx' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`${D}/error_rate_5xx`);
    expect(res.json()).toMatchObject({ name: 'error_rate_5xx', kind: 'rate', query: ERROR_RATE, prometheusUrl: null, version: 1, changed: true });
    expect((await t.call('GET', `${D}/error_rate_5xx`, { as: 'VIEWER' })).json()).toMatchObject({ description: '5xx share', updatedBy: 'test-operator' });
    const list = (await t.call('GET', D, { as: 'VIEWER' })).json();
    expect(list.definitions.map((d: { name: string }) => d.name)).toContain('error_rate_5xx');

    const events = (await t.call('GET', '/api/admin/audit?action=metric_definition.put')).json().events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ target: 'error_rate_5xx', flagKey: null, reason: 'watch 5xx', before: null, after: { queryTemplate: ERROR_RATE, version: 1 } });

    const again = await put('error_rate_5xx', { query: ERROR_RATE, description: '5xx share' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, changed: false });
    expect((await t.call('GET', '/api/admin/audit?action=metric_definition.put')).json().events).toHaveLength(1);
  });

  it('returns the 5xx rate of the exposed and of the control cohort as Prometheus computes them', async () => {
    const exposed = await query('error_rate_5xx', { cohort: 'exposed' });
    expect(exposed.statusCode, exposed.body).toBe(200);
    expect(exposed.json()).toMatchObject({ status: 'ok', series: 1 });
    expect(exposed.json().value).toBeCloseTo(0.07, 10);
    expect(exposed.json().promql).toBe(ERROR_RATE.replaceAll('{{flag}}', FLAG).replaceAll('{{cohort}}', 'exposed').replaceAll('{{window}}', '5m'));
    const control = (await query('error_rate_5xx', { cohort: 'control' })).json();
    expect(control).toMatchObject({ status: 'ok', series: 1 });
    expect(control.value).toBeCloseTo(0.01, 10);
  });

  it('sums a query that returns several series and says how many', async () => {
    await put('requests', { kind: 'counter', query: REQUESTS });
    expect((await query('requests', { cohort: 'exposed', windowSeconds: 3600 })).json()).toMatchObject({ status: 'ok', value: 100, series: 2 });
    expect((await query('requests', { cohort: 'control' })).json()).toMatchObject({ status: 'ok', value: 200, series: 2 });
  });

  it('reports a cohort without series as missing data, never as 0', async () => {
    const res = await query('requests', { cohort: 'allowlist' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'missing', reason: expect.stringMatching(/No series matched/), promql: expect.any(String) });
  });

  it('reports an error rate over zero requests (0/0, NaN) as missing data, never as 0', async () => {
    const res = (await query('error_rate_5xx', { cohort: 'off' })).json();
    expect(res).toMatchObject({ status: 'missing', reason: expect.stringMatching(/NaN/) });
    expect(res.value).toBeUndefined();
  });

  it('reports PromQL that Prometheus rejects as missing, with Prometheus’s reason, not as an error of ours', async () => {
    const broken = `sum(rate(${sel()}[{{window}}])`;
    expect((await put('broken_syntax', { query: broken })).statusCode).toBe(201);
    const res = await query('broken_syntax', { cohort: 'exposed' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'missing', reason: expect.stringMatching(/rejected the query \(bad_data\).*parse error/) });
  });

  it('reports a range vector as missing, with a hint', async () => {
    await put('range_vector', { query: `${sel()}[{{window}}]` });
    expect((await query('range_vector', { cohort: 'exposed' })).json()).toMatchObject({ status: 'missing', reason: expect.stringMatching(/range vector/) });
  });

  it('reports an unreachable Prometheus as missing data', async () => {
    expect((await put('elsewhere', { query: ERRORS, prometheusUrl: unreachable })).json()).toMatchObject({ prometheusUrl: unreachable });
    const res = await query('elsewhere', { cohort: 'exposed' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'missing', reason: expect.stringMatching(/unreachable.*ECONNREFUSED/) });
  });

  it('escapes flag values with quotes and backslashes, so they match their series exactly', async () => {
    await put('errors', { kind: 'counter', query: ERRORS });
    expect((await query('errors', { cohort: 'exposed', flag: 'say "hi"' })).json()).toMatchObject({ status: 'ok', value: 3 });
    const slash = (await query('errors', { cohort: 'exposed', flag: 'back\\slash' })).json();
    expect(slash).toMatchObject({ status: 'ok', value: 4, promql: expect.stringContaining('flag="back\\\\slash"') });
    // A value built to break out of the string literal stays one (unmatched) label value.
    const attack = (await query('errors', { cohort: 'exposed', flag: `${FLAG}"} or vector(1) or x{a="` })).json();
    expect(attack).toMatchObject({ status: 'missing', reason: expect.stringMatching(/No series/) });
  });

  it('fills in {{baseline_offset}} and requires it when the template uses it', async () => {
    await put('errors_last_week', { kind: 'counter', query: `sum(max_over_time(${sel()}[{{window}}] offset {{baseline_offset}}))` });
    const without = await query('errors_last_week', { cohort: 'exposed' });
    expect(without.statusCode).toBe(400);
    expect(without.json().error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'body.baselineOffsetSeconds' }] });
    // Prometheus was not running a week ago: missing, and the PromQL shows the offset.
    const res = (await query('errors_last_week', { cohort: 'exposed', baselineOffsetSeconds: 604_800 })).json();
    expect(res).toMatchObject({ status: 'missing', promql: expect.stringContaining('[5m] offset 1w') });
  });

  it('refuses a template with an unknown placeholder with 400 INVALID_QUERY_TEMPLATE and writes nothing', async () => {
    const before = await dump(t.db);
    const typo = await put('typo', { query: `sum(${sel().replace('{{cohort}}', '{{cohrot}}')})` });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error).toMatchObject({ code: 'INVALID_QUERY_TEMPLATE', details: [{ placeholder: 'cohrot' }] });
    expect(typo.json().error.message).toMatch(/\{\{cohrot\}\}/);
    const replace = await put('requests', { query: 'sum(x{flag="{{flag}"})' });
    expect(replace.json().error.code).toBe('INVALID_QUERY_TEMPLATE');
    expect(await dump(t.db)).toEqual(before);
    expect((await t.call('GET', `${D}/typo`)).statusCode).toBe(404);
  });

  it('refuses bad names, kinds, sources and URLs with 400 and writes nothing', async () => {
    const before = await dump(t.db);
    for (const [name, body] of [
      ['Bad-Name', { query: 'up' }],
      ['ok_name', { kind: 'ratio', query: 'up' }],
      ['ok_name', { source: 'datadog', query: 'up' }],
      ['ok_name', { query: 'up', prometheusUrl: 'ftp://prometheus' }],
      ['ok_name', { query: 'up', prometheusUrl: 'http://admin:secret@prometheus:9090' }],
      ['ok_name', { query: '' }],
    ] as const) {
      const res = await put(name, body);
      expect(res.statusCode, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect(await dump(t.db)).toEqual(before);
  });

  it('lets a VIEWER read and query but not change definitions (403), and keeps SDK tokens out', async () => {
    const before = await dump(t.db);
    const res = await put('viewer_made', { query: ERRORS }, 'VIEWER');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect((await t.call('DELETE', `${D}/errors`, { as: 'VIEWER' })).statusCode).toBe(403);
    expect(await dump(t.db)).toEqual(before);
    expect((await query('errors', { cohort: 'exposed' }, 'VIEWER')).json()).toMatchObject({ status: 'ok', value: 7 });
    expect((await query('errors', { cohort: 'exposed' }, 'SDK')).statusCode).toBe(403);
  });

  it('deletes a definition, audited; afterwards it is 404 METRIC_DEFINITION_NOT_FOUND', async () => {
    const del = await t.call('DELETE', `${D}/range_vector`, { as: 'OPERATOR', body: { reason: 'useless' } });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ name: 'range_vector' });
    const events = (await t.call('GET', '/api/admin/audit?action=metric_definition.delete')).json().events;
    expect(events[0]).toMatchObject({ target: 'range_vector', reason: 'useless', before: { name: 'range_vector' }, after: null });
    for (const res of [
      await t.call('GET', `${D}/range_vector`),
      await query('range_vector', { cohort: 'exposed' }),
      await t.call('DELETE', `${D}/range_vector`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('METRIC_DEFINITION_NOT_FOUND');
    }
  });

  it('without RAMPART_PROMETHEUS_URL, refuses a definition without a URL of its own with 409 PROMETHEUS_NOT_CONFIGURED', async () => {
    const bare = await startTestApp(driver, { prometheusUrl: undefined }, t.testDb);
    try {
      const before = await dump(t.db);
      const res = await bare.call('PUT', `${D}/no_url`, { body: { kind: 'rate', source: 'prometheus', query: ERRORS } });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('PROMETHEUS_NOT_CONFIGURED');
      expect(await dump(t.db)).toEqual(before);
      // Saved while the server had a default: cannot run here, and says so.
      const q = await bare.call('POST', `${D}/errors/query`, { body: { flag: FLAG, cohort: 'exposed', windowSeconds: 60 } });
      expect(q.statusCode).toBe(409);
      expect(q.json().error.code).toBe('PROMETHEUS_NOT_CONFIGURED');
      // A definition naming its own Prometheus works without the default.
      await bare.call('PUT', `${D}/own_url`, { body: { kind: 'counter', source: 'prometheus', query: ERRORS, prometheusUrl: prometheus.url } });
      const own = await bare.call('POST', `${D}/own_url/query`, { body: { flag: FLAG, cohort: 'control', windowSeconds: 60 } });
      expect(own.json()).toMatchObject({ status: 'ok', value: 2 });
    } finally {
      await bare.app.close();
    }
  });
});

describe('the Prometheus client', () => {
  it('answers ok with the value and the series count', async () => {
    const client = createPrometheusClient({ url: `${prometheus.url}/` });
    expect(await client.query(`sum(app_requests_total{flag="${FLAG}",code="500"})`)).toEqual({ status: 'ok', value: 9, series: 1 });
    expect(await client.query('scalar(vector(2.5))')).toEqual({ status: 'ok', value: 2.5, series: 1 });
  });

  it('reports a Prometheus that does not answer in time as missing', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const result = await createPrometheusClient({ url: silent.url, timeoutMs: 300 }).query('up');
      expect(result).toEqual({ status: 'missing', reason: 'Prometheus did not answer within 300 ms.' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.stop();
    }
  });

  it('reports a URL that is not a Prometheus as missing, with the HTTP status', async () => {
    const result = await createPrometheusClient({ url: target.url }).query('up');
    expect(result).toEqual({ status: 'missing', reason: 'Prometheus answered HTTP 404 Not Found' });
  });
});
