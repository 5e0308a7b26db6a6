import type { Queryable } from '../db/database.js';
import type { Plan, Stage } from './model.js';

const COLUMNS = `id, flag_key as flag, template, stages, cadence, rollback_policy as "rollbackPolicy",
  max_extensions as "maxExtensions", max_data_errors as "maxDataErrors", state, current_stage as "currentStage",
  stage_started_at as "stageStartedAt", awaiting_approval as "awaitingApproval", extensions_used as "extensionsUsed",
  data_errors as "dataErrors", last_passed_stage as "lastPassedStage", rollback_reason as "rollbackReason",
  last_rollback_ms as "lastRollbackMs", version, created_at as "createdAt", created_by as "createdBy",
  updated_at as "updatedAt", updated_by as "updatedBy", ended_at as "endedAt"`;

export async function livePlan(q: Queryable, flag: string, forUpdate = false): Promise<Plan | undefined> {
  return (
    await q.query<Plan>(
      `select ${COLUMNS} from rollout_plans where flag_key = $1 and state in ('active', 'paused', 'rolling_back')${forUpdate ? ' for update' : ''}`,
      [flag],
    )
  )[0];
}

export async function latestPlans(q: Queryable, flag: string, limit: number): Promise<Plan[]> {
  return q.query<Plan>(`select ${COLUMNS} from rollout_plans where flag_key = $1 order by created_at desc, id desc limit $2`, [flag, limit]);
}

export async function insertPlan(q: Queryable, p: Omit<Plan, 'createdAt' | 'updatedAt' | 'version' | 'stageStartedAt' | 'endedAt'> & { stageStartedAt: Date }): Promise<Plan> {
  const rows = await q.query<Plan>(
    `insert into rollout_plans (id, flag_key, template, stages, cadence, rollback_policy, max_extensions, max_data_errors, state,
       current_stage, stage_started_at, awaiting_approval, extensions_used, data_errors, last_passed_stage, rollback_reason,
       last_rollback_ms, created_by, updated_by)
     values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) returning ${COLUMNS}`,
    [
      p.id, p.flag, p.template, JSON.stringify(p.stages), p.cadence, p.rollbackPolicy, p.maxExtensions, p.maxDataErrors, p.state,
      p.currentStage, p.stageStartedAt.toISOString(), p.awaitingApproval, p.extensionsUsed, p.dataErrors, p.lastPassedStage,
      p.rollbackReason, p.lastRollbackMs, p.createdBy,
    ],
  );
  return rows[0]!;
}

export type PlanPatch = Partial<Pick<Plan, 'state' | 'currentStage' | 'stageStartedAt' | 'awaitingApproval' | 'extensionsUsed' | 'dataErrors' | 'lastPassedStage' | 'rollbackReason' | 'lastRollbackMs' | 'endedAt'>>;

const FIELD: Record<keyof PlanPatch, string> = {
  state: 'state',
  currentStage: 'current_stage',
  stageStartedAt: 'stage_started_at',
  awaitingApproval: 'awaiting_approval',
  extensionsUsed: 'extensions_used',
  dataErrors: 'data_errors',
  lastPassedStage: 'last_passed_stage',
  rollbackReason: 'rollback_reason',
  lastRollbackMs: 'last_rollback_ms',
  endedAt: 'ended_at',
};

export async function updatePlan(q: Queryable, id: string, patch: PlanPatch, actor: string): Promise<Plan> {
  const sets: string[] = [];
  const params: unknown[] = [id, actor];
  for (const [k, v] of Object.entries(patch)) {
    params.push(v instanceof Date ? v.toISOString() : v);
    sets.push(`${FIELD[k as keyof PlanPatch]} = $${params.length}`);
  }
  const rows = await q.query<Plan>(
    `update rollout_plans set ${sets.join(', ')}, version = version + 1, updated_by = $2, updated_at = now() where id = $1 returning ${COLUMNS}`,
    params,
  );
  return rows[0]!;
}

export interface Template {
  name: string;
  description: string;
  stages: Stage[];
  cadence: string;
  rollbackPolicy: Plan['rollbackPolicy'];
  builtin: boolean;
}

export async function getTemplate(q: Queryable, name: string): Promise<Template | undefined> {
  return (await q.query<Template>(`select name, description, stages, cadence, rollback_policy as "rollbackPolicy", builtin from plan_templates where name = $1`, [name]))[0];
}

export async function listTemplates(q: Queryable): Promise<Template[]> {
  return q.query<Template>(`select name, description, stages, cadence, rollback_policy as "rollbackPolicy", builtin from plan_templates order by builtin desc, name`);
}

export async function putTemplate(q: Queryable, t: Omit<Template, 'builtin'> & { builtin?: boolean }, actor: string): Promise<void> {
  await q.query(
    `insert into plan_templates (name, description, stages, cadence, rollback_policy, builtin, created_by) values ($1, $2, $3::jsonb, $4, $5, $6, $7)
     on conflict (name) do update set description = excluded.description, stages = excluded.stages, cadence = excluded.cadence,
       rollback_policy = excluded.rollback_policy`,
    [t.name, t.description, JSON.stringify(t.stages), t.cadence, t.rollbackPolicy, t.builtin ?? false, actor],
  );
}

/**
 * The latest rolled-back plan of every live flag, for /metrics. `by` is a class: the watchdog,
 * or an operator (whose name stays in the audit trail, not in a metric label).
 */
export async function latestRollbacks(q: Queryable, watchdogName: string): Promise<{ flag: string; by: 'watchdog' | 'operator'; policy: string; at: Date }[]> {
  return q.query(
    `select f.key as flag, case when p.updated_by = $1 then 'watchdog' else 'operator' end as by, p.rollback_policy as policy, p.ended_at as at
     from flags f
     cross join lateral (
       select updated_by, rollback_policy, ended_at from rollout_plans
       where flag_key = f.key and state = 'rolled_back' and ended_at is not null
       order by ended_at desc limit 1
     ) p
     where f.archived_at is null
     order by f.key`,
    [watchdogName],
  );
}
