import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { changeContext } from '../http/context.js';
import { KeyParams, Reason, Text } from '../http/schemas.js';
import { LIVE_STATES, checkPolicy, checkStages, type Plan } from './model.js';
import type { PlanService } from './service.js';
import { getTemplate, latestPlans, listTemplates, putTemplate } from './store.js';

const tags = ['rollout plans'];

/** Shapes only; order, dwell and policy are checked by the service with their own codes. */
const StageSchema = z
  .object({
    percentage: z.number(),
    minDwellMinutes: z.number().int(),
    minSample: z.number().int().min(0).default(0),
    gate: z.enum(['auto', 'approval']).default('auto'),
    thresholds: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const StartBody = z
  .object({
    template: Text(64).optional().describe('runbook-5-phase, chat-canary, or a saved template'),
    stages: z.array(StageSchema).max(50).optional(),
    cadence: Text(100).optional().describe('checkpoint cron while the plan runs (UTC)'),
    rollbackPolicy: Text(32).optional().describe('disable | zero | previous | halve'),
    maxExtensions: z.number().int().min(0).max(100).optional(),
    maxDataErrors: z.number().int().min(1).max(100).optional(),
    reason: Reason.optional(),
  })
  .strict();

const ActionBody = z.object({ reason: Reason.optional() }).strict().nullish();

const TemplateBody = z
  .object({ description: Text(1000).optional(), stages: z.array(StageSchema).max(50), cadence: Text(100).optional(), rollbackPolicy: Text(32), reason: Reason.optional() })
  .strict();

/** A plan with its progress toward the current stage's dwell time. */
function planJson(p: Plan, now: number) {
  const stage = p.stages[p.currentStage];
  const dwellMs = (stage?.minDwellMinutes ?? 0) * 60_000 * (1 + p.extensionsUsed);
  return {
    ...p,
    stageStartedAt: p.stageStartedAt.toISOString(),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    endedAt: p.endedAt?.toISOString() ?? null,
    progress: stage
      ? {
          stage: p.currentStage + 1,
          of: p.stages.length,
          percentage: stage.percentage,
          gate: stage.gate,
          dwellElapsedMinutes: Math.floor((now - p.stageStartedAt.getTime()) / 60_000),
          dwellRequiredMinutes: dwellMs / 60_000,
          minSample: stage.minSample,
        }
      : null,
  };
}

export function rolloutRoutes(db: Database, plans: PlanService, clock: () => number): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/admin/rollouts/:key', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'The flag’s live plan (or its latest), with progress, and its history', params: KeyParams },
      handler: async (req) => {
        const history = await latestPlans(db, req.params.key, 20);
        const live = history.find((p) => LIVE_STATES.includes(p.state));
        return { plan: live ? planJson(live, clock()) : null, history: history.map((p) => planJson(p, clock())) };
      },
    });

    app.post('/api/admin/rollouts/:key', {
      config: { access: 'operator' },
      schema: { tags, summary: 'Start a rollout plan (from a template or explicit stages)', params: KeyParams, body: StartBody },
      handler: async (req, reply) => {
        const { reason, ...input } = req.body;
        if (!input.template && !input.stages) throw new AppError('PLAN_NO_STAGES', 'Give a template or stages.');
        reply.code(201);
        return planJson(await plans.start(changeContext(req, reason), req.params.key, input), clock());
      },
    });

    const actions = {
      advance: (ctx: Parameters<PlanService['advance']>[0], key: string) => plans.advance(ctx, key, `advanced by ${ctx.actor.name}`),
      approve: plans.approve.bind(plans),
      pause: (ctx: Parameters<PlanService['pause']>[0], key: string) => plans.pause(ctx, key, `paused by ${ctx.actor.name}`),
      resume: plans.resume,
      complete: plans.complete,
      abort: plans.abort,
      rollback: (ctx: Parameters<PlanService['rollback']>[0], key: string) => plans.rollback(ctx, key, `rolled back by ${ctx.actor.name}${ctx.reason ? `: ${ctx.reason}` : ''}`),
    } as const;
    for (const [name, act] of Object.entries(actions)) {
      app.post(`/api/admin/rollouts/:key/${name}`, {
        config: { access: 'operator' },
        schema: { tags, summary: `${name[0]!.toUpperCase()}${name.slice(1)} the flag’s plan (audited)`, params: KeyParams, body: ActionBody },
        handler: async (req) => planJson(await act(changeContext(req, req.body?.reason), req.params.key), clock()),
      });
    }

    app.get('/api/admin/plan-templates', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'Plan templates: the two built in, and saved ones' },
      handler: async () => ({ templates: await listTemplates(db) }),
    });

    app.put('/api/admin/plan-templates/:name', {
      config: { access: 'operator' },
      schema: { tags, summary: 'Save a plan template (built-in ones cannot be replaced)', params: z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/) }), body: TemplateBody },
      handler: async (req) => {
        const existing = await getTemplate(db, req.params.name);
        if (existing?.builtin) throw new AppError('VALIDATION_ERROR', `${req.params.name} is built in; save yours under another name.`);
        const stages = checkStages(req.body.stages);
        const rollbackPolicy = checkPolicy(req.body.rollbackPolicy);
        await putTemplate(db, { name: req.params.name, description: req.body.description ?? '', stages, cadence: req.body.cadence ?? '0 * * * *', rollbackPolicy }, req.identity!.name);
        return getTemplate(db, req.params.name);
      },
    });
  };
}
