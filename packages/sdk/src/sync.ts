import { createParser } from 'eventsource-parser';
import { parseConfig, type SdkConfig } from './config.js';
import type { StreamTransport } from './transport/stream-transport.js';

export interface SyncOptions {
  readonly url: string;
  readonly token: string;
  /** For the ETag polls. */
  readonly fetch: typeof fetch;
  /** For the event stream (`node:http` in Node, `fetch` in browsers or when the application passes one). */
  readonly openStream: StreamTransport;
  readonly streaming: boolean;
  /** Poll period while the stream is down (and the only mode without streaming). */
  readonly pollIntervalMs: number;
  readonly backoff: { readonly minMs: number; readonly maxMs: number };
  /** A stream that has said nothing (not even a heartbeat) for this long is considered dead. */
  readonly streamIdleTimeoutMs: number;
}

export interface SyncEvents {
  config(config: SdkConfig): void;
  /** Transport state: streaming, polling (stream down, polls working) or offline. */
  connection(state: 'streaming' | 'polling' | 'offline', error?: unknown): void;
  /** The server refused the token (401/403): retrying will not help until it changes. */
  unauthorized(status: number): void;
}

/** Full jitter: a uniform wait in [0, min(max, min·2^attempt)]. */
export function backoffDelay(attempt: number, b: { minMs: number; maxMs: number }, random = Math.random): number {
  const cap = Math.min(b.maxMs, b.minMs * 2 ** attempt);
  return Math.max(b.minMs / 2, Math.round(random() * cap));
}

/**
 * Keeps the config current: an SSE stream (`/api/sdk/stream`, through `opts.openStream`, which
 * sends the Authorization header in browsers too) and, whenever the stream is down, ETag polls of
 * `/api/sdk/config`. Reconnects with jittered exponential backoff. Never throws to the caller.
 */
export function startSync(opts: SyncOptions, on: SyncEvents): { stop(): void; refresh(): Promise<void> } {
  let stopped = false;
  let etag: string | undefined;
  let streamAbort: AbortController | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let streamTimer: ReturnType<typeof setTimeout> | undefined;
  let streamAttempt = 0;
  let streaming = false;
  const base = opts.url.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${opts.token}` };

  function accept(config: SdkConfig): void {
    if (config.etag === etag) return;
    etag = config.etag;
    on.config(config);
  }

  async function poll(): Promise<void> {
    const res = await opts.fetch(`${base}/api/sdk/config`, { headers: { ...auth, ...(etag ? { 'if-none-match': etag } : {}) } });
    if (res.status === 401 || res.status === 403) {
      on.unauthorized(res.status);
      throw new Error(`Rampart refused the SDK token (${res.status})`);
    }
    if (res.status !== 304 && !res.ok) throw new Error(`Rampart config: HTTP ${res.status}`);
    const config = res.status === 304 ? undefined : parseConfig(await res.json());
    if (!streaming) on.connection('polling');
    if (config) accept(config);
  }

  function schedulePoll(delay: number): void {
    if (stopped || !opts.pollIntervalMs) return;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(() => {
      if (stopped || streaming) return;
      poll().then(
        () => schedulePoll(opts.pollIntervalMs),
        (err: unknown) => {
          on.connection('offline', err);
          schedulePoll(opts.pollIntervalMs);
        },
      );
    }, delay);
    (pollTimer as { unref?: () => void }).unref?.();
  }

  async function stream(): Promise<void> {
    const abort = new AbortController();
    streamAbort = abort;
    // Idle detection without a timer per chunk: each chunk only stamps the time, and one timer
    // checks the stamp when it fires, re-arming itself for the rest of the period.
    let lastByteAt = Date.now();
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watch = (delay: number) => {
      idle = setTimeout(() => {
        const quiet = Date.now() - lastByteAt;
        if (quiet >= opts.streamIdleTimeoutMs) abort.abort(new Error('stream idle'));
        else watch(opts.streamIdleTimeoutMs - quiet);
      }, delay);
      (idle as { unref?: () => void }).unref?.();
    };
    const parser = createParser({
      onEvent: (event) => {
        if (event.event !== 'config') return;
        accept(parseConfig(event.data));
      },
    });
    try {
      watch(opts.streamIdleTimeoutMs);
      await opts.openStream({
        url: `${base}/api/sdk/stream`,
        headers: { ...auth, accept: 'text/event-stream', ...(etag ? { 'last-event-id': etag } : {}) },
        signal: abort.signal,
        onResponse: (status) => {
          if (status === 401 || status === 403) {
            on.unauthorized(status);
            throw new Error(`Rampart refused the SDK token (${status})`);
          }
          if (status < 200 || status > 299) throw new Error(`Rampart stream: HTTP ${status}`);
        },
        onText: (text) => {
          lastByteAt = Date.now();
          if (!streaming) {
            streaming = true;
            streamAttempt = 0;
            clearTimeout(pollTimer);
            on.connection('streaming');
          }
          parser.feed(text);
        },
      });
      throw new Error('Rampart stream ended');
    } finally {
      clearTimeout(idle);
    }
  }

  function runStream(): void {
    if (stopped) return;
    stream().catch((err: unknown) => {
      if (stopped) return;
      streaming = false;
      // While the stream is down, polls keep the config fresh (and tell us if the server is back).
      on.connection('offline', err);
      schedulePoll(0);
      streamTimer = setTimeout(runStream, backoffDelay(streamAttempt++, opts.backoff));
      (streamTimer as { unref?: () => void }).unref?.();
    });
  }

  if (opts.streaming) runStream();
  else schedulePoll(0);

  return {
    stop() {
      stopped = true;
      clearTimeout(pollTimer);
      clearTimeout(streamTimer);
      streamAbort?.abort();
    },
    /** One poll now (used at start, before the stream has said anything). */
    refresh: () => poll(),
  };
}
