import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import { errorResponses, KeyParams, Text } from '../http/schemas.js';
import { listAudit, type AuditEvent } from './store.js';

const tags = ['audit'];

const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().min(1).optional().describe('cursor: events older than this id'),
  })
  .strict();

const AllQuery = PageQuery.extend({
  flag: Text(128).optional(),
  actor: Text(200).optional(),
  action: Text(64).optional(),
}).strict();

const AuditEventSchema = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  actorRole: z.string(),
  actorTokenId: z.string().nullable(),
  action: z.string(),
  flagKey: z.string().nullable(),
  target: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
});

const AuditPage = z.object({
  events: z.array(AuditEventSchema),
  nextBefore: z.number().nullable().describe('pass as `before` for the next page; null at the end'),
});

function page(events: AuditEvent[], limit: number) {
  return {
    events: events.map((e) => ({ ...e, at: e.at.toISOString() })),
    nextBefore: events.length === limit ? events[events.length - 1]!.id : null,
  };
}

export function auditRoutes(db: Database): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/admin/feature-flags/:key/audit', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'A flag’s audit events, newest first', params: KeyParams, querystring: PageQuery, response: { 200: AuditPage, ...errorResponses } },
      handler: async (req) => {
        const { limit, before } = req.query;
        return page(await listAudit(db, { flagKey: req.params.key, limit, before }), limit);
      },
    });

    app.get('/api/admin/audit', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'All audit events, newest first, paged', querystring: AllQuery, response: { 200: AuditPage, ...errorResponses } },
      handler: async (req) => {
        const { limit, before, flag, actor, action } = req.query;
        return page(await listAudit(db, { flagKey: flag, actor, action, limit, before }), limit);
      },
    });
  };
}
