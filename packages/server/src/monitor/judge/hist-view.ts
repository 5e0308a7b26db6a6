import { histogramBucket, histogramBucketValue, type Histogram } from '@rampart/core';

/**
 * A histogram sorted once, for the many quantile and tail-count questions the percentile judge
 * asks of it. Same answers as core's histogramQuantile (nearest rank ⌈q·n⌉) and
 * histogramShareAbove (whole buckets strictly above the threshold's bucket), without re-sorting
 * the sparse object per question (monitor-judge.test.ts checks the equivalence).
 */
export class HistView {
  readonly n: number;
  private readonly idx: number[];
  private readonly cnt: number[];

  constructor(h: Readonly<Histogram>) {
    this.idx = Object.keys(h)
      .map(Number)
      .sort((a, b) => a - b);
    this.cnt = this.idx.map((i) => h[i]!);
    this.n = this.cnt.reduce((a, b) => a + b, 0);
  }

  /** Pools two views (bucket counts add). */
  static merge(a: HistView, b: HistView): HistView {
    const h: Histogram = {};
    for (const v of [a, b]) for (let j = 0; j < v.idx.length; j++) h[v.idx[j]!] = (h[v.idx[j]!] ?? 0) + v.cnt[j]!;
    return new HistView(h);
  }

  /** Nearest-rank q-quantile; null when empty. */
  quantile(q: number): number | null {
    if (this.n === 0 || !(q > 0 && q <= 1)) return null;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let j = 0; j < this.idx.length; j++) {
      seen += this.cnt[j]!;
      if (seen >= rank) return histogramBucketValue(this.idx[j]!);
    }
    return histogramBucketValue(this.idx[this.idx.length - 1]!);
  }

  /** Observations in buckets strictly above the bucket of `threshold`. */
  countAbove(threshold: number): number {
    const cut = histogramBucket(threshold);
    let above = 0;
    for (let j = this.idx.length - 1; j >= 0 && this.idx[j]! > cut; j--) above += this.cnt[j]!;
    return above;
  }
}
