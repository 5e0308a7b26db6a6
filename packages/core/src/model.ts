/** The evaluation spec this package implements (design §3). */
export const SPEC_VERSION = 1;
/** Name of the bucketing scheme; a new scheme gets a new name so old flags keep their users. */
export const HASH_VERSION = 'sha256-v1';
/** Buckets per flag: rollouts move in 0.01 % steps. */
export const BUCKET_COUNT = 10_000;
export const MAX_BASIS_POINTS = 10_000;
export const MAX_ALLOWLIST = 10_000;
export const FLAG_KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
export const DEFAULT_STICKINESS = 'id';

/** A flag as every evaluator sees it. Treat it as an immutable value: evaluators cache by identity. */
export interface Flag {
  readonly key: string;
  /** The kill switch: false means OFF for everyone, allowlist included. */
  readonly enabled: boolean;
  /** Percentage × 100 (0..10 000). */
  readonly rolloutBasisPoints: number;
  /** Subject ids that get the feature while it is enabled, whatever the percentage. */
  readonly allowlist: readonly string[];
  /** Bucketing salt; defaults to the key. */
  readonly salt?: string | undefined;
  /** Which context attribute holds the subject id; defaults to `id`. */
  readonly stickiness?: string | undefined;
  readonly version?: number | undefined;
}

/** Attributes of the subject being evaluated, e.g. `{ id: 'passenger-42' }`. */
export type EvaluationContext = Readonly<Record<string, unknown>>;

export type Reason =
  | 'FLAG_NOT_FOUND'
  | 'OVERRIDE'
  | 'DISABLED'
  | 'ALLOWLIST'
  | 'NO_SUBJECT'
  | 'ROLLOUT'
  | 'NOT_IN_ROLLOUT'
  | 'ERROR';

export type ErrorCode = 'FLAG_NOT_FOUND' | 'INVALID_FLAG' | 'GENERAL';

export interface EvaluationResult {
  readonly value: boolean;
  readonly reason: Reason;
  /** The subject's bucket (0..9 999) when one was computed. */
  readonly bucket?: number;
  readonly errorCode?: ErrorCode;
  readonly errorMessage?: string;
}

/** Who a result puts the subject with, for metrics and the watchdog (design §3). */
export type Cohort = 'exposed' | 'allowlist' | 'control' | 'off';
export const COHORTS: readonly Cohort[] = ['exposed', 'control', 'allowlist', 'off'];

/** The runbooks' log vocabulary. */
export type Decision = 'ALLOWLIST' | 'ROLLOUT' | 'OFF';

export const REASONS: readonly Reason[] = [
  'FLAG_NOT_FOUND',
  'OVERRIDE',
  'DISABLED',
  'ALLOWLIST',
  'NO_SUBJECT',
  'ROLLOUT',
  'NOT_IN_ROLLOUT',
  'ERROR',
];

export function cohortOf(reason: Reason): Cohort {
  switch (reason) {
    case 'ROLLOUT':
      return 'exposed';
    case 'ALLOWLIST':
      return 'allowlist';
    case 'NOT_IN_ROLLOUT':
      return 'control';
    default:
      return 'off';
  }
}

export function decisionOf(result: EvaluationResult): Decision {
  if (result.reason === 'ALLOWLIST') return 'ALLOWLIST';
  if (result.reason === 'ROLLOUT') return 'ROLLOUT';
  return result.value ? 'ROLLOUT' : 'OFF';
}

export function isValidFlagKey(key: unknown): key is string {
  return typeof key === 'string' && FLAG_KEY_PATTERN.test(key);
}

/** `FEATURE_<KEY_UPPER>`: the key upper-cased, every non-alphanumeric character replaced by `_`. */
export function envVarName(key: string): string {
  return 'FEATURE_' + key.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Parses an env master-switch value. Returns undefined for anything that is not a clear
 * on/off word, so a typo never flips a flag.
 */
export function parseOverride(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  switch (raw.trim().toLowerCase()) {
    case 'false':
    case 'off':
    case '0':
      return false;
    case 'true':
    case 'on':
    case '1':
      return true;
    default:
      return undefined;
  }
}

/**
 * Converts a percentage with at most two decimals to basis points; undefined when the value is
 * out of range or finer than 0.01 %.
 */
export function percentageToBasisPoints(percentage: number): number | undefined {
  if (typeof percentage !== 'number' || !Number.isFinite(percentage)) return undefined;
  if (percentage < 0 || percentage > 100) return undefined;
  const bp = Math.round(percentage * 100);
  // 0.29 * 100 is 28.999999999999996: accept float noise, reject a real third decimal.
  if (Math.abs(bp - percentage * 100) > 1e-6) return undefined;
  return bp;
}

export function basisPointsToPercentage(bp: number): number {
  return bp / 100;
}
