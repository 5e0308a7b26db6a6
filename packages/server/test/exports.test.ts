import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardExpressions, grafanaDashboard, SCHEMA_VERSION } from '../src/exports/grafana-dashboard.js';
import { prometheusRules, prometheusRulesYaml, type AlertRule } from '../src/exports/prometheus-rules.js';
import { RAMPART_METRICS } from '../src/exports/rampart-metrics.js';
import { toYaml } from '../src/exports/yaml.js';
import { BETA_IDS, startTestApp, type TestApp } from './support/app.js';
import { rampart } from './support/cli.js';
import { startPrometheus, type Running } from './support/prometheus.js';

/** Debian's prometheus package ships it; CI installs the package (.ci/run). */
const PROMTOOL_BIN = process.env.RAMPART_TEST_PROMTOOL_BIN ?? '/usr/bin/promtool';
const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  if (!existsSync(PROMTOOL_BIN)) throw new Error(`${PROMTOOL_BIN} is missing: apt-get install prometheus (or set RAMPART_TEST_PROMTOOL_BIN).`);
  try {
    const { stdout, stderr } = await run(PROMTOOL_BIN, args);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rampart-exports-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const allRules = () => prometheusRules().groups.flatMap((g) => g.rules);
const rule = (name: string) => allRules().find((r) => r.alert === name)!;

describe('the YAML emitter', () => {
  it('writes block YAML with every string quoted, so nothing reads as a number, boolean or comment', () => {
    const text = toYaml({ a: 'yes', b: '1.0', c: "it's # not a comment", d: 'x\ny', e: 2, f: true, g: null, h: [], i: {}, 'on': 'key', 'with space': ['p', { q: 'r' }] });
    expect(text).toBe(
      [
        "a: 'yes'",
        "b: '1.0'",
        "c: 'it''s # not a comment'",
        'd: "x\\ny"',
        'e: 2',
        'f: true',
        'g: null',
        'h: []',
        'i: {}',
        '"on": \'key\'',
        '"with space":',
        "  - 'p'",
        "  - q: 'r'",
        '',
      ].join('\n'),
    );
  });

  it('refuses what JSON could not hold', () => {
    expect(() => toYaml({ n: Number.NaN })).toThrow(/finite/);
    expect(() => toYaml({ d: new Date(0) })).toThrow(/Date/);
  });
});

describe('rampart export prometheus-rules', () => {
  it('gives every rule a name, a for, a severity and priority, and a summary, description and runbook action', () => {
    const names = allRules().map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['RampartWatchdogRed', 'RampartRollbackExecuted', 'RampartCohortErrorRateCritical', 'RampartCohortErrorRateWarning', 'RampartDown']));
    for (const r of allRules()) {
      expect(r.alert, r.alert).toMatch(/^Rampart[A-Z][A-Za-z0-9]+$/);
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels.severity);
      expect(['P0', 'P1', 'P2'], r.alert).toContain(r.labels.priority);
      for (const a of ['summary', 'description', 'runbook_action'] as const) expect(r.annotations[a].length, `${r.alert} ${a}`).toBeGreaterThan(20);
      // Labels are flags, cohorts, routes: never a subject id.
      expect(r.expr, r.alert).not.toMatch(/subject|\bid\b/);
    }
    // The chat checklist's levels: warning > 1 %, critical > 2 % for 5 minutes.
    expect(rule('RampartCohortErrorRateWarning').expr).toContain('> 0.01 and');
    expect(rule('RampartCohortErrorRateCritical')).toMatchObject({ for: '5m', labels: { severity: 'critical' } });
    expect(rule('RampartCohortErrorRateCritical').expr).toContain('> 0.02 and');
  });

  it('writes a file promtool accepts, and the same text to stdout, with no server and no token', async () => {
    const file = join(dir, 'rampart.rules.yml');
    const written = await rampart(['export', 'prometheus-rules', '--out', file], {});
    expect(written).toMatchObject({ code: 0, out: `wrote ${allRules().length} alerting rules in 2 groups to ${file}` });
    expect(await readFile(file, 'utf8')).toBe(prometheusRulesYaml());
    const printed = await rampart(['export', 'prometheus-rules'], {});
    expect(`${printed.out}\n`).toBe(prometheusRulesYaml());

    const checked = await promtool('check', 'rules', file);
    expect(checked.output).toContain(`SUCCESS: ${allRules().length} rules found`);
    expect(checked.code, checked.output).toBe(0);

    const job = await rampart(['export', 'prometheus-rules', '--job', 'flags-prod'], {});
    expect(job.out).toContain(`up{job="flags-prod"} == 0`);
  });

  it('fires the watchdog-RED, rollback and cohort error-rate alerts on fed series (promtool test rules)', async () => {
    const rules = join(dir, 'fed.rules.yml');
    await writeFile(rules, prometheusRulesYaml());
    const F = 'passenger_favorites_matching';
    /** What Prometheus renders for these labels (and value, for the error-rate summaries). */
    const expected = (r: AlertRule, labels: Record<string, string>, value = '') => ({
      exp_labels: { ...labels, severity: r.labels.severity, priority: r.labels.priority },
      exp_annotations: Object.fromEntries(
        Object.entries(r.annotations).map(([k, v]) => [
          k,
          v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? '').replace(/\{\{ \$value \| \w+ \}\}/, value),
        ]),
      ),
    });
    const red = rule('RampartWatchdogRed');
    const rollback = rule('RampartRollbackExecuted');
    const critical = rule('RampartCohortErrorRateCritical');
    const warning = rule('RampartCohortErrorRateWarning');
    const rb = { flag: 'chat', by: 'watchdog', policy: 'previous' };
    const test = {
      rule_files: [rules],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // Two replicas report the same health, read from the database: RED from minute 2.
            { series: `rampart_watchdog_health{flag="${F}",instance="a"}`, values: '0 0 2x20' },
            { series: `rampart_watchdog_health{flag="${F}",instance="b"}`, values: '0 0 2x20' },
            { series: 'rampart_watchdog_health{flag="calm",instance="a"}', values: '0x22' },
            // Rolled back at 300 s (minute 5), again at 2 400 s (minute 40); both replicas report it.
            { series: 'rampart_plan_last_rollback_timestamp_seconds{flag="chat",by="watchdog",policy="previous",instance="a"}', values: '_x5 300x34 2400x30' },
            { series: 'rampart_plan_last_rollback_timestamp_seconds{flag="chat",by="watchdog",policy="previous",instance="b"}', values: '_x5 300x34 2400x30' },
            // Rolled back at time 0, seen from minute 20 on (a Prometheus started later): never alerts.
            { series: 'rampart_plan_last_rollback_timestamp_seconds{flag="old",by="operator",policy="zero",instance="a"}', values: '_x20 0x50' },
            // 1 000 responses a minute per cohort: 3 % 5xx for the exposed cohort and for control.
            { series: `rampart_cohort_http_responses_total{flag="${F}",cohort="exposed",class="2xx"}`, values: '0+970x30' },
            { series: `rampart_cohort_http_responses_total{flag="${F}",cohort="exposed",class="5xx"}`, values: '0+30x30' },
            { series: `rampart_cohort_http_responses_total{flag="${F}",cohort="control",class="2xx"}`, values: '0+970x30' },
            { series: `rampart_cohort_http_responses_total{flag="${F}",cohort="control",class="5xx"}`, values: '0+30x30' },
            // 3 % of only 5 responses a minute: too few to alert on, even over 10 minutes.
            { series: 'rampart_cohort_http_responses_total{flag="tiny",cohort="exposed",class="2xx"}', values: '0+4.85x30' },
            { series: 'rampart_cohort_http_responses_total{flag="tiny",cohort="exposed",class="5xx"}', values: '0+0.15x30' },
          ],
          alert_rule_test: [
            { eval_time: '2m', alertname: 'RampartWatchdogRed', exp_alerts: [] },
            { eval_time: '4m', alertname: 'RampartWatchdogRed', exp_alerts: [expected(red, { flag: F })] },
            { eval_time: '4m', alertname: 'RampartRollbackExecuted', exp_alerts: [] },
            { eval_time: '6m', alertname: 'RampartRollbackExecuted', exp_alerts: [expected(rollback, rb, '1m 0s')] },
            { eval_time: '18m', alertname: 'RampartRollbackExecuted', exp_alerts: [expected(rollback, rb, '13m 0s')] },
            { eval_time: '21m', alertname: 'RampartRollbackExecuted', exp_alerts: [] },
            { eval_time: '42m', alertname: 'RampartRollbackExecuted', exp_alerts: [expected(rollback, rb, '2m 0s')] },
            // Pending for its 5 minutes, then firing; control and the tiny flag never.
            { eval_time: '5m', alertname: 'RampartCohortErrorRateCritical', exp_alerts: [] },
            { eval_time: '12m', alertname: 'RampartCohortErrorRateCritical', exp_alerts: [expected(critical, { flag: F, cohort: 'exposed' }, '3%')] },
            { eval_time: '22m', alertname: 'RampartCohortErrorRateWarning', exp_alerts: [expected(warning, { flag: F, cohort: 'exposed' }, '3%')] },
            { eval_time: '22m', alertname: 'RampartCohortErrorRateSpike', exp_alerts: [] },
          ],
        },
      ],
    };
    const file = join(dir, 'rules.test.yml');
    await writeFile(file, toYaml(test));
    const result = await promtool('test', 'rules', file);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});

describe('rampart export grafana-dashboard', () => {
  const d = grafanaDashboard();
  const panels = d.panels.filter((p) => p.type !== 'row');

  it('has a Prometheus datasource variable that every panel and query uses', () => {
    expect(d.schemaVersion).toBe(SCHEMA_VERSION);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets!.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('has unique panel ids and a layout within 24 columns with no overlaps', () => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && h > 0, p.title).toBe(true);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('covers evaluations, HTTP, errors, watchdog health, checkpoints, rollbacks and ingestion', () => {
    const titles = panels.map((p) => p.title).join(' | ');
    for (const t of ['Evaluation rate', 'HTTP requests by route', 'HTTP latency', 'HTTP errors', 'Watchdog health per flag', 'Checkpoints by verdict', 'Rollbacks', 'Metric batches', 'Cohort 5xx rate']) {
      expect(titles).toContain(t);
    }
  });

  it('writes the JSON to a file with --out', async () => {
    const file = join(dir, 'rampart.dashboard.json');
    const res = await rampart(['export', 'grafana-dashboard', '--out', file], {});
    expect(res).toMatchObject({ code: 0, out: `wrote the dashboard "Rampart" (${panels.length} panels) to ${file}` });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(d);
  });
});

describe('every exported expression against a real Prometheus scraping a real Rampart', () => {
  const F = 'passenger_favorites_matching';
  let t: TestApp;
  let prometheus: Running;

  beforeAll(async () => {
    t = await startTestApp('pglite');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    await t.call('POST', '/api/admin/feature-flags', { body: { key: F, enabled: true, rolloutPercentage: 0, allowlist: BETA_IDS } });
    await t.call('PUT', `/api/admin/beta-monitor/${F}/settings`, { as: 'OPERATOR', body: { syntheticProbes: 10 } });
    await t.call('GET', `/api/evaluate/${F}?id=${BETA_IDS[0]}`, { as: 'SDK' });
    await t.call('GET', `/api/evaluate/${F}?id=passenger-42`, { as: 'SDK' });
    const batch = await t.call('POST', '/api/metrics', {
      as: 'SDK',
      body: {
        events: [
          { type: 'http', flag: F, cohort: 'allowlist', status: 200, latencyMs: 120 },
          { type: 'http', flag: F, cohort: 'allowlist', status: 503, latencyMs: 900 },
        ],
      },
    });
    expect(batch.statusCode, batch.body).toBe(200);
    await t.call('POST', '/api/metrics', { as: 'SDK', body: { events: [{ type: 'http', flag: 'nope', cohort: 'exposed', status: 200, latencyMs: 1 }] } });
    // A direct SQL edit is CONFIG_DRIFT: the checkpoint is RED.
    await t.db.query(`update flags set enabled = false where key = $1`, [F]);
    const cp = await t.call('POST', `/api/admin/beta-monitor/${F}/run`, { as: 'OPERATOR', body: {} });
    expect(cp.json()).toMatchObject({ status: 'FAIL', health: 'RED' });
    // An operator's rollback of the chat canary.
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'chat', enabled: false } });
    expect((await t.call('POST', '/api/admin/rollouts/chat', { as: 'OPERATOR', body: { template: 'chat-canary' } })).statusCode).toBe(201);
    expect((await t.call('POST', '/api/admin/rollouts/chat/rollback', { as: 'OPERATOR', body: { reason: 'drill' } })).statusCode).toBe(200);
    prometheus = await startPrometheus(url, 'rampart_plan_last_rollback_timestamp_seconds');
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await t?.close();
  });

  async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }> {
    const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as Awaited<ReturnType<typeof query>>;
  }

  it('exposes every metric the rules and the dashboard use, without a subject id', async () => {
    const text = (await t.call('GET', '/metrics', { as: null })).body;
    expect(text).toContain(`rampart_watchdog_health{flag="${F}"} 2`);
    expect(text).toContain(`rampart_checkpoints_total{flag="${F}",verdict="FAIL"} 1`);
    expect(text).toContain('rampart_rollbacks_total{flag="chat",by="operator",policy="previous"} 1');
    expect(text).toMatch(/rampart_plan_last_rollback_timestamp_seconds\{flag="chat",by="operator",policy="previous"\} \d{10}\n/);
    expect(text).toContain(`rampart_cohort_http_responses_total{flag="${F}",cohort="allowlist",class="5xx"} 1`);
    expect(text).not.toMatch(/pass_beta_001_2026|passenger-42/);
    for (const name of Object.values(RAMPART_METRICS)) {
      const r = await query(`count(${name})`);
      expect(r.data?.result.length, `${name} is not in the scrape`).toBe(1);
    }
  });

  it('runs every rule expression without an error, and the RED and rollback rules select what happened', async () => {
    for (const r of allRules()) {
      const res = await query(r.expr);
      expect(res.status, `${r.alert}: ${res.error}`).toBe('success');
    }
    expect((await query(rule('RampartWatchdogRed').expr)).data!.result.map((s) => s.metric)).toEqual([{ flag: F }]);
    expect((await query(rule('RampartRollbackExecuted').expr)).data!.result.map((s) => s.metric)).toEqual([{ flag: 'chat', by: 'operator', policy: 'previous' }]);
  });

  it('runs every dashboard expression (variables filled in as Grafana would) without an error', async () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(15);
    const some: string[] = [];
    for (const e of exprs) {
      const res = await query(e.replaceAll('$__rate_interval', '1m').replaceAll('$flag', '.*'));
      expect(res.status, `${e}: ${res.error}`).toBe('success');
      if (res.data!.result.length > 0) some.push(e);
    }
    // The health panel shows the flag's RED from the first scrape on.
    expect(some.some((e) => e.includes(RAMPART_METRICS.watchdogHealth))).toBe(true);
    const flagVar = grafanaDashboard().templating.list[1]!;
    const match = /label_values\((.*), flag\)/.exec(String(flagVar.definition))![1]!;
    const values = (await (await fetch(`${prometheus.url}/api/v1/label/flag/values?match[]=${encodeURIComponent(match)}`)).json()) as { data: string[] };
    expect(values.data).toEqual(expect.arrayContaining([F, 'chat']));
  });
});
