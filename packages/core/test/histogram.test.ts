import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HISTOGRAM_BUCKETS,
  HISTOGRAM_LAYOUT,
  addToHistogram,
  histogramBucket,
  histogramBucketValue,
  histogramCount,
  histogramQuantile,
  mergeHistograms,
  type Histogram,
} from '@rampart/core';

/** Exact nearest-rank quantile of raw samples: the reference the estimate is judged against. */
function exactQuantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

const build = (samples: number[]) => {
  const h: Histogram = {};
  for (const s of samples) addToHistogram(h, s);
  return h;
};

describe('the shared histogram layout', () => {
  it('states a 2 % relative error over 0.01 … 10 000 000 in a few hundred buckets', () => {
    expect(HISTOGRAM_LAYOUT).toMatchObject({ version: 1, relativeError: 0.02, min: 0.01, max: 1e7 });
    expect(HISTOGRAM_BUCKETS).toBeGreaterThan(500);
    expect(HISTOGRAM_BUCKETS).toBeLessThan(600);
  });

  it('puts every value in a bucket whose reported value is within the stated error', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e7, noNaN: true }), (v) => {
        const reported = histogramBucketValue(histogramBucket(v));
        expect(Math.abs(reported - v) / v).toBeLessThanOrEqual(HISTOGRAM_LAYOUT.relativeError + 1e-9);
      }),
      { numRuns: 20_000 },
    );
  });

  it('estimates p50, p95 and p99 of random samples within the stated relative error of the exact values', () => {
    const distributions = {
      lognormal: () => Math.exp(4 + 1.2 * gaussian()),
      uniform: () => 1 + Math.random() * 5000,
      bimodal: () => (Math.random() < 0.9 ? 20 + Math.random() * 10 : 800 + Math.random() * 400),
      heavyTail: () => 5 / Math.pow(Math.random(), 1.5),
    };
    for (const [name, draw] of Object.entries(distributions)) {
      for (let trial = 0; trial < 5; trial++) {
        const samples = Array.from({ length: 5000 }, () => Math.min(1e7, Math.max(0.01, draw())));
        const h = build(samples);
        for (const q of [0.5, 0.95, 0.99]) {
          const exact = exactQuantile(samples, q);
          const estimate = histogramQuantile(h, q)!;
          expect(Math.abs(estimate - exact) / exact, `${name} q=${q}`).toBeLessThanOrEqual(HISTOGRAM_LAYOUT.relativeError + 1e-9);
        }
      }
    }
  });

  it('merges by addition: the merge of parts equals the histogram of the whole', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 300 }), fc.nat(300), (samples, cut) => {
        const whole = build(samples);
        const merged = mergeHistograms(build(samples.slice(0, cut)), build(samples.slice(cut)));
        expect(merged).toEqual(whole);
        expect(histogramCount(merged)).toBe(samples.length);
      }),
    );
  });

  it('has no percentile for no data, and puts zero and negatives in bucket 0', () => {
    expect(histogramQuantile({}, 0.95)).toBeUndefined();
    expect(histogramBucket(0)).toBe(0);
    expect(histogramBucket(-3)).toBe(0);
    expect(histogramBucket(Number.NaN)).toBe(0);
    expect(histogramBucket(1e12)).toBe(HISTOGRAM_BUCKETS - 1);
  });
});

function gaussian(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}
