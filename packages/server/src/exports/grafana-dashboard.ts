import { HEALTH_VALUE } from '../ops/metrics.js';
import { EVALUATION_ROUTES, RAMPART_METRICS as M } from './rampart-metrics.js';

/** Grafana 10.4 and 11 read this schema version as is; newer versions migrate it on load. */
export const SCHEMA_VERSION = 39;

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
/** Flag-scoped panels follow the `flag` variable (all flags by default). */
const FLAG = 'flag=~"$flag"';

export interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
  datasource: typeof DATASOURCE;
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'row' | 'state-timeline';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: typeof DATASOURCE;
  targets?: Target[];
  fieldConfig?: Record<string, unknown>;
  options?: Record<string, unknown>;
  collapsed?: boolean;
  panels?: Panel[];
}

interface PanelSpec {
  type: Exclude<Panel['type'], 'row'>;
  title: string;
  description: string;
  exprs: [expr: string, legend: string][];
  unit?: string;
  width?: number;
  fieldConfig?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

const HEALTH_MAPPINGS = [
  {
    type: 'value',
    options: {
      [HEALTH_VALUE.GREEN]: { text: 'GREEN', color: 'green', index: 0 },
      [HEALTH_VALUE.YELLOW]: { text: 'YELLOW', color: 'yellow', index: 1 },
      [HEALTH_VALUE.RED]: { text: 'RED', color: 'red', index: 2 },
    },
  },
];

const FLAG_VALUES = `label_values({__name__=~"${[M.watchdogHealth, M.lastRollback, M.evaluations, M.cohortResponses].join('|')}"}, flag)`;

const rate = (sel: string) => `rate(${sel}[$__rate_interval])`;

/** The dashboard's rows and their panels, top to bottom. */
function sections(): [row: string, panels: PanelSpec[]][] {
  return [
    [
      'Watchdog',
      [
        {
          type: 'state-timeline',
          title: 'Watchdog health per flag',
          description: 'The latest checkpoint of each live flag (0 GREEN, 1 YELLOW, 2 RED), as every replica reads it from the database.',
          exprs: [[`max by (flag) (${M.watchdogHealth}{${FLAG}})`, '{{flag}}']],
          width: 24,
          fieldConfig: { defaults: { mappings: HEALTH_MAPPINGS, min: 0, max: 2, color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'yellow', value: 1 }, { color: 'red', value: 2 }] } }, overrides: [] },
          options: { showValue: 'auto', mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
        },
        {
          type: 'timeseries',
          title: 'Checkpoints by verdict',
          description: 'Checkpoints run per hour, by flag and verdict (PASS, WARN, FAIL), summed over replicas.',
          exprs: [[`sum by (flag, verdict) (increase(${M.checkpoints}{${FLAG}}[1h]))`, '{{flag}} {{verdict}}']],
          unit: 'short',
        },
        {
          type: 'timeseries',
          title: 'Rollbacks',
          description: 'Rollout plans rolled back per hour, by flag, who (watchdog, operator) and policy.',
          exprs: [[`sum by (flag, by, policy) (increase(${M.rollbacks}{${FLAG}}[1h]))`, '{{flag}} by {{by}} ({{policy}})']],
          unit: 'short',
        },
        {
          type: 'timeseries',
          title: 'Cohort 5xx rate (reported by applications)',
          description: 'The share of 5xx among the HTTP outcomes applications report per cohort. The alert levels: warning 1 %, critical 2 % (chat checklist).',
          exprs: [
            [
              `sum by (flag, cohort) (${rate(`${M.cohortResponses}{${FLAG},class="5xx"}`)}) / sum by (flag, cohort) (${rate(`${M.cohortResponses}{${FLAG}}`)})`,
              '{{flag}} {{cohort}}',
            ],
          ],
          unit: 'percentunit',
          fieldConfig: {
            defaults: {
              unit: 'percentunit',
              custom: { thresholdsStyle: { mode: 'line' } },
              thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.01 }, { color: 'red', value: 0.02 }] },
            },
            overrides: [],
          },
        },
        {
          type: 'timeseries',
          title: 'Cohort responses',
          description: 'HTTP outcomes applications report, per second, by cohort and status class.',
          exprs: [[`sum by (flag, cohort, class) (${rate(`${M.cohortResponses}{${FLAG}}`)})`, '{{flag}} {{cohort}} {{class}}']],
          unit: 'reqps',
        },
      ],
    ],
    [
      'Evaluations and HTTP',
      [
        {
          type: 'timeseries',
          title: 'Evaluation rate',
          description: 'Server-side evaluations per second by flag and decision (in-process SDK evaluations are not counted here).',
          exprs: [[`sum by (flag, decision) (${rate(`${M.evaluations}{${FLAG}}`)})`, '{{flag}} {{decision}}']],
          unit: 'ops',
        },
        {
          type: 'timeseries',
          title: 'HTTP requests by route',
          description: 'Requests per second by route template.',
          exprs: [[`sum by (route) (${rate(M.httpRequests)})`, '{{route}}']],
          unit: 'reqps',
        },
        {
          type: 'timeseries',
          title: 'HTTP latency p95 / p99 by route',
          description: 'From the request-duration histogram.',
          exprs: [
            [`histogram_quantile(0.95, sum by (le, route) (${rate(M.httpDurationBucket)}))`, 'p95 {{route}}'],
            [`histogram_quantile(0.99, sum by (le, route) (${rate(M.httpDurationBucket)}))`, 'p99 {{route}}'],
          ],
          unit: 's',
        },
        {
          type: 'timeseries',
          title: 'Evaluation latency p99',
          description: 'The routes applications wait on; the RampartEvaluationLatency alert fires above 250 ms.',
          exprs: [[`histogram_quantile(0.99, sum by (le, route) (${rate(`${M.httpDurationBucket}{route=~"${EVALUATION_ROUTES}"}`)}))`, '{{route}}']],
          unit: 's',
        },
        {
          type: 'timeseries',
          title: 'HTTP errors by route and status',
          description: '4xx and 5xx answers of Rampart’s own API per second (401/403/429 are auth, RBAC and rate limits).',
          exprs: [[`sum by (route, status) (${rate(`${M.httpRequests}{status=~"4..|5.."}`)})`, '{{status}} {{route}}']],
          unit: 'reqps',
        },
        {
          type: 'stat',
          title: 'HTTP 5xx share',
          description: 'Share of Rampart’s own answers that are 5xx.',
          exprs: [[`sum(${rate(`${M.httpRequests}{status=~"5.."}`)}) / sum(${rate(M.httpRequests)})`, '5xx']],
          unit: 'percentunit',
        },
      ],
    ],
    [
      'Ingestion',
      [
        {
          type: 'timeseries',
          title: 'Metric batches by result',
          description: 'POST /api/metrics batches per second: accepted, duplicate (an idempotent retry), rejected.',
          exprs: [[`sum by (result) (${rate(M.ingestBatches)})`, '{{result}}']],
          unit: 'reqps',
        },
        {
          type: 'timeseries',
          title: 'Events ingested',
          description: 'Events represented by accepted batches per second (an aggregate counts as its count).',
          exprs: [[`sum(${rate(M.ingestEvents)})`, 'events']],
          unit: 'ops',
        },
        {
          type: 'timeseries',
          title: 'Rejections by code',
          description: 'Rejected batches per second by error code (docs/errors.md).',
          exprs: [[`sum by (code) (${rate(M.ingestRejects)})`, '{{code}}']],
          unit: 'reqps',
        },
      ],
    ],
    [
      'Process',
      [
        { type: 'timeseries', title: 'CPU', description: 'CPU seconds per second, per replica.', exprs: [[`${rate(M.cpuSeconds)}`, '{{instance}}']], unit: 'percentunit' },
        { type: 'timeseries', title: 'Resident memory', description: 'Per replica.', exprs: [[M.residentMemory, '{{instance}}']], unit: 'bytes' },
        { type: 'timeseries', title: 'Event-loop lag p99', description: 'Per replica; every request waits this long first.', exprs: [[M.eventLoopLagP99, '{{instance}}']], unit: 's' },
      ],
    ],
  ];
}

/** Lays the sections out on Grafana's 24-column grid: a row header, then panels left to right. */
function layout(): Panel[] {
  const panels: Panel[] = [];
  let id = 1;
  let y = 0;
  for (const [title, specs] of sections()) {
    panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    for (const spec of specs) {
      const w = spec.width ?? 8;
      const h = 8;
      if (x + w > 24) {
        x = 0;
        y += h;
      }
      panels.push(panel(id++, spec, { x, y, w, h }));
      x += w;
    }
    y += 8;
  }
  return panels;
}

function panel(id: number, spec: PanelSpec, gridPos: Panel['gridPos']): Panel {
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DATASOURCE,
    targets: spec.exprs.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat, datasource: DATASOURCE })),
    fieldConfig: spec.fieldConfig ?? { defaults: { unit: spec.unit ?? 'short' }, overrides: [] },
    options: spec.options ?? (spec.type === 'timeseries' ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } } : {}),
  };
}

/** The dashboard JSON: import it in Grafana, or provision it from a file. */
export function grafanaDashboard() {
  return {
    uid: 'rampart-overview',
    title: 'Rampart',
    description: 'Guarded rollouts: watchdog health, checkpoints and rollbacks per flag; evaluations, HTTP and ingestion. Generated by `rampart export grafana-dashboard`.',
    tags: ['rampart', 'feature-flags'],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    timezone: 'utc',
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', refresh: 1, hide: 0, current: {} },
        {
          name: 'flag',
          label: 'Flag',
          type: 'query',
          datasource: DATASOURCE,
          // Flags the watchdog has judged or rolled back, evaluated on the server, or reported metrics for.
          query: { query: FLAG_VALUES, refId: 'flags' },
          definition: FLAG_VALUES,
          refresh: 2,
          includeAll: true,
          allValue: '.*',
          multi: true,
          current: { selected: true, text: ['All'], value: ['$__all'] },
          sort: 1,
          hide: 0,
        },
      ],
    },
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    panels: layout(),
  };
}

export type GrafanaDashboard = ReturnType<typeof grafanaDashboard>;

/** Every PromQL expression of the dashboard (panels and variables), for tests and linting. */
export function dashboardExpressions(d: GrafanaDashboard = grafanaDashboard()): string[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}
