import { bucketOf } from './bucket.js';
import {
  DEFAULT_STICKINESS,
  MAX_BASIS_POINTS,
  envVarName,
  parseOverride,
  type EvaluationContext,
  type EvaluationResult,
  type Flag,
} from './model.js';

/** Where the env master switch is read from: `process.env` on a server, anything in a browser. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

export interface EvaluateOptions {
  /** Returned when the flag is unknown or broken. Default false. */
  readonly defaultValue?: boolean;
  /** Env variables of the evaluating process, for `FEATURE_<KEY_UPPER>`. */
  readonly env?: EnvSource;
}

/** What the rule needs from a flag, however it was prepared. */
export interface RuleInputs {
  readonly override: boolean | undefined;
  readonly inAllowlist: (id: string) => boolean;
  readonly bucketOf: (id: string) => number;
}

export const DISABLED: EvaluationResult = Object.freeze({ value: false, reason: 'DISABLED' });
export const NO_SUBJECT: EvaluationResult = Object.freeze({ value: false, reason: 'NO_SUBJECT' });
export const ALLOWLISTED: EvaluationResult = Object.freeze({ value: true, reason: 'ALLOWLIST' });

/**
 * Evaluates a flag for a context (design §3, first match wins). Never throws: an unknown or
 * malformed flag returns the default value with an error code.
 *
 * @example
 * evaluate(flag, { id: 'passenger-42' }, { env: process.env })
 * // → { value: false, reason: 'NOT_IN_ROLLOUT', bucket: 5678 }
 */
export function evaluate(
  flag: Flag | undefined | null,
  context: EvaluationContext | undefined | null,
  options: EvaluateOptions = {},
): EvaluationResult {
  const defaultValue = options.defaultValue ?? false;
  try {
    if (flag == null) return notFound(defaultValue);
    const invalid = validateFlagShape(flag);
    if (invalid) return invalidFlag(defaultValue, invalid);
    const override = options.env ? parseOverride(options.env[envVarName(flag.key)]) : undefined;
    return applyRules(flag, context, {
      override,
      inAllowlist: (id) => flag.allowlist.includes(id),
      bucketOf: (id) => bucketOf(flag.salt ?? flag.key, id),
    });
  } catch (err) {
    return generalError(defaultValue, err);
  }
}

/**
 * The rule table of design §3, steps 2–7. `createEvaluator` runs the same steps inline over its
 * prepared flag (closures here cost more than the hash there); the conformance cases and
 * property tests run both, so a change to one must be made to the other.
 */
export function applyRules(
  flag: Flag,
  context: EvaluationContext | undefined | null,
  inputs: RuleInputs,
): EvaluationResult {
  if (inputs.override !== undefined) return { value: inputs.override, reason: 'OVERRIDE' };
  if (!flag.enabled) return DISABLED;
  const id = subjectIdOf(context, flag.stickiness ?? DEFAULT_STICKINESS);
  if (id !== undefined && inputs.inAllowlist(id)) return ALLOWLISTED;
  if (id === undefined) return NO_SUBJECT;
  const bucket = inputs.bucketOf(id);
  return bucket < flag.rolloutBasisPoints
    ? { value: true, reason: 'ROLLOUT', bucket }
    : { value: false, reason: 'NOT_IN_ROLLOUT', bucket };
}

/** The subject id: a non-empty string, or a finite number written in decimal. */
export function subjectIdOf(
  context: EvaluationContext | undefined | null,
  stickiness: string,
): string | undefined {
  if (context == null || typeof context !== 'object') return undefined;
  // A named load of the default attribute is monomorphic for same-shaped contexts; a keyed
  // load with a variable name is a generic lookup, slower on the hot path.
  const raw = stickiness === 'id' ? context.id : context[stickiness];
  // The rest out of line: evaluators are inlined into their callers only while small.
  return typeof raw === 'string' && raw.length > 0 ? raw : numericSubjectId(raw);
}

function numericSubjectId(raw: unknown): string | undefined {
  return typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
}

/** Returns a reason the flag cannot be evaluated, or undefined when it is well formed. */
export function validateFlagShape(flag: Flag): string | undefined {
  if (typeof flag !== 'object') return 'flag is not an object';
  if (typeof flag.key !== 'string') return 'key is not a string';
  if (typeof flag.enabled !== 'boolean') return 'enabled is not a boolean';
  const bp = flag.rolloutBasisPoints;
  if (!Number.isInteger(bp) || bp < 0 || bp > MAX_BASIS_POINTS) return 'rolloutBasisPoints out of range';
  if (!Array.isArray(flag.allowlist)) return 'allowlist is not an array';
  if (flag.salt !== undefined && typeof flag.salt !== 'string') return 'salt is not a string';
  if (flag.stickiness !== undefined && typeof flag.stickiness !== 'string') return 'stickiness is not a string';
  return undefined;
}

export function notFound(defaultValue: boolean | undefined): EvaluationResult {
  return { value: defaultValue ?? false, reason: 'FLAG_NOT_FOUND', errorCode: 'FLAG_NOT_FOUND' };
}

export function invalidFlag(defaultValue: boolean | undefined, message: string): EvaluationResult {
  return { value: defaultValue ?? false, reason: 'ERROR', errorCode: 'INVALID_FLAG', errorMessage: message };
}

export function generalError(defaultValue: boolean | undefined, err: unknown): EvaluationResult {
  const errorMessage = err instanceof Error ? err.message : String(err);
  return { value: defaultValue ?? false, reason: 'ERROR', errorCode: 'GENERAL', errorMessage };
}
