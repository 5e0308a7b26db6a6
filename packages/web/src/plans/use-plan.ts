import { useQuery } from '@tanstack/react-query';
import type { Plan } from '../api/types.js';
import { useSession } from '../session/session.js';

export interface PlanAnswer {
  /** The live plan (active, paused or rolling back), or null. */
  plan: Plan | null;
  /** The latest plans, newest first (the live one included). */
  history: Plan[];
}

/** `GET /api/admin/rollouts/:key` under `['plan', key]`: live events about the flag refresh it. */
export function usePlan(flagKey: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['plan', flagKey],
    queryFn: async ({ signal }) => (await request<PlanAnswer>(`/api/admin/rollouts/${encodeURIComponent(flagKey)}`, { signal })).data,
  });
}

/** The states in which a plan steers its flag. */
export const LIVE_PLAN_STATES: readonly string[] = ['active', 'paused', 'rolling_back'];
