import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';
import { changeContext } from '../http/context.js';
import { errorResponses, KeyParams, Percentage, Reason, Text } from '../http/schemas.js';
import type { ScheduledChangeService } from './service.js';
import { SCHEDULE_STATES, type ScheduledChange } from './store.js';

const tags = ['scheduled changes'];

const ScheduleBody = z
  .object({
    at: z.iso.datetime({ offset: true }).describe('when to apply it: in the future, at most a year ahead (ISO 8601 with Z or an offset)'),
    enabled: z.boolean().optional(),
    rolloutPercentage: Percentage.optional(),
    reason: Reason.optional(),
  })
  .strict()
  .refine((b) => b.enabled !== undefined || b.rolloutPercentage !== undefined, 'send enabled and/or rolloutPercentage');

const CancelBody = z.object({ reason: Reason.optional() }).strict().nullish();

const ListQuery = z
  .object({
    state: z.enum(SCHEDULE_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const IdParams = z.object({ id: Text(64).min(1) });

const ScheduledChangeResponse = z.object({
  id: z.string(),
  flagKey: z.string(),
  at: z.string(),
  change: z.object({ enabled: z.boolean().optional(), rolloutPercentage: z.number().optional() }),
  reason: z.string().nullable(),
  state: z.enum(SCHEDULE_STATES),
  createdBy: z.string(),
  createdAt: z.string(),
  appliedAt: z.string().nullable().describe('when the scheduler applied it, or tried to (failed)'),
  cancelledBy: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable().describe('applied: {version, changed}; failed: {error, code?, planId?}'),
});

const ListResponse = z.object({ scheduledChanges: z.array(ScheduledChangeResponse) });

export function scheduledChangeJson(c: ScheduledChange): z.infer<typeof ScheduledChangeResponse> {
  return {
    id: c.id,
    flagKey: c.flagKey,
    at: c.at.toISOString(),
    change: c.change,
    reason: c.reason,
    state: c.state,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    appliedAt: c.appliedAt?.toISOString() ?? null,
    cancelledBy: c.cancelledBy,
    cancelledAt: c.cancelledAt?.toISOString() ?? null,
    result: c.result,
  };
}

export function scheduledChangeRoutes(schedules: ScheduledChangeService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/api/admin/feature-flags/:key/scheduled-changes', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Schedule a change of enabled and/or the rollout percentage (audited)',
        description: 'A percentage change that comes due while a rollout plan steers the flag is not applied: it fails with "a rollout plan is active".',
        params: KeyParams,
        body: ScheduleBody,
        response: { 201: ScheduledChangeResponse, ...errorResponses },
      },
      handler: async (req, reply) => {
        const { at, enabled, rolloutPercentage, reason } = req.body;
        const row = await schedules.create(changeContext(req, reason), req.params.key, { at: new Date(at), enabled, rolloutPercentage });
        reply.header('location', `/api/admin/scheduled-changes/${row.id}`).code(201);
        return scheduledChangeJson(row);
      },
    });

    app.get('/api/admin/feature-flags/:key/scheduled-changes', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'A flag’s scheduled changes, soonest first', params: KeyParams, querystring: ListQuery, response: { 200: ListResponse, ...errorResponses } },
      handler: async (req) => ({
        scheduledChanges: (await schedules.list({ flagKey: req.params.key, state: req.query.state, limit: req.query.limit })).map(scheduledChangeJson),
      }),
    });

    app.get('/api/admin/scheduled-changes', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'Every scheduled change, soonest first (`?state=pending` for what is still to come)', querystring: ListQuery, response: { 200: ListResponse, ...errorResponses } },
      handler: async (req) => ({
        scheduledChanges: (await schedules.list({ state: req.query.state, limit: req.query.limit })).map(scheduledChangeJson),
      }),
    });

    app.get('/api/admin/scheduled-changes/:id', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'One scheduled change', params: IdParams, response: { 200: ScheduledChangeResponse, ...errorResponses } },
      handler: async (req) => {
        const row = await schedules.get(req.params.id);
        if (!row) throw new AppError('SCHEDULED_CHANGE_NOT_FOUND', `No scheduled change ${req.params.id}.`);
        return scheduledChangeJson(row);
      },
    });

    app.delete('/api/admin/scheduled-changes/:id', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Cancel a pending scheduled change (audited)',
        params: IdParams,
        body: CancelBody,
        response: { 200: ScheduledChangeResponse, ...errorResponses },
      },
      handler: async (req) => scheduledChangeJson(await schedules.cancel(changeContext(req, req.body?.reason), req.params.id)),
    });
  };
}
