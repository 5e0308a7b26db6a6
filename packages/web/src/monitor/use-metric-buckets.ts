import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSession } from '../session/session.js';
import { METRICS_REFETCH_MS } from './use-monitor.js';
import type { WindowSummary } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The chart windows and how finely each is cut (at most 24 buckets, one summary each). */
export const CHART_WINDOWS = {
  '1h': { ms: HOUR, bucketMs: 5 * MINUTE },
  '6h': { ms: 6 * HOUR, bucketMs: 15 * MINUTE },
  '24h': { ms: 24 * HOUR, bucketMs: HOUR },
} as const;
export type ChartWindow = keyof typeof CHART_WINDOWS;

export interface Bucket {
  from: number;
  to: number;
  /** Where the point is drawn: the middle of the bucket, epoch ms. */
  mid: number;
  summary: WindowSummary;
}

export interface BucketSeries {
  /** The window shown, epoch ms. */
  from: number;
  to: number;
  bucketMs: number;
  buckets: Bucket[];
}

/** Bucket edges aligned to whole buckets (earlier buckets stay the same between refreshes); the last one ends now. */
export function bucketEdges(window: ChartWindow, now: number): { from: number; to: number }[] {
  const { ms, bucketMs } = CHART_WINDOWS[window];
  const last = Math.floor(now / bucketMs) * bucketMs;
  const edges: { from: number; to: number }[] = [];
  for (let start = last - ms + bucketMs; start <= last; start += bucketMs) {
    const to = Math.min(start + bucketMs, now);
    if (to > start) edges.push({ from: start, to });
  }
  return edges;
}

/**
 * Per-cohort summaries bucket by bucket. The series endpoint gives per-minute counts and means
 * but no percentiles; a summary per bucket gives the same figures the watchdog judges (error
 * rates as (4xx+5xx)/requests, p95 from the merged histogram, business rates and percentiles).
 */
export function useMetricBuckets(flagKey: string, window: ChartWindow) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['metrics', flagKey, 'buckets', window],
    queryFn: async ({ signal }): Promise<BucketSeries> => {
      const now = Date.now();
      const edges = bucketEdges(window, now);
      const summaries = await Promise.all(
        edges.map(
          async (e) =>
            (
              await request<WindowSummary>(
                `/api/admin/metrics/${encodeURIComponent(flagKey)}/summary?from=${new Date(e.from).toISOString()}&to=${new Date(e.to).toISOString()}`,
                { signal },
              )
            ).data,
        ),
      );
      return {
        from: now - CHART_WINDOWS[window].ms,
        to: now,
        bucketMs: CHART_WINDOWS[window].bucketMs,
        buckets: edges.map((e, i) => ({ ...e, mid: (e.from + e.to) / 2, summary: summaries[i]! })),
      };
    },
    refetchInterval: METRICS_REFETCH_MS,
    placeholderData: keepPreviousData,
  });
}
