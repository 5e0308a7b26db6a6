/**
 * The one error catalog. Codes are stable and never reused: clients, the CLI and scripts
 * branch on them. docs/errors.md lists every code; a test keeps the two in step.
 */
export const ERROR_CATALOG = {
  VALIDATION_ERROR: { status: 400, message: 'The request does not match the schema.' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  INVALID_FLAG_KEY: { status: 400, message: 'Flag keys match ^[a-z0-9][a-z0-9_.-]{0,127}$.' },
  ALLOWLIST_TOO_LARGE: { status: 400, message: 'An allowlist holds at most 10 000 ids.' },
  INVALID_IF_MATCH: { status: 400, message: 'If-Match must be a quoted flag version, e.g. "3".' },
  MALFORMED_BATCH: { status: 400, message: 'The metrics batch does not match the documented shape.' },
  NEGATIVE_COUNT: { status: 400, message: 'Counts must be zero or more.' },
  NON_FINITE_VALUE: { status: 400, message: 'Values must be finite numbers (no NaN or Infinity).' },
  UNKNOWN_COHORT: { status: 400, message: 'Cohorts are exposed, control, allowlist or off.' },
  HISTOGRAM_TOO_LARGE: { status: 400, message: 'A histogram has more buckets, or a higher bucket index, than the shared layout.' },
  INVALID_METRIC_NAME: { status: 400, message: 'Metric names match ^[a-z][a-z0-9_]{0,62}$.' },
  TOO_MANY_METRICS: { status: 400, message: 'This flag has reached its limit of distinct metric names.' },
  UNKNOWN_FLAG: { status: 400, message: 'The batch reports metrics for a flag that does not exist.' },
  INVALID_TIMESTAMP: { status: 400, message: 'Timestamps must be within the last 90 days, and aggregate minutes whole minutes.' },
  PLAN_NO_STAGES: { status: 400, message: 'A rollout plan needs at least one stage.' },
  PLAN_STAGES_OUT_OF_ORDER: { status: 400, message: 'Stage percentages must rise from one stage to the next.' },
  INVALID_DWELL: { status: 400, message: 'A stage’s minimum dwell must be zero or more minutes.' },
  UNKNOWN_ROLLBACK_POLICY: { status: 400, message: 'Rollback policies are disable, zero, previous and halve.' },
  INVALID_WINDOW: { status: 400, message: 'The time window is empty, inverted or too long.' },
  INVALID_QUERY_TEMPLATE: { status: 400, message: 'The PromQL template uses an unknown or broken placeholder.' },
  INVALID_CHANNEL: { status: 400, message: 'The notification channel’s config does not fit its type.' },
  TARGET_NOT_ALLOWED: { status: 400, message: 'The URL points at a private, loopback or link-local address, which this server does not send requests to.' },
  INVALID_SCHEDULE_TIME: { status: 400, message: 'A scheduled change must be in the future, at most a year ahead.' },
  TOKEN_MISSING: { status: 401, message: 'Send a token: Authorization: Bearer <token>.' },
  TOKEN_INVALID: { status: 401, message: 'The token is unknown or revoked.' },
  FORBIDDEN: { status: 403, message: 'Your role may not do this.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  FLAG_NOT_FOUND: { status: 404, message: 'No such flag.' },
  TOKEN_NOT_FOUND: { status: 404, message: 'No such token.' },
  PLAN_NOT_FOUND: { status: 404, message: 'The flag has no live rollout plan.' },
  TEMPLATE_NOT_FOUND: { status: 404, message: 'No such plan template.' },
  CHECKPOINT_NOT_FOUND: { status: 404, message: 'No such checkpoint.' },
  BASELINE_NOT_FOUND: { status: 404, message: 'No such baseline.' },
  METRIC_DEFINITION_NOT_FOUND: { status: 404, message: 'No such metric definition.' },
  CHANNEL_NOT_FOUND: { status: 404, message: 'No such notification channel.' },
  SCHEDULED_CHANGE_NOT_FOUND: { status: 404, message: 'No such scheduled change.' },
  SNAPSHOT_NOT_FOUND: { status: 404, message: 'No such snapshot.' },
  FLAG_EXISTS: { status: 409, message: 'A flag with this key exists.' },
  VERSION_CONFLICT: { status: 409, message: 'The flag changed since you read it; reload and retry.' },
  LAST_SUPER_ADMIN: { status: 409, message: 'Revoking this token would leave no SUPER_ADMIN.' },
  METRIC_KIND_CONFLICT: { status: 409, message: 'This metric name is already used with another kind for this flag.' },
  PLAN_ALREADY_ACTIVE: { status: 409, message: 'The flag already has a live rollout plan.' },
  PLAN_ACTIVE: { status: 409, message: 'The flag is under a rollout plan: change its percentage through the plan.' },
  PLAN_NOT_ACTIVE: { status: 409, message: 'The plan is not active (paused, or ended).' },
  PLAN_NOT_PAUSED: { status: 409, message: 'The plan is not paused.' },
  NOTHING_TO_APPROVE: { status: 409, message: 'The current stage is not waiting for an approval.' },
  CHECKPOINT_RUNNING: { status: 409, message: 'A checkpoint for this flag is running; try again when it ends.' },
  NO_ROLLOUT_YET: { status: 409, message: 'The flag has never had a non-zero rollout, so there is no pre-rollout window.' },
  SCHEDULED_CHANGE_NOT_PENDING: { status: 409, message: 'The scheduled change is no longer pending: it was applied, failed or cancelled.' },
  PROMETHEUS_NOT_CONFIGURED: { status: 409, message: 'No Prometheus URL: set RAMPART_PROMETHEUS_URL or give the definition a prometheusUrl.' },
  RESTORE_REFUSED: { status: 409, message: 'The snapshot cannot be restored now; see details.' },
  SMTP_NOT_CONFIGURED: { status: 409, message: 'No SMTP server: set RAMPART_SMTP_URL to use e-mail channels.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  BATCH_TOO_LARGE: { status: 413, message: 'A metrics batch holds at most 10 000 events and 5 000 aggregates.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send application/json.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the Retry-After seconds.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  // retryAfterS: the Retry-After every answer with this code carries.
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unreachable; retry shortly.', retryAfterS: 5 },
  DATABASE_BUSY: { status: 503, message: 'Every database connection of this server stayed busy; retry in a second.', retryAfterS: 1 },
} as const satisfies Record<string, { status: number; message: string; retryAfterS?: number }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'AppError';
    this.status = ERROR_CATALOG[code].status;
  }
}

/** The wire shape of every error (design §8). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; requestId: string };
}
