import type { Queryable } from '../db/database.js';

export const SCHEDULE_STATES = ['pending', 'applied', 'cancelled', 'failed'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

/** What a scheduled change does when it runs: at least one field. */
export interface ScheduledPatch {
  enabled?: boolean;
  rolloutPercentage?: number;
}

export interface ScheduledChange {
  id: string;
  flagKey: string;
  at: Date;
  change: ScheduledPatch;
  reason: string | null;
  state: ScheduleState;
  createdBy: string;
  createdAt: Date;
  appliedAt: Date | null;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  /** Applied: `{ version, changed }`; failed: `{ error, code?, planId? }`; otherwise null. */
  result: Record<string, unknown> | null;
}

const COLUMNS = `id, flag_key as "flagKey", at, change, reason, state, created_by as "createdBy",
  created_at as "createdAt", applied_at as "appliedAt", cancelled_by as "cancelledBy",
  cancelled_at as "cancelledAt", result`;

export async function insertScheduledChange(
  q: Queryable,
  row: Pick<ScheduledChange, 'id' | 'flagKey' | 'at' | 'change' | 'reason' | 'createdBy'>,
): Promise<ScheduledChange> {
  const rows = await q.query<ScheduledChange>(
    `insert into scheduled_changes (id, flag_key, at, change, reason, created_by)
     values ($1, $2, $3, $4::jsonb, $5, $6) returning ${COLUMNS}`,
    [row.id, row.flagKey, row.at.toISOString(), JSON.stringify(row.change), row.reason, row.createdBy],
  );
  return rows[0]!;
}

export async function getScheduledChange(q: Queryable, id: string): Promise<ScheduledChange | undefined> {
  return (await q.query<ScheduledChange>(`select ${COLUMNS} from scheduled_changes where id = $1`, [id]))[0];
}

export interface ListScheduledQuery {
  flagKey?: string | undefined;
  state?: ScheduleState | undefined;
  limit: number;
}

/** Soonest first (pending ones are the next to run). */
export async function listScheduledChanges(q: Queryable, query: ListScheduledQuery): Promise<ScheduledChange[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.flagKey !== undefined) {
    params.push(query.flagKey);
    where.push(`flag_key = $${params.length}`);
  }
  if (query.state !== undefined) {
    params.push(query.state);
    where.push(`state = $${params.length}`);
  }
  params.push(query.limit);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  return q.query<ScheduledChange>(
    `select ${COLUMNS} from scheduled_changes ${clause} order by at, created_at, id limit $${params.length}`,
    params,
  );
}

/** Ids of pending changes due at `now`, in the order they must run. */
export async function dueScheduledChanges(q: Queryable, now: Date, limit: number): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select id from scheduled_changes where state = 'pending' and at <= $1 order by at, created_at, id limit $2`,
    [now.toISOString(), limit],
  );
  return rows.map((r) => r.id);
}

/**
 * The claim: only one caller ever moves a change out of 'pending'. Returns the row if this
 * caller won, undefined if it was not pending any more (claimed or cancelled by someone else).
 */
export async function claimScheduledChange(q: Queryable, id: string): Promise<ScheduledChange | undefined> {
  const rows = await q.query<ScheduledChange>(
    `update scheduled_changes set state = 'applied', applied_at = now()
     where id = $1 and state = 'pending' returning ${COLUMNS}`,
    [id],
  );
  return rows[0];
}

/** Records the outcome of a claimed change (state 'applied' → 'applied' or 'failed'). */
export async function recordScheduledResult(
  q: Queryable,
  id: string,
  state: 'applied' | 'failed',
  result: Record<string, unknown>,
): Promise<ScheduledChange | undefined> {
  const rows = await q.query<ScheduledChange>(
    `update scheduled_changes set state = $2, result = $3::jsonb where id = $1 and state = 'applied' returning ${COLUMNS}`,
    [id, state, JSON.stringify(result)],
  );
  return rows[0];
}

export async function cancelScheduledChange(q: Queryable, id: string, actor: string): Promise<ScheduledChange | undefined> {
  const rows = await q.query<ScheduledChange>(
    `update scheduled_changes set state = 'cancelled', cancelled_by = $2, cancelled_at = now()
     where id = $1 and state = 'pending' returning ${COLUMNS}`,
    [id, actor],
  );
  return rows[0];
}

