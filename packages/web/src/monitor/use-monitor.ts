import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { AuditEvent, CheckpointSummary } from '../api/types.js';
import { useSession } from '../session/session.js';
import type { Baseline, CheckpointDetail, MetricKind, Signal } from './types.js';

export const TIMELINE_PAGE = 20;
/** Metrics are not announced by change events: charts poll. */
export const METRICS_REFETCH_MS = 30_000;

const enc = encodeURIComponent;

/** The flag's checkpoints, newest first, a page at a time (`?before=` the oldest one shown). */
export function useCheckpoints(flagKey: string) {
  const { request } = useSession();
  return useInfiniteQuery({
    queryKey: ['checkpoints', flagKey, 'timeline'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam, signal }) =>
      (await request<{ checkpoints: CheckpointSummary[] }>(`/api/admin/beta-monitor/${enc(flagKey)}/checkpoints?limit=${TIMELINE_PAGE}${pageParam ? `&before=${enc(pageParam)}` : ''}`, { signal })).data
        .checkpoints,
    getNextPageParam: (last) => (last.length === TIMELINE_PAGE ? last[last.length - 1]!.at : undefined),
  });
}

export function useCheckpoint(flagKey: string, id: string | undefined) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['checkpoint', flagKey, id],
    queryFn: async ({ signal }) => (await request<CheckpointDetail>(`/api/admin/beta-monitor/checkpoints/${enc(id!)}`, { signal })).data,
    enabled: id !== undefined,
    // A checkpoint never changes once recorded.
    staleTime: Infinity,
  });
}

export function useSignals(flagKey: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['signals', flagKey],
    queryFn: async ({ signal }) => (await request<{ signals: Signal[] }>(`/api/admin/beta-monitor/${enc(flagKey)}/signals?limit=20`, { signal })).data.signals,
  });
}

/** Recent audit events, for the stage and rollback marks on the charts' time axis. */
export function useFlagAudit(flagKey: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['audit', flagKey, 'marks'],
    queryFn: async ({ signal }) => (await request<{ events: AuditEvent[] }>(`/api/admin/feature-flags/${enc(flagKey)}/audit?limit=200`, { signal })).data.events,
  });
}

export function useMetricNames(flagKey: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['metrics', flagKey, 'names'],
    queryFn: async ({ signal }) => (await request<{ metrics: Record<string, MetricKind> }>(`/api/admin/metrics/${enc(flagKey)}/names`, { signal })).data.metrics,
    refetchInterval: METRICS_REFETCH_MS,
  });
}

/** The newest baseline, if any was captured. */
export function useBaseline(flagKey: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['metrics', flagKey, 'baselines'],
    queryFn: async ({ signal }) => (await request<{ baselines: Baseline[] }>(`/api/admin/metrics/${enc(flagKey)}/baselines`, { signal })).data.baselines[0] ?? null,
    refetchInterval: METRICS_REFETCH_MS,
  });
}
