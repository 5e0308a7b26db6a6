import { COHORTS, HISTOGRAM_BUCKETS, histogramCount, histogramQuantile, type Cohort, type Histogram } from '@rampart/core';
import { BUILT_IN_KINDS, EXPOSURES, HTTP_LATENCY, STATUS_SERIES, statusMetric, type MetricKind, type StatusSeries } from './names.js';
import type { RollupRow } from './rollup-store.js';

export interface Percentiles {
  /** Observations behind the figures. */
  count: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** The merged sparse histogram, for tests on the whole distribution (e.g. shares above a value). */
  histogram: Histogram;
}

export interface MetricSummary extends Partial<Percentiles> {
  kind: MetricKind;
  /** Events (counter), trials (rate) or observations (distribution): the sample size. */
  count: number;
  sum: number;
  /** Successes / trials, for rates; null with no trials. */
  rate?: number | null;
}

export interface CohortSummary {
  exposures: number;
  /** HTTP requests attributed to the cohort: the sample size of every HTTP figure. */
  requests: number;
  status: Record<StatusSeries, number>;
  /** (4xx + 5xx) / requests; null with no requests (no data is never 0 %). */
  errorRate: number | null;
  errorRate5xx: number | null;
  latencyMs: Percentiles;
  metrics: Record<string, MetricSummary>;
}

/** Adds rollup rows up per cohort and metric, then derives rates and percentiles. */
export function summarize(rows: readonly RollupRow[], kinds: Readonly<Record<string, MetricKind>>): Record<Cohort, CohortSummary> {
  // Histograms add up in one dense array per series: thousands of sparse rows merge without
  // growing objects key by key (the bulk of a 7-day summary's time and garbage).
  const dense = new Map<string, { count: number; sum: number; buckets: Float64Array | null }>();
  for (const r of rows) {
    const key = `${r.cohort}\u0000${r.metric}`;
    let a = dense.get(key);
    if (!a) dense.set(key, (a = { count: 0, sum: 0, buckets: null }));
    a.count += r.count;
    a.sum += r.sum;
    if (r.histogram) {
      const b = (a.buckets ??= new Float64Array(HISTOGRAM_BUCKETS));
      const h = r.histogram;
      for (const k in h) {
        const i = Number(k);
        b[i] = b[i]! + h[i]!;
      }
    }
  }
  const acc = new Map<string, { count: number; sum: number; histogram: Histogram | null }>();
  for (const [key, a] of dense) acc.set(key, { count: a.count, sum: a.sum, histogram: a.buckets ? toSparse(a.buckets) : null });
  const out = {} as Record<Cohort, CohortSummary>;
  for (const cohort of COHORTS) {
    const get = (metric: string) => acc.get(`${cohort}\u0000${metric}`);
    const latency = get(HTTP_LATENCY);
    const requests = latency?.count ?? 0;
    const status = Object.fromEntries(STATUS_SERIES.map((s) => [s, get(statusMetric(s))?.count ?? 0])) as Record<StatusSeries, number>;
    const metrics: Record<string, MetricSummary> = {};
    for (const [key, a] of acc) {
      const [c, metric] = key.split('\u0000') as [Cohort, string];
      if (c !== cohort || BUILT_IN_KINDS[metric]) continue;
      const kind = kinds[metric] ?? (a.histogram ? 'distribution' : 'counter');
      metrics[metric] = {
        kind,
        count: a.count,
        sum: a.sum,
        ...(kind === 'rate' ? { rate: a.count > 0 ? a.sum / a.count : null } : {}),
        ...(kind === 'distribution' ? percentiles(a) : {}),
      };
    }
    out[cohort] = {
      exposures: get(EXPOSURES)?.count ?? 0,
      requests,
      status,
      errorRate: requests > 0 ? (status['4xx'] + status['5xx']) / requests : null,
      errorRate5xx: requests > 0 ? status['5xx'] / requests : null,
      latencyMs: percentiles(latency),
      metrics,
    };
  }
  return out;
}

function toSparse(b: Float64Array): Histogram {
  const h: Histogram = {};
  for (let i = 0; i < b.length; i++) if (b[i]! > 0) h[i] = b[i]!;
  return h;
}

function percentiles(a: { count: number; sum: number; histogram: Histogram | null } | undefined): Percentiles {
  const h = a?.histogram ?? {};
  const count = histogramCount(h);
  return {
    count,
    mean: a && a.count > 0 ? a.sum / a.count : null,
    p50: histogramQuantile(h, 0.5) ?? null,
    p95: histogramQuantile(h, 0.95) ?? null,
    p99: histogramQuantile(h, 0.99) ?? null,
    histogram: h,
  };
}
