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
  return sha256Head32(prepared, subjectId) % BUCKET_COUNT;
}
