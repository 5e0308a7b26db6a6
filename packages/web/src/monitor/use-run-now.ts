import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../session/session.js';
import type { CheckpointDetail } from './types.js';

/**
 * "Run now": a checkpoint taken on the spot. It answers with the whole checkpoint, report
 * included, so the answer goes straight into the cache the report reads from.
 */
export function useRunNow(flagKey: string, onDone: (cp: CheckpointDetail) => void) {
  const { request } = useSession();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      // `manual`: a person asked (the default `api` is for scripts).
      (await request<CheckpointDetail>(`/api/admin/beta-monitor/${encodeURIComponent(flagKey)}/run`, { method: 'POST', body: { trigger: 'manual' } })).data,
    onSuccess: (cp) => {
      client.setQueryData(['checkpoint', flagKey, cp.id], cp);
      void client.invalidateQueries({ queryKey: ['checkpoints', flagKey] });
      void client.invalidateQueries({ queryKey: ['flags'] });
      onDone(cp);
    },
  });
}

export type RunNow = ReturnType<typeof useRunNow>;
