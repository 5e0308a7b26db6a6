// The bucket caches of one evaluator share one entry budget: memory is bounded by the budget,
// not by the number of flags times the number of subjects, and no result changes.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUCKET_CACHE_SIZE, createEvaluator, evaluate, type Flag } from '@rampart/core';
import { BucketBudget, BucketCache } from '../src/evaluator.js';

const flags: Flag[] = Array.from({ length: 200 }, (_, i) => ({
  key: `team_${i % 7}_feature_${i}`,
  enabled: true,
  rolloutBasisPoints: (i * 53) % 10_001,
  allowlist: [`vip-${i}`],
}));

describe('bucket cache budget shared by every salt', () => {
  it('holds at most bucketCacheSize entries over 200 flags × 2 000 subjects, with unchanged results', () => {
    const budget = 10_000;
    const ev = createEvaluator({ bucketCacheSize: budget });
    const plain = createEvaluator({ bucketCacheSize: 0 });
    let peak = 0;
    let differ = 0;
    // Each flag sees a steady population of 2 000 subjects (so every cache stays active), two
    // rounds each: 400 000 distinct (salt, subject) pairs, 40 × the budget.
    for (let round = 0; round < 2; round++) {
      for (const flag of flags) {
        for (let i = 0; i < 2_000; i++) {
          const id = `subject-${i}`;
          const r = ev.evaluate(flag, { id });
          if (r.bucket !== plain.evaluate(flag, { id }).bucket) differ++;
          if (i % 499 === 0) expect(r).toEqual(evaluate(flag, { id }));
        }
        peak = Math.max(peak, ev.cachedBuckets());
      }
    }
    expect(differ).toBe(0);
    expect(peak).toBeGreaterThan(budget / 2); // it did cache…
    expect(peak).toBeLessThanOrEqual(budget); // …within one budget for all 200 flags
    expect(plain.cachedBuckets()).toBe(0);
  });

  it('keeps a single busy flag cached when many flags share the budget', () => {
    const ev = createEvaluator({ bucketCacheSize: 4_000 });
    const busy = flags[0]!;
    for (let n = 0; n < 20; n++) {
      for (let i = 0; i < 1_000; i++) ev.evaluate(busy, { id: `steady-${i}` });
      // One-off subjects on other flags push the shared budget through several generations.
      for (let i = 0; i < 300; i++) ev.evaluate(flags[1 + ((n * 300 + i) % 199)]!, { id: `once-${n}-${i}` });
    }
    expect(ev.cachedBuckets()).toBeLessThanOrEqual(4_000);
    for (let i = 0; i < 1_000; i++) expect(ev.evaluate(busy, { id: `steady-${i}` })).toEqual(evaluate(busy, { id: `steady-${i}` }));
  });

  it('ages every cache of a budget together and forgets caches that hold nothing', () => {
    const shared = new BucketBudget(100);
    const a = new BucketCache(shared.limit, shared);
    const b = new BucketCache(shared.limit, shared);
    for (let i = 0; i < 60; i++) a.set(`a${i}`, i);
    for (let i = 0; i < 40; i++) b.set(`b${i}`, i);
    expect(shared.entries()).toBe(100);
    b.set('b-next', 1); // the young generations are full: both age, then b-next is young
    expect([a.size, b.size, shared.young]).toEqual([60, 41, 1]);
    expect(a.get('a3')).toBe(3); // found in the old generation, promoted to young
    for (let i = 0; i < 98; i++) b.set(`c${i}`, i); // fills young again (1 + 1 + 98)
    b.set('c-last', 0); // ages again: the first generation is gone
    expect(a.get('a4')).toBe(-1);
    expect(a.get('a3')).toBe(3);
    expect(shared.entries()).toBeLessThanOrEqual(2 * shared.limit);
    shared.age();
    shared.age();
    expect(shared.holding.size).toBe(0);
    expect(shared.entries()).toBe(0);
  });

  it('defaults to one budget of DEFAULT_BUCKET_CACHE_SIZE entries', () => {
    const ev = createEvaluator();
    for (const flag of flags.slice(0, 50)) for (let i = 0; i < 3_000; i++) ev.evaluate(flag, { id: `u${i}` });
    expect(ev.cachedBuckets()).toBeLessThanOrEqual(DEFAULT_BUCKET_CACHE_SIZE);
    expect(ev.cachedBuckets()).toBeGreaterThan(0);
  });
});
