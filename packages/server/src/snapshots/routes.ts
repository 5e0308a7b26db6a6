import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { ChangeBus } from '../events/change-bus.js';
import { changeContext } from '../http/context.js';
import { errorResponses, Reason, Text } from '../http/schemas.js';
import { diffMarkdown, snapshotMarkdown } from './markdown.js';
import { createSnapshotService } from './service.js';
import type { SnapshotMeta } from './store.js';

const tags = ['snapshots'];

const IdParams = z.object({ id: Text(64).min(1).describe('a snapshot id, sn_…') });
const CreateBody = z.object({ label: Text(200).optional(), reason: Reason.optional() }).strict().nullish();
const RestoreBody = z.object({ reason: Reason.optional() }).strict().nullish();
const FormatQuery = z
  .object({ format: z.enum(['json', 'markdown']).optional().describe('markdown: the same as Accept: text/markdown') })
  .strict();
const ListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.iso.datetime({ offset: true }).optional().describe('cursor: snapshots taken before this instant'),
  })
  .strict();

const SnapshotSummary = z.object({
  id: z.string(),
  label: z.string().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  serverVersion: z.string(),
  flagCount: z.number(),
  planCount: z.number(),
});

const RestoreResponse = z.object({
  snapshotId: z.string(),
  changed: z.number().describe('flags and plans written; 0 when the live state already equalled the snapshot'),
  flags: z.array(z.object({ key: z.string(), action: z.enum(['restored', 'archived', 'revived', 'created']), version: z.number() })),
  plans: z.array(z.object({ id: z.string(), flagKey: z.string(), action: z.enum(['aborted', 'restored', 'recreated']) })),
});

function metaJson(m: SnapshotMeta): z.infer<typeof SnapshotSummary> {
  return {
    id: m.id,
    label: m.label,
    reason: m.reason,
    createdAt: m.createdAt.toISOString(),
    createdBy: m.createdBy,
    serverVersion: m.serverVersion,
    flagCount: Number(m.flagCount),
    planCount: Number(m.planCount),
  };
}

function wantsMarkdown(req: FastifyRequest, format: string | undefined): boolean {
  return format === 'markdown' || (req.headers.accept ?? '').includes('text/markdown');
}

const markdown = (reply: FastifyReply, text: string) => reply.type('text/markdown; charset=utf-8').send(text);

export function snapshotRoutes(deps: { db: Database; bus: ChangeBus; serverVersion: string }): FastifyPluginAsyncZod {
  const snapshots = createSnapshotService(deps.db, deps.bus, deps.serverVersion);
  return async (app) => {
    app.post('/api/admin/snapshots', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Capture every flag, its allowlist, live plans and the last 3 checkpoints per flag (audited)',
        body: CreateBody,
        response: { 201: SnapshotSummary, ...errorResponses },
      },
      handler: async (req, reply) => {
        const snap = await snapshots.create(changeContext(req, req.body?.reason), req.body?.label);
        reply.header('location', `/api/admin/snapshots/${snap.id}`).code(201);
        return metaJson(snap);
      },
    });

    app.get('/api/admin/snapshots', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Snapshots, newest first (without their content)',
        querystring: ListQuery,
        response: { 200: z.object({ snapshots: z.array(SnapshotSummary), nextBefore: z.string().nullable() }), ...errorResponses },
      },
      handler: async (req) => {
        const { limit, before } = req.query;
        const list = await snapshots.list(limit, before ? new Date(before) : undefined);
        return {
          snapshots: list.map(metaJson),
          nextBefore: list.length === limit ? list[list.length - 1]!.createdAt.toISOString() : null,
        };
      },
    });

    app.get('/api/admin/snapshots/:id', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'One snapshot with its content; `Accept: text/markdown` (or ?format=markdown) gives the OPS SNAPSHOT document',
        params: IdParams,
        querystring: FormatQuery,
      },
      handler: async (req, reply) => {
        const snap = await snapshots.get(req.params.id);
        if (wantsMarkdown(req, req.query.format)) return markdown(reply, snapshotMarkdown(snap));
        return { ...metaJson(snap), content: snap.content };
      },
    });

    app.get('/api/admin/snapshots/:id/diff', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'What changed since the snapshot, per flag and plan; `Accept: text/markdown` for a document',
        params: IdParams,
        querystring: FormatQuery,
      },
      handler: async (req, reply) => {
        const diff = await snapshots.diff(req.params.id);
        if (wantsMarkdown(req, req.query.format)) return markdown(reply, diffMarkdown(diff));
        return diff;
      },
    });

    app.post('/api/admin/snapshots/:id/restore', {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Bring flags, allowlists and plans back to the snapshot in one transaction (one audit event)',
        description: 'Refused with 409 RESTORE_REFUSED while a rollout plan is rolling back.',
        params: IdParams,
        body: RestoreBody,
        response: { 200: RestoreResponse, ...errorResponses },
      },
      handler: async (req) => snapshots.restore(changeContext(req, req.body?.reason), req.params.id),
    });
  };
}
