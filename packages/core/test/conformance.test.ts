import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bucketOf, createEvaluator, evaluate, type Flag } from '@rampart/core';

interface BucketCase { salt: string; subjectId: string; bucket: number }
interface EvalCase {
  name: string;
  flag: Flag | null;
  context: Record<string, unknown> | null;
  env?: Record<string, string>;
  defaultValue?: boolean;
  expected: { value: boolean; reason: string; bucket?: number; errorCode?: string };
}
const cases = JSON.parse(readFileSync(new URL('./cases.json', import.meta.url), 'utf8')) as {
  specVersion: number;
  hash: string;
  bucketCount: number;
  buckets: BucketCase[];
  evaluations: EvalCase[];
};

/** An independent oracle: Node's own SHA-256. */
function referenceBucket(salt: string, id: string): number {
  return createHash('sha256').update(`${salt}:${id}`, 'utf8').digest().readUInt32BE(0) % 10_000;
}

describe('cases.json', () => {
  it('is spec version 1 with sha256-v1 into 10 000 buckets', () => {
    expect([cases.specVersion, cases.hash, cases.bucketCount]).toEqual([1, 'sha256-v1', 10_000]);
  });

  it('holds the six vectors of design §3', () => {
    const design = cases.buckets.filter((c) => (c as { source?: string }).source === 'design §3');
    expect(design.map((c) => [c.salt, c.subjectId, c.bucket])).toEqual([
      ['passenger_favorites_matching', 'pass_beta_001_2026', 2531],
      ['passenger_favorites_matching', 'pass_beta_005_2026', 2043],
      ['passenger_favorites_matching', 'passenger-42', 5678],
      ['chat', 'user-1', 6738],
      ['chat', 'user-2', 4515],
      ['chat', 'üser-ñ', 9890],
    ]);
  });

  it.each(cases.buckets)('bucket($salt, $subjectId) is $bucket, as Node crypto agrees', (c) => {
    expect(bucketOf(c.salt, c.subjectId)).toBe(c.bucket);
    expect(referenceBucket(c.salt, c.subjectId)).toBe(c.bucket);
  });

  const evaluator = createEvaluator({ env: {} });
  it.each(cases.evaluations)('$name', (c) => {
    const env = c.env ?? {};
    const options = { env, defaultValue: c.defaultValue ?? false };
    const plain = evaluate(c.flag, c.context, options);
    expect(plain).toMatchObject(c.expected);
    const fast = createEvaluator({ env }).evaluate(c.flag, c.context, c.defaultValue ?? false);
    expect(fast).toMatchObject(c.expected);
    if (c.expected.bucket === undefined) expect(plain.bucket).toBeUndefined();
    if (!c.env) expect(evaluator.evaluate(c.flag, c.context, c.defaultValue ?? false)).toEqual(fast);
  });
});
