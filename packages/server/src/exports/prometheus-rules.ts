import { EVALUATION_ROUTES, RAMPART_METRICS as M } from './rampart-metrics.js';
import { toYaml } from './yaml.js';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning'; priority: 'P0' | 'P1' | 'P2' };
  annotations: { summary: string; description: string; runbook_action: string };
}

export interface RuleGroup {
  name: string;
  interval: string;
  rules: AlertRule[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

export interface RuleOptions {
  /** The scrape job that collects Rampart's /metrics (for `up`). */
  job?: string;
}

/**
 * Error-rate levels of the chat canary checklist ("Key Metrics Targets": warning > 1 %,
 * critical > 2 %; "Error rate > 2 % for 5+ minutes → IMMEDIATE ROLLBACK"), the same defaults
 * the watchdog judges 5xx with, and the runbook's P0 ("5xx error rate > 10 %").
 */
export const ERROR_RATE = { warning: 0.01, critical: 0.02, p0: 0.1 } as const;

/** Fewer responses than this in the window and a rate is noise (1 error in 20 is 5 %). */
export const MIN_RESPONSES = 100;

/** How long a rollback alert stays up: long enough for a page, short enough to resolve itself. */
const ROLLBACK_WINDOW_SECONDS = 15 * 60;

const KILL_SWITCH =
  'Runbook level 1: `rampart plan rollback {{ $labels.flag }}` if a plan runs, else the kill switch (`rampart flags disable {{ $labels.flag }} --reason …`, or the runbook’s PUT {"enabled":false,"rolloutPercentage":0}). ' +
  'If that does not stop it, level 2: FEATURE_<KEY>=false on the evaluating service; then level 3: roll back its deployment.';

/** The share of 5xx among the responses applications report for `flag` in the cohorts that get the feature. */
function cohortErrorRate(window: string): string {
  const sel = (extra: string) => `${M.cohortResponses}{cohort=~"exposed|allowlist"${extra}}`;
  return (
    `sum by (flag, cohort) (rate(${sel(',class="5xx"')}[${window}]))` +
    ` / sum by (flag, cohort) (rate(${sel('')}[${window}]))`
  );
}

function enoughResponses(window: string): string {
  return `sum by (flag, cohort) (increase(${M.cohortResponses}{cohort=~"exposed|allowlist"}[${window}])) >= ${MIN_RESPONSES}`;
}

function cohortErrorRule(name: string, level: number, window: string, forDuration: string, labels: AlertRule['labels'], action: string): AlertRule {
  return {
    alert: name,
    expr: `(${cohortErrorRate(window)}) > ${level} and (${enoughResponses(window)})`,
    for: forDuration,
    labels,
    annotations: {
      summary: `{{ $labels.flag }}: 5xx rate of the {{ $labels.cohort }} cohort is {{ $value | humanizePercentage }} (> ${level * 100} %)`,
      description:
        `Applications report (POST /api/metrics) more than ${level * 100} % 5xx for users who get {{ $labels.flag }} ({{ $labels.cohort }}), ` +
        `sustained for ${forDuration}. The watchdog judges the same threshold at its next checkpoint; this alert does not wait for it.`,
      runbook_action: action,
    },
  };
}

function watchdogRules(): AlertRule[] {
  return [
    {
      alert: 'RampartWatchdogRed',
      // Every replica reads the same latest checkpoint from the database: max merges replicas.
      expr: `max by (flag) (${M.watchdogHealth}) == 2`,
      for: '1m',
      labels: { severity: 'critical', priority: 'P1' },
      annotations: {
        summary: '{{ $labels.flag }}: the watchdog’s latest checkpoint is RED (FAIL, NO_GO)',
        description:
          'A hard gate or a regression failed: CONFIG_DRIFT, DETERMINISM_FAIL, SAMPLE_RATIO_MISMATCH, ERROR_RATE_5XX or LATENCY_P95 over a critical level, METRIC_REGRESSION or CRITICAL_COMPLAINT. ' +
          'The checkpoint report names the alert, its numbers and the rule. A running plan rolls back by itself on a critical FAIL or on the same FAIL twice in a row.',
        runbook_action:
          'Read the report (`rampart monitor list {{ $labels.flag }}`, then `rampart monitor report ID`, or the beta monitor page). ' +
          'DETERMINISM_FAIL, a critical complaint or a 5xx spike: runbook level 1 now, unless a plan already rolled back (RampartRollbackExecuted). CONFIG_DRIFT: find who bypassed the API (audit log) and restore the expected config.',
      },
    },
    {
      alert: 'RampartWatchdogYellow',
      expr: `max by (flag) (${M.watchdogHealth}) == 1`,
      // Hourly checkpoints: YELLOW for 3 h means several in a row did not clear (WARN, EXTEND).
      for: '3h',
      labels: { severity: 'warning', priority: 'P2' },
      annotations: {
        summary: '{{ $labels.flag }}: the watchdog has said YELLOW (WARN, EXTEND) for 3 hours',
        description:
          'Usually INSUFFICIENT_DATA (too few requests to judge), a WARN-level threshold, METRIC_QUERY_ERROR or operator complaints. A plan does not advance meanwhile and rolls back when its extensions run out.',
        runbook_action:
          'Read the latest report. INSUFFICIENT_DATA: check that the application reports metrics (RampartIngestRejected, the ingestion panels). A WARN threshold: hold the stage; prepare a rollback (runbook P2).',
      },
    },
    {
      alert: 'RampartRollbackExecuted',
      // A timestamp every replica reads from the database, not increase() on the counter: that
      // misses a label set's first rollback (its series starts at 1) and forgets across restarts.
      expr: `time() - max by (flag, by, policy) (${M.lastRollback}) < ${ROLLBACK_WINDOW_SECONDS}`,
      for: '0m',
      labels: { severity: 'critical', priority: 'P1' },
      annotations: {
        summary: '{{ $labels.flag }}: rollout plan rolled back by {{ $labels.by }} (policy {{ $labels.policy }}) {{ $value | humanizeDuration }} ago',
        description:
          'The flag is at the policy’s target: disable = kill switch (runbook level 1), zero = allowlist only, previous = the last stage that passed, halve = half the percentage. The plan is over (rolled_back); it never restarts by itself.',
        runbook_action:
          'Confirm the flag (`rampart status {{ $labels.flag }}`) and read the triggering checkpoint’s report (`rampart plan status {{ $labels.flag }}`). If errors persist at the target, escalate: level 1 kill switch, level 2 FEATURE_<KEY>=false, level 3 roll back the deployment. Restart with a new plan once fixed.',
      },
    },
    cohortErrorRule('RampartCohortErrorRateSpike', ERROR_RATE.p0, '2m', '1m', { severity: 'critical', priority: 'P0' }, `Runbook P0: ${KILL_SWITCH}`),
    cohortErrorRule('RampartCohortErrorRateCritical', ERROR_RATE.critical, '5m', '5m', { severity: 'critical', priority: 'P0' }, `Chat checklist: immediate rollback. ${KILL_SWITCH}`),
    cohortErrorRule(
      'RampartCohortErrorRateWarning',
      ERROR_RATE.warning,
      '10m',
      '10m',
      { severity: 'warning', priority: 'P2' },
      'Hold the stage (`rampart plan pause {{ $labels.flag }}`), compare with the control cohort on the dashboard, run a checkpoint now (`rampart monitor run {{ $labels.flag }}`). Prepare the level 1 rollback.',
    ),
  ];
}

function serverRules(job: string): AlertRule[] {
  const evalRoutes = `route=~"${EVALUATION_ROUTES}"`;
  return [
    {
      alert: 'RampartDown',
      expr: `up{job="${job}"} == 0`,
      for: '2m',
      labels: { severity: 'critical', priority: 'P1' },
      annotations: {
        summary: 'Rampart at {{ $labels.instance }} does not answer scrapes',
        description:
          'SDK clients keep evaluating on their last config; server-side evaluations and metric reports fail, flag changes and the watchdog stop on this replica.',
        runbook_action: 'Check the process and GET /readyz (DATABASE_UNAVAILABLE means the database). In an emergency the level 2 master switch (FEATURE_<KEY>) works without Rampart.',
      },
    },
    {
      alert: 'RampartHttp5xx',
      expr:
        `sum by (job) (rate(${M.httpRequests}{status=~"5.."}[5m])) / sum by (job) (rate(${M.httpRequests}[5m])) > ${ERROR_RATE.warning}` +
        ` and sum by (job) (increase(${M.httpRequests}[5m])) >= ${MIN_RESPONSES}`,
      for: '10m',
      labels: { severity: 'warning', priority: 'P2' },
      annotations: {
        summary: 'Rampart answers {{ $value | humanizePercentage }} of its requests with 5xx',
        description: 'Rampart’s own API (not the application under rollout) is failing; see the HTTP panels for the route.',
        runbook_action: 'Find the route on the dashboard, then the error in the server log by request id. 503 DATABASE_UNAVAILABLE: the database. 503 DATABASE_BUSY: every pooled connection stayed busy (raise RAMPART_PG_POOL_MAX or add a replica).',
      },
    },
    {
      alert: 'RampartEvaluationLatency',
      expr: `histogram_quantile(0.99, sum by (le, route) (rate(${M.httpDurationBucket}{${evalRoutes}}[5m]))) > 0.25`,
      for: '10m',
      labels: { severity: 'warning', priority: 'P2' },
      annotations: {
        summary: 'Evaluation p99 on {{ $labels.route }} is {{ $value | humanizeDuration }}',
        description: 'Server-side evaluation normally takes well under a millisecond; applications that evaluate over HTTP wait for it.',
        runbook_action: 'Check CPU and event-loop lag on the dashboard; move hot callers to the SDK (in-process evaluation).',
      },
    },
    {
      alert: 'RampartIngestRejected',
      expr:
        `sum by (job) (rate(${M.ingestBatches}{result="rejected"}[10m])) / sum by (job) (rate(${M.ingestBatches}[10m])) > 0.05`,
      for: '15m',
      labels: { severity: 'warning', priority: 'P2' },
      annotations: {
        summary: 'Rampart rejects {{ $value | humanizePercentage }} of the metric batches applications send',
        description: 'Rejected batches store nothing, so the watchdog judges on less data (INSUFFICIENT_DATA) or none.',
        runbook_action: 'See rampart_ingest_rejects_total by code (docs/errors.md) and fix the reporting application.',
      },
    },
    {
      alert: 'RampartEventLoopLag',
      expr: `max by (instance) (${M.eventLoopLagP99}) > 0.2`,
      for: '10m',
      labels: { severity: 'warning', priority: 'P2' },
      annotations: {
        summary: 'Rampart at {{ $labels.instance }}: event-loop lag p99 {{ $value | humanizeDuration }}',
        description: 'Every request on this replica waits this long before it is handled.',
        runbook_action: 'Check CPU on the dashboard; add a replica or find the hot route.',
      },
    },
  ];
}

/** The alerting rules as data. */
export function prometheusRules(options: RuleOptions = {}): RuleFile {
  return {
    groups: [
      { name: 'rampart-watchdog', interval: '1m', rules: watchdogRules() },
      { name: 'rampart-server', interval: '1m', rules: serverRules(options.job ?? 'rampart') },
    ],
  };
}

/** The rule file Prometheus loads (`rule_files:`), as YAML. */
export function prometheusRulesYaml(options: RuleOptions = {}): string {
  const header = [
    '# Rampart alerting rules: generated by `rampart export prometheus-rules`; see docs/observability.md.',
    '# Regenerate rather than edit, or keep your changes in a file of your own.',
  ];
  return `${header.join('\n')}\n${toYaml(prometheusRules(options))}`;
}
