/** Shapes of the snapshot API's answers (docs/snapshots.md), as this page reads them. */

export interface SnapshotSummary {
  id: string;
  label: string | null;
  reason: string | null;
  createdAt: string;
  createdBy: string;
  serverVersion: string;
  flagCount: number;
  planCount: number;
}

export interface SnapshotPage {
  snapshots: SnapshotSummary[];
  nextBefore: string | null;
}

export interface SnapshotFlag {
  key: string;
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  allowlist: string[];
  salt: string;
  stickiness: string;
  archived: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string | null;
}

/** A plan row exactly as the database held it (snake_case columns). */
export type SnapshotPlan = Record<string, unknown> & { id: string; flag_key: string; state: string };

export interface SnapshotCheckpoint {
  id: string;
  at: string;
  trigger: string;
  status: string;
  health: string | null;
  decision: string | null;
  phase: string | null;
  label: string | null;
  alerts: { code: string; severity: string; message: string }[];
}

export interface SnapshotDetail extends SnapshotSummary {
  content: {
    format: number;
    capturedAt: string;
    serverVersion: string;
    flags: SnapshotFlag[];
    plans: SnapshotPlan[];
    checkpoints: Record<string, SnapshotCheckpoint[]>;
  };
}

/** `{snapshot, live}`: the diff reads from the snapshot's side; a restore writes `snapshot` over `live`. */
export interface FieldChange {
  snapshot: unknown;
  live: unknown;
}

export interface AllowlistDiff {
  /** Live but not in the snapshot: a restore removes them. */
  added: number;
  /** In the snapshot but not live: a restore adds them back. */
  removed: number;
  addedIds: string[];
  removedIds: string[];
  reordered: boolean;
}

export interface FlagDiff {
  key: string;
  change: 'added' | 'removed' | 'changed';
  fields: Partial<Record<string, FieldChange>>;
  allowlist?: AllowlistDiff;
  liveVersion: number | null;
}

export interface PlanDiff {
  id: string;
  flagKey: string;
  change: 'added' | 'removed' | 'changed';
  fields: Record<string, FieldChange>;
}

export interface SnapshotDiff {
  snapshotId: string;
  label: string | null;
  capturedAt: string;
  comparedAt: string;
  identical: boolean;
  summary: { flagsAdded: number; flagsRemoved: number; flagsChanged: number; plansAdded: number; plansRemoved: number; plansChanged: number };
  flags: FlagDiff[];
  plans: PlanDiff[];
}

export interface RestoreResult {
  snapshotId: string;
  changed: number;
  flags: { key: string; action: 'restored' | 'archived' | 'revived' | 'created'; version: number }[];
  plans: { id: string; flagKey: string; action: 'aborted' | 'restored' | 'recreated' }[];
}

/** Query keys: the list and each diff start with 'snapshots', so every live change refreshes them. */
export const snapshotKeys = {
  list: ['snapshots'] as const,
  diff: (id: string) => ['snapshots', 'diff', id] as const,
  /** A snapshot's content never changes: a non-flag key the live events leave alone. */
  detail: (id: string) => ['snapshot', null, id] as const,
};
