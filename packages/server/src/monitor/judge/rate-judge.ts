// Rates (successes / trials): 5xx rate, 4xx+5xx rate, business rate metrics (design §6.4).
//
// 1. Exposed vs control by the conditional-binomial mSPRT (msprt.ts), one-sided in each harmful
//    direction. A rise of the rate is tested on its events; a drop is tested as a rise of the
//    complementary events (failures of a success rate), so every test is "exposed has more bad
//    events than its share of trials explains". A regression needs both the evidence and an
//    effect floor (relative and absolute), so a statistically clear but harmless 0.50 % → 0.51 %
//    on millions of requests does not stop a rollout.
// 2. Absolute levels on the exposed rate, by the one-sample version of the same test: "critical
//    > 2 %" fires when the data show the rate is above 2 %, not when 1 error in 40 requests is.
// 3. Baseline: exposed rate beyond baseline × (1 ± relative) and past an absolute floor → WARN.
import type { CohortSummary } from '../../metrics/summary.js';
import { int, num, pct, pp, prob } from './format.js';
import {
  EvidenceTracker,
  decidingWindow,
  dropRedundantRecent,
  outcomeOf,
  pText,
  sidesOf,
  type MetricContext,
  type Side,
  type TestWindow,
} from './metric-context.js';
import { capThinComparisons } from './metric-context.js';
import { binomialMixtureLogE, compareRatesLogE, pFromLogE, rateRatioInterval } from './msprt.js';
import type { Alert, AlertCode, Direction, MetricJudgement, RateRule } from './types.js';

export interface RateData {
  /** Trials. */
  n: number;
  /** Successes of the rate (5xx responses, matched requests, …). */
  k: number;
}

export interface RateMetric {
  name: string;
  /** Short label for messages: "5xx", "4xx+5xx", "matching_success". */
  label: string;
  code: AlertCode;
  direction: Direction;
  rule: RateRule;
  read: (s: CohortSummary) => RateData;
}

const rateOf = (d: RateData) => (d.n > 0 ? d.k / d.n : null);
/** Events that are bad on this side: the rate's own events for a rise, the complement for a drop. */
const harm = (d: RateData, side: Side) => (side === 'up' ? d.k : d.n - d.k);

export function judgeRate(metric: RateMetric, ctx: MetricContext): { row: MetricJudgement; alerts: Alert[] } {
  const { rule, direction } = metric;
  const tau = ctx.thresholds.mixtureScale;
  const sides = sidesOf(direction);
  const evidence = new EvidenceTracker();
  const byWindow = new Map<TestWindow['window'], Alert[]>();
  const notes: string[] = [];

  for (const w of ctx.windows) {
    const alerts: Alert[] = [];
    byWindow.set(w.window, alerts);
    const e = metric.read(w.pair.exposed);
    const c = metric.read(w.pair.control);
    const re = rateOf(e);
    const rc = rateOf(c);
    if (ctx.comparative && re !== null && rc !== null) {
      for (const side of sides) {
        const alpha = w.alpha / sides.length;
        const xe = harm(e, side);
        const xc = harm(c, side);
        const logE = compareRatesLogE(xe, e.n, xc, c.n, tau);
        const p = pFromLogE(logE);
        evidence.offer(logE, alpha, rateRatioInterval(xe, e.n, xc, c.n, tau, alpha), w.window);
        const ratio = rc > 0 ? re / rc : re > 0 ? Infinity : 1;
        const rel = side === 'up' ? ratio - 1 : 1 - ratio;
        const abs = side === 'up' ? re - rc : rc - re;
        if (p > alpha) continue;
        if (rel < rule.minRelativeChange || abs < rule.minAbsoluteChange) {
          notes.push(`significant${w.label} but under the effect floor (${num(ratio)}×, ${pp(re - rc)})`);
          continue;
        }
        alerts.push({
          code: metric.code,
          severity: rule.severity,
          metric: metric.name,
          message:
            `${metric.label}${w.label} ${pct(re)} (n=${int(e.n)}) vs control ${pct(rc)} (n=${int(c.n)}), ` +
            `${side === 'up' ? 'up' : 'down'}, ratio ${num(ratio)}, ${pText(p, alpha)}`,
          numbers: { exposedRate: re, controlRate: rc, nExposed: e.n, nControl: c.n, ratio: Number.isFinite(ratio) ? ratio : null, pValue: p, alpha },
          basis: 'comparison',
          rule: `mSPRT exposed vs control (conditional binomial, normal mixture τ=${tau} on the log rate ratio), ${w.alphaText}${sides.length > 1 ? '/2 sides' : ''}; floors ${side === 'up' ? '+' : '−'}${Math.round(rule.minRelativeChange * 100)} % and ${side === 'up' ? '+' : '−'}${pp(rule.minAbsoluteChange)}`,
        });
      }
    }
    if (rule.absolute && re !== null) alerts.push(...absoluteAlerts(metric, e, re, w, ctx));
  }

  const stage = ctx.windows[0]!;
  if (ctx.baseline) byWindow.get('stage')!.push(...baselineAlerts(metric, metric.read(stage.pair.exposed), metric.read(ctx.baseline), ctx));

  dropRedundantRecent(byWindow);
  const window = decidingWindow(byWindow);
  const shown = ctx.windows.find((w) => w.window === window) ?? stage;
  const e = metric.read(shown.pair.exposed);
  const c = metric.read(shown.pair.control);
  const re = rateOf(e);
  const rc = rateOf(c);
  const raw = [...byWindow.values()].flat();
  const enough = sufficiency(metric, metric.read(stage.pair.exposed), metric.read(stage.pair.control), ctx);
  const alerts = capThinComparisons(raw, enough.ok, metric.read(stage.pair.exposed).n, ctx.thresholds.minSampleForComparativeFail);
  if (!enough.ok) notes.push(enough.why);
  return {
    row: {
      name: metric.name,
      kind: 'rate',
      direction,
      window,
      nExposed: e.n,
      nControl: c.n,
      estimateExposed: re,
      estimateControl: rc,
      delta: re !== null && rc !== null ? re - rc : null,
      ratio: re !== null && rc ? re / rc : null,
      interval: evidence.best?.interval ?? null,
      evidence: evidence.best ? { eValue: evidence.best.eValue, pValue: evidence.best.pValue, alpha: evidence.best.alpha } : null,
      threshold: thresholdText(metric, ctx),
      outcome: outcomeOf(alerts, enough.ok),
      rule: ctx.comparative ? `mSPRT exposed vs control, ${stage.alphaText}` : 'absolute / baseline levels only (no control cohort)',
      ...(notes.length ? { note: notes.join('; ') } : {}),
    },
    alerts,
  };
}

/** Critical first: one alert per window at most, the worst level the data clear. */
function absoluteAlerts(metric: RateMetric, e: RateData, re: number, w: TestWindow, ctx: MetricContext): Alert[] {
  const up = metric.direction !== 'higher_is_better';
  const alpha = ctx.metricAlpha * (w.alpha / ctx.windows[0]!.alpha);
  for (const level of ['critical', 'warning'] as const) {
    const lv = metric.rule.absolute?.[level];
    if (lv === undefined || !(lv > 0 && lv < 1)) continue;
    const logE = binomialMixtureLogE(up ? e.k : e.n - e.k, e.n, up ? lv : 1 - lv, ctx.thresholds.mixtureScale, 'greater');
    const p = pFromLogE(logE);
    if (p > alpha) continue;
    return [
      {
        code: metric.code,
        severity: level === 'critical' ? 'FAIL' : 'WARN',
        metric: metric.name,
        message: `${metric.label}${w.label} ${pct(re)} (n=${int(e.n)}) ${up ? 'above' : 'below'} the ${level} level ${pct(lv)}, ${pText(p, alpha)}`,
        numbers: { exposedRate: re, nExposed: e.n, level: lv, pValue: p, alpha },
        basis: level === 'critical' ? 'critical_level' : 'level',
        rule: `absolute ${level} level ${up ? '>' : '<'} ${pct(lv)}, one-sample binomial mSPRT, ${w.window === 'stage' ? ctx.metricAlphaText : `${ctx.metricAlphaText} spent over looks`}`,
      },
    ];
  }
  return [];
}

function baselineAlerts(metric: RateMetric, e: RateData, b: RateData, ctx: MetricContext): Alert[] {
  const rel = metric.rule.baselineRelative;
  const rb = rateOf(b);
  const re = rateOf(e);
  if (rel === undefined || rb === null || re === null || b.n < ctx.thresholds.minRequests) return [];
  const floor = metric.rule.baselineAbsoluteFloor ?? 0;
  const alerts: Alert[] = [];
  for (const side of sidesOf(metric.direction)) {
    // The level the exposed rate must be shown to exceed: relative change and absolute floor both.
    const level = side === 'up' ? Math.max(rb * (1 + rel), rb + floor) : Math.min(rb * (1 - rel), rb - floor);
    if (!(level > 0 && level < 1)) continue;
    const logE = binomialMixtureLogE(harm(e, side), e.n, side === 'up' ? level : 1 - level, ctx.thresholds.mixtureScale, 'greater');
    const p = pFromLogE(logE);
    if (p > ctx.metricAlpha) continue;
    alerts.push({
      code: metric.code,
      severity: 'WARN',
      metric: metric.name,
      message: `${metric.label} ${pct(re)} (n=${int(e.n)}) vs baseline ${pct(rb)} (n=${int(b.n)}): ${side === 'up' ? 'above' : 'below'} ${pct(level)}, ${pText(p, ctx.metricAlpha)}`,
      numbers: { exposedRate: re, baselineRate: rb, level, nExposed: e.n, nBaseline: b.n, pValue: p, alpha: ctx.metricAlpha },
      basis: 'baseline',
      rule: `baseline ${side === 'up' ? '+' : '−'}${Math.round(rel * 100)} % (and ≥ ${pp(floor)}), one-sample binomial mSPRT, ${ctx.metricAlphaText}`,
    });
  }
  return alerts;
}

/**
 * No data is never PASS. A metric can pass only if both cohorts have `minRequests` trials and a
 * regression right at the effect floor would have put `minEvents` bad events in the exposed cohort
 * (so "no alert" means "a regression of the size we care about would have shown").
 */
function sufficiency(metric: RateMetric, e: RateData, c: RateData, ctx: MetricContext): { ok: boolean; why: string } {
  const { minRequests, minEvents } = ctx.thresholds;
  const rule = metric.rule;
  if (e.n < minRequests) return { ok: false, why: `exposed has ${int(e.n)} trials, needs ${minRequests}` };
  if (ctx.comparative) {
    if (c.n < minRequests) return { ok: false, why: `control has ${int(c.n)} trials, needs ${minRequests}` };
    const pooled = (e.k + c.k) / (e.n + c.n);
    for (const side of sidesOf(metric.direction)) {
      const harmRate = (side === 'up' ? pooled : 1 - pooled) + Math.max(rule.minAbsoluteChange, rule.minRelativeChange * pooled);
      if (e.n * harmRate < minEvents) return { ok: false, why: `a regression at the floor would show ${num(e.n * harmRate, 1)} events in exposed, needs ${minEvents}` };
    }
    return { ok: true, why: '' };
  }
  const level = rule.absolute?.warning ?? rule.absolute?.critical;
  if (level === undefined && (rule.baselineRelative === undefined || !ctx.baseline)) {
    return { ok: false, why: 'no control cohort and no absolute or baseline level to judge against' };
  }
  const harmRate = level === undefined ? rateOf(e)! : metric.direction === 'higher_is_better' ? 1 - level : level;
  if (e.n * harmRate < minEvents) return { ok: false, why: `${num(e.n * harmRate, 1)} expected events at the level, needs ${minEvents}` };
  return { ok: true, why: '' };
}

function thresholdText(metric: RateMetric, ctx: MetricContext): string {
  const r = metric.rule;
  const parts: string[] = [];
  if (ctx.comparative) parts.push(`vs control: always-valid p < ${prob(ctx.windows[0]!.alpha)}, change ≥ ${Math.round(r.minRelativeChange * 100)} % and ≥ ${pp(r.minAbsoluteChange)}`);
  const a = r.absolute;
  const op = metric.direction === 'higher_is_better' ? '<' : '>';
  if (a) parts.push(`absolute: ${[a.target !== undefined ? `target ${op === '>' ? '<' : '>'} ${pct(a.target)}` : '', a.warning !== undefined ? `warning ${op} ${pct(a.warning)}` : '', a.critical !== undefined ? `critical ${op} ${pct(a.critical)}` : ''].filter(Boolean).join(', ')}`);
  if (r.baselineRelative !== undefined && ctx.baseline) parts.push(`baseline ± ${Math.round(r.baselineRelative * 100)} % (and ≥ ${pp(r.baselineAbsoluteFloor ?? 0)}) → WARN`);
  return parts.join('; ');
}
