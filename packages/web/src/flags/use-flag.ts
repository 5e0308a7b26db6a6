import { useQuery } from '@tanstack/react-query';
import type { Flag } from '../api/types.js';
import { useSession } from '../session/session.js';

/** One flag with its version (from the ETag), which every change sends back as If-Match. */
export function useFlag(key: string) {
  const { request } = useSession();
  return useQuery({
    queryKey: ['flag', key],
    queryFn: async ({ signal }) => {
      const { data, version } = await request<Flag>(`/api/admin/feature-flags/${encodeURIComponent(key)}`, { signal });
      return { ...data, version: version ?? data.version };
    },
  });
}
