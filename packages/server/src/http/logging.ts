import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

// Generated ids are a random per-process prefix and a counter: unique across replicas and
// restarts, and an order of magnitude cheaper than a UUID on the evaluation hot path.
const PROCESS_PREFIX = randomBytes(6).toString('base64url');
let sequence = 0;

/** Takes a caller's X-Request-Id when it is safe to log, otherwise makes one. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : `${PROCESS_PREFIX}-${(++sequence).toString(36)}`;
}

/**
 * JSON logs via pino. URLs are logged without their query string, because evaluation
 * requests carry subject ids there (`?id=passenger-42`), and auth headers are never logged.
 */
export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    base: { service: 'rampart' },
    redact: ['req.headers.authorization', 'headers.authorization'],
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({
        id: req.id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
    },
  };
}

/** Request id on every response; one log line and metrics per request. */
export function installRequestTracking(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const options = request.routeOptions;
    const route = options.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.observeRequest(request.method, route, status, reply.elapsedTime / 1000);
    // Evaluation traffic is high-volume: its per-request lines are debug, admin traffic is info.
    const level = options.config.rateLimitClass === 'sdk' && status < 400 ? 'debug' : 'info';
    if (levelEnabled(request.log, level)) {
      request.log[level](
        { reqId: request.id, route, status, ms: Math.round(reply.elapsedTime * 100) / 100, actor: request.identity?.name },
        `${request.method} ${route} ${status}`,
      );
    }
  });
}

/** Fastify's logger type hides pino's level check; the instance is pino. */
export function levelEnabled(log: FastifyBaseLogger, level: string): boolean {
  return (log as unknown as Logger).isLevelEnabled(level);
}
