import { prepareSalt, type BucketSalt } from './bucket.js';
import { sha256Head32 } from './sha256.js';
import {
  BUCKET_COUNT,
  envVarName,
  parseOverride,
  type EvaluationContext,
  type EvaluationResult,
  type Flag,
} from './model.js';
import {
  applyRules,
  generalError,
  invalidFlag,
  notFound,
  validateFlagShape,
  type EnvSource,
  type RuleInputs,
} from './evaluate.js';

export interface EvaluatorOptions {
  /** Env variables for `FEATURE_<KEY_UPPER>`; read once per flag key, as a process's env is fixed. */
  readonly env?: EnvSource;
  /** Subjects whose bucket is remembered per salt. Default 10 000; 0 turns the cache off. */
  readonly bucketCacheSize?: number;
}

export interface Evaluator {
  evaluate(flag: Flag | undefined | null, context: EvaluationContext | undefined | null, defaultValue?: boolean): EvaluationResult;
  /** The subject's bucket for this flag (0..9 999). */
  bucket(flag: Flag, subjectId: string): number;
}

interface Prepared extends RuleInputs {
  readonly invalid: string | undefined;
}

/**
 * An evaluator for hot paths (the server and the SDK). Same rules as `evaluate`, plus:
 * each flag object is prepared once (allowlist as a Set, salt pre-encoded, env switch read),
 * and recent subjects' buckets are remembered, so a busy service with a steady population of
 * users pays for SHA-256 once per user, not once per request.
 */
export function createEvaluator(options: EvaluatorOptions = {}): Evaluator {
  const env = options.env;
  const cacheSize = options.bucketCacheSize ?? 10_000;
  // Keyed by identity: a flag is an immutable value, a new version is a new object.
  const prepared = new WeakMap<Flag, Prepared>();
  const overrides = new Map<string, boolean | undefined>();
  const bucketCaches = new Map<string, TwoGenerationCache>();

  function overrideFor(key: string): boolean | undefined {
    if (!env) return undefined;
    if (!overrides.has(key)) overrides.set(key, parseOverride(env[envVarName(key)]));
    return overrides.get(key);
  }

  function cachedBucket(saltText: string, salt: BucketSalt, id: string): number {
    if (cacheSize <= 0) return sha256Head32(salt, id) % BUCKET_COUNT;
    let cache = bucketCaches.get(saltText);
    if (cache === undefined) {
      cache = new TwoGenerationCache(cacheSize);
      bucketCaches.set(saltText, cache);
    }
    let b = cache.get(id);
    if (b === undefined) {
      b = sha256Head32(salt, id) % BUCKET_COUNT;
      cache.set(id, b);
    }
    return b;
  }

  function prepare(flag: Flag): Prepared {
    let p = prepared.get(flag);
    if (p !== undefined) return p;
    const invalid = validateFlagShape(flag);
    if (invalid) {
      p = { invalid, override: undefined, inAllowlist: () => false, bucketOf: () => 0 };
    } else {
      const allow = new Set(flag.allowlist);
      const saltText = flag.salt ?? flag.key;
      const salt = prepareSalt(saltText);
      p = {
        invalid,
        override: overrideFor(flag.key),
        inAllowlist: (id) => allow.has(id),
        bucketOf: (id) => cachedBucket(saltText, salt, id),
      };
    }
    prepared.set(flag, p);
    return p;
  }

  return {
    evaluate(flag, context, defaultValue = false) {
      try {
        if (flag == null) return notFound(defaultValue);
        const p = prepare(flag);
        if (p.invalid) return invalidFlag(defaultValue, p.invalid);
        return applyRules(flag, context, p);
      } catch (err) {
        return generalError(defaultValue, err);
      }
    },
    bucket(flag, subjectId) {
      return prepare(flag).bucketOf(subjectId);
    },
  };
}

/**
 * A bounded map with O(1) eviction: entries live in a young and an old generation; when the
 * young one fills up, the old one is dropped whole. Recently used ids survive, and a stream of
 * never-repeating ids costs no more than a plain Map insert.
 */
class TwoGenerationCache {
  private young = new Map<string, number>();
  private old = new Map<string, number>();
  constructor(private readonly limit: number) {}

  get(id: string): number | undefined {
    const hit = this.young.get(id);
    if (hit !== undefined) return hit;
    const aged = this.old.get(id);
    if (aged !== undefined) this.set(id, aged);
    return aged;
  }

  set(id: string, bucket: number): void {
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(id, bucket);
  }
}
