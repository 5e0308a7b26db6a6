// A small seeded PRNG for the watchdog simulations: same seed, same stages, same figures.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
  /** Binomial(n, p). */
  binomial(n: number, p: number): number;
}

/** xoshiro128** (Blackman & Vigna 2018), seeded through splitmix32 so nearby seeds diverge. */
export function createRng(seed: number): Rng {
  let x = seed >>> 0;
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const nextU32 = () => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = () => (nextU32() + (nextU32() >>> 11) / 2 ** 21) / 2 ** 32;
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // Box–Muller, using both outputs.
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const binomial = (n: number, p: number): number => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - binomial(n, 1 - p);
    const mean = n * p;
    if (mean < 30) {
      // Exact, by inversion of the CDF from 0 (Devroye 1986, X.4): O(mean) steps.
      const q = 1 - p;
      const s = p / q;
      let r = Math.exp(n * Math.log1p(-p));
      let u = next();
      let k = 0;
      while (u > r && k < n) {
        u -= r;
        k++;
        r *= ((n - k + 1) / k) * s;
      }
      return k;
    }
    // Normal approximation with continuity rounding: mean ≥ 30, so the skew is small, and both
    // cohorts are drawn the same way, so it cannot favour either.
    const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal());
    return Math.min(n, Math.max(0, k));
  };
  return { next, normal, binomial };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}
