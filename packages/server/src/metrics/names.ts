/**
 * Metric names. Applications name their own business metrics (`matching_success`,
 * `time_to_match_ms`); Rampart's built-in series start with `_` so they can never collide.
 */
export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export type MetricKind = 'counter' | 'rate' | 'distribution';

export const EXPOSURES = '_exposures';
export const HTTP_LATENCY = '_http_latency_ms';
/** Status classes and the specific 4xx codes the runbooks watch (auth, RBAC, rate limits). */
export const STATUS_SERIES = ['2xx', '3xx', '4xx', '5xx', '401', '403', '429'] as const;
export type StatusSeries = (typeof STATUS_SERIES)[number];
export const statusMetric = (s: StatusSeries) => `_http_status_${s}`;

export const BUILT_IN_KINDS: Readonly<Record<string, MetricKind>> = {
  [EXPOSURES]: 'counter',
  [HTTP_LATENCY]: 'distribution',
  ...Object.fromEntries(STATUS_SERIES.map((s) => [statusMetric(s), 'counter' as const])),
};

/** Which status series a response counts towards: its class, plus its own code if watched. */
export function statusSeriesOf(status: number): StatusSeries[] {
  const cls = `${Math.floor(status / 100)}xx` as StatusSeries;
  const out: StatusSeries[] = STATUS_SERIES.includes(cls) ? [cls] : [];
  if (status === 401 || status === 403 || status === 429) out.push(String(status) as StatusSeries);
  return out;
}

/** Limits on what one batch and one flag may carry (docs/metrics.md). */
export const INGEST_LIMITS = Object.freeze({
  eventsPerBatch: 10_000,
  aggregatesPerBatch: 5_000,
  /** Distinct application metric names per flag (built-ins do not count). */
  metricNamesPerFlag: 50,
  /** How far back an event or aggregate may be dated: backfill for weekly baselines. */
  maxAgeMs: 90 * 24 * 3_600_000,
  /** How far ahead (clock skew) it may be dated. */
  maxFutureMs: 5 * 60_000,
});
