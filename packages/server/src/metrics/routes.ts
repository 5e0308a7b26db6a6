import { COHORTS } from '@rampart/core';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from '../errors.js';
import { changeContext } from '../http/context.js';
import { errorResponses, KeyParams, Reason, Text } from '../http/schemas.js';
import type { BaselineService } from './baselines.js';
import type { IngestService } from './ingest-service.js';
import type { MetricsQueryService, Window } from './query-service.js';
import { IngestBody, IngestResponse } from './schemas.js';

const HOUR = 3_600_000;

/** `6h`, `30m`, `2d`, `90s`. */
const DURATION = /^(\d{1,5})(s|m|h|d)$/;
const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR };

const WindowQuery = z.object({
  window: z.string().regex(DURATION, 'a duration such as 30m, 6h or 7d').optional().describe('ending now; default 6h'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

function windowOf(q: z.infer<typeof WindowQuery>, now: number): Window {
  if (q.from || q.to) {
    if (!q.from) throw new AppError('INVALID_WINDOW', 'Give from (and optionally to), or window.');
    return { from: Date.parse(q.from), to: q.to ? Date.parse(q.to) : now };
  }
  const m = DURATION.exec(q.window ?? '6h')!;
  return { from: now - Number(m[1]) * UNIT[m[2]!]!, to: now };
}

const BaselineBody = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('pre_rollout'), hours: z.number().int().min(1).max(24 * 30).default(24), reason: Reason.optional() }).strict(),
  z.object({ mode: z.literal('window'), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), reason: Reason.optional() }).strict(),
  z.object({ mode: z.literal('weekly'), weeks: z.number().int().min(1).max(12).default(4), hours: z.number().int().min(1).max(24).default(1), reason: Reason.optional() }).strict(),
]);

export interface MetricsRouteDeps {
  ingest: IngestService;
  query: MetricsQueryService;
  baselines: BaselineService;
  onIngest: (outcome: { code?: ErrorCode; events: number }) => void;
  /** "Now" for ingestion's age checks and for windows ending now (buildApp's `clock`; default Date.now). */
  clock?: () => number;
}

export function metricsRoutes(deps: MetricsRouteDeps): FastifyPluginAsyncZod {
  const tags = ['metrics'];
  const now = deps.clock ?? Date.now;
  return async (app) => {
    app.post('/api/metrics', {
      config: { access: 'sdk', rateLimitClass: 'ingest' },
      // Shape errors become MALFORMED_BATCH, not the generic VALIDATION_ERROR.
      attachValidation: true,
      schema: {
        tags,
        summary: 'Report exposures, HTTP outcomes and business metrics (raw events or per-minute aggregates)',
        description: 'Limits: 10 000 events and 5 000 aggregates per batch, 50 application metric names per flag. See docs/metrics.md.',
        body: IngestBody,
        headers: z.object({ 'idempotency-key': Text(128).min(8).optional() }).passthrough(),
        response: { 200: IngestResponse, 413: errorResponses[400], ...errorResponses },
      },
      handler: async (req) => {
        try {
          if (req.validationError) {
            const issues = (req.validationError as { validation?: { instancePath?: string; message?: string }[] }).validation ?? [];
            const first = issues[0];
            throw new AppError('MALFORMED_BATCH', `${first?.instancePath || 'body'}: ${first?.message ?? 'invalid'}`.replace(/^\//, ''), {
              issues: issues.slice(0, 10).map((i) => ({ path: i.instancePath, message: i.message })),
            });
          }
          const header = req.headers['idempotency-key'];
          const result = await deps.ingest.ingest(req.identity!, req.body, typeof header === 'string' ? header : undefined, now());
          deps.onIngest({ events: result.accepted });
          return result;
        } catch (err) {
          if (err instanceof AppError) deps.onIngest({ code: err.code, events: 0 });
          throw err;
        }
      },
    });

    app.get('/api/admin/metrics/:key/summary', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Per-cohort window summary: requests, status breakdown, error rates, latency percentiles, business metrics',
        params: KeyParams,
        querystring: WindowQuery.strict(),
      },
      handler: async (req) => deps.query.summary(req.params.key, windowOf(req.query, now())),
    });

    app.get('/api/admin/metrics/:key/timeline', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'The window cut into equal slices, each with the per-cohort summary (what the UI charts draw)',
        params: KeyParams,
        querystring: WindowQuery.extend({ buckets: z.coerce.number().int().min(1).max(200).default(24).describe('slices, 1..200') }).strict(),
      },
      handler: async (req) => {
        const { buckets, ...w } = req.query;
        return deps.query.timeline(req.params.key, windowOf(w, now()), buckets);
      },
    });

    app.get('/api/admin/metrics/:key/series', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'A time series of one metric for one cohort',
        params: KeyParams,
        querystring: WindowQuery.extend({
          metric: Text(64).min(1).describe('an application metric or a built-in such as _http_latency_ms, _http_status_5xx, _exposures'),
          cohort: z.enum(COHORTS as [string, ...string[]]).default('exposed'),
          step: z.enum(['minute', 'hour']).default('minute'),
        }).strict(),
      },
      handler: async (req) => {
        const { metric, cohort, step, ...w } = req.query;
        return deps.query.series(req.params.key, metric, cohort as (typeof COHORTS)[number], windowOf(w, now()), step);
      },
    });

    app.get('/api/admin/metrics/:key/names', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'The application metrics reported for a flag, with their kinds', params: KeyParams },
      handler: async (req) => ({ metrics: await deps.query.kindsOf(req.params.key) }),
    });

    app.post('/api/admin/metrics/:key/baselines', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Capture a baseline: before the first rollout, an explicit window, or the same hours of past weeks',
        params: KeyParams,
        body: BaselineBody,
      },
      handler: async (req, reply) => {
        const b = req.body;
        const request =
          b.mode === 'window'
            ? { mode: b.mode, from: Date.parse(b.from), to: Date.parse(b.to) }
            : b.mode === 'weekly'
              ? { mode: b.mode, weeks: b.weeks, hours: b.hours }
              : { mode: b.mode, hours: b.hours };
        reply.code(201);
        return deps.baselines.capture(changeContext(req, b.reason), req.params.key, request);
      },
    });

    app.get('/api/admin/metrics/:key/baselines', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'A flag’s baselines, newest first', params: KeyParams },
      handler: async (req) => ({ baselines: await deps.baselines.list(req.params.key) }),
    });

    app.get('/api/admin/baselines/:id', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'One baseline with its window, age and per-cohort summary', params: z.object({ id: Text(64).min(1) }) },
      handler: async (req) => deps.baselines.get(req.params.id),
    });
  };
}
