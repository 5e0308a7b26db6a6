import { randomBytes } from 'node:crypto';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Identity } from '../auth/roles.js';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors.js';
import type { FlagService } from '../flags/service.js';
import { getFlag } from '../flags/store.js';
import { BUILTIN_TEMPLATES, checkPolicy, checkStages, rollbackTarget, type Plan, type Stage } from './model.js';
import { getTemplate, insertPlan, livePlan, putTemplate, updatePlan, type PlanPatch } from './store.js';

export interface StartInput {
  template?: string | undefined;
  stages?: Stage[] | undefined;
  cadence?: string | undefined;
  rollbackPolicy?: string | undefined;
  maxExtensions?: number | undefined;
  maxDataErrors?: number | undefined;
}

type FlagPatch = { enabled?: boolean; rolloutBasisPoints?: number };

/** What a committed rollback tells observers (/metrics). `by` is a class, never a person's name. */
export interface RollbackEvent {
  flag: string;
  by: 'watchdog' | 'operator';
  policy: string;
}

export interface PlanHooks {
  onRollback?: (event: RollbackEvent) => void;
}

/** Who the audit trail names when the watchdog moves a plan. */
export const WATCHDOG_ACTOR: Identity = { tokenId: 'internal', name: 'watchdog', role: 'OPERATOR' };

const bp = (pct: number) => Math.round(pct * 100);

/**
 * Plan lifecycle. Every transition is one transaction: the plan row, the flag change it
 * implies (through the flags' audited write path) and the plan's own audit event commit
 * together, with the actor a person or `watchdog`.
 */
export function createPlanService(db: Database, flags: FlagService, clock: () => number, hooks: PlanHooks = {}) {
  async function seedTemplates(): Promise<void> {
    for (const t of BUILTIN_TEMPLATES) await putTemplate(db, { ...t, builtin: true }, 'rampart');
  }

  /** Applies `fn` to the flag's live plan under a row lock; throws PLAN_NOT_FOUND without one. */
  async function transition(
    ctx: ChangeContext,
    flag: string,
    action: string,
    fn: (tx: Queryable, plan: Plan) => Promise<{ patch: PlanPatch; flag?: FlagPatch; why?: string }>,
  ): Promise<Plan> {
    const changes: Awaited<ReturnType<FlagService['updateIn']>>[] = [];
    const plan = await db.transaction(async (tx) => {
      const current = await livePlan(tx, flag, true);
      if (!current) throw new AppError('PLAN_NOT_FOUND', `${flag} has no live rollout plan.`);
      const { patch, flag: flagPatch, why } = await fn(tx, current);
      if (flagPatch) {
        const reason = `plan ${current.id}: ${why ?? action}`;
        changes.push(await flags.updateIn(tx, { ...ctx, reason: ctx.reason ? `${reason} — ${ctx.reason}` : reason }, flag, flagPatch));
      }
      const after = await updatePlan(tx, current.id, patch, ctx.actor.name);
      await appendAudit(tx, ctx, { action, flagKey: flag, target: current.id, before: slim(current), after: { ...slim(after), ...(why ? { why } : {}) } });
      return after;
    });
    for (const c of changes) flags.announce(c);
    return plan;
  }

  function stagePatch(plan: Plan, index: number): FlagPatch {
    return { enabled: true, rolloutBasisPoints: bp(plan.stages[index]!.percentage) };
  }

  return {
    seedTemplates,

    async start(ctx: ChangeContext, flag: string, input: StartInput): Promise<Plan> {
      const template = input.template ? await getTemplate(db, input.template) : undefined;
      if (input.template && !template) throw new AppError('TEMPLATE_NOT_FOUND', `No plan template named ${input.template}.`);
      const stages = checkStages(input.stages ?? template?.stages);
      const rollbackPolicy = checkPolicy(input.rollbackPolicy ?? template?.rollbackPolicy ?? 'zero');
      const changes: Awaited<ReturnType<FlagService['updateIn']>>[] = [];
      const plan = await db.transaction(async (tx) => {
        const live = await getFlag(tx, flag, true);
        if (!live || live.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${flag}.`);
        const existing = await livePlan(tx, flag);
        if (existing) throw new AppError('PLAN_ALREADY_ACTIVE', `${flag} already has a live plan (${existing.id}).`, { plan: existing.id });
        const id = 'rp_' + randomBytes(8).toString('base64url');
        const created = await insertPlan(tx, {
          id,
          flag,
          template: input.template ?? null,
          stages,
          cadence: input.cadence ?? template?.cadence ?? '0 * * * *',
          rollbackPolicy,
          maxExtensions: input.maxExtensions ?? 3,
          maxDataErrors: input.maxDataErrors ?? 3,
          state: 'active',
          currentStage: 0,
          stageStartedAt: new Date(clock()),
          awaitingApproval: false,
          extensionsUsed: 0,
          dataErrors: 0,
          lastPassedStage: null,
          rollbackReason: null,
          lastRollbackMs: null,
          createdBy: ctx.actor.name,
          updatedBy: ctx.actor.name,
        });
        changes.push(await flags.updateIn(tx, { ...ctx, reason: `plan ${id}: start at stage 1 (${stages[0]!.percentage} %)` }, flag, { enabled: true, rolloutBasisPoints: bp(stages[0]!.percentage) }));
        await appendAudit(tx, ctx, { action: 'plan.start', flagKey: flag, target: id, after: { ...slim(created), stages, rollbackPolicy } });
        return created;
      });
      for (const c of changes) flags.announce(c);
      return plan;
    },

    /** Moves to the next stage now (an operator's call), or completes after the last. */
    advance(ctx: ChangeContext, flag: string, why = 'advance'): Promise<Plan> {
      return transition(ctx, flag, 'plan.advance', async (_tx, plan) => {
        if (plan.state !== 'active') throw new AppError('PLAN_NOT_ACTIVE', `The plan is ${plan.state}.`);
        const next = plan.currentStage + 1;
        if (next >= plan.stages.length) {
          return { patch: { state: 'completed', endedAt: new Date(clock()), lastPassedStage: plan.currentStage, awaitingApproval: false }, why: `${why}: last stage passed, plan complete` };
        }
        return {
          patch: { currentStage: next, stageStartedAt: new Date(clock()), awaitingApproval: false, extensionsUsed: 0, lastPassedStage: plan.currentStage },
          flag: stagePatch(plan, next),
          why: `${why} to stage ${next + 1} (${plan.stages[next]!.percentage} %)`,
        };
      });
    },

    async approve(ctx: ChangeContext, flag: string): Promise<Plan> {
      const plan = await livePlan(db, flag);
      if (!plan) throw new AppError('PLAN_NOT_FOUND', `${flag} has no live rollout plan.`);
      if (!plan.awaitingApproval) throw new AppError('NOTHING_TO_APPROVE', 'The current stage is not waiting for an approval.');
      return this.advance(ctx, flag, `approved by ${ctx.actor.name}`);
    },

    pause: (ctx: ChangeContext, flag: string, why = 'paused') =>
      transition(ctx, flag, 'plan.pause', async (_tx, plan) => {
        if (plan.state !== 'active') throw new AppError('PLAN_NOT_ACTIVE', `The plan is ${plan.state}.`);
        return { patch: { state: 'paused' }, why };
      }),

    resume: (ctx: ChangeContext, flag: string) =>
      transition(ctx, flag, 'plan.resume', async (_tx, plan) => {
        if (plan.state !== 'paused') throw new AppError('PLAN_NOT_PAUSED', `The plan is ${plan.state}.`);
        return { patch: { state: 'active' }, flag: stagePatch(plan, plan.currentStage), why: 'resumed' };
      }),

    /** Ends the plan as a success, leaving the flag at its current stage (an operator's call). */
    complete: (ctx: ChangeContext, flag: string) =>
      transition(ctx, flag, 'plan.complete', async (_tx, plan) => ({
        patch: { state: 'completed', endedAt: new Date(clock()), awaitingApproval: false, lastPassedStage: plan.currentStage },
        why: `completed at stage ${plan.currentStage + 1} (${plan.stages[plan.currentStage]!.percentage} %)`,
      })),

    abort: (ctx: ChangeContext, flag: string) =>
      transition(ctx, flag, 'plan.abort', async () => ({ patch: { state: 'aborted', endedAt: new Date(clock()), awaitingApproval: false }, why: 'aborted; the flag stays as it is' })),

    /**
     * Rolls back under the plan's policy. `triggeredAt` (the checkpoint's time) lets the time
     * to the rollback target be measured and kept.
     */
    async rollback(ctx: ChangeContext, flag: string, why: string, triggeredAt?: Date): Promise<Plan> {
      const rolled = await transition(ctx, flag, 'plan.rollback', async (tx, plan) => {
        const live = (await getFlag(tx, flag, true))!;
        return {
          patch: { state: 'rolled_back', endedAt: new Date(clock()), rollbackReason: why, awaitingApproval: false },
          flag: rollbackTarget(plan, live.rolloutBasisPoints),
          why: `rollback (${plan.rollbackPolicy}): ${why}`,
        };
      });
      hooks.onRollback?.({ flag, by: ctx.actor.name === WATCHDOG_ACTOR.name && ctx.actor.tokenId === WATCHDOG_ACTOR.tokenId ? 'watchdog' : 'operator', policy: rolled.rollbackPolicy });
      if (!triggeredAt) return rolled;
      // Committed and announced: the flag is at its rollback target on every evaluation path.
      return updatePlan(db, rolled.id, { lastRollbackMs: Math.max(0, Date.now() - triggeredAt.getTime()) }, ctx.actor.name);
    },

    live: (flag: string) => livePlan(db, flag),

    /** The stage passed at an approval gate: mark it, audited, so the UI and CLI show the wait. */
    pauseForApproval: (plan: Plan) =>
      transition({ actor: WATCHDOG_ACTOR }, plan.flag, 'plan.await_approval', async () => ({
        patch: { awaitingApproval: true },
        why: `stage ${plan.currentStage + 1} passed; waiting for approval`,
      })),

    /** A person's change to the rollout while a plan runs would fight the plan: refused. */
    async guardManualRollout(flag: string): Promise<void> {
      const plan = await livePlan(db, flag);
      if (plan) {
        throw new AppError('PLAN_ACTIVE', `${flag} is under rollout plan ${plan.id}: change the percentage through the plan (advance, rollback, pause).`, { plan: plan.id });
      }
    },

    /** The kill switch always works; it also pauses a running plan so it cannot re-enable. */
    async onKillSwitch(ctx: ChangeContext, flag: string): Promise<void> {
      const plan = await livePlan(db, flag);
      if (plan?.state === 'active') await this.pause(ctx, flag, 'paused: the flag was disabled by hand');
    },
  };
}

function slim(p: Plan) {
  return { id: p.id, state: p.state, currentStage: p.currentStage, percentage: p.stages[p.currentStage]?.percentage ?? null, awaitingApproval: p.awaitingApproval, extensionsUsed: p.extensionsUsed };
}

export type PlanService = ReturnType<typeof createPlanService>;
