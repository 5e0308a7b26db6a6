// The client's public types: its options, what an evaluation returns, its status and events.
import type { Cohort, Reason } from '@rampart/core';
import type { ReporterStats } from './reporter.js';

export interface ClientOptions {
  /** Rampart's base URL, e.g. http://127.0.0.1:4000 */
  readonly url: string;
  /** An SDK token. */
  readonly token: string;
  /** A config to start from with Rampart unreachable: the SDK config or a snapshot export (object or JSON text). */
  readonly bootstrap?: unknown;
  /** Keep the last good config here too; only with a `storage` (see `@rampart/sdk/node`'s `fileStorage`). */
  readonly storage?: ConfigStorage;
  /** Stream changes (default true); false polls only. */
  readonly streaming?: boolean;
  /** Poll period while the stream is down (default 15 000 ms). */
  readonly pollIntervalMs?: number;
  /** Reconnect backoff, jittered (default 500 ms … 30 s). */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** No byte from the stream for this long means it is dead (default 45 s; the server pings every 15 s). */
  readonly streamIdleTimeoutMs?: number;
  /** After this long without a successful sync, status() says STALE (default 60 s). */
  readonly staleAfterMs?: number;
  /** Send metrics this often (default 10 s). */
  readonly flushIntervalMs?: number;
  /** Aggregates kept while Rampart is unreachable (default 10 000); older ones are dropped and counted. */
  readonly maxPendingAggregates?: number;
  /** Report an exposure for every evaluation (default true). */
  readonly reportExposures?: boolean;
  /**
   * Subjects' buckets remembered across all flags together (default 50 000, ~2.7 MiB; 0: none),
   * so a steady population hashes once per flag and subject, not once per evaluation.
   */
  readonly bucketCacheSize?: number;
  /** `FEATURE_<KEY_UPPER>` master switches (default: process.env in Node, none in browsers). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For every request, the event stream included (by default Node streams over `node:http`, browsers over the global fetch). */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly logger?: { warn(message: string, err?: unknown): void };
}

/** Where the last good config is kept between runs (a file in Node, localStorage in a browser…). */
export interface ConfigStorage {
  load(): Promise<string | undefined> | string | undefined;
  save(text: string): Promise<void> | void;
}

/**
 * Every result has these seven properties, in this order (absent ones are `undefined`): one
 * object shape, so `evaluate` and its callers' property loads stay monomorphic.
 */
export interface FlagResult {
  readonly flag: string;
  readonly value: boolean;
  readonly reason: Reason;
  /** FLAG_NOT_FOUND, INVALID_FLAG, GENERAL, or NOT_READY before any config is known. */
  readonly errorCode?: string | undefined;
  readonly bucket?: number | undefined;
  readonly version?: number | undefined;
  readonly cohort: Cohort;
}

/** The `code` of the error the client reports when Rampart refuses its token (HTTP 401/403). */
export const TOKEN_REFUSED = 'TOKEN_REFUSED';

export type ClientState = 'NOT_READY' | 'READY' | 'STALE';

export interface ClientStatus {
  readonly state: ClientState;
  /** Where the config in use came from. */
  readonly source: 'server' | 'bootstrap' | 'storage' | 'none';
  readonly connection: 'connecting' | 'streaming' | 'polling' | 'offline' | 'closed';
  readonly etag: string | undefined;
  /** When the config was last confirmed current by the server (ms since epoch). */
  readonly lastSyncAt: number | undefined;
  /** How long since then, while not connected; 0 while streaming. */
  readonly staleForMs: number;
  readonly lastError: string | undefined;
  readonly metrics: Readonly<ReporterStats>;
}

export interface ClientEvents extends Record<string, unknown> {
  ready: ClientStatus;
  /** One event per flag whose config changed (added, changed or removed). */
  changed: { key: string; version: number | undefined; previousVersion: number | undefined };
  /** The whole config was replaced (after the `changed` events). */
  update: { etag: string; keys: string[] };
  /** The SDK lost Rampart and serves its last good config. */
  stale: ClientStatus;
  /** Rampart is reachable again. */
  reconnected: ClientStatus;
  error: unknown;
  /** Every evaluation (the HTTP middleware listens to attribute outcomes to cohorts). */
  evaluation: FlagResult;
}
