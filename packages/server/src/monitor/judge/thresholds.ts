import type { Direction, MetricOverride, PercentileRule, RateRule, Thresholds } from './types.js';

/**
 * Defaults. Absolute levels come from CHAT_CANARY_ROLLOUT_CHECKLIST "Key Metrics Targets"
 * (error rate target < 0.5 %, warning > 1 %, critical > 2 %; p95 latency target < 2.0 s,
 * warning > 2.5 s, critical > 2.8 s); baseline rules from BETA_PHASE1 (5xx > baseline + 10 %,
 * time-to-match p95 < baseline + 20 %, success rate drops > 10 %) and design §6.4 (p95 > baseline + 20 %).
 * The checklist's "error rate" is read as the 5xx rate: 4xx include auth and validation answers
 * that are the client's business, and the runbook grades rising 4xx YELLOW, not RED.
 */
export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  alpha: 0.05,
  srmAlpha: 0.001,
  minRequests: 100,
  minEvents: 20,
  minSampleForComparativeFail: 5000,
  mixtureScale: 0.4,
  srmMixtureScale: 0.1,
  errorRate5xx: {
    severity: 'FAIL',
    minRelativeChange: 0.2,
    minAbsoluteChange: 0.001,
    absolute: { target: 0.005, warning: 0.01, critical: 0.02 },
    baselineRelative: 0.1,
    baselineAbsoluteFloor: 0.0005,
  },
  // Runbook §2: "4xx errors increasing (401/403/429)" is YELLOW.
  errorRate: { severity: 'WARN', minRelativeChange: 0.2, minAbsoluteChange: 0.001 },
  latency: {
    severity: 'FAIL',
    quantile: 0.95,
    minExceedanceRatio: 1.5,
    minQuantileChange: 0.1,
    absolute: { target: 2000, warning: 2500, critical: 2800 },
    baselineRelative: 0.2,
  },
  // Runbook §2: "Matching success rate < baseline − 10 %" is RED; BETA_PHASE1 alerts at − 5 %.
  businessRate: { severity: 'FAIL', minRelativeChange: 0.05, minAbsoluteChange: 0.001, baselineRelative: 0.1, baselineAbsoluteFloor: 0.001 },
  businessDistribution: { severity: 'FAIL', quantile: 0.95, minExceedanceRatio: 1.5, minQuantileChange: 0.1, baselineRelative: 0.2 },
  metrics: {},
}) as Thresholds;

const HIGHER_IS_BETTER = /success|conversion|complet|accept|retention|match_rate|hit_rate/;
const LOWER_IS_BETTER = /error|fail|timeout|latency|duration|time|_ms$|_seconds$|reject|abandon|cancel|crash|complaint/;

/**
 * Which direction is harmful: the metric's `higherIsBetter` override, else its name (success-like
 * names: a drop is harmful; error-, failure-, time-like names: a rise is), else both (two-sided,
 * each side with half of the metric's α).
 */
export function directionOf(name: string, override: MetricOverride | undefined): Direction {
  if (override?.higherIsBetter !== undefined) return override.higherIsBetter ? 'higher_is_better' : 'lower_is_better';
  if (HIGHER_IS_BETTER.test(name)) return 'higher_is_better';
  if (LOWER_IS_BETTER.test(name)) return 'lower_is_better';
  return 'two_sided';
}

export function businessRateRule(t: Thresholds, name: string): RateRule {
  return { ...t.businessRate, ...pick(t.metrics[name], ['severity', 'minRelativeChange', 'minAbsoluteChange', 'absolute', 'baselineRelative', 'baselineAbsoluteFloor']) };
}

export function businessPercentileRule(t: Thresholds, name: string): PercentileRule {
  return { ...t.businessDistribution, ...pick(t.metrics[name], ['severity', 'quantile', 'minExceedanceRatio', 'minQuantileChange', 'absolute', 'baselineRelative']) };
}

function pick<T extends object, K extends keyof T>(o: T | undefined, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  if (o) for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
