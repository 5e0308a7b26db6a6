import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import type { Metrics } from './metrics.js';

const tags = ['operations'];

export function opsRoutes(db: Database, metrics: Metrics): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', {
      config: { access: 'public' },
      schema: { tags, summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } },
      handler: async () => ({ status: 'ok' as const }),
    });

    app.get('/readyz', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Readiness: the database answers',
        response: { 200: z.object({ status: z.literal('ready'), database: z.string() }) },
      },
      handler: async () => {
        try {
          await db.ping();
        } catch {
          throw new AppError('DATABASE_UNAVAILABLE');
        }
        return { status: 'ready' as const, database: db.driver };
      },
    });

    app.get('/metrics', {
      config: { access: 'public' },
      schema: { tags, summary: 'Prometheus text format' },
      handler: async (_req, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    });
  };
}
