// Sample-ratio mismatch (design §6.4 hard gate): the exposed cohort should be rolloutBasisPoints /
// 10000 of exposed + control, because the hash assigns subjects at random. A mismatch means the
// assignment or the attribution is broken (a cache serving stale answers, an SDK dropping one
// cohort's metrics, a crashing code path losing its exposures), and then every comparison
// between the cohorts is biased: no metric verdict can be trusted, so it FAILs on its own.
import type { CohortSummary } from '../../metrics/summary.js';
import { int, pct, prob } from './format.js';
import { binomialMixtureLogE, pFromLogE } from './msprt.js';
import { chiSquare1Sf } from './special.js';
import type { Alert, SrmResult, Thresholds } from './types.js';

/** Below this many expected subjects in the smaller cohort, the χ² approximation is not trusted. */
const MIN_EXPECTED = 20;

/**
 * χ² goodness-of-fit (1 dof) of the exposure counts (requests if no exposures were recorded)
 * against the expected split, p = P(χ²₁ > x) = erfc(√(x/2)).
 *
 * The design's rule is "p < 0.001". Applied afresh at every hourly look it would be a repeated
 * fixed-sample test, whose false alarms add up over a 48-look stage (0.4–1 % of healthy 48-hour
 * stages in the simulation, docs/benchmarks.md). So a mismatch also needs the sequential version of the same
 * question, an always-valid p < srmAlpha from the normal-mixture SPRT on the exposed share
 * (Lindon & Malek 2022, "Anytime-valid inference for multinomial count data"), which keeps
 * the 0.001 over any number of looks. A real mismatch (a broken assignment) clears both by far.
 */
export function checkSampleRatio(exposed: CohortSummary, control: CohortSummary, expectedShare: number, t: Thresholds): { srm: SrmResult | null; alerts: Alert[] } {
  if (!(expectedShare > 0 && expectedShare < 1)) return { srm: null, alerts: [] };
  const useExposures = exposed.exposures + control.exposures > 0;
  const ne = useExposures ? exposed.exposures : exposed.requests;
  const nc = useExposures ? control.exposures : control.requests;
  const n = ne + nc;
  if (n * Math.min(expectedShare, 1 - expectedShare) < MIN_EXPECTED) return { srm: null, alerts: [] };
  const expE = n * expectedShare;
  const expC = n * (1 - expectedShare);
  const chi2 = (ne - expE) ** 2 / expE + (nc - expC) ** 2 / expC;
  const pValue = chiSquare1Sf(chi2);
  const alwaysValidP = pFromLogE(binomialMixtureLogE(ne, n, expectedShare, t.srmMixtureScale, 'two-sided'));
  const mismatch = pValue < t.srmAlpha && alwaysValidP < t.srmAlpha;
  const observed = ne / n;
  const srm: SrmResult = { chi2, pValue, alwaysValidP, n, mismatch, observedExposedShare: observed };
  if (!mismatch) return { srm, alerts: [] };
  const what = useExposures ? 'exposures' : 'requests';
  return {
    srm,
    alerts: [
      {
        code: 'SAMPLE_RATIO_MISMATCH',
        severity: 'FAIL',
        message:
          `exposed share ${pct(observed)} of ${int(n)} ${what} (${int(ne)} exposed, ${int(nc)} control) vs expected ${pct(expectedShare)}: ` +
          `χ²=${chi2.toFixed(1)}, p=${prob(pValue)}, always-valid p=${prob(alwaysValidP)} < ${prob(t.srmAlpha)}`,
        numbers: { observedShare: observed, expectedShare, exposed: ne, control: nc, chi2, pValue, alwaysValidP, alpha: t.srmAlpha },
        rule: `χ² goodness-of-fit (1 dof) on ${what} p < ${prob(t.srmAlpha)}, confirmed by a sequential SRM test (normal mixture τ=${t.srmMixtureScale}) at the same level`,
      },
    ],
  };
}
