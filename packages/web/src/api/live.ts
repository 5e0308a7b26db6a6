import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createParser } from 'eventsource-parser';
import { useEffect, useState } from 'react';

/**
 * Query keys follow one convention so a change event can find what it makes stale:
 * `[resource]` for lists of everything (`['flags', search]`, `['tokens']`, `['snapshots']`),
 * `[resource, flagKey, …]` for what belongs to one flag (`['flag', key]`, `['plan', key]`,
 * `['checkpoints', key]`, `['metrics', key, …]`).
 */
type ChangeEvent = { kind: 'flag'; key: string; version: number } | { kind: 'tokens' } | { kind: 'activity'; key: string | null; what: string };

const GLOBAL_LISTS = new Set(['flags', 'tokens', 'snapshots', 'schedules', 'audit-all']);

export function invalidateFor(client: QueryClient, e: ChangeEvent): void {
  if (e.kind === 'tokens') {
    void client.invalidateQueries({ queryKey: ['tokens'] });
    return;
  }
  const key = e.key;
  void client.invalidateQueries({
    predicate: (q) => {
      const [resource, flag] = q.queryKey as [string, unknown];
      if (GLOBAL_LISTS.has(resource)) return true;
      // A change to no flag in particular (a snapshot restore, say) may touch any of them.
      return key === null || flag === key;
    },
  });
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

/**
 * Follows `GET /api/admin/events` (server-sent events). EventSource cannot send an
 * Authorization header, so this reads the stream with fetch; it reconnects with backoff and,
 * after a reconnect, refetches everything (events may have been missed while away).
 */
export function useLiveUpdates(token: string | undefined, onUnauthorized: () => void): LiveStatus {
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');

  useEffect(() => {
    if (!token) return;
    const abort = new AbortController();
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const connect = async () => {
      try {
        const res = await fetch('/api/admin/events', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
        if (res.status === 401) return onUnauthorized();
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        if (attempt > 0) void client.invalidateQueries();
        attempt = 0;
        setStatus('live');
        const parser = createParser({
          onEvent: (ev) => {
            if (ev.event !== 'change') return;
            try {
              invalidateFor(client, JSON.parse(ev.data) as ChangeEvent);
            } catch {
              /* a malformed event changes nothing */
            }
          },
        });
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
        throw new Error('stream ended');
      } catch {
        if (abort.signal.aborted) return;
        setStatus('offline');
        attempt++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
        timer = setTimeout(() => void connect(), delay);
      }
    };
    void connect();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [token, client, onUnauthorized]);

  return status;
}
