import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, createEvaluator, evaluate, type Flag } from '@rampart/core';

const flag = (over: Partial<Flag> = {}): Flag => ({
  key: 'passenger_favorites_matching',
  enabled: true,
  rolloutBasisPoints: 1000,
  allowlist: [],
  ...over,
});

describe('sha256-v1 bucketing', () => {
  it('matches Node crypto for arbitrary unicode salts and ids of any length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 120 }), (salt, id) => {
        const ref = createHash('sha256').update(`${salt}:${id}`, 'utf8').digest().readUInt32BE(0) % 10_000;
        expect(bucketOf(salt, id)).toBe(ref);
      }),
      { numRuns: 3000 },
    );
  });

  it('is deterministic: the same subject gets the same bucket every time and from every evaluator', () => {
    const a = createEvaluator();
    const b = createEvaluator({ bucketCacheSize: 0 });
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (id) => {
        const f = flag();
        const first = a.evaluate(f, { id });
        expect(a.evaluate(f, { id })).toEqual(first);
        expect(b.evaluate(f, { id })).toEqual(first);
        expect(evaluate(f, { id })).toEqual(first);
      }),
      { numRuns: 2000 },
    );
  });

  it('is monotone: raising the percentage only adds subjects', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 24 }), { minLength: 50, maxLength: 200 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (ids, x, y) => {
          const [lo, hi] = x <= y ? [x, y] : [y, x];
          const on = (bp: number) => new Set(ids.filter((id) => evaluate(flag({ rolloutBasisPoints: bp }), { id }).value));
          const low = on(lo);
          const high = on(hi);
          for (const id of low) expect(high.has(id)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('puts within ±0.5 percentage points of the target share in the rollout over 100 000 ids', () => {
    const ev = createEvaluator({ bucketCacheSize: 0 });
    for (const pct of [1, 5, 10, 25, 50, 99]) {
      const f = flag({ rolloutBasisPoints: pct * 100 });
      let on = 0;
      for (let i = 0; i < 100_000; i++) if (ev.evaluate(f, { id: `passenger-${i}` }).value) on++;
      expect(Math.abs((on / 100_000) * 100 - pct)).toBeLessThanOrEqual(0.5);
    }
  });

  it('is independent across salts: being in one 10 % rollout says nothing about another', () => {
    const a = flag({ key: 'flag_a' });
    const b = flag({ key: 'flag_b' });
    let inA = 0;
    let inBoth = 0;
    let inB = 0;
    for (let i = 0; i < 100_000; i++) {
      const id = `user-${i}`;
      const x = evaluate(a, { id }).value;
      const y = evaluate(b, { id }).value;
      if (x) inA++;
      if (y) inB++;
      if (x && y) inBoth++;
    }
    // Independent 10 % draws overlap on ~1 % of ids; identical salts would overlap on 10 %.
    expect(inBoth / 100_000).toBeGreaterThan(0.0075);
    expect(inBoth / 100_000).toBeLessThan(0.0125);
    expect(inBoth / inA).toBeCloseTo(inB / 100_000, 1);
  });

  it('changing the salt reshuffles who is in', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) {
      if (bucketOf('chat', `u${i}`) === bucketOf('chat-v2', `u${i}`)) same++;
    }
    expect(same).toBeLessThan(10);
  });
});

describe('evaluate never throws', () => {
  it('returns a result for any flag-like value and any context', () => {
    const anyFlag = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.anything(),
      fc.record({
        key: fc.oneof(fc.string(), fc.integer()),
        enabled: fc.oneof(fc.boolean(), fc.string()),
        rolloutBasisPoints: fc.oneof(fc.integer({ min: -5, max: 10_005 }), fc.double()),
        allowlist: fc.oneof(fc.array(fc.string()), fc.string(), fc.constant(null)),
        salt: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
        stickiness: fc.option(fc.string(), { nil: undefined }),
      }),
    );
    const ev = createEvaluator({ env: { FEATURE_X: 'on' } });
    fc.assert(
      fc.property(anyFlag, fc.anything(), fc.boolean(), (f, ctx, dflt) => {
        const results = [
          evaluate(f as Flag, ctx as Record<string, unknown>, { defaultValue: dflt, env: {} }),
          ev.evaluate(f as Flag, ctx as Record<string, unknown>, dflt),
        ];
        for (const r of results) {
          expect(typeof r.value).toBe('boolean');
          if (r.reason === 'ERROR' || r.reason === 'FLAG_NOT_FOUND') expect(r.value).toBe(dflt);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
