/**
 * The one histogram layout for distributions (latency, time-to-match, …), shared by the SDK
 * and the server so histograms merge by adding counts bucket by bucket.
 *
 * Log-scale buckets in the style of DDSketch: bucket i ≥ 2 holds (MIN·γ^(i-2), MIN·γ^(i-1)],
 * with γ = (1 + α) / (1 − α). Reporting 2·lower·γ/(1 + γ) for a bucket is within a relative
 * error α of every value in it, so any percentile estimated from the buckets is within α of
 * the exact sample percentile (same rank), for values between MIN and MAX.
 * Bucket 0 holds values ≤ 0, bucket 1 values in (0, MIN]; the last bucket also takes
 * everything above MAX (percentiles that land there report MAX, flagged as clamped).
 */
export const HISTOGRAM_LAYOUT = Object.freeze({
  version: 1,
  /** Relative error of a percentile estimate, for values in [MIN, MAX]. */
  relativeError: 0.02,
  min: 0.01,
  max: 1e7,
});

const ALPHA = HISTOGRAM_LAYOUT.relativeError;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
const LOG_BUCKETS = Math.ceil(Math.log(HISTOGRAM_LAYOUT.max / HISTOGRAM_LAYOUT.min) / LOG_GAMMA);
/** Number of buckets, indices 0 .. HISTOGRAM_BUCKETS − 1. */
export const HISTOGRAM_BUCKETS = LOG_BUCKETS + 2;

/** Sparse histogram: bucket index → count. Only non-empty buckets are present. */
export type Histogram = Record<number, number>;

export function histogramBucket(value: number): number {
  if (!(value > 0)) return 0;
  if (value <= HISTOGRAM_LAYOUT.min) return 1;
  const i = Math.ceil(Math.log(value / HISTOGRAM_LAYOUT.min) / LOG_GAMMA - 1e-9);
  return Math.min(HISTOGRAM_BUCKETS - 1, i + 1);
}

/** The value reported for a bucket: within α of anything the bucket holds. */
export function histogramBucketValue(index: number): number {
  if (index <= 0) return 0;
  if (index === 1) return HISTOGRAM_LAYOUT.min;
  const upper = HISTOGRAM_LAYOUT.min * Math.pow(GAMMA, index - 1);
  return Math.min(HISTOGRAM_LAYOUT.max, (2 * upper) / (1 + GAMMA));
}

export function addToHistogram(h: Histogram, value: number, count = 1): void {
  const i = histogramBucket(value);
  h[i] = (h[i] ?? 0) + count;
}

/** Adds `from` into `into` (merging is addition: order and grouping do not matter). */
export function mergeHistograms(into: Histogram, from: Readonly<Histogram>): Histogram {
  for (const k in from) {
    const i = Number(k);
    into[i] = (into[i] ?? 0) + from[k]!;
  }
  return into;
}

export function histogramCount(h: Readonly<Histogram>): number {
  let n = 0;
  for (const k in h) n += h[k]!;
  return n;
}

/**
 * The q-quantile (0 < q ≤ 1) by the nearest-rank rule: the value at rank ⌈q·n⌉ of the sorted
 * samples. Undefined for an empty histogram: no data is never a number.
 */
export function histogramQuantile(h: Readonly<Histogram>, q: number): number | undefined {
  const n = histogramCount(h);
  if (n === 0 || !(q > 0 && q <= 1)) return undefined;
  const rank = Math.max(1, Math.ceil(q * n));
  const indices = Object.keys(h)
    .map(Number)
    .sort((a, b) => a - b);
  let seen = 0;
  for (const i of indices) {
    seen += h[i]!;
    if (seen >= rank) return histogramBucketValue(i);
  }
  return histogramBucketValue(indices[indices.length - 1]!);
}

/** Share of the histogram's samples strictly above `threshold`, by whole buckets. */
export function histogramShareAbove(h: Readonly<Histogram>, threshold: number): number | undefined {
  const n = histogramCount(h);
  if (n === 0) return undefined;
  const cut = histogramBucket(threshold);
  let above = 0;
  for (const k in h) if (Number(k) > cut) above += h[k]!;
  return above / n;
}
