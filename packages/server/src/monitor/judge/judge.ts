// The checkpoint's judge (design §6.4, §6.5): pure, no I/O. Hard gates first, then every metric
// exposed vs control (and against absolute and baseline levels), then the verdict.
//
// Error budget (rule 6). The family-wise α (0.05) is split over the m metrics judged (Bonferroni:
// valid whatever the dependence between metrics, and the share each test faced is readable in its
// alert). Each metric's α/m goes half to the stage test and half to the recent-window tests. The
// stage tests are mixture SPRTs on cumulative data, valid over any number of looks by themselves.
// The recent window is a sliding window, not a growing sample, so its look-k test is a fresh test
// and spends α/m/2 · 1/(k(k+1)) of the budget (Σ_k 1/(k(k+1)) = 1): still valid over any number of
// looks, and early looks, when a regression is most likely, get the most. So
// P(any false comparative FAIL in a stage) ≤ α, whatever the number of checkpoints.
import type { Histogram } from '@rampart/core';
import type { CohortSummary } from '../../metrics/summary.js';
import { int, prob } from './format.js';
import { queryErrorAlerts, gateAlerts, signalAlerts } from './gates.js';
import type { MetricContext, TestWindow } from './metric-context.js';
import { judgePercentile, type PercentileMetric } from './percentile-judge.js';
import { judgeRate, type RateMetric } from './rate-judge.js';
import { checkSampleRatio } from './srm.js';
import { businessPercentileRule, businessRateRule, directionOf } from './thresholds.js';
import type { Alert, CohortPair, JudgeInput, JudgeResult, MetricJudgement } from './types.js';

type Spec = { kind: 'rate'; metric: RateMetric } | { kind: 'percentile'; metric: PercentileMetric };

export function judge(input: JudgeInput): JudgeResult {
  const t = input.thresholds;
  const alerts: Alert[] = [...gateAlerts(input.gates)];
  const { srm, alerts: srmAlerts } = checkSampleRatio(input.stage.exposed, input.stage.control, input.expectedExposedShare, t);
  alerts.push(...srmAlerts, ...signalAlerts(input.signals));

  const specs = metricSpecs(input);
  const m = specs.length;
  const ctx: MetricContext = {
    thresholds: t,
    windows: testWindows(input, t.alpha, m),
    comparative: input.expectedExposedShare > 0 && input.expectedExposedShare < 1,
    ...(input.baseline ? { baseline: input.baseline } : {}),
    metricAlpha: t.alpha / m,
    metricAlphaText: `α=${prob(t.alpha)}/${m}`,
  };
  const rows: MetricJudgement[] = [];
  for (const spec of specs) {
    const judged = spec.kind === 'rate' ? judgeRate(spec.metric, ctx) : judgePercentile(spec.metric, ctx);
    rows.push(judged.row);
    alerts.push(...judged.alerts);
  }

  // A failed query makes its metric an error (unless the data we do have already show a regression).
  const failed = new Set(input.metricErrors.map((e) => e.metric));
  for (const row of rows) if (failed.has(row.name) && (row.outcome === 'pass' || row.outcome === 'insufficient')) row.outcome = 'error';
  for (const name of failed) if (!rows.some((r) => r.name === name)) rows.push(errorRow(name));

  const short = rows.filter((r) => r.outcome === 'insufficient');
  if (short.length > 0) {
    const all = short.length === rows.filter((r) => r.outcome !== 'error').length;
    alerts.push({
      code: 'INSUFFICIENT_DATA',
      severity: 'WARN',
      message: `${all ? 'no metric has' : `${short.length} of ${rows.length} metrics lack`} enough data to pass: ${short.map((r) => `${r.name} (${r.note ?? 'too little data'})`).join('; ')}`,
      numbers: { insufficient: short.length, metrics: rows.length, minRequests: t.minRequests, minEvents: t.minEvents },
      rule: `no data is never PASS: each cohort ≥ ${t.minRequests} trials and ≥ ${t.minEvents} events expected in exposed at the effect floor`,
    });
  }
  alerts.push(...queryErrorAlerts(input.metricErrors));

  const verdict = alerts.some((a) => a.severity === 'FAIL') ? 'FAIL' : alerts.length > 0 ? 'WARN' : 'PASS';
  return {
    verdict,
    health: verdict === 'FAIL' ? 'RED' : verdict === 'WARN' ? 'YELLOW' : 'GREEN',
    decision: verdict === 'FAIL' ? 'NO_GO' : verdict === 'WARN' ? 'EXTEND' : 'GO',
    alerts,
    metrics: rows,
    srm,
  };
}

/** The built-in HTTP metrics, then every business rate and distribution either cohort reported (counters are not judged). */
function metricSpecs(input: JudgeInput): Spec[] {
  const t = input.thresholds;
  const specs: Spec[] = [
    { kind: 'rate', metric: { name: '_http_5xx_rate', label: '5xx', code: 'ERROR_RATE_5XX', direction: 'lower_is_better', rule: t.errorRate5xx, read: (s) => ({ n: s.requests, k: s.status['5xx'] ?? 0 }) } },
    {
      kind: 'rate',
      metric: { name: '_http_error_rate', label: '4xx+5xx', code: 'METRIC_REGRESSION', direction: 'lower_is_better', rule: t.errorRate, read: (s) => ({ n: s.requests, k: (s.status['4xx'] ?? 0) + (s.status['5xx'] ?? 0) }) },
    },
    { kind: 'percentile', metric: { name: '_http_latency_ms', label: 'latency', code: 'LATENCY_P95', direction: 'lower_is_better', rule: t.latency, unit: 'ms', read: (s) => s.latencyMs.histogram ?? {} } },
  ];
  const kinds = new Map<string, string>();
  for (const s of [input.stage.exposed, input.stage.control]) for (const [name, ms] of Object.entries(s.metrics)) if (!kinds.has(name)) kinds.set(name, ms.kind);
  for (const [name, kind] of [...kinds].sort(([a], [b]) => a.localeCompare(b))) {
    const direction = directionOf(name, t.metrics[name]);
    if (kind === 'rate') {
      const read = (s: CohortSummary) => {
        const ms = s.metrics[name];
        const n = ms?.count ?? 0;
        return { n, k: Math.min(n, Math.max(0, Math.round(ms?.sum ?? 0))) };
      };
      specs.push({ kind: 'rate', metric: { name, label: name, code: 'METRIC_REGRESSION', direction, rule: businessRateRule(t, name), read } });
    } else if (kind === 'distribution') {
      const read = (s: CohortSummary): Histogram => s.metrics[name]?.histogram ?? {};
      const unit = /_ms$/.test(name) ? 'ms' : /_(s|seconds)$/.test(name) ? 's' : '';
      specs.push({ kind: 'percentile', metric: { name, label: name, code: 'METRIC_REGRESSION', direction, rule: businessPercentileRule(t, name), unit, read } });
    }
  }
  return specs;
}

/** The stage window, plus the recent window when it holds less than the stage (see the α split above). */
function testWindows(input: JudgeInput, alpha: number, m: number): TestWindow[] {
  const metricAlpha = alpha / m;
  const base = `α=${prob(alpha)}/${m}`;
  const stage: TestWindow = { window: 'stage', pair: input.stage, alpha: input.recent ? metricAlpha / 2 : metricAlpha, alphaText: input.recent ? `${base}/2` : base, label: '' };
  if (!input.recent || sameData(input.recent, input.stage)) return [stage];
  const k = Number.isFinite(input.looks) ? Math.max(1, Math.floor(input.looks)) : 1;
  return [
    stage,
    {
      window: 'recent',
      pair: input.recent,
      alpha: metricAlpha / 2 / (k * (k + 1)),
      alphaText: `${base}/2·1/(k(k+1)), k=${int(k)}`,
      label: ` in the last ${input.recent.hours} h`,
    },
  ];
}

/** The recent window covers the whole stage so far: testing it again would spend α for nothing. */
function sameData(a: CohortPair, b: CohortPair): boolean {
  const same = (x: CohortSummary, y: CohortSummary) =>
    x.requests === y.requests && x.exposures === y.exposures && Object.entries(x.metrics).every(([k, v]) => y.metrics[k]?.count === v.count);
  return same(a.exposed, b.exposed) && same(a.control, b.control);
}

function errorRow(name: string): MetricJudgement {
  return {
    name,
    kind: 'rate',
    direction: 'two_sided',
    window: 'stage',
    nExposed: 0,
    nControl: 0,
    estimateExposed: null,
    estimateControl: null,
    delta: null,
    ratio: null,
    interval: null,
    evidence: null,
    threshold: '',
    outcome: 'error',
    rule: 'metric query failed',
    note: 'no data: the query failed',
  };
}
