import { addToHistogram, type Histogram } from '@rampart/core';

/**
 * Deterministic per-interval traffic for a flag, as the SDK would report it: per-minute
 * aggregates for the exposed and control cohorts with exact rates (no sampling noise), so a
 * test can say "healthy" or "5xx doubled in exposed" and mean exactly that.
 */
export function trafficBatch(flag: string, minute: number, cohorts: Record<'exposed' | 'control', { requests: number; rate5xx: number; p95ms?: number }>) {
  const at = new Date(Math.floor(minute / 60_000) * 60_000).toISOString();
  const aggregates: unknown[] = [];
  for (const [cohort, c] of Object.entries(cohorts)) {
    if (c.requests === 0) continue;
    const errors = Math.round(c.requests * c.rate5xx);
    const histogram: Histogram = {};
    // 90 % fast, 10 % at the tail: the tail value sets the p95.
    addToHistogram(histogram, 120, Math.round(c.requests * 0.9));
    addToHistogram(histogram, c.p95ms ?? 400, c.requests - Math.round(c.requests * 0.9));
    aggregates.push(
      { flag, cohort, metric: '_exposures', minute: at, count: c.requests },
      { flag, cohort, metric: '_http_latency_ms', minute: at, count: c.requests, sum: c.requests * 150, histogram },
      { flag, cohort, metric: '_http_status_2xx', minute: at, count: c.requests - errors },
      ...(errors > 0 ? [{ flag, cohort, metric: '_http_status_5xx', minute: at, count: errors }] : []),
    );
  }
  return { aggregates };
}
