import { bucketOfHead, prepareSalt, type BucketSalt } from './bucket.js';
import { sha256Head32 } from './sha256.js';
import {
  BUCKET_COUNT,
  DEFAULT_STICKINESS,
  envVarName,
  parseOverride,
  type EvaluationContext,
  type EvaluationResult,
  type Flag,
} from './model.js';
import {
  ALLOWLISTED,
  DISABLED,
  NO_SUBJECT,
  generalError,
  invalidFlag,
  notFound,
  subjectIdOf,
  validateFlagShape,
  type EnvSource,
} from './evaluate.js';

export interface EvaluatorOptions {
  /** Env variables for `FEATURE_<KEY_UPPER>`; read once per flag key, as a process's env is fixed. */
  readonly env?: EnvSource;
  /**
   * Subjects' buckets remembered, across every salt (flag) together: one budget, so memory does
   * not grow with the number of flags. Default 50 000 (about 2 MiB); 0 turns the cache off.
   */
  readonly bucketCacheSize?: number;
}

export interface Evaluator {
  evaluate(flag: Flag | undefined | null, context: EvaluationContext | undefined | null, defaultValue?: boolean): EvaluationResult;
  /** The subject's bucket (0..9 999). */
  bucket(flag: Flag, subjectId: string): number;
  /** Buckets the cache holds now, over every salt (at most `bucketCacheSize`); for monitoring. */
  cachedBuckets(): number;
}

/**
 * Everything the rule table needs from one flag object, computed once. A class, so every
 * prepared flag has the same hidden class and the hot path's property loads stay monomorphic;
 * plain data instead of closures also lets V8 inline the whole rule table into `evaluate`.
 */
class PreparedFlag {
  constructor(
    /** Why the flag cannot be evaluated (then `fixed` is INVALID). */
    readonly invalid: string | undefined,
    /**
     * The result when it does not depend on the subject (steps 1–3: an invalid flag, the env
     * master switch, the kill switch), decided once: the hot path tests one field for all three.
     */
    readonly fixed: EvaluationResult | undefined,
    readonly rolloutBasisPoints: number,
    /** null when empty, which is the common case: no Set probe at all. */
    readonly allow: ReadonlySet<string> | null,
    readonly stickiness: string,
    readonly salt: BucketSalt | null,
    readonly cache: BucketCache | null,
  ) {}
}

const OVERRIDE_ON: EvaluationResult = Object.freeze({ value: true, reason: 'OVERRIDE' });
const OVERRIDE_OFF: EvaluationResult = Object.freeze({ value: false, reason: 'OVERRIDE' });
/** `fixed` of an invalid flag: its result carries the caller's default, so it is made per call. */
const INVALID: EvaluationResult = Object.freeze({ value: false, reason: 'ERROR', errorCode: 'INVALID_FLAG' });

/**
 * Rollout results are values decided by (bucket, in or out), so there are only 20 000 of them:
 * each is created once, frozen and shared (like DISABLED and friends), which makes the hot path
 * allocation-free. A fresh result per call was about a tenth of an evaluation, most of it GC.
 */
const IN_ROLLOUT: (EvaluationResult | undefined)[] = new Array<EvaluationResult | undefined>(BUCKET_COUNT).fill(undefined);
const NOT_IN_ROLLOUT: (EvaluationResult | undefined)[] = new Array<EvaluationResult | undefined>(BUCKET_COUNT).fill(undefined);

function rolloutResult(bucket: number, rolloutBasisPoints: number): EvaluationResult {
  const r = bucket < rolloutBasisPoints ? IN_ROLLOUT[bucket] : NOT_IN_ROLLOUT[bucket];
  return r !== undefined ? r : newRolloutResult(bucket, rolloutBasisPoints);
}

function newRolloutResult(bucket: number, rolloutBasisPoints: number): EvaluationResult {
  if (bucket < rolloutBasisPoints) {
    return (IN_ROLLOUT[bucket] = Object.freeze({ value: true, reason: 'ROLLOUT', bucket }));
  }
  return (NOT_IN_ROLLOUT[bucket] = Object.freeze({ value: false, reason: 'NOT_IN_ROLLOUT', bucket }));
}

/** Subjects' buckets an evaluator remembers across all salts unless told otherwise. */
export const DEFAULT_BUCKET_CACHE_SIZE = 50_000;

/**
 * An evaluator for hot paths (the server and the SDK). Same rules as `evaluate` (design §3),
 * plus: each flag object is prepared once (allowlist as a Set, salt pre-hashed into a SHA-256
 * midstate, env switch read), and recent subjects' buckets are remembered, so a busy service
 * with a steady population of users pays for SHA-256 once per user, not once per request.
 */
export function createEvaluator(options: EvaluatorOptions = {}): Evaluator {
  const env = options.env;
  const cacheSize = options.bucketCacheSize ?? DEFAULT_BUCKET_CACHE_SIZE;
  // Young and old generations together stay within the budget, so each gets half of it.
  const budget = cacheSize > 0 ? new BucketBudget(Math.max(1, Math.floor(cacheSize / 2))) : null;
  // Keyed by identity: a flag is an immutable value, a new version is a new object.
  const prepared = new WeakMap<Flag, PreparedFlag>();
  const overrides = new Map<string, boolean | undefined>();
  const bucketCaches = new Map<string, BucketCache>();
  // Most callers evaluate the same flag object many times in a row: skip the WeakMap then.
  let lastFlag: Flag | undefined;
  let lastPrepared: PreparedFlag | undefined;

  function overrideFor(key: string): boolean | undefined {
    if (!env) return undefined;
    if (!overrides.has(key)) overrides.set(key, parseOverride(env[envVarName(key)]));
    return overrides.get(key);
  }

  function cacheFor(saltText: string): BucketCache | null {
    if (budget === null) return null;
    let cache = bucketCaches.get(saltText);
    if (cache === undefined) {
      cache = new BucketCache(budget.limit, budget);
      bucketCaches.set(saltText, cache);
    }
    return cache;
  }

  // The hot path's helpers keep their common case small and call out for the rest: V8 inlines
  // a call chain only while its bytecode fits a budget (920 bytes), and an evaluator that fits
  // can be inlined whole into its caller (the SDK's `evaluate`, and that into its own callers).

  function prepare(flag: Flag): PreparedFlag {
    return flag === lastFlag ? lastPrepared! : prepareNew(flag);
  }

  function prepareNew(flag: Flag): PreparedFlag {
    let p = prepared.get(flag);
    if (p === undefined) {
      const invalid = validateFlagShape(flag);
      if (invalid) {
        p = new PreparedFlag(invalid, INVALID, 0, null, DEFAULT_STICKINESS, null, null);
      } else {
        const override = overrideFor(flag.key);
        const saltText = flag.salt ?? flag.key;
        p = new PreparedFlag(
          undefined,
          // The env switch comes before the kill switch (design §3).
          override === undefined ? (flag.enabled ? undefined : DISABLED) : override ? OVERRIDE_ON : OVERRIDE_OFF,
          flag.rolloutBasisPoints,
          flag.allowlist.length > 0 ? new Set(flag.allowlist) : null,
          flag.stickiness ?? DEFAULT_STICKINESS,
          prepareSalt(saltText),
          cacheFor(saltText),
        );
      }
      // Not a WeakMap key (a primitive): evaluate() reports it as INVALID_FLAG, so do we.
      if (typeof flag === 'object' || typeof flag === 'function') prepared.set(flag, p);
    }
    lastFlag = flag;
    lastPrepared = p;
    return p;
  }

  function bucketFor(p: PreparedFlag, id: string): number {
    const cache = p.cache;
    if (cache !== null) {
      const b = cache.get(id);
      if (b >= 0) return b;
    }
    return hashBucket(p, id);
  }

  /** A bucket the cache did not have: hashed, and remembered (if the cache is on). */
  function hashBucket(p: PreparedFlag, id: string): number {
    const b = bucketOfHead(sha256Head32(p.salt!, id));
    if (p.cache !== null) p.cache.set(id, b);
    return b;
  }

  return {
    evaluate(flag, context, defaultValue) {
      try {
        if (flag == null) return notFound(defaultValue);
        const p = prepare(flag);
        // The rule table of design §3, steps 2–7; evaluate.ts's applyRules is the reference.
        const fixed = p.fixed;
        if (fixed !== undefined) return fixed === INVALID ? invalidFlag(defaultValue, p.invalid!) : fixed;
        const id = subjectIdOf(context, p.stickiness);
        if (id === undefined) return NO_SUBJECT;
        const allow = p.allow;
        if (allow !== null && allow.has(id)) return ALLOWLISTED;
        return rolloutResult(bucketFor(p, id), p.rolloutBasisPoints);
      } catch (err) {
        return generalError(defaultValue, err);
      }
    },
    bucket(flag, subjectId) {
      const p = prepare(flag);
      return p.salt === null ? 0 : bucketFor(p, subjectId); // an invalid flag has no buckets
    },
    cachedBuckets: () => (budget === null ? 0 : budget.entries()),
  };
}

/**
 * The entry budget the bucket caches of one evaluator share. A budget per salt made memory grow
 * with the number of flags (200 flags × 10 000 active subjects held 88 MiB); here every salt's
 * young generation counts against one limit, and when the young generations together reach it,
 * every cache ages at once (young becomes old, old is dropped). So all caches together hold at
 * most 2 × `limit` entries. Aging visits only the caches that hold something, and each of them
 * holds at least one of the ≤ 2 × `limit` entries, so it costs O(1) per insert, amortised.
 */
export class BucketBudget {
  /** Entries in the young generations of all caches. */
  young = 0;
  /** Caches that hold at least one entry (young or old). */
  readonly holding = new Set<BucketCache>();

  constructor(readonly limit: number) {}

  /** Entries held by every cache together (young and old; an id in both counts twice). */
  entries(): number {
    let n = 0;
    for (const cache of this.holding) n += cache.size;
    return n;
  }

  /** Called when the young generations are full: every cache ages by one generation. */
  age(): void {
    for (const cache of this.holding) cache.age();
    this.young = 0;
  }
}

/**
 * Buckets of recent subjects for one salt: a bounded map with O(1) eviction (entries live in a
 * young and an old generation; when the young generations of all caches sharing a budget fill
 * up, the old ones are dropped whole).
 *
 * It also turns itself off when it does not pay. A stream of never-repeating subjects (a
 * crawler, a batch job, a large population) would otherwise pay a Map insert and a later
 * eviction on every call, for no hit: about a third of an evaluation. So hits are counted over
 * a trial window of twice the young limit (long enough for a population that fits to come round
 * again); under one hit in eight, the cache rests for 32 windows, keeping its content, then
 * tries again (so a never-repeating stream pays for inserts on 3 % of calls). Steady populations
 * keep it on; at worst a shift to a steady population waits one rest period before it is cached
 * again.
 */
export class BucketCache {
  private young = new Map<string, number>();
  private old = new Map<string, number>();
  private readonly window: number;
  private remaining: number;
  private hits = 0;
  private resting = false;
  private held = false;

  /** `limit`: young entries (of this cache alone, unless a shared `budget` is given). */
  constructor(
    limit: number,
    private readonly budget: BucketBudget = new BucketBudget(limit),
  ) {
    this.window = Math.max(2 * limit, 1024);
    this.remaining = this.window;
  }

  /** Whether lookups and inserts currently happen (false while resting). */
  get active(): boolean {
    return !this.resting;
  }

  /** Entries held (young and old). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The subject's cached bucket, or -1: not cached, or the cache is resting. */
  get(id: string): number {
    if (--this.remaining <= 0) this.nextPhase();
    if (this.resting) return -1;
    const hit = this.young.get(id);
    if (hit === undefined) return this.getOld(id);
    this.hits++;
    return hit;
  }

  /** Not young: an old entry is a hit too, and becomes young again. */
  private getOld(id: string): number {
    const aged = this.old.get(id);
    if (aged === undefined) return -1;
    this.hits++;
    this.insert(id, aged);
    return aged;
  }

  set(id: string, bucket: number): void {
    if (!this.resting) this.insert(id, bucket);
  }

  /** One generation older: the old entries are dropped, the young ones become old. */
  age(): void {
    this.old = this.young;
    this.young = new Map();
    if (this.old.size === 0) {
      this.held = false;
      this.budget.holding.delete(this);
    }
  }

  private insert(id: string, bucket: number): void {
    const budget = this.budget;
    if (budget.young >= budget.limit) budget.age();
    const before = this.young.size;
    this.young.set(id, bucket);
    budget.young += this.young.size - before;
    if (!this.held) {
      this.held = true;
      budget.holding.add(this);
    }
  }

  private nextPhase(): void {
    if (!this.resting && this.hits * 8 < this.window) {
      this.resting = true;
      this.remaining = this.window * 32;
    } else {
      this.resting = false;
      this.remaining = this.window;
    }
    this.hits = 0;
  }
}
