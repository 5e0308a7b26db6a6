import { addToHistogram, histogramQuantile, histogramShareAbove, type Histogram } from '@rampart/core';
import { describe, expect, it } from 'vitest';
import type { CohortSummary } from '../src/metrics/summary.js';
import { HistView } from '../src/monitor/judge/hist-view.js';
import {
  DEFAULT_THRESHOLDS,
  binomialMixtureLogE,
  chiSquare1Sf,
  directionOf,
  erfc,
  judge,
  normalCdf,
  type JudgeInput,
  type Thresholds,
} from '../src/monitor/judge/index.js';
import { createRng } from '../src/monitor/judge/prng.js';

/** Φ⁻¹ by bisection on normalCdf: good enough to lay out deterministic lognormal samples. */
function probit(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** n lognormal latencies (median, σ 0.5) as 1000 evenly spaced quantiles, each weighing n/1000: no randomness. */
function lognormalHistogram(n: number, median: number, sigma = 0.5): Histogram {
  const h: Histogram = {};
  for (let i = 0; i < 1000; i++) addToHistogram(h, median * Math.exp(sigma * probit((i + 0.5) / 1000)), n / 1000);
  return h;
}

interface CohortSpec {
  requests: number;
  rate5xx?: number;
  rate4xx?: number;
  medianMs?: number;
  exposures?: number;
  matching?: { trials: number; success: number };
}

function cohort(s: CohortSpec): CohortSummary {
  const n = s.requests;
  const s5xx = Math.round(n * (s.rate5xx ?? 0.005));
  const s4xx = Math.round(n * (s.rate4xx ?? 0.02));
  const h = n > 0 ? lognormalHistogram(n, s.medianMs ?? 800) : {};
  const p95 = histogramQuantile(h, 0.95) ?? null;
  return {
    exposures: s.exposures ?? n,
    requests: n,
    status: { '2xx': n - s4xx - s5xx, '3xx': 0, '4xx': s4xx, '5xx': s5xx, '401': 0, '403': 0, '429': 0 },
    errorRate: n ? (s4xx + s5xx) / n : null,
    errorRate5xx: n ? s5xx / n : null,
    latencyMs: { count: n, mean: null, p50: histogramQuantile(h, 0.5) ?? null, p95, p99: histogramQuantile(h, 0.99) ?? null, histogram: h },
    metrics: s.matching
      ? { matching_success: { kind: 'rate', count: s.matching.trials, sum: Math.round(s.matching.trials * s.matching.success), rate: s.matching.success } }
      : {},
  };
}

/** A healthy 5 % rollout with plenty of data: the judge's PASS case; tests change one thing at a time. */
function input(over: Partial<JudgeInput> = {}): JudgeInput {
  return {
    expectedExposedShare: 0.05,
    stage: { exposed: cohort({ requests: 50_000 }), control: cohort({ requests: 950_000 }) },
    thresholds: DEFAULT_THRESHOLDS,
    gates: { determinismFailures: 0, drift: [] },
    signals: { complaints: 0, criticalComplaint: false, notes: [] },
    metricErrors: [],
    looks: 3,
    ...over,
  };
}

const codes = (r: ReturnType<typeof judge>) => r.alerts.map((a) => `${a.severity} ${a.code}`);

describe('special functions', () => {
  it('χ²(1) survival function matches the tables', () => {
    expect(chiSquare1Sf(10.83)).toBeCloseTo(0.001, 5);
    expect(chiSquare1Sf(3.841)).toBeCloseTo(0.05, 4);
    expect(chiSquare1Sf(6.635)).toBeCloseTo(0.01, 4);
    expect(chiSquare1Sf(0)).toBe(1);
    // Tail accuracy is relative, not absolute: χ² = 50 → 1.54e-12.
    expect(chiSquare1Sf(50) / 1.537e-12).toBeCloseTo(1, 2);
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('mixture SPRT', () => {
  it('agrees with the closed-form normal mixture for large counts near H0', () => {
    // Two-sided normal mixture on the score S with information I: −½log(1+τ²I) + τ²S²/(2(1+τ²I)).
    const [k, n, p, tau] = [5_300, 100_000, 0.05, 0.4];
    const S = k - n * p;
    const I = n * p * (1 - p);
    const closed = -0.5 * Math.log(1 + tau * tau * I) + (tau * tau * S * S) / (2 * (1 + tau * tau * I));
    expect(binomialMixtureLogE(k, n, p, tau, 'two-sided')).toBeCloseTo(closed, 0);
  });

  it('gives no evidence when the data point the other way, and is one-sided', () => {
    expect(binomialMixtureLogE(400, 10_000, 0.05, 0.4, 'greater')).toBeLessThan(0);
    expect(binomialMixtureLogE(600, 10_000, 0.05, 0.4, 'greater')).toBeGreaterThan(Math.log(1000));
    expect(binomialMixtureLogE(0, 0, 0.05, 0.4, 'greater')).toBe(0);
  });

  it('keeps its α under continuous monitoring (Bernoulli stream, a look after every 20 trials)', () => {
    const rng = createRng(7);
    const alpha = 0.05;
    let rejected = 0;
    const runs = 400;
    for (let r = 0; r < runs; r++) {
      let k = 0;
      for (let n = 1; n <= 2_000; n++) {
        if (rng.next() < 0.1) k++;
        if (n % 20 === 0 && binomialMixtureLogE(k, n, 0.1, 0.4, 'greater') >= Math.log(1 / alpha)) {
          rejected++;
          break;
        }
      }
    }
    // 100 looks; a fixed-sample z-test would reject far more often than α.
    expect(rejected / runs).toBeLessThanOrEqual(alpha);
  });
});

describe('HistView', () => {
  it('answers exactly as core histogramQuantile / histogramShareAbove', () => {
    const rng = createRng(3);
    for (let t = 0; t < 20; t++) {
      const h: Histogram = {};
      for (let i = 0; i < 500; i++) addToHistogram(h, 100 * Math.exp(rng.normal()));
      const v = new HistView(h);
      for (const q of [0.01, 0.5, 0.95, 0.99, 1]) expect(v.quantile(q)).toBe(histogramQuantile(h, q));
      for (const x of [50, 100, 163.2, 400]) expect(v.countAbove(x) / v.n).toBe(histogramShareAbove(h, x));
    }
  });
});

describe('judge: gates, signals, errors', () => {
  it('passes a healthy, well-fed rollout', () => {
    const r = judge(input());
    expect(r).toMatchObject({ verdict: 'PASS', health: 'GREEN', decision: 'GO', alerts: [] });
    expect(r.metrics.map((m) => m.outcome)).toEqual(['pass', 'pass', 'pass']);
    expect(r.srm?.mismatch).toBe(false);
  });

  it('flags a sample-ratio mismatch on exposure counts', () => {
    // 10 500 of 100 000 exposed vs 10 % expected: χ² = 27.8, p = 1.4e-7.
    const r = judge(input({ expectedExposedShare: 0.1, stage: { exposed: cohort({ requests: 10_500 }), control: cohort({ requests: 89_500 }) } }));
    expect(r.srm?.chi2).toBeCloseTo(27.78, 1);
    expect(r.srm?.pValue).toBeCloseTo(1.4e-7, 8);
    expect(r.srm?.alwaysValidP).toBeLessThan(0.001);
    expect(r.srm?.observedExposedShare).toBeCloseTo(0.105, 6);
    expect(r).toMatchObject({ verdict: 'FAIL', decision: 'NO_GO' });
    expect(codes(r)).toContain('FAIL SAMPLE_RATIO_MISMATCH');
    // Exposure counts, not requests, decide; and a 0 % / 100 % rollout has nothing to check.
    const byExposures = judge(input({ expectedExposedShare: 0.1, stage: { exposed: cohort({ requests: 10_500, exposures: 10_000 }), control: cohort({ requests: 89_500, exposures: 90_000 }) } }));
    expect(byExposures.srm?.mismatch).toBe(false);
    expect(judge(input({ expectedExposedShare: 1 })).srm).toBeNull();
  });

  it('fails and stops on a determinism failure', () => {
    const r = judge(input({ gates: { determinismFailures: 2, drift: [] } }));
    expect(r).toMatchObject({ verdict: 'FAIL', health: 'RED', decision: 'NO_GO' });
    expect(codes(r)).toEqual(['FAIL DETERMINISM_FAIL']);
  });

  it('carries config drift at its own severity', () => {
    const warn = judge(input({ gates: { determinismFailures: 0, drift: [{ field: 'allowlist', expected: 10, actual: 9, severity: 'WARN' }] } }));
    expect(warn).toMatchObject({ verdict: 'WARN', health: 'YELLOW', decision: 'EXTEND' });
    expect(warn.alerts[0]).toMatchObject({ code: 'CONFIG_DRIFT', severity: 'WARN', message: 'allowlist: expected 10, live 9' });
    const fail = judge(input({ gates: { determinismFailures: 0, drift: [{ field: 'rolloutBasisPoints', expected: 500, actual: 5000, severity: 'FAIL' }] } }));
    expect(fail.verdict).toBe('FAIL');
  });

  it('fails on a critical complaint, warns on other complaints and notes', () => {
    expect(codes(judge(input({ signals: { complaints: 1, criticalComplaint: true, notes: [] } })))).toEqual(['FAIL CRITICAL_COMPLAINT']);
    const some = judge(input({ signals: { complaints: 2, criticalComplaint: false, notes: [{ severity: 'warning', text: 'slow matches in Lapa' }, { severity: 'info', text: 'fyi' }] } }));
    expect(some.verdict).toBe('WARN');
    expect(codes(some)).toEqual(['WARN COMPLAINTS', 'WARN SIGNAL_NOTE']);
  });

  it('counts a failed metric query as an error: WARN, never FAIL', () => {
    const r = judge(input({ metricErrors: [{ metric: 'matching_success', reason: 'Prometheus timed out' }] }));
    expect(r).toMatchObject({ verdict: 'WARN', decision: 'EXTEND' });
    expect(codes(r)).toEqual(['WARN METRIC_QUERY_ERROR']);
    expect(r.metrics.find((m) => m.name === 'matching_success')?.outcome).toBe('error');
  });

  it('never passes without data', () => {
    const empty = judge(input({ stage: { exposed: cohort({ requests: 0 }), control: cohort({ requests: 0 }) } }));
    expect(empty).toMatchObject({ verdict: 'WARN', decision: 'EXTEND', srm: null });
    expect(codes(empty)).toEqual(['WARN INSUFFICIENT_DATA']);
    expect(empty.alerts[0]!.message).toMatch(/^no metric has enough data/);
    // 300 exposed requests: enough to look at, too few to rule out a 5xx regression (0.5 % → 0.6 % needs ~3 300).
    const thin = judge(input({ expectedExposedShare: 0.01, stage: { exposed: cohort({ requests: 300 }), control: cohort({ requests: 29_700 }) } }));
    expect(thin.verdict).toBe('WARN');
    expect(thin.metrics.find((m) => m.name === '_http_5xx_rate')?.outcome).toBe('insufficient');
  });
});

describe('judge: metrics', () => {
  it('fails a 5xx regression vs control and states its numbers', () => {
    const r = judge(input({ stage: { exposed: cohort({ requests: 50_000, rate5xx: 0.01 }), control: cohort({ requests: 950_000 }) } }));
    expect(r.verdict).toBe('FAIL');
    const a = r.alerts.find((x) => x.code === 'ERROR_RATE_5XX')!;
    expect(a.severity).toBe('FAIL');
    expect(a.message).toMatch(/^5xx 1\.00 % \(n=50 000\) vs control 0\.50 % \(n=950 000\), up, ratio 2\.00, always-valid p=\S+ < α=0\.017$/);
    expect(a.rule).toContain('α=0.05/3');
    const row = r.metrics.find((m) => m.name === '_http_5xx_rate')!;
    expect(row.interval![0]).toBeGreaterThan(1.5);
    expect(row.interval![1]).toBeLessThan(2.6);
  });

  it('does not fail a significant but harmless change (effect floor)', () => {
    // 0.50 % → 0.55 % on 10⁶ requests: clear evidence, but under the 1.2× floor.
    const r = judge(input({ expectedExposedShare: 0.5, stage: { exposed: cohort({ requests: 2_000_000, rate5xx: 0.0055 }), control: cohort({ requests: 2_000_000 }) } }));
    expect(r.verdict).toBe('PASS');
    expect(r.metrics[0]!.note).toMatch(/under the effect floor/);
  });

  it('applies the chat checklist levels to the exposed cohort', () => {
    const both = (rate5xx: number, medianMs = 800) => ({ exposed: cohort({ requests: 50_000, rate5xx, medianMs }), control: cohort({ requests: 950_000, rate5xx, medianMs }) });
    // Same in both cohorts, so only the absolute levels can speak.
    expect(codes(judge(input({ stage: both(0.015) })))).toEqual(['WARN ERROR_RATE_5XX']);
    expect(codes(judge(input({ stage: both(0.025) })))).toEqual(['FAIL ERROR_RATE_5XX']);
    // p95 = median · e^(1.645·0.5): 1 200 ms → ~2 730 ms (warning), 1 400 ms → ~3 180 ms (critical).
    expect(codes(judge(input({ stage: both(0.005, 1200) })))).toEqual(['WARN LATENCY_P95']);
    expect(codes(judge(input({ stage: both(0.005, 1400) })))).toEqual(['FAIL LATENCY_P95']);
    // 1 error in 40 requests is 2.5 %, but no evidence that the rate is above 2 %.
    expect(judge(input({ expectedExposedShare: 1, stage: { exposed: cohort({ requests: 40, rate5xx: 0.025 }), control: cohort({ requests: 0 }) } })).verdict).toBe('WARN');
  });

  it('warns when p95 exceeds the baseline by more than 20 %', () => {
    const stage = (medianMs: number) => ({ exposed: cohort({ requests: 50_000, medianMs }), control: cohort({ requests: 950_000, medianMs }) });
    const baseline = cohort({ requests: 500_000, medianMs: 800 });
    const up30 = judge(input({ stage: stage(1040), baseline }));
    expect(codes(up30)).toEqual(['WARN LATENCY_P95']);
    expect(up30.alerts[0]!.message).toMatch(/above the baseline 1 8\d\d ms \+ 20 % level 2 \d{3} ms/);
    expect(judge(input({ stage: stage(880), baseline })).verdict).toBe('PASS');
  });

  it('warns on 5xx above baseline + 10 %, but not on a tiny absolute change', () => {
    const stage = (rate5xx: number) => ({ exposed: cohort({ requests: 50_000, rate5xx }), control: cohort({ requests: 950_000, rate5xx }) });
    expect(codes(judge(input({ stage: stage(0.008), baseline: cohort({ requests: 1_000_000, rate5xx: 0.005 }) })))).toEqual(['WARN ERROR_RATE_5XX']);
    expect(judge(input({ stage: stage(0.00011), baseline: cohort({ requests: 1_000_000, rate5xx: 0.0001 }) })).verdict).toBe('PASS');
  });

  it('judges business rates in their harmful direction', () => {
    const stage = (success: number) => ({
      exposed: cohort({ requests: 50_000, matching: { trials: 20_000, success } }),
      control: cohort({ requests: 950_000, matching: { trials: 380_000, success: 0.9 } }),
    });
    const drop = judge(input({ stage: stage(0.8) }));
    expect(codes(drop)).toEqual(['FAIL METRIC_REGRESSION']);
    expect(drop.alerts[0]).toMatchObject({ metric: 'matching_success' });
    expect(drop.alerts[0]!.message).toMatch(/^matching_success 80\.00 % \(n=20 000\) vs control 90\.00 % \(n=380 000\), down/);
    // A rise of a success rate is not a regression.
    expect(judge(input({ stage: stage(0.97) })).verdict).toBe('PASS');
  });

  it('catches a fresh regression in the recent window that the long stage dilutes', () => {
    // 200 healthy hours, then 6 bad ones (5xx 0.5 % → 1.5 %) at 1 % exposure, 10 000 exposed req/h:
    // over the stage, exposed is at 0.53 %, under the 1.2× floor; the last 6 hours are at 1.5 %.
    const recent = { exposed: cohort({ requests: 60_000, rate5xx: 0.015 }), control: cohort({ requests: 5_940_000 }), hours: 6 };
    const stage = { exposed: cohort({ requests: 2_060_000, rate5xx: (0.005 * 2_000_000 + 0.015 * 60_000) / 2_060_000 }), control: cohort({ requests: 203_940_000 }) };
    const r = judge(input({ expectedExposedShare: 0.01, stage, recent, looks: 206 }));
    // The comparison FAILs; the 1 % warning level and the 4xx+5xx rate speak too.
    expect(codes(r)).toEqual(['FAIL ERROR_RATE_5XX', 'WARN ERROR_RATE_5XX', 'WARN METRIC_REGRESSION']);
    expect(r.alerts[1]!.message).toMatch(/^5xx in the last 6 h 1\.50 % \(n=60 000\) above the warning level 1\.00 %/);
    const a = r.alerts[0]!;
    expect(a.message).toMatch(/^5xx in the last 6 h 1\.50 % \(n=60 000\) vs control 0\.50 %/);
    // Its α is the recent window's share at look 206: 0.05/3/2 · 1/(206·207).
    expect(a.rule).toContain('1/(k(k+1)), k=206');
    expect(a.numbers.alpha).toBeCloseTo(0.05 / 3 / 2 / (206 * 207), 12);
    expect(r.metrics[0]!.window).toBe('recent');
    // Without the recent window, the diluted stage passes.
    expect(judge(input({ expectedExposedShare: 0.01, stage, looks: 206 })).verdict).toBe('PASS');
  });

  it('guesses directions from names, unless told', () => {
    expect(directionOf('matching_success', undefined)).toBe('higher_is_better');
    expect(directionOf('time_to_match_ms', undefined)).toBe('lower_is_better');
    expect(directionOf('payment_errors', undefined)).toBe('lower_is_better');
    expect(directionOf('rides_per_user', undefined)).toBe('two_sided');
    expect(directionOf('rides_per_user', { higherIsBetter: true })).toBe('higher_is_better');
  });

  it('takes thresholds from its input', () => {
    const strict: Thresholds = { ...DEFAULT_THRESHOLDS, errorRate5xx: { ...DEFAULT_THRESHOLDS.errorRate5xx, absolute: { warning: 0.004 } } };
    expect(codes(judge(input({ thresholds: strict })))).toEqual(['WARN ERROR_RATE_5XX']);
  });
});
