import type { CohortSummary } from '../../metrics/summary.js';
import { prob } from './format.js';
import type { Alert, CohortPair, Direction, MetricJudgement, Outcome, Severity, Thresholds } from './types.js';

/** One window a metric is tested on, with the share of the metric's α it may spend. */
export interface TestWindow {
  window: 'stage' | 'recent';
  pair: CohortPair;
  /** α for this window's comparative test (split again over the sides of a two-sided metric). */
  alpha: number;
  /** How that α was derived, for the `rule` text. */
  alphaText: string;
  /** " in the last 6 h" or "". */
  label: string;
}

/** What every metric judge needs besides its own data. */
export interface MetricContext {
  thresholds: Thresholds;
  /** The stage window first, then the recent window if it holds less than the stage. */
  windows: TestWindow[];
  /** A concurrent control exists (expected share strictly between 0 and 1): exposed vs control tests apply. */
  comparative: boolean;
  baseline?: CohortSummary;
  /** α per metric (family α / number of metrics), for one-sample tests (absolute, baseline levels). */
  metricAlpha: number;
  metricAlphaText: string;
}

export type Side = 'up' | 'down';

/** The harmful sides of a direction: a rise, a drop, or both (each then gets half the α). */
export function sidesOf(d: Direction): Side[] {
  return d === 'lower_is_better' ? ['up'] : d === 'higher_is_better' ? ['down'] : ['up', 'down'];
}

const RANK: Record<Outcome, number> = { pass: 0, insufficient: 1, error: 1, warn: 2, fail: 3 };
export const severityRank = (s: Severity | undefined) => (s === 'FAIL' ? 2 : s === 'WARN' ? 1 : 0);
export const worstSeverity = (alerts: readonly Alert[]): Severity | undefined =>
  alerts.some((a) => a.severity === 'FAIL') ? 'FAIL' : alerts.some((a) => a.severity === 'WARN') ? 'WARN' : undefined;

export function outcomeOf(alerts: readonly Alert[], sufficient: boolean): Outcome {
  const worst = worstSeverity(alerts);
  return worst === 'FAIL' ? 'fail' : worst === 'WARN' ? 'warn' : sufficient ? 'pass' : 'insufficient';
}

export function worseOutcome(a: Outcome, b: Outcome): Outcome {
  return RANK[b] > RANK[a] ? b : a;
}

/** Keeps the evidence with the smallest p relative to the α it faced: the closest call. */
export class EvidenceTracker {
  best: (NonNullable<MetricJudgement['evidence']> & { interval: [number, number] | null; window: TestWindow['window'] }) | null = null;
  offer(logE: number, alpha: number, interval: [number, number] | null, window: TestWindow['window']): void {
    const pValue = Math.min(1, Math.exp(-logE));
    if (!this.best || pValue / alpha < this.best.pValue / this.best.alpha) {
      this.best = { eValue: Math.exp(Math.min(logE, 700)), pValue, alpha, interval, window };
    }
  }
}

/** "always-valid p=3e-9 < α=0.0083". */
export function pText(p: number, alpha: number): string {
  return `always-valid p=${prob(p)} ${p <= alpha ? '<' : '≥'} α=${prob(alpha)}`;
}

/** Picks the window whose alerts are worst (the stage on ties), for the row's figures. */
export function decidingWindow(alertsByWindow: Map<TestWindow['window'], Alert[]>): TestWindow['window'] {
  const stage = severityRank(worstSeverity(alertsByWindow.get('stage') ?? []));
  const recent = severityRank(worstSeverity(alertsByWindow.get('recent') ?? []));
  return recent > stage ? 'recent' : 'stage';
}

/** A recent-window alert adds nothing when the stage already raised the same code at the same or a higher severity. */
export function dropRedundantRecent(alertsByWindow: Map<TestWindow['window'], Alert[]>): void {
  const stage = alertsByWindow.get('stage') ?? [];
  const recent = alertsByWindow.get('recent');
  if (!recent) return;
  const kept = recent.filter((r) => !stage.some((s) => s.code === r.code && severityRank(s.severity) >= severityRank(r.severity)));
  alertsByWindow.set('recent', kept);
}

/**
 * With too little data to *pass* a metric (a regression at its floor would not yet have shown
 * 20 events), a comparison against control may warn but not fail: at ~1 000 requests, noise
 * alone clears the effect floors now and then, and a false FAIL means a needless rollback.
 * Blatant regressions still FAIL through the absolute levels, which need no comparison.
 */
export function capThinComparisons(alerts: readonly Alert[], sufficient: boolean, nExposed = Infinity, minForFail = 0): Alert[] {
  if (sufficient && nExposed >= minForFail) return [...alerts];
  return alerts.map((a) =>
    a.severity === 'FAIL' && a.basis === 'comparison'
      ? { ...a, severity: 'WARN' as const, message: `${a.message} (WARN, not FAIL: too little data yet for a comparative FAIL)` }
      : a,
  );
}
