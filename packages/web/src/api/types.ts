/** Shapes of the admin API's answers, as the UI reads them (see the OpenAPI document at /docs). */
export type Role = 'SUPER_ADMIN' | 'OPERATOR' | 'VIEWER' | 'SDK';

export interface FlagSummary {
  key: string;
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  rolloutPercentage: number;
  allowlistCount: number;
  salt: string;
  stickiness: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  archived: boolean;
}

export interface Flag extends FlagSummary {
  allowlist: string[];
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  actorRole: Role;
  action: string;
  flagKey: string | null;
  target: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
}

export interface Evaluation {
  flag: string;
  value: boolean;
  reason: string;
  version: number;
  bucket: number;
  errorCode?: string;
}

export interface Stage {
  percentage: number;
  minDwellMinutes: number;
  minSample: number;
  gate: 'auto' | 'approval';
}

export type PlanState = 'active' | 'paused' | 'rolling_back' | 'rolled_back' | 'completed' | 'aborted' | string;

export interface Plan {
  id: string;
  flag: string;
  template: string | null;
  stages: Stage[];
  cadence: string;
  rollbackPolicy: string;
  state: PlanState;
  currentStage: number;
  stageStartedAt: string;
  awaitingApproval: boolean;
  extensionsUsed: number;
  lastPassedStage: number | null;
  rollbackReason: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  progress: {
    stage: number;
    of: number;
    percentage: number;
    gate: 'auto' | 'approval';
    dwellElapsedMinutes: number;
    dwellRequiredMinutes: number;
    minSample: number;
  } | null;
}

export type Verdict = 'PASS' | 'WARN' | 'FAIL' | 'MISSED' | string;
export type Health = 'GREEN' | 'YELLOW' | 'RED';

export interface Alert {
  code: string;
  severity: string;
  message: string;
  rule?: string;
  numbers?: Record<string, number | string | null>;
}

export interface CheckpointSummary {
  id: string;
  flag: string;
  at: string;
  scheduledFor: string | null;
  trigger: string;
  actor: string | null;
  phase: string | null;
  label: string | null;
  status: Verdict;
  health: Health | null;
  decision: string | null;
  alerts: Alert[];
  durationMs: number | null;
}

export interface Checkpoint extends CheckpointSummary {
  report: string | null;
}
