/**
 * The names of the series Rampart's /metrics exposes (packages/server/src/ops/metrics.ts), as
 * the exported rules and dashboard use them. The export tests scrape a real server and check
 * that every one of these exists, so a renamed metric breaks a test, not an on-call night.
 */
export const RAMPART_METRICS = {
  httpRequests: 'rampart_http_requests_total',
  httpDurationBucket: 'rampart_http_request_duration_seconds_bucket',
  evaluations: 'rampart_evaluations_total',
  ingestBatches: 'rampart_ingest_batches_total',
  ingestEvents: 'rampart_ingest_events_total',
  ingestRejects: 'rampart_ingest_rejects_total',
  cohortResponses: 'rampart_cohort_http_responses_total',
  checkpoints: 'rampart_checkpoints_total',
  rollbacks: 'rampart_rollbacks_total',
  watchdogHealth: 'rampart_watchdog_health',
  watchdogLastCheckpoint: 'rampart_watchdog_last_checkpoint_timestamp_seconds',
  lastRollback: 'rampart_plan_last_rollback_timestamp_seconds',
  // prom-client's default metrics, under the `rampart_process_` prefix.
  cpuSeconds: 'rampart_process_process_cpu_seconds_total',
  residentMemory: 'rampart_process_process_resident_memory_bytes',
  eventLoopLagP99: 'rampart_process_nodejs_eventloop_lag_p99_seconds',
} as const;

/** The evaluation routes: the ones applications wait on. */
export const EVALUATION_ROUTES = '/api/evaluate/:key|/api/evaluate|/api/evaluate/batch|/api/flags';
