// Seeded simulation of a rollout stage, hour by hour, judged at every hourly checkpoint: the
// harness behind the judge's statistical acceptance tests and bench/watchdog-sim.mjs. Pure.
//
// Traffic is drawn at the level of counts, not requests, so a million requests an hour cost as
// much as a hundred: the exposed/control split is a binomial draw, status classes are binomial
// draws, and a latency histogram is one multinomial draw over the shared histogram buckets with
// the lognormal's probability for each bucket (sequential conditional binomials). Every count
// thus has its exact sampling distribution (normal-approximated above a mean of 30), which is
// what the false-alarm rates depend on: scaling a few thousand draws up would fake the variance.
import { histogramBucket, histogramBucketValue, HISTOGRAM_LAYOUT, mergeHistograms, type Histogram } from '@rampart/core';
import type { CohortSummary } from '../../metrics/summary.js';
import { HistView } from './hist-view.js';
import { judge } from './judge.js';
import { createRng, type Rng } from './prng.js';
import { normalCdf } from './special.js';
import { DEFAULT_THRESHOLDS } from './thresholds.js';
import type { AlertCode, JudgeResult, Severity, Thresholds } from './types.js';

export interface CohortModel {
  /** P(5xx) per request. */
  rate5xx: number;
  /** P(4xx) per request. */
  rate4xx: number;
  /** Lognormal HTTP latency: median (ms) and σ of its log. */
  latencyMedianMs: number;
  latencySigma: number;
  /** Matching attempts per request (a business rate: `matching_success`). */
  matchingPerRequest: number;
  matchingSuccess: number;
  /** Lognormal time-to-match of successful matches (a business distribution: `time_to_match_ms`). */
  timeToMatchMedianMs: number;
  timeToMatchSigma: number;
}

/** A healthy service: 0.5 % 5xx (the checklist's target), p95 ≈ 1.8 s (under its 2 s target). */
export const HEALTHY: CohortModel = Object.freeze({
  rate5xx: 0.005,
  rate4xx: 0.02,
  latencyMedianMs: 800,
  latencySigma: 0.5,
  matchingPerRequest: 0.3,
  matchingSuccess: 0.9,
  timeToMatchMedianMs: 20_000,
  timeToMatchSigma: 0.6,
});

export interface SimScenario {
  id: string;
  title: string;
  /** Eligible requests per hour, exposed + control. */
  requestsPerHour: number;
  /** The rollout: expected exposed share. */
  exposedShare: number;
  /** The share the assignment really produces, if broken (sample-ratio mismatch scenarios). */
  actualShare?: number;
  /** Checkpoints (hours) per stage. */
  hours: number;
  control: CohortModel;
  exposed: CohortModel;
  /** The exposed cohort behaves like control before this hour (a fresh regression). Default 0. */
  onsetHour?: number;
  /** Checkpoints the recent window spans. Default 6. */
  recentHours?: number;
}

/** What one checkpoint decided, kept small: runs × looks of these are held in memory. */
export interface LookTrace {
  verdict: JudgeResult['verdict'];
  decision: JudgeResult['decision'];
  alerts: { code: AlertCode; severity: Severity }[];
  /** The SRM χ² p-value alone (the design's fixed-sample rule), null if skipped. */
  srmChi2P: number | null;
}

interface Acc {
  requests: number;
  s5xx: number;
  s4xx: number;
  latency: Histogram;
  latencySum: number;
  trials: number;
  successes: number;
  ttm: Histogram;
  ttmSum: number;
}

const emptyAcc = (): Acc => ({ requests: 0, s5xx: 0, s4xx: 0, latency: {}, latencySum: 0, trials: 0, successes: 0, ttm: {}, ttmSum: 0 });

/** into += sign · from (sign −1 drops an hour from the rolling recent window). */
function addAcc(into: Acc, from: Acc, sign: 1 | -1 = 1): Acc {
  into.requests += sign * from.requests;
  into.s5xx += sign * from.s5xx;
  into.s4xx += sign * from.s4xx;
  addHistogram(into.latency, from.latency, sign);
  into.latencySum += sign * from.latencySum;
  into.trials += sign * from.trials;
  into.successes += sign * from.successes;
  addHistogram(into.ttm, from.ttm, sign);
  into.ttmSum += sign * from.ttmSum;
  return into;
}

function addHistogram(into: Histogram, from: Histogram, sign: 1 | -1): void {
  if (sign === 1) {
    mergeHistograms(into, from);
    return;
  }
  for (const k in from) {
    const left = (into[k as unknown as number] ?? 0) - from[k as unknown as number]!;
    if (left > 0) into[k as unknown as number] = left;
    else delete into[k as unknown as number];
  }
}

const GAMMA = (1 + HISTOGRAM_LAYOUT.relativeError) / (1 - HISTOGRAM_LAYOUT.relativeError);
const bucketCache = new Map<string, { index: number[]; prob: number[] }>();

/** Probability of each histogram bucket under a lognormal, ±6σ (the tails fold into the end buckets). */
function lognormalBuckets(median: number, sigma: number): { index: number[]; prob: number[] } {
  const key = `${median}:${sigma}`;
  const hit = bucketCache.get(key);
  if (hit) return hit;
  const mu = Math.log(median);
  const first = histogramBucket(Math.exp(mu - 6 * sigma));
  const last = histogramBucket(Math.exp(mu + 6 * sigma));
  const index: number[] = [];
  const prob: number[] = [];
  for (let i = first; i <= last; i++) {
    // Bucket i ≥ 2 holds (MIN·γ^(i−2), MIN·γ^(i−1)] (core/histogram.ts).
    const lo = i === first ? 0 : normalCdf((Math.log(HISTOGRAM_LAYOUT.min) + (i - 2) * Math.log(GAMMA) - mu) / sigma);
    const hi = i === last ? 1 : normalCdf((Math.log(HISTOGRAM_LAYOUT.min) + (i - 1) * Math.log(GAMMA) - mu) / sigma);
    index.push(i);
    prob.push(Math.max(0, hi - lo));
  }
  const out = { index, prob };
  bucketCache.set(key, out);
  return out;
}

/** n lognormal observations as a histogram: one multinomial draw over the buckets. Returns the sum too. */
function drawHistogram(rng: Rng, n: number, median: number, sigma: number): { h: Histogram; sum: number } {
  const { index, prob } = lognormalBuckets(median, sigma);
  const h: Histogram = {};
  let left = n;
  let mass = 1;
  let sum = 0;
  for (let j = 0; j < index.length && left > 0; j++) {
    const k = j === index.length - 1 ? left : rng.binomial(left, Math.min(1, Math.max(0, prob[j]! / mass)));
    mass -= prob[j]!;
    if (k > 0) {
      h[index[j]!] = k;
      left -= k;
      sum += k * histogramBucketValue(index[j]!);
    }
  }
  return { h, sum };
}

function drawHour(rng: Rng, n: number, m: CohortModel): Acc {
  const s5xx = rng.binomial(n, m.rate5xx);
  const s4xx = rng.binomial(n - s5xx, m.rate4xx / (1 - m.rate5xx));
  const latency = drawHistogram(rng, n, m.latencyMedianMs, m.latencySigma);
  const trials = rng.binomial(n, m.matchingPerRequest);
  const successes = rng.binomial(trials, m.matchingSuccess);
  const ttm = drawHistogram(rng, successes, m.timeToMatchMedianMs, m.timeToMatchSigma);
  return { requests: n, s5xx, s4xx, latency: latency.h, latencySum: latency.sum, trials, successes, ttm: ttm.h, ttmSum: ttm.sum };
}

/** As metrics/summary.ts derives them; HistView sorts the buckets once for the three quantiles. */
function percentiles(h: Histogram, sum: number) {
  const v = new HistView(h);
  return { count: v.n, mean: v.n > 0 ? sum / v.n : null, p50: v.quantile(0.5), p95: v.quantile(0.95), p99: v.quantile(0.99), histogram: h };
}

/** The CohortSummary the metrics service would return for these counts (one exposure per request). */
export function toSummary(a: Acc): CohortSummary {
  const n = a.requests;
  return {
    exposures: n,
    requests: n,
    status: { '2xx': n - a.s4xx - a.s5xx, '3xx': 0, '4xx': a.s4xx, '5xx': a.s5xx, '401': 0, '403': 0, '429': 0 },
    errorRate: n > 0 ? (a.s4xx + a.s5xx) / n : null,
    errorRate5xx: n > 0 ? a.s5xx / n : null,
    latencyMs: percentiles(a.latency, a.latencySum),
    metrics: {
      matching_success: { kind: 'rate', count: a.trials, sum: a.successes, rate: a.trials > 0 ? a.successes / a.trials : null },
      time_to_match_ms: { kind: 'distribution', sum: a.ttmSum, ...percentiles(a.ttm, a.ttmSum) },
    },
  };
}

/**
 * Runs one stage: every hour, draw the hour's traffic, then judge the cumulative stage and the
 * recent window as the hourly checkpoint would. Stops early after `maxLooks` checkpoints.
 */
export function simulateStage(s: SimScenario, seed: number, opts: { maxLooks?: number; thresholds?: Thresholds } = {}): LookTrace[] {
  const rng = createRng(seed);
  const recentHours = s.recentHours ?? 6;
  const looks = Math.min(s.hours, opts.maxLooks ?? s.hours);
  const stage = { exposed: emptyAcc(), control: emptyAcc() };
  const recent = { exposed: emptyAcc(), control: emptyAcc() };
  const hours: { exposed: Acc; control: Acc }[] = [];
  const out: LookTrace[] = [];
  for (let hour = 1; hour <= looks; hour++) {
    const ne = rng.binomial(s.requestsPerHour, s.actualShare ?? s.exposedShare);
    const regressed = hour > (s.onsetHour ?? 0);
    const h = { exposed: drawHour(rng, ne, regressed ? s.exposed : s.control), control: drawHour(rng, s.requestsPerHour - ne, s.control) };
    hours.push(h);
    addAcc(stage.exposed, h.exposed);
    addAcc(stage.control, h.control);
    // Rolling window: add this hour, drop the one that left it.
    addAcc(recent.exposed, h.exposed);
    addAcc(recent.control, h.control);
    const gone = hours[hours.length - 1 - recentHours];
    if (gone) {
      addAcc(recent.exposed, gone.exposed, -1);
      addAcc(recent.control, gone.control, -1);
    }
    const result = judge({
      expectedExposedShare: s.exposedShare,
      // The judge is synchronous and keeps nothing, so the live accumulators need no copy.
      stage: { exposed: toSummary(stage.exposed), control: toSummary(stage.control) },
      recent: { exposed: toSummary(recent.exposed), control: toSummary(recent.control), hours: recentHours },
      thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS,
      gates: { determinismFailures: 0, drift: [] },
      signals: { complaints: 0, criticalComplaint: false, notes: [] },
      metricErrors: [],
      looks: hour,
    });
    out.push({
      verdict: result.verdict,
      decision: result.decision,
      alerts: result.alerts.map((a) => ({ code: a.code, severity: a.severity })),
      srmChi2P: result.srm?.pValue ?? null,
    });
  }
  return out;
}

