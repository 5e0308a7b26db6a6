import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { FLAG_KEY_PATTERN, type EvaluationContext } from '@rampart/core';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import querystring from 'fast-querystring';
import { BEARER, INTERNAL_HEADER } from '../auth/plugin.js';
import { roleAllows } from '../auth/roles.js';
import type { TokenService } from '../auth/token-service.js';
import { levelEnabled, requestIdFor } from '../http/logging.js';
import type { Metrics } from '../ops/metrics.js';
import type { ConfigCache } from './config-cache.js';
import { CONTEXT_LIMITS } from './routes.js';
import { serializeMany, serializeOne } from './serialize.js';
import type { EvaluationService } from './service.js';

/**
 * The hot path of `GET /api/evaluate/:key` and `GET /api/flags`.
 *
 * Fastify's routing, hooks, schema validation and reply pipeline cost more than the evaluation
 * itself (docs/benchmarks.md, HTTP section). This answers the common request — well formed,
 * from a token verified within the cache TTL, for a flag that exists, on a warm config — straight
 * from memory, with the same body, headers, metrics and token bookkeeping as the route.
 *
 * It only ever answers 200. Anything else declines and goes through the Fastify route, which
 * stays the single definition of every error: a missing, unknown, revoked or under-privileged
 * token; a query the route schema would refuse; an unknown flag; a cold or expired cache; debug
 * logging (whose per-request lines the route writes); a server that is closing; a configured
 * evaluation rate limit; a cross-origin request when CORS is on (its headers come from the
 * plugin). A test sends the same requests both ways and compares the answers.
 */
export interface FastPath {
  /** True when it answered; false when the request must go to Fastify. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops answering (the server is closing: Fastify answers 503 from then on). */
  disable(): void;
  /** Requests answered so far (exposed for tests and the benchmark). */
  readonly served: () => number;
}

const EVALUATE_PREFIX = '/api/evaluate/';
const FLAGS_PATH = '/api/flags';
const JSON_TYPE = 'application/json; charset=utf-8';

export function createEvaluationFastPath(deps: {
  evaluation: EvaluationService;
  cache: ConfigCache;
  tokens: TokenService;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** CORS is configured: requests with an Origin header need its headers, which Fastify adds. */
  declineCrossOrigin?: boolean;
}): FastPath {
  let enabled = true;
  let served = 0;
  const recordEvaluate = deps.metrics.requestRecorder('GET', '/api/evaluate/:key', 200);
  const recordFlags = deps.metrics.requestRecorder('GET', FLAGS_PATH, 200);

  /** The query as the route would validate it, or undefined when the route would refuse it. */
  function contextFrom(query: string): EvaluationContext | undefined {
    if (query.length === 0) return {};
    const parsed = querystring.parse(query) as Record<string, unknown>;
    let n = 0;
    for (const name in parsed) {
      const value = parsed[name];
      // Repeated names parse to arrays, which the schema refuses; `__proto__` is left to the
      // route rather than reasoned about here.
      if (typeof value !== 'string' || value.length > CONTEXT_LIMITS.value || name.length > CONTEXT_LIMITS.name || name === '__proto__') return undefined;
      if (++n > CONTEXT_LIMITS.attributes) return undefined;
    }
    return parsed as EvaluationContext;
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!enabled || req.method !== 'GET') return false;
    const started = performance.now();
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let key: string | undefined;
    if (path.startsWith(EVALUATE_PREFIX)) {
      key = path.slice(EVALUATE_PREFIX.length);
      if (!FLAG_KEY_PATTERN.test(key)) return false;
    } else if (path !== FLAGS_PATH) {
      return false;
    }
    if (req.headers[INTERNAL_HEADER] !== undefined) return false;
    if (deps.declineCrossOrigin && req.headers.origin !== undefined) return false;
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : BEARER.exec(auth);
    if (!m) return false;
    const identity = deps.tokens.cachedIdentity(m[1]!);
    if (!identity || !roleAllows('sdk', identity.role)) return false;
    const snap = deps.cache.fresh();
    if (!snap || levelEnabled(deps.log, 'debug')) return false;
    if (key !== undefined && !snap.flags.has(key)) return false;
    const context = contextFrom(q === -1 ? '' : url.slice(q + 1));
    if (!context) return false;

    const body =
      key === undefined
        ? serializeMany({ flags: deps.evaluation.evaluateManyIn(snap, context) })
        : serializeOne(deps.evaluation.evaluateIn(snap, key, context));
    res.writeHead(200, {
      'x-request-id': requestIdFor(req),
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    deps.tokens.noteUse(identity);
    (key === undefined ? recordFlags : recordEvaluate)((performance.now() - started) / 1000);
    served++;
    return true;
  }

  return Object.assign(handle, {
    disable: () => {
      enabled = false;
    },
    served: () => served,
  });
}

/**
 * A Fastify `serverFactory` whose server offers each request to the fast path first. The fast
 * path is attached after the app's services exist, hence the holder. The server is configured
 * as Fastify configures its own.
 */
export function serverWithFastPath(holder: { fastPath?: FastPath }) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions): Server => {
    const server = createServer((req, res) => {
      if (!holder.fastPath?.(req, res)) handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
