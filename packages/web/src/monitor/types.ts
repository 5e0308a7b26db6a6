import type { Alert, Checkpoint } from '../api/types.js';

/** What the watchdog's alerts carry besides the shared fields (docs/watchdog.md). */
export interface MonitorAlert extends Alert {
  metric?: string;
  basis?: string;
}

/** `GET /api/admin/beta-monitor/:key/checkpoints/:id`: the summary, its report and what was judged. */
export interface CheckpointDetail extends Checkpoint {
  alerts: MonitorAlert[];
}

export interface Signal {
  id: number;
  at: string;
  actor: string;
  complaints: number;
  critical: boolean;
  severity: 'info' | 'warning' | 'critical' | string;
  note: string | null;
}

export type Cohort = 'exposed' | 'control' | 'allowlist' | 'off';
export type MetricKind = 'counter' | 'rate' | 'distribution';

export interface Percentiles {
  count: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface MetricSummary extends Partial<Percentiles> {
  kind: MetricKind;
  count: number;
  sum: number;
  rate?: number | null;
}

/** One cohort over one window (`GET /api/admin/metrics/:key/summary`, docs/metrics.md). */
export interface CohortSummary {
  exposures: number;
  requests: number;
  status: Record<string, number>;
  errorRate: number | null;
  errorRate5xx: number | null;
  latencyMs: Percentiles;
  metrics: Record<string, MetricSummary>;
}

export interface WindowSummary {
  flag: string;
  from: string;
  to: string;
  cohorts: Record<Cohort, CohortSummary>;
}

export interface Baseline {
  id: string;
  flag: string;
  mode: 'pre_rollout' | 'window' | 'weekly';
  from: string;
  to: string;
  capturedAt: string;
  capturedBy: string;
  ageSeconds: number;
  /** Per cohort, and `all`: every cohort pooled, what "before the rollout" means. */
  summary: Partial<Record<Cohort | 'all', CohortSummary>>;
}
