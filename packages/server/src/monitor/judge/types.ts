import type { CohortSummary } from '../../metrics/summary.js';

/** The two randomized cohorts of a rollout, as summarized over one window. */
export interface CohortPair {
  /** ON by the rollout hash. */
  exposed: CohortSummary;
  /** Eligible but hashed out: the concurrent control of the randomized experiment. */
  control: CohortSummary;
}

export interface JudgeInput {
  /** rolloutBasisPoints / 10000: expected exposed share among exposed + control. */
  expectedExposedShare: number;
  /** Cumulative since the current stage began. */
  stage: CohortPair;
  /** The last `hours` hours (default 6), judged too, so a fresh regression is not diluted by a long stage. */
  recent?: CohortPair & { hours: number };
  /** The `all` summary of a captured baseline (every cohort pooled, before the rollout), if any. */
  baseline?: CohortSummary;
  /** Levels and error budgets; DEFAULT_THRESHOLDS follows the chat canary checklist. */
  thresholds: Thresholds;
  /** Hard gates measured by the checkpoint before the judge runs (design §6.1, §6.2). */
  gates: {
    /** Probe ids whose evaluations disagreed (twice, or SDK vs live path, or allowlist not ALLOWLIST). */
    determinismFailures: number;
    /** Fields of the live flag that differ from what the plan / audit trail expects. */
    drift: { field: string; expected: unknown; actual: unknown; severity: 'WARN' | 'FAIL' }[];
  };
  /** Human signals recorded for the flag since the stage began. */
  signals: {
    /** Complaints counted (any severity). */
    complaints: number;
    /** At least one complaint was flagged critical (runbook §2: RED). */
    criticalComplaint: boolean;
    /** Operator notes; `warning` and `critical` ones surface as alerts. */
    notes: { severity: 'info' | 'warning' | 'critical'; text: string }[];
  };
  /** Metric queries that failed: counted as errors (WARN), never FAIL. */
  metricErrors: { metric: string; reason: string }[];
  /**
   * How many checkpoints this stage has had, this one included. Only the recent-window tests use it
   * (to spend their error budget over looks); the stage tests are valid under any number of looks.
   */
  looks: number;
}

/** Levels on a metric's own scale. For higher-is-better metrics they are lower bounds. */
export interface Levels {
  /** What healthy looks like (reported, never alerted on). */
  target?: number;
  /** Beyond this, with evidence: WARN. */
  warning?: number;
  /** Beyond this, with evidence: FAIL. */
  critical?: number;
}

/** Rules for a rate (successes / trials) judged exposed vs control. */
export interface RateRule {
  /** Severity of a significant, large-enough regression vs control. */
  severity: 'WARN' | 'FAIL';
  /** Effect floor: relative change in the harmful direction (0.2 = rate ratio 1.2). */
  minRelativeChange: number;
  /** Effect floor: absolute change in the harmful direction (0.001 = 0.1 percentage point). */
  minAbsoluteChange: number;
  /** Absolute levels applied to the exposed cohort. */
  absolute?: Levels;
  /** Relative harmful change vs the baseline rate that WARNs (0.1 = baseline + 10 %). */
  baselineRelative?: number;
  /** …but only if it is also at least this far from the baseline in absolute terms. */
  baselineAbsoluteFloor?: number;
}

/** Rules for a distribution judged by a percentile (p95) with the exceedance method. */
export interface PercentileRule {
  severity: 'WARN' | 'FAIL';
  /** The percentile judged, e.g. 0.95. */
  quantile: number;
  /** Effect floor: exposed share beyond the pooled percentile ≥ this × control's share. */
  minExceedanceRatio: number;
  /** Effect floor: the cohorts' percentile estimates differ by at least this (0.1 = 10 %). */
  minQuantileChange: number;
  /** Absolute levels for the exposed percentile (ms for latency); upper bounds only. */
  absolute?: Levels;
  /** Exposed percentile > baseline percentile × (1 + this) WARNs (0.2 = baseline + 20 %). */
  baselineRelative?: number;
}

/** Per business metric overrides. */
export type MetricOverride = Partial<RateRule & PercentileRule> & {
  /** Which direction is harmful; absent: guessed from the name, else two-sided. */
  higherIsBetter?: boolean;
};

export interface Thresholds {
  /** Family-wise false-FAIL budget over all comparative metric tests and all looks (Bonferroni over metrics). */
  alpha: number;
  /** Sample-ratio mismatch gate (design §6.4: p < 0.001). */
  srmAlpha: number;
  /** A cohort with fewer trials / observations than this cannot PASS. */
  minRequests: number;
  /** A metric cannot PASS unless a regression at its effect floor would show this many events in the exposed cohort. */
  minEvents: number;
  /**
   * Exposed observations a comparison with control needs before it may FAIL (below it, WARN):
   * thin traffic clears effect floors by chance now and then, and a false FAIL is a needless
   * rollback. Blatant regressions still FAIL through the absolute levels.
   */
  minSampleForComparativeFail: number;
  /** Prior sd of the normal mixture over the log rate ratio (mSPRT); log 1.5 ≈ 0.4 targets 1.2×–2× regressions. */
  mixtureScale: number;
  /** Prior sd of the mixture over the log-odds of the exposed share, for the sequential SRM check. */
  srmMixtureScale: number;
  /** HTTP 5xx / requests. */
  errorRate5xx: RateRule;
  /** (4xx + 5xx) / requests. */
  errorRate: RateRule;
  /** HTTP latency, ms. */
  latency: PercentileRule;
  /** Defaults for every business rate metric. */
  businessRate: RateRule;
  /** Defaults for every business distribution metric. */
  businessDistribution: PercentileRule;
  /** Per business metric overrides, by metric name. */
  metrics: Record<string, MetricOverride>;
}

export type AlertCode =
  | 'CONFIG_DRIFT'
  | 'DETERMINISM_FAIL'
  | 'ERROR_RATE_5XX'
  | 'LATENCY_P95'
  | 'METRIC_REGRESSION'
  | 'SAMPLE_RATIO_MISMATCH'
  | 'INSUFFICIENT_DATA'
  | 'CRITICAL_COMPLAINT'
  | 'COMPLAINTS'
  | 'SIGNAL_NOTE'
  | 'METRIC_QUERY_ERROR';

export type Severity = 'WARN' | 'FAIL';

export interface Alert {
  code: AlertCode;
  severity: Severity;
  /** The metric it is about, if any. */
  metric?: string;
  /** One line for humans, with the numbers behind it. */
  message: string;
  /** The same numbers, for machines (null where undefined). */
  numbers: Record<string, number | null>;
  /** The rule that fired, e.g. "mSPRT exposed vs control, α=0.05/5". */
  rule: string;
  /**
   * What the alert rests on, for machines: a comparison of exposed with control, a critical or
   * warning level, the baseline. Plans roll back at once on a critical level; thin data caps
   * comparisons at WARN.
   */
  basis?: AlertBasis;
}

export type AlertBasis = 'comparison' | 'critical_level' | 'level' | 'baseline';

export type Direction = 'lower_is_better' | 'higher_is_better' | 'two_sided';
export type Outcome = 'pass' | 'warn' | 'fail' | 'insufficient' | 'error';

export interface MetricJudgement {
  /** Metric name (`_http_5xx_rate`, `_http_error_rate`, `_http_latency_ms`, or a business metric). */
  name: string;
  /** `rate`: successes / trials; `percentile`: a distribution judged at its p95. */
  kind: 'rate' | 'percentile';
  /** Which direction counts as a regression. */
  direction: Direction;
  /** Window the figures come from: the stage, or the recent window if only it decided. */
  window: 'stage' | 'recent';
  /** Trials (rates) or observations (distributions) in each cohort. */
  nExposed: number;
  nControl: number;
  /** The rate, or the percentile (e.g. p95 ms); null without data. */
  estimateExposed: number | null;
  estimateControl: number | null;
  /** exposed − control. */
  delta: number | null;
  /** exposed / control. */
  ratio: number | null;
  /**
   * Always-valid interval (at the test's α) for the ratio of the harmful-event rates exposed / control:
   * the rate ratio for rates, the exceedance-share ratio for percentiles. Null without a comparison.
   */
  interval: [number, number] | null;
  /** Strongest evidence of a regression vs control: mixture e-value, always-valid p = min(1, 1/e), the α it faced. */
  evidence: { eValue: number; pValue: number; alpha: number } | null;
  /** For percentiles: the pooled percentile and each cohort's share beyond it. */
  exceedance?: { threshold: number; shareExposed: number | null; shareControl: number | null };
  /** Every threshold applied, as text. */
  threshold: string;
  outcome: Outcome;
  /** The rules applied, as text. */
  rule: string;
  /** Why the outcome is what it is, when not obvious (e.g. which sample is short). */
  note?: string;
}

export interface SrmResult {
  /** χ² goodness-of-fit statistic (1 dof) of exposure counts against the expected split. */
  chi2: number;
  /** Its fixed-sample p-value. */
  pValue: number;
  /** Always-valid p of the sequential version (normal-mixture SPRT on the exposed share). */
  alwaysValidP: number;
  /** Exposures (or requests) counted. */
  n: number;
  mismatch: boolean;
  observedExposedShare: number | null;
}

export interface JudgeResult {
  verdict: 'PASS' | 'WARN' | 'FAIL';
  health: 'GREEN' | 'YELLOW' | 'RED';
  decision: 'GO' | 'EXTEND' | 'NO_GO';
  alerts: Alert[];
  /** One row per metric judged. */
  metrics: MetricJudgement[];
  /** Null when skipped (expected share 0 or 1, or too few exposures). */
  srm: SrmResult | null;
}
