import type { Queryable } from '../db/database.js';
import { listFlags, type FlagRecord } from '../flags/store.js';
import { LIVE_STATES } from '../rollouts/model.js';


/** A flag as captured: every field a restore writes back, plus its bookkeeping for readers. */
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

/**
 * A rollout plan row exactly as the database held it (`to_jsonb` of the row, snake_case
 * column names), so a restore can write it back column by column even if later migrations
 * add columns the snapshot code does not know about.
 */
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

export interface SnapshotContent {
  format: 1;
  capturedAt: string;
  serverVersion: string;
  flags: SnapshotFlag[];
  /** The live plans (active, paused, rolling back) at capture time. */
  plans: SnapshotPlan[];
  /** The last three checkpoints per flag, newest first. */
  checkpoints: Record<string, SnapshotCheckpoint[]>;
}

export const CHECKPOINTS_PER_FLAG = 3;

export function snapshotFlag(f: FlagRecord): SnapshotFlag {
  return {
    key: f.key,
    description: f.description,
    enabled: f.enabled,
    rolloutBasisPoints: f.rolloutBasisPoints,
    allowlist: [...f.allowlist],
    salt: f.salt,
    stickiness: f.stickiness,
    archived: f.archivedAt !== null,
    version: f.version,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
    updatedBy: f.updatedBy,
  };
}

/** Every flag (archived ones too, so a restore archives them again), live plans by id. */
export async function livePlans(q: Queryable, extraIds: readonly string[] = [], lock = false): Promise<SnapshotPlan[]> {
  const rows = await q.query<{ row: SnapshotPlan }>(
    `select to_jsonb(p) as row from rollout_plans p
     where p.state = any($1::text[]) or p.id = any($2::text[])
     order by p.flag_key, p.id${lock ? ' for update' : ''}`,
    [LIVE_STATES, extraIds],
  );
  return rows.map((r) => r.row);
}

export const isLive = (plan: SnapshotPlan) => (LIVE_STATES as readonly string[]).includes(plan.state);

/** Reads everything a snapshot holds. Run it in a repeatable-read transaction for one consistent view. */
export async function captureContent(q: Queryable, serverVersion: string): Promise<SnapshotContent> {
  const flags = await listFlags(q, { includeArchived: true });
  const plans = (await livePlans(q)).filter(isLive);
  const rows = await q.query<{
    id: string;
    flag: string;
    at: Date;
    trigger: string;
    status: string;
    health: string | null;
    decision: string | null;
    phase: string | null;
    label: string | null;
    alerts: SnapshotCheckpoint['alerts'] | null;
  }>(
    `select id, flag_key as flag, at, trigger, status, health, decision, phase, label, alerts
     from (select c.*, row_number() over (partition by flag_key order by at desc, id desc) as n from checkpoints c) ranked
     where n <= $1
     order by flag_key, at desc, id desc`,
    [CHECKPOINTS_PER_FLAG],
  );
  const known = new Set(flags.map((f) => f.key));
  const checkpoints: Record<string, SnapshotCheckpoint[]> = {};
  for (const r of rows) {
    if (!known.has(r.flag)) continue;
    (checkpoints[r.flag] ??= []).push({
      id: r.id,
      at: r.at.toISOString(),
      trigger: r.trigger,
      status: r.status,
      health: r.health,
      decision: r.decision,
      phase: r.phase,
      label: r.label,
      alerts: (r.alerts ?? []).map((a) => ({ code: a.code, severity: a.severity, message: a.message })),
    });
  }
  return {
    format: 1,
    capturedAt: new Date().toISOString(),
    serverVersion,
    flags: flags.map(snapshotFlag),
    plans,
    checkpoints,
  };
}
