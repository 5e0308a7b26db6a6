import { BUCKET_COUNT } from './model.js';
import { preparePrefix, sha256Head32, type HashPrefix } from './sha256.js';

/** A flag's salt, pre-encoded for bucketing (`salt + ':'`). */
export type BucketSalt = HashPrefix;

export function prepareSalt(salt: string): BucketSalt {
  return preparePrefix(salt + ':');
}

/**
 * `sha256-v1`: uint32_be(SHA-256(UTF-8(salt + ":" + subjectId))[0..4]) mod 10 000.
 * Deterministic across processes, languages and restarts.
 */
export function bucketOf(salt: string | BucketSalt, subjectId: string): number {
  const prepared = typeof salt === 'string' ? prepareSalt(salt) : salt;
  return sha256Head32(prepared, subjectId) % BUCKET_COUNT;
}
