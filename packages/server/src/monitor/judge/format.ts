// Number formatting for alert messages: every message states its numbers, readable at a glance.

/** 30000 → "30 000" (thin grouping as in the runbooks). */
export function int(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** 0.01023 → "1.02 %"; small rates keep 2 significant digits ("0.0041 %"). */
export function pct(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  const v = x * 100;
  if (v === 0) return '0 %';
  return `${Math.abs(v) >= 0.1 ? v.toFixed(2) : v.toPrecision(2)} %`;
}

/** p-values and α: "3e-9", "0.0083". */
export function prob(p: number): string {
  if (p < 1e-300) return '<1e-300';
  if (p >= 0.001) return Number(p.toPrecision(2)).toString();
  return p.toExponential(0);
}

/** Ratios and the like, 2 decimals; "∞" when the denominator was 0. */
export function num(x: number | null, digits = 2): string {
  if (x === null || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return '∞';
  return x.toFixed(digits);
}

/** Milliseconds: "1 830 ms". */
export function ms(x: number | null): string {
  return x === null ? 'n/a' : `${int(x)} ms`;
}

/** A distribution value with its unit: "1 830 ms", or 4 significant digits without a unit. */
export function value(x: number | null, unit: string): string {
  if (x === null) return 'n/a';
  return unit ? `${Math.abs(x) >= 100 ? int(x) : Number(x.toPrecision(3)).toString()} ${unit}` : Number(x.toPrecision(4)).toString();
}

/** An absolute change of a rate, in percentage points: 0.001 → "0.10 pp". */
export function pp(x: number): string {
  return `${(x * 100).toFixed(2)} pp`;
}
