import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';

/**
 * After a change: refetch everything that belongs to the flag (`[resource, flagKey, …]`) and the
 * lists, at once, without waiting for the live event that will say the same.
 */
export function useInvalidateFlag(): (flagKey: string) => Promise<void> {
  const client = useQueryClient();
  return useCallback(
    (flagKey: string) =>
      client.invalidateQueries({
        predicate: (q) => {
          const [resource, flag] = q.queryKey as [string, unknown];
          return flag === flagKey || resource === 'flags' || resource === 'schedules';
        },
      }),
    [client],
  );
}
