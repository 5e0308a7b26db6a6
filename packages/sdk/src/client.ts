import { cohortOf, createEvaluator, type Cohort, type EvaluationContext, type Flag, type Reason } from '@rampart/core';
import { parseConfig, type SdkConfig } from './config.js';
import { Emitter } from './emitter.js';
import { createReporter, type Reporter, type ReporterStats } from './reporter.js';
import { startSync } from './sync.js';

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
  /** `FEATURE_<KEY_UPPER>` master switches (default: process.env in Node, none in browsers). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly logger?: { warn(message: string, err?: unknown): void };
}

/** Where the last good config is kept between runs (a file in Node, localStorage in a browser…). */
export interface ConfigStorage {
  load(): Promise<string | undefined> | string | undefined;
  save(text: string): Promise<void> | void;
}

export interface FlagResult {
  readonly flag: string;
  readonly value: boolean;
  readonly reason: Reason;
  /** FLAG_NOT_FOUND, INVALID_FLAG, GENERAL, or NOT_READY before any config is known. */
  readonly errorCode?: string;
  readonly bucket?: number;
  readonly version?: number;
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

const defaultEnv = (): Readonly<Record<string, string | undefined>> | undefined =>
  typeof process !== 'undefined' && process.env ? process.env : undefined;

/**
 * An in-process Rampart client. Evaluation is local (packages/core, the same rules as the
 * server) and never throws; the config stays current through the stream, survives Rampart
 * being down (last good config, optional storage, bootstrap), and reporting is aggregated per
 * minute.
 */
export class RampartClient extends Emitter<ClientEvents> {
  /** Resolves once a config is in use (from Rampart, storage or bootstrap). Never rejects. */
  readonly ready: Promise<ClientStatus>;
  private flags = new Map<string, Flag>();
  private config: SdkConfig | undefined;
  private source: ClientStatus['source'] = 'none';
  private connection: ClientStatus['connection'] = 'connecting';
  private lastSyncAt: number | undefined;
  private lastError: string | undefined;
  private wasStale = false;
  private resolveReady!: (s: ClientStatus) => void;
  private readonly evaluator;
  private readonly reporter: Reporter;
  private readonly sync;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly reportExposures: boolean;
  private staleTimer: ReturnType<typeof setInterval>;

  constructor(private readonly options: ClientOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    this.reportExposures = options.reportExposures ?? true;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.evaluator = createEvaluator({ env: options.env ?? defaultEnv() });
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.reporter = createReporter({
      url: options.url,
      token: options.token,
      fetch: fetchImpl,
      flushIntervalMs: options.flushIntervalMs ?? 10_000,
      maxPendingAggregates: options.maxPendingAggregates ?? 10_000,
      now: this.now,
      onError: (err) => this.fail(err),
    });
    if (options.bootstrap !== undefined) {
      try {
        this.install(parseConfig(options.bootstrap), 'bootstrap');
      } catch (err) {
        this.fail(err);
      }
    }
    void this.loadStored();
    this.sync = startSync(
      {
        url: options.url,
        token: options.token,
        fetch: fetchImpl,
        streaming: options.streaming ?? true,
        pollIntervalMs: options.pollIntervalMs ?? 15_000,
        backoff: options.backoff ?? { minMs: 500, maxMs: 30_000 },
        streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 45_000,
      },
      {
        config: (config) => {
          this.install(config, 'server');
          const storage = this.options.storage;
          if (storage) void Promise.resolve().then(() => storage.save(JSON.stringify(config))).catch((err: unknown) => this.fail(err));
        },
        connection: (state, err) => {
          if (this.connection === 'closed') return;
          if (err) this.fail(err);
          // The config was current until the moment the connection was lost.
          if (state === 'offline' && (this.connection === 'streaming' || this.connection === 'polling')) this.lastSyncAt = this.now();
          this.connection = state;
          if (state !== 'offline') {
            this.lastSyncAt = this.now();
            if (this.wasStale) {
              this.wasStale = false;
              this.emit('reconnected', this.status());
            }
          } else {
            this.checkStale();
          }
        },
        unauthorized: (status) =>
          this.fail(Object.assign(new Error(`Rampart refused the SDK token (HTTP ${status}); check RAMPART_TOKEN`), { code: TOKEN_REFUSED })),
      },
    );
    this.staleTimer = setInterval(() => this.checkStale(), Math.min(5_000, this.staleAfterMs));
    (this.staleTimer as { unref?: () => void }).unref?.();
  }

  /** Evaluates a flag locally. Never throws: problems come back as a reason and errorCode, with `defaultValue`. */
  evaluate(key: string, context: EvaluationContext, defaultValue = false): FlagResult {
    let result: FlagResult;
    try {
      const flag = this.flags.get(key);
      if (!this.config) {
        result = { flag: key, value: defaultValue, reason: 'ERROR', errorCode: 'NOT_READY', cohort: 'off' };
      } else if (!flag) {
        result = { flag: key, value: defaultValue, reason: 'FLAG_NOT_FOUND', errorCode: 'FLAG_NOT_FOUND', cohort: 'off' };
      } else {
        const r = this.evaluator.evaluate(flag, context);
        const value = r.reason === 'ERROR' ? defaultValue : r.value;
        result = {
          flag: key,
          value,
          reason: r.reason,
          ...(r.errorCode ? { errorCode: r.errorCode } : {}),
          ...(r.bucket === undefined ? {} : { bucket: r.bucket }),
          ...(flag.version === undefined ? {} : { version: flag.version }),
          cohort: cohortOf(r.reason),
        };
        if (this.reportExposures) this.reporter.exposure(key, result.cohort);
      }
    } catch (err) {
      this.fail(err);
      result = { flag: key, value: defaultValue, reason: 'ERROR', errorCode: 'GENERAL', cohort: 'off' };
    }
    this.emit('evaluation', result);
    return result;
  }

  /** The value only. */
  isEnabled(key: string, context: EvaluationContext, defaultValue = false): boolean {
    return this.evaluate(key, context, defaultValue).value;
  }

  /** Every known flag for one subject (what the chat checklist's `/flags` returns). */
  allFlags(context: EvaluationContext): Record<string, FlagResult> {
    const out: Record<string, FlagResult> = {};
    for (const key of this.flags.keys()) out[key] = this.evaluate(key, context);
    return out;
  }

  /** The keys of every flag in the config in use. */
  keys(): string[] {
    return [...this.flags.keys()];
  }

  /**
   * A business metric, attributed to the subject's cohort of `flag`: a boolean is one trial of a
   * rate (`matching_success`), a number one observation of a distribution (`time_to_match_ms`).
   */
  track(name: string, value: number | boolean, context: EvaluationContext & { flag?: string }, flags?: readonly string[]): void {
    try {
      for (const key of flags ?? (context.flag ? [String(context.flag)] : this.keys())) {
        const flag = this.flags.get(key);
        if (!flag) continue;
        const cohort = cohortOf(this.evaluator.evaluate(flag, context).reason);
        if (typeof value === 'boolean') this.reporter.rate(key, cohort, name, value);
        else if (Number.isFinite(value)) this.reporter.value(key, cohort, name, value);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** An HTTP outcome for a subject already evaluated for `flag` (the middleware calls this). */
  recordHttp(flag: string, cohort: Cohort, status: number, latencyMs: number): void {
    this.reporter.http(flag, cohort, status, latencyMs);
  }

  status(): ClientStatus {
    const connected = this.connection === 'streaming' || this.connection === 'polling';
    const staleForMs = connected || this.lastSyncAt === undefined ? 0 : this.now() - this.lastSyncAt;
    const state: ClientState = !this.config
      ? 'NOT_READY'
      : this.source !== 'server' || (!connected && (this.lastSyncAt === undefined || staleForMs >= this.staleAfterMs))
        ? 'STALE'
        : 'READY';
    return {
      state,
      source: this.source,
      connection: this.connection,
      etag: this.config?.etag,
      lastSyncAt: this.lastSyncAt,
      staleForMs,
      lastError: this.lastError,
      metrics: this.reporter.stats(),
    };
  }

  /** Sends pending metrics now. */
  flush(): Promise<void> {
    return this.reporter.flush();
  }

  /** Stops syncing and sends every pending metric, the current minute included. */
  async close(): Promise<void> {
    this.connection = 'closed';
    clearInterval(this.staleTimer);
    this.sync.stop();
    await this.reporter.close().catch((err: unknown) => this.fail(err));
  }

  private async loadStored(): Promise<void> {
    if (!this.options.storage) return;
    try {
      const text = await this.options.storage.load();
      // The server's config wins if it arrived first.
      if (text && this.source !== 'server') this.install(parseConfig(text), 'storage');
    } catch (err) {
      this.fail(err);
    }
  }

  private install(config: SdkConfig, source: ClientStatus['source']): void {
    const previous = this.flags;
    const next = new Map(config.flags.map((f) => [f.key, f]));
    this.flags = next;
    this.config = config;
    this.source = source;
    if (source === 'server') this.lastSyncAt = this.now();
    const changed: string[] = [];
    for (const [key, f] of next) {
      const before = previous.get(key);
      if (!before || before.version !== f.version || JSON.stringify(before) !== JSON.stringify(f)) {
        changed.push(key);
        this.emit('changed', { key, version: f.version, previousVersion: before?.version });
      }
    }
    for (const [key, f] of previous) {
      if (!next.has(key)) {
        changed.push(key);
        this.emit('changed', { key, version: undefined, previousVersion: f.version });
      }
    }
    this.emit('update', { etag: config.etag, keys: changed });
    this.resolveReady(this.status());
    if (changed.length || previous.size === 0) this.emitReadyOnce();
  }

  private readyEmitted = false;
  private emitReadyOnce(): void {
    if (this.readyEmitted) return;
    this.readyEmitted = true;
    this.emit('ready', this.status());
  }

  private checkStale(): void {
    if (this.connection === 'closed') return;
    const s = this.status();
    if (s.state === 'STALE' && this.source === 'server' && !this.wasStale) {
      this.wasStale = true;
      this.emit('stale', s);
    }
  }

  private fail(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.options.logger?.warn(`rampart sdk: ${this.lastError}`, err);
    this.emit('error', err);
  }
}

export function createClient(options: ClientOptions): RampartClient {
  return new RampartClient(options);
}
