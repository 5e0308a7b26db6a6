import { BUCKET_COUNT } from './model.js';
import { preparePrefix, sha256Head32, type HashPrefix } from './sha256.js';

/** A flag's salt, pre-encoded for bucketing (`salt + ':'`, with its SHA-256 midstate). */
export type BucketSalt = HashPrefix;

export function prepareSalt(salt: string): BucketSalt {
  return preparePrefix(salt + ':');
}

// Preparing a salt costs about as much as hashing a subject; callers of `bucketOf` and
// `evaluate` with a salt string usually repeat the same salt, so keep the last one.
let lastSalt: string | undefined;
let lastPrepared: BucketSalt | undefined;

/**
 * `sha256-v1`: uint32_be(SHA-256(UTF-8(salt + ":" + subjectId))[0..4]) mod 10 000.
 * Deterministic across processes, languages and restarts.
 */
export function bucketOf(salt: string | BucketSalt, subjectId: string): number {
  let prepared: BucketSalt;
  if (typeof salt !== 'string') prepared = salt;
  else if (salt === lastSalt) prepared = lastPrepared!;
  else {
    prepared = prepareSalt(salt);
    lastSalt = salt;
    lastPrepared = prepared;
  }
  return bucketOfHead(sha256Head32(prepared, subjectId));
}

/**
 * The bucket of a hash head (an unsigned 32-bit number). `| 0` keeps it a small integer (Smi):
 * `%` of a head above 2^31 otherwise yields a boxed double in unoptimized code, and one boxed
 * bucket stored in a shared rollout result makes every result's `bucket` field a double, so
 * each read and copy of it (the SDK's result) goes through a heap box.
 */
export function bucketOfHead(head: number): number {
  return (head % BUCKET_COUNT) | 0;
}
