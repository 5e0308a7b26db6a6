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

/**
 * Per-cohort summaries slice by slice, in one request (`GET /api/admin/metrics/:key/timeline`):
 * the same figures the watchdog judges (error rates as (4xx+5xx)/requests, p95 from the merged
 * histogram, business rates and percentiles), which the per-minute series endpoint cannot give.
 */
export function useMetricBuckets(flagKey: string, window: ChartWindow) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['metrics', flagKey, 'buckets', window],
    queryFn: async ({ signal }): Promise<BucketSeries> => {
      const { ms, bucketMs } = CHART_WINDOWS[window];
      const now = Date.now();
      const { data } = await request<Timeline>(
        `/api/admin/metrics/${encodeURIComponent(flagKey)}/timeline?from=${new Date(now - ms).toISOString()}&to=${new Date(now).toISOString()}&buckets=${Math.round(ms / bucketMs)}`,
        { signal },
      );
      return {
        from: Date.parse(data.from),
        to: Date.parse(data.to),
        bucketMs: data.bucketMs,
        buckets: data.buckets.map((b) => {
          const from = Date.parse(b.from);
          const to = Date.parse(b.to);
          return { from, to, mid: (from + to) / 2, summary: { flag: data.flag, from: b.from, to: b.to, cohorts: b.cohorts } };
        }),
      };
    },
    refetchInterval: METRICS_REFETCH_MS,
    placeholderData: keepPreviousData,
  });
}

interface Timeline {
  flag: string;
  from: string;
  to: string;
  bucketMs: number;
  buckets: { from: string; to: string; cohorts: WindowSummary['cohorts'] }[];
}
