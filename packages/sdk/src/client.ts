import { COHORTS, cohortOf, createEvaluator, type Cohort, type EvaluationContext, type EvaluationResult, type Flag, type Reason } from '@rampart/core';
import { parseConfig, type SdkConfig } from './config.js';
import { Emitter } from './emitter.js';
import { newExposureCounts, type ExposureCounts } from './exposure-counts.js';
import { createReporter, type Reporter } from './reporter.js';
import { startSync } from './sync.js';
import { fetchTransport } from './transport/fetch.js';
// node:http in Node, fetch elsewhere (package.json "imports"): browser bundles never see node:http.
import { platformTransport } from '#stream-transport';
import { TOKEN_REFUSED, type ClientEvents, type ClientOptions, type ClientState, type ClientStatus, type FlagResult } from './client-types.js';

export { TOKEN_REFUSED, type ClientEvents, type ClientOptions, type ClientState, type ClientStatus, type ConfigStorage, type FlagResult } from './client-types.js';

/** A flag of the config in use, with its exposure counts (no lookup per call). */
class FlagEntry {
  constructor(
    readonly flag: Flag,
    /** Null until the flag's first exposure; counts nobody reads with `reportExposures: false`. */
    public exposures: ExposureCounts | null,
  ) {}
}

/**
 * Results off the hot path. `evaluate` writes the same literal out: the same seven properties in
 * the same order, so every result has one hidden class.
 */
function flagResult(
  flag: string,
  value: boolean,
  reason: Reason,
  errorCode: string | undefined,
  bucket: number | undefined,
  version: number | undefined,
  cohort: Cohort,
): FlagResult {
  return { flag, value, reason, errorCode, bucket, version, cohort };
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
  private flags = new Map<string, FlagEntry>();
  private lastKey: string | undefined;
  private lastEntry: FlagEntry | undefined;
  private config: SdkConfig | undefined;
  private source: ClientStatus['source'] = 'none';
  private connection: ClientStatus['connection'] = 'connecting';
  private lastSyncAt: number | undefined;
  private lastError: string | undefined;
  private wasStale = false;
  /** Until `ready` resolves: the status is built once, not on every config installed after it. */
  private resolveReady: ((s: ClientStatus) => void) | undefined;
  private readonly evaluator;
  private readonly reporter: Reporter;
  private readonly sync;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private staleTimer: ReturnType<typeof setInterval>;
  /** Whether anyone listens to `evaluation`: checked on every evaluation, so a field, not a lookup. */
  private emitsEvaluations = false;
  /**
   * Where evaluations count exposures when they are not reported: a sink nobody reads, so that
   * `evaluate` has no branch on the option. Null when reporting: each flag gets its own counts.
   */
  private readonly uncounted: ExposureCounts | null;

  constructor(private readonly options: ClientOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    this.uncounted = (options.reportExposures ?? true) ? null : newExposureCounts();
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.evaluator = createEvaluator({
      env: options.env ?? defaultEnv(),
      ...(options.bucketCacheSize === undefined ? {} : { bucketCacheSize: options.bucketCacheSize }),
    });
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
        // An application's own fetch (a proxy, a test double) carries the stream too.
        openStream: options.fetch ? fetchTransport(options.fetch) : platformTransport,
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
  evaluate(key: string, context: EvaluationContext, defaultValue?: boolean): FlagResult {
    // Only the common case is here, and no step of it can throw (the evaluator catches its own
    // errors), so there is no try/catch: this stays small enough for V8 to inline it, with the
    // evaluator, into its callers. The result is built last and only returned, so a caller
    // that reads a field of it (`.value`) often gets no allocation at all; it must not be
    // passed to a call on the way (V8 would then allocate it on every path).
    const entry = key === this.lastKey ? this.lastEntry : this.entryOf(key);
    if (entry === undefined) return this.unknown(key, defaultValue);
    // The evaluator applies the default itself (undefined: false) on an ERROR.
    const r = this.evaluator.evaluate(entry.flag, context, defaultValue);
    // The cohort's slot in COHORTS (cohortOf, written out: V8 counts every inlined function
    // against one budget, and this path must stay within it with the evaluator).
    const reason = r.reason;
    const slot = reason === 'ROLLOUT' ? 0 : reason === 'NOT_IN_ROLLOUT' ? 1 : reason === 'ALLOWLIST' ? 2 : 3;
    const counts = entry.exposures;
    if (counts === null || this.emitsEvaluations) return this.reported(entry, key, r, slot);
    counts[slot]!++;
    // flagResult written out too: the same seven properties in the same order, one hidden class.
    return { flag: key, value: r.value, reason, errorCode: r.errorCode, bucket: r.bucket, version: entry.flag.version, cohort: COHORTS[slot]! };
  }

  private entryOf(key: string): FlagEntry | undefined {
    const entry = this.flags.get(key);
    this.lastKey = key;
    this.lastEntry = entry;
    return entry;
  }

  /** A flag not in the config, or no config yet. */
  private unknown(key: string, defaultValue = false): FlagResult {
    const result = this.config
      ? flagResult(key, defaultValue, 'FLAG_NOT_FOUND', 'FLAG_NOT_FOUND', undefined, undefined, 'off')
      : flagResult(key, defaultValue, 'ERROR', 'NOT_READY', undefined, undefined, 'off');
    if (this.emitsEvaluations) this.emit('evaluation', result);
    return result;
  }

  /**
   * The uncommon end of `evaluate`: the flag's first exposure (from then on it is counted in
   * place, in counts the reporter folds into per-minute aggregates), an exposure with a custom
   * clock (which must be read per exposure, so every one comes here), and `evaluation`
   * listeners.
   */
  private reported(entry: FlagEntry, key: string, r: EvaluationResult, slot: number): FlagResult {
    const result = flagResult(key, r.value, r.reason, r.errorCode, r.bucket, entry.flag.version, COHORTS[slot]!);
    try {
      if (entry.exposures !== null) {
        entry.exposures[slot]!++;
      } else {
        const counts = this.reporter.exposureCounts(entry.flag.key);
        if (counts === undefined) {
          this.reporter.exposure(entry.flag.key, COHORTS[slot]!);
        } else {
          entry.exposures = counts;
          counts[slot]!++;
        }
      }
    } catch (err) {
      // A custom clock is the application's code: evaluation must not throw.
      this.fail(err);
    }
    if (this.emitsEvaluations) this.emit('evaluation', result);
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
        const flag = this.flags.get(key)?.flag;
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
    const next = new Map(config.flags.map((f) => [f.key, new FlagEntry(f, this.uncounted)]));
    this.flags = next;
    this.lastKey = undefined;
    this.lastEntry = undefined;
    // Counts of flags no longer in the config are reported and let go (bounded memory).
    this.reporter.retainExposureCounts(next);
    this.config = config;
    this.source = source;
    if (source === 'server') this.lastSyncAt = this.now();
    const changed: string[] = [];
    for (const [key, { flag: f }] of next) {
      const before = previous.get(key)?.flag;
      if (!before || before.version !== f.version || JSON.stringify(before) !== JSON.stringify(f)) {
        changed.push(key);
        this.emit('changed', { key, version: f.version, previousVersion: before?.version });
      }
    }
    for (const [key, { flag: f }] of previous) {
      if (!next.has(key)) {
        changed.push(key);
        this.emit('changed', { key, version: undefined, previousVersion: f.version });
      }
    }
    this.emit('update', { etag: config.etag, keys: changed });
    if (this.resolveReady) {
      this.resolveReady(this.status());
      this.resolveReady = undefined;
    }
    if (changed.length || previous.size === 0) this.emitReadyOnce();
  }

  protected override listenersChanged(event: keyof ClientEvents, count: number): void {
    if (event === 'evaluation') this.emitsEvaluations = count > 0;
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
