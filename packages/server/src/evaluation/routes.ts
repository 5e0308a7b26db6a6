import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';
import { errorResponses, FlagKey, KeyParams } from '../http/schemas.js';
import type { EvaluationService, FlagEvaluation } from './service.js';

const tags = ['evaluation'];

/** What one evaluation context may hold (the fast path applies the same limits). */
export const CONTEXT_LIMITS = Object.freeze({ attributes: 32, name: 64, value: 256 });

/** Context from a query string: every parameter is an attribute, `id` the default subject id. */
const ContextQuery = z
  .record(z.string().max(CONTEXT_LIMITS.name), z.string().max(CONTEXT_LIMITS.value))
  .refine((q) => Object.keys(q).length <= CONTEXT_LIMITS.attributes, `at most ${CONTEXT_LIMITS.attributes} attributes`)
  .describe('Context attributes, e.g. ?id=passenger-42&passengerId=passenger-42');

const ContextBody = z
  .record(z.string().max(CONTEXT_LIMITS.name), z.union([z.string().max(CONTEXT_LIMITS.value), z.number(), z.boolean()]))
  .refine((c) => Object.keys(c).length <= CONTEXT_LIMITS.attributes, `at most ${CONTEXT_LIMITS.attributes} attributes`);

const Result = z.object({
  flag: z.string(),
  value: z.boolean(),
  reason: z.string(),
  version: z.number().nullable(),
  bucket: z.number().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
});

const ManyResponse = z.object({ flags: z.record(z.string(), Result) });

const strip = (r: FlagEvaluation) => r;

export function evaluationRoutes(evaluation: EvaluationService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/evaluate/:key', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'Evaluate one flag for a subject',
        params: KeyParams,
        querystring: ContextQuery,
        response: { 200: Result, ...errorResponses },
      },
      handler: async (req) => {
        const result = await evaluation.evaluate(req.params.key, req.query);
        if (result.reason === 'FLAG_NOT_FOUND') throw new AppError('FLAG_NOT_FOUND', `No flag named ${req.params.key}.`);
        return strip(result);
      },
    });

    app.post('/api/evaluate', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'Evaluate every flag, or the named ones, for one context',
        body: z.object({ context: ContextBody, flags: z.array(FlagKey).max(1000).optional() }).strict(),
        response: { 200: ManyResponse, ...errorResponses },
      },
      handler: async (req) => ({ flags: await evaluation.evaluateMany(req.body.context, req.body.flags) }),
    });

    app.post('/api/evaluate/batch', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'Evaluate many subjects at once: every (or the named) flag for each context, in order',
        body: z.object({ contexts: z.array(ContextBody).min(1).max(1000), flags: z.array(FlagKey).max(100).optional() }).strict(),
        response: { 200: z.object({ results: z.array(ManyResponse) }), ...errorResponses },
      },
      handler: async (req) => ({
        results: await Promise.all(req.body.contexts.map(async (context) => ({ flags: await evaluation.evaluateMany(context, req.body.flags) }))),
      }),
    });

    app.get('/api/flags', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'All flags for one subject (the chat checklist’s /flags)',
        querystring: ContextQuery,
        response: { 200: ManyResponse, ...errorResponses },
      },
      handler: async (req) => ({ flags: await evaluation.evaluateMany(req.query) }),
    });
  };
}
