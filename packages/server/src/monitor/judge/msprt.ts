// Mixture sequential probability ratio tests (mSPRT) for counts, valid under continuous monitoring.
//
// Why: a checkpoint runs every hour, and a fixed-sample test repeated at every look raises the
// false-alarm rate far above its nominal α (48 looks at p < 0.05 reject an A/A test ~30 % of the
// time). A mixture likelihood ratio E_t = ∫ LR_t(θ) π(θ) dθ is a nonnegative martingale under H0
// (each LR_t(θ) is, and so is any average of them), so by Ville's inequality
// P(∃t: E_t ≥ 1/α) ≤ α: the test may be looked at after every batch, forever, and stopped at
// will (Robbins 1970; Johari, Pekelis & Walsh 2017, "Peeking at A/B tests"; Ramdas et al. 2023,
// "Game-theoretic statistics and safe anytime-valid inference").
//
// Model (Lindon, Sanden & Shirikian 2022, "Rapid regression detection in software deployments
// through sequential testing"): events in each cohort are counts over its trials. Conditional on
// the total x = x_e + x_c, x_e ~ Binomial(x, p) with logit p = logit p0 + θ, where
// p0 = n_e / (n_e + n_c) and θ = log(rate_e / rate_c), the log rate ratio. This is exact for Poisson
// counts; for Bernoulli trials the conditional law is Fisher's noncentral hypergeometric, whose
// variance under H0 is smaller than the binomial's (sampling without replacement; Hoeffding 1963),
// so the test is conservative there. The same formula with (k, n, p0) is the exact one-sample
// binomial likelihood ratio, used for absolute and baseline thresholds.
//
// The likelihood ratio is used exactly (not its normal approximation), so small counts are handled
// honestly; the 1-d mixture integral is done by quadrature around the integrand's mode.

/** log(1 − p + p·e^θ): the binomial log-partition, relative to p. */
function logPartition(theta: number, p: number): number {
  return theta > 0 ? theta + Math.log(p + (1 - p) * Math.exp(-theta)) : Math.log1p(p * Math.expm1(theta));
}

/** p shifted by θ on the log-odds scale: sigmoid(logit p + θ). */
function shifted(theta: number, p: number): number {
  const z = theta + Math.log(p) - Math.log1p(-p);
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

const GRID = 160;
/** Scratch space for the quadrature (the judge is synchronous, so one buffer serves every call). */
const terms = new Float64Array(GRID + 1);

/**
 * log of the mixture e-value for k successes in n trials against H0 p = p0, over the log-odds
 * shift θ with prior N(0, τ²) (`two-sided`) or the half-normal on θ > 0 (`greater`).
 *
 * The one-sided (half-normal) version stays a supermartingale for every p ≤ p0, not only p = p0
 * (for θ > 0 and a true shift θ' ≤ 0, E[LR(θ)] = exp(A(θ+θ') − A(θ') − A(θ)) ≤ 1 by convexity of the
 * log-partition A), so it tests the composite "no harm" null, and spends no power on improvements.
 */
export function binomialMixtureLogE(k: number, n: number, p0: number, tau: number, side: 'greater' | 'two-sided'): number {
  // Malformed input is no evidence (never NaN, which would compare as neither above nor below α).
  if (!(n > 0) || !(k >= 0 && k <= n) || !(p0 > 0 && p0 < 1) || !(tau > 0)) return 0;
  const invTau2 = 1 / (tau * tau);
  const logIntegrand = (t: number) => t * k - n * logPartition(t, p0) - 0.5 * t * t * invTau2;
  // The log integrand is strictly concave (A is convex), so its slope is decreasing: bisect it to 0.
  const slope = (t: number) => k - n * shifted(t, p0) - t * invTau2;
  let lo = -50;
  let hi = 50;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  const mode = (lo + hi) / 2;
  const sdAt = (t: number) => {
    const q = shifted(t, p0);
    return 1 / Math.sqrt(n * q * (1 - q) + invTau2);
  };
  // Integrate over ±10 sd of the (near-Gaussian) integrand: the rest weighs < e^-50.
  let a = mode - 10 * sdAt(mode);
  let b = mode + 10 * sdAt(mode);
  if (side === 'greater') {
    if (mode <= 0) {
      // Mode at the boundary: the integrand decays from θ = 0 at least as fast as its slope there says.
      const s0 = slope(0);
      a = 0;
      b = s0 < 0 ? Math.min(10 * sdAt(0), 40 / -s0) : 10 * sdAt(0);
    } else a = Math.max(0, a);
  }
  const h = (b - a) / GRID;
  let max = -Infinity;
  for (let i = 0; i <= GRID; i++) {
    terms[i] = logIntegrand(a + i * h) + (i === 0 || i === GRID ? -Math.LN2 : 0); // trapezoid end weights ½
    if (terms[i]! > max) max = terms[i]!;
  }
  let sum = 0;
  for (let i = 0; i <= GRID; i++) sum += Math.exp(terms[i]! - max);
  const logNorm = -Math.log(tau * Math.sqrt(2 * Math.PI)) + (side === 'greater' ? Math.LN2 : 0);
  return max + Math.log(sum) + Math.log(h) + logNorm;
}

/**
 * Conditional-binomial mSPRT of "the exposed cohort's event rate is higher than control's":
 * x_e of x_e + x_c events fall in exposed, against the trial share p0 = n_e / (n_e + n_c).
 */
export function compareRatesLogE(xe: number, ne: number, xc: number, nc: number, tau: number): number {
  if (!(ne > 0 && nc > 0) || xe + xc === 0) return 0;
  return binomialMixtureLogE(xe, xe + xc, ne / (ne + nc), tau, 'greater');
}

/** Always-valid p-value of an e-value: P(∃t: p_t ≤ α) ≤ α. */
export function pFromLogE(logE: number): number {
  return Number.isNaN(logE) ? 1 : Math.min(1, Math.exp(-logE));
}

/**
 * Always-valid (1 − α) interval for the rate ratio exposed / control, by inverting the two-sided
 * normal-mixture SPRT on the normal approximation of the log rate ratio (variance 1/x_e + 1/x_c,
 * with ½ added to each count): θ̂ ± √(v(v+τ²)/τ² · (2 log(1/α) + log((v+τ²)/v))) (Johari et al. 2017;
 * Howard et al. 2021). For reporting: the decisions use the exact test above.
 */
export function rateRatioInterval(xe: number, ne: number, xc: number, nc: number, tau: number, alpha: number): [number, number] | null {
  if (!(ne > 0 && nc > 0)) return null;
  const est = Math.log((xe + 0.5) / ne) - Math.log((xc + 0.5) / nc);
  const v = 1 / (xe + 0.5) + 1 / (xc + 0.5);
  const t2 = tau * tau;
  const half = Math.sqrt(((v * (v + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((v + t2) / v)));
  return [Math.exp(est - half), Math.exp(est + half)];
}
