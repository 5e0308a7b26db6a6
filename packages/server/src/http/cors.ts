import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { Access } from '../auth/roles.js';

/**
 * CORS for browser applications running `@rampart/sdk` on another origin.
 *
 * Closed by default: with no configured origin the plugin is not registered at all, so no
 * response carries `Access-Control-*` and a preflight is a 404. When origins are configured,
 * only the routes an SDK token may call (`access: 'sdk'`: evaluation, `/api/sdk/*`, metric
 * ingestion) answer cross-origin; the admin API never does, so a page on an allowed origin
 * still cannot drive it. Credentials are bearer headers, never cookies, hence no
 * `Access-Control-Allow-Credentials`.
 *
 * A preflight is addressed to the plugin's own `OPTIONS *` route, not to the route it asks
 * about, so for preflights the decision is made from the path: the SDK routes' URL patterns are
 * collected as they are registered, which keeps this list from drifting from the routes.
 */
export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const sdkPaths: RegExp[] = [];
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Access };
    if (route.method === 'OPTIONS' && route.url === '*' && !config.access) {
      // The plugin's preflight route: it answers in its hook, before authentication, as it must
      // (browsers send no Authorization header on a preflight).
      route.config = { ...config, access: 'public' } as typeof route.config;
    } else if (config.access === 'sdk') {
      sdkPaths.push(patternOf(route.url));
    }
  });

  const anyOrigin = origins.includes('*');
  const allowed: FastifyCorsOptions = {
    origin: anyOrigin ? '*' : [...origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'if-none-match', 'last-event-id', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['etag', 'retry-after', 'x-request-id'],
    credentials: false,
    maxAge: 600,
    // A bare OPTIONS without Access-Control-Request-Method is harmless; answering it plainly
    // beats the plugin's text/plain 400, which is not Rampart's error format.
    strictPreflight: false,
  };
  const closed: FastifyCorsOptions = { origin: false };
  await app.register(cors, {
    delegator: (req, callback) => {
      const origin = req.headers.origin;
      // An origin that is not allowed gets exactly what it gets with CORS off: no headers, and
      // a 404 for its preflight.
      const originAllowed = origin !== undefined && (anyOrigin || origins.includes(origin));
      const sdk = req.method === 'OPTIONS' ? isSdkPath(sdkPaths, req.url) : req.routeOptions.config.access === 'sdk';
      callback(null, originAllowed && sdk ? allowed : closed);
    },
  });
}

function patternOf(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}$`);
}

function isSdkPath(patterns: readonly RegExp[], url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return patterns.some((p) => p.test(path));
}
