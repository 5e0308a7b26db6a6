import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

export interface RateLimits {
  /** Requests per minute per token on admin routes (and per address for failed attempts). */
  readonly admin: number;
  /** Requests per minute per token on evaluation routes; 0 = unlimited (the default). */
  readonly sdk: number;
  /** Metric batches per minute per token. */
  readonly ingest: number;
}

function limitFor(request: FastifyRequest, limits: RateLimits): number {
  const cls = request.routeOptions.config.rateLimitClass ?? 'admin';
  return request.authError ? limits.admin : limits[cls];
}

/**
 * Per-token limits, per-address for callers without a valid token. 429 carries Retry-After
 * and the usual error body. Health, readiness and metrics are never limited.
 */
export async function installRateLimit(app: FastifyInstance, limits: RateLimits): Promise<void> {
  // A class with no limit (evaluation by default) still has the limiter: its valid tokens pass
  // through `allowList` uncounted, but a missing or wrong token is counted against the address
  // with the admin limit, or token guessing on /api/evaluate would be unlimited. The hot path
  // is unaffected: the evaluation fast path answers valid cached tokens before Fastify runs.
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    max: (request) => limitFor(request, limits),
    // Admin and SDK traffic count separately: evaluating in a loop must not lock a person out
    // of the admin API.
    keyGenerator: (request) =>
      request.identity
        ? `${request.routeOptions.config.rateLimitClass ?? 'admin'}:t:${request.identity.tokenId}`
        : `a:${request.ip}`,
    allowList: (request) =>
      request.routeOptions.config.access === 'public' || request.routeOptions.config.access === undefined || limitFor(request, limits) === 0,
    errorResponseBuilder: (_request, ctx) =>
      Object.assign(new AppError('RATE_LIMITED', `Rate limit of ${ctx.max} requests per minute exceeded; retry in ${ctx.after}.`), {
        statusCode: 429,
      }),
  });
}
