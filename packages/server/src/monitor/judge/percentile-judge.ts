// Percentiles (HTTP latency p95, business distributions) by the exceedance method (design §6.4).
//
// A percentile has no simple sampling distribution to test sequentially, but "p95 went up" is
// the same event as "more than 5 % of requests are now above the old p95". So: pool both cohorts,
// take the pooled p95 (symmetric in the cohort labels, so under H0 neither cohort is favoured),
// count each cohort's observations above it, and test those counts as a rate with the same
// conditional-binomial mSPRT as the error rates. A drop (for higher-is-better distributions) is
// the mirror image: the share at or below the pooled p5. Effect floors keep statistically clear
// but harmless shifts from failing: the exposed exceedance share must be ≥ 1.5× control's and the
// two p95 estimates must differ by ≥ 10 %.
//
// Absolute and baseline levels use the same identity on the exposed cohort alone: "p95 > 2 800 ms"
// ⇔ "more than 5 % of requests above 2 800 ms", a one-sample binomial test against 5 %.
import type { Histogram } from '@rampart/core';
import type { CohortSummary } from '../../metrics/summary.js';
import { int, num, pct, prob, value } from './format.js';
import { HistView } from './hist-view.js';
import { EvidenceTracker, decidingWindow, dropRedundantRecent, outcomeOf, pText, sidesOf, type MetricContext, type TestWindow } from './metric-context.js';
import { capThinComparisons } from './metric-context.js';
import { binomialMixtureLogE, compareRatesLogE, pFromLogE, rateRatioInterval } from './msprt.js';
import type { Alert, AlertCode, Direction, MetricJudgement, PercentileRule } from './types.js';

export interface PercentileMetric {
  name: string;
  /** Short label for messages: "latency", "time_to_match_ms". */
  label: string;
  code: AlertCode;
  direction: Direction;
  rule: PercentileRule;
  /** Unit of the values, for messages ("ms"), or "" for none. */
  unit: string;
  read: (s: CohortSummary) => Histogram;
}


export function judgePercentile(metric: PercentileMetric, ctx: MetricContext): { row: MetricJudgement; alerts: Alert[] } {
  const { rule } = metric;
  const tau = ctx.thresholds.mixtureScale;
  const q = rule.quantile;
  const sides = sidesOf(metric.direction);
  const evidence = new EvidenceTracker();
  const byWindow = new Map<TestWindow['window'], Alert[]>();
  const notes: string[] = [];
  const pName = `p${Math.round(q * 100)}`;

  const views = new Map<TestWindow['window'], { he: HistView; hc: HistView; pooled: HistView }>();
  for (const w of ctx.windows) {
    const alerts: Alert[] = [];
    byWindow.set(w.window, alerts);
    const he = new HistView(metric.read(w.pair.exposed));
    const hc = new HistView(metric.read(w.pair.control));
    const pooled = HistView.merge(he, hc);
    views.set(w.window, { he, hc, pooled });
    const ne = he.n;
    const nc = hc.n;
    if (ctx.comparative && ne > 0 && nc > 0) {
      for (const side of sides) {
        const alpha = w.alpha / sides.length;
        // Upper tail: above the pooled p95. Lower tail: at or below the pooled p5.
        const cut = pooled.quantile(side === 'up' ? q : 1 - q)!;
        const xe = side === 'up' ? he.countAbove(cut) : ne - he.countAbove(cut);
        const xc = side === 'up' ? hc.countAbove(cut) : nc - hc.countAbove(cut);
        const logE = compareRatesLogE(xe, ne, xc, nc, tau);
        const p = pFromLogE(logE);
        evidence.offer(logE, alpha, rateRatioInterval(xe, ne, xc, nc, tau, alpha), w.window);
        if (p > alpha) continue;
        const shareE = xe / ne;
        const shareC = xc / nc;
        const qe = he.quantile(side === 'up' ? q : 1 - q)!;
        const qc = hc.quantile(side === 'up' ? q : 1 - q)!;
        const shareRatio = shareC > 0 ? shareE / shareC : Infinity;
        const qChange = side === 'up' ? qe / qc - 1 : 1 - qe / qc;
        const tail = side === 'up' ? `above the pooled ${pName} ${value(cut, metric.unit)}` : `at or below the pooled p${Math.round((1 - q) * 100)} ${value(cut, metric.unit)}`;
        if (shareRatio < rule.minExceedanceRatio || qChange < rule.minQuantileChange) {
          notes.push(`significant${w.label} but under the effect floor (share ${num(shareRatio)}×, quantile ${pct(qChange)})`);
          continue;
        }
        alerts.push({
          code: metric.code,
          severity: rule.severity,
          metric: metric.name,
          message:
            `${metric.label}${w.label} ${side === 'up' ? pName : `p${Math.round((1 - q) * 100)}`} ${value(qe, metric.unit)} (n=${int(ne)}) vs control ${value(qc, metric.unit)} (n=${int(nc)}); ` +
            `${pct(shareE)} of exposed ${tail} vs ${pct(shareC)} of control (${num(shareRatio)}×), ${pText(p, alpha)}`,
          numbers: { exposedQuantile: qe, controlQuantile: qc, pooledQuantile: cut, shareExposed: shareE, shareControl: shareC, nExposed: ne, nControl: nc, pValue: p, alpha },
          basis: 'comparison',
          rule: `exceedance of the pooled ${pName} by mSPRT exposed vs control, ${w.alphaText}${sides.length > 1 ? '/2 sides' : ''}; floors share ≥ ${rule.minExceedanceRatio}× and ${pName} ${side === 'up' ? '+' : '−'}${Math.round(rule.minQuantileChange * 100)} %`,
        });
      }
    }
    if (rule.absolute && metric.direction !== 'higher_is_better' && ne > 0) {
      alerts.push(...levelAlerts(metric, he, w, ctx.metricAlpha * (w.alpha / ctx.windows[0]!.alpha), ctx, 'absolute'));
    }
  }

  const stage = ctx.windows[0]!;
  if (ctx.baseline && rule.baselineRelative !== undefined && metric.direction !== 'higher_is_better') {
    const hb = new HistView(metric.read(ctx.baseline));
    const he = views.get('stage')!.he;
    if (hb.n >= ctx.thresholds.minRequests && he.n > 0) {
      byWindow.get('stage')!.push(...levelAlerts(metric, he, stage, ctx.metricAlpha, ctx, 'baseline', hb.quantile(q)!));
    }
  }

  dropRedundantRecent(byWindow);
  const window = decidingWindow(byWindow);
  const shown = ctx.windows.find((w) => w.window === window) ?? stage;
  const { he, hc, pooled } = views.get(shown.window)!;
  const ne = he.n;
  const nc = hc.n;
  const qe = he.quantile(q);
  const qc = hc.quantile(q);
  const cut = pooled.quantile(q);
  const raw = [...byWindow.values()].flat();
  const enough = sufficiency(metric, views.get('stage')!.he.n, views.get('stage')!.hc.n, ctx);
  const alerts = capThinComparisons(raw, enough.ok, views.get('stage')!.he.n, ctx.thresholds.minSampleForComparativeFail);
  if (!enough.ok) notes.push(enough.why);
  return {
    row: {
      name: metric.name,
      kind: 'percentile',
      direction: metric.direction,
      window,
      nExposed: ne,
      nControl: nc,
      estimateExposed: qe,
      estimateControl: qc,
      delta: qe !== null && qc !== null ? qe - qc : null,
      ratio: qe !== null && qc ? qe / qc : null,
      interval: evidence.best?.interval ?? null,
      evidence: evidence.best ? { eValue: evidence.best.eValue, pValue: evidence.best.pValue, alpha: evidence.best.alpha } : null,
      ...(cut !== null ? { exceedance: { threshold: cut, shareExposed: ne ? he.countAbove(cut) / ne : null, shareControl: nc ? hc.countAbove(cut) / nc : null } } : {}),
      threshold: thresholdText(metric, ctx, pName),
      outcome: outcomeOf(alerts, enough.ok),
      rule: ctx.comparative ? `exceedance of the pooled ${pName}, mSPRT exposed vs control, ${stage.alphaText}` : 'absolute / baseline levels only (no control cohort)',
      ...(notes.length ? { note: notes.join('; ') } : {}),
    },
    alerts,
  };
}

/**
 * "The exposed pXX is above `level`" as "more than (1 − q) of exposed observations are above it",
 * one-sample binomial mSPRT. Absolute: critical (FAIL) first, then warning (WARN). Baseline: one
 * level, baseline pXX × (1 + relative), WARN.
 */
function levelAlerts(metric: PercentileMetric, he: HistView, w: TestWindow, alpha: number, ctx: MetricContext, kind: 'absolute' | 'baseline', baselineQ?: number): Alert[] {
  const q = metric.rule.quantile;
  const pName = `p${Math.round(q * 100)}`;
  const levels: [string, number | undefined, 'WARN' | 'FAIL'][] =
    kind === 'absolute'
      ? [
          ['critical', metric.rule.absolute?.critical, 'FAIL'],
          ['warning', metric.rule.absolute?.warning, 'WARN'],
        ]
      : [[`baseline ${value(baselineQ ?? null, metric.unit)} + ${Math.round((metric.rule.baselineRelative ?? 0) * 100)} %`, (baselineQ ?? 0) * (1 + (metric.rule.baselineRelative ?? 0)), 'WARN']];
  const qe = he.quantile(q)!;
  const ne = he.n;
  for (const [name, level, severity] of levels) {
    if (level === undefined || !(level > 0)) continue;
    const above = he.countAbove(level);
    const p = pFromLogE(binomialMixtureLogE(above, ne, 1 - q, ctx.thresholds.mixtureScale, 'greater'));
    if (p > alpha) continue;
    return [
      {
        code: metric.code,
        severity,
        metric: metric.name,
        message: `${metric.label}${w.label} ${pName} ${value(qe, metric.unit)} (n=${int(ne)}) above the ${name} level ${value(level, metric.unit)}: ${pct(above / ne)} of requests above it, ${pText(p, alpha)}`,
        numbers: { exposedQuantile: qe, level, shareAbove: above / ne, nExposed: ne, pValue: p, alpha },
        basis: kind === 'absolute' ? (name === 'critical' ? 'critical_level' : 'level') : 'baseline',
        rule: `${kind === 'absolute' ? `absolute ${name} level` : 'baseline + relative'}: share above the level > ${pct(1 - q)}, one-sample binomial mSPRT, ${ctx.metricAlphaText}${w.window === 'recent' ? ' spent over looks' : ''}`,
      },
    ];
  }
  return [];
}

/** As for rates: both cohorts ≥ minRequests, and ≥ minEvents exceedances expected at the effect floor. */
function sufficiency(metric: PercentileMetric, ne: number, nc: number, ctx: MetricContext): { ok: boolean; why: string } {
  const { minRequests, minEvents } = ctx.thresholds;
  const tail = 1 - metric.rule.quantile;
  if (ne < minRequests) return { ok: false, why: `exposed has ${int(ne)} observations, needs ${minRequests}` };
  if (ctx.comparative) {
    if (nc < minRequests) return { ok: false, why: `control has ${int(nc)} observations, needs ${minRequests}` };
    const expected = ne * tail * metric.rule.minExceedanceRatio;
    return expected >= minEvents ? { ok: true, why: '' } : { ok: false, why: `${num(expected, 1)} exceedances expected at the floor, needs ${minEvents}` };
  }
  const hasLevel = metric.rule.absolute?.warning !== undefined || metric.rule.absolute?.critical !== undefined || (metric.rule.baselineRelative !== undefined && !!ctx.baseline);
  if (!hasLevel || metric.direction === 'higher_is_better') return { ok: false, why: 'no control cohort and no absolute or baseline level to judge against' };
  return ne * tail >= minEvents ? { ok: true, why: '' } : { ok: false, why: `${num(ne * tail, 1)} exceedances expected, needs ${minEvents}` };
}

function thresholdText(metric: PercentileMetric, ctx: MetricContext, pName: string): string {
  const r = metric.rule;
  const parts: string[] = [];
  if (ctx.comparative) parts.push(`vs control: always-valid p < ${prob(ctx.windows[0]!.alpha)}, exceedance ≥ ${r.minExceedanceRatio}× and ${pName} change ≥ ${Math.round(r.minQuantileChange * 100)} %`);
  const a = r.absolute;
  if (a) parts.push(`absolute ${pName}: ${[a.target !== undefined ? `target < ${value(a.target, metric.unit)}` : '', a.warning !== undefined ? `warning > ${value(a.warning, metric.unit)}` : '', a.critical !== undefined ? `critical > ${value(a.critical, metric.unit)}` : ''].filter(Boolean).join(', ')}`);
  if (r.baselineRelative !== undefined && ctx.baseline) parts.push(`baseline ${pName} + ${Math.round(r.baselineRelative * 100)} % → WARN`);
  return parts.join('; ');
}
