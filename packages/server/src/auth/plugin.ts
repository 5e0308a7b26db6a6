import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { roleAllows, type Access, type Identity } from './roles.js';
import type { TokenService } from './token-service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route. Every route must say; the server refuses to start otherwise. */
    access?: Access;
    /** Which rate limit applies: admin (default), sdk (evaluation) or ingest (metrics). */
    rateLimitClass?: 'admin' | 'sdk' | 'ingest';
  }
  interface FastifyRequest {
    identity: Identity | undefined;
    authError: AppError | undefined;
  }
}

/** `Authorization: Bearer <secret>`; the secret is group 1. */
export const BEARER = /^Bearer\s+(\S{1,512})$/i;

/** Header carrying the per-process secret of in-process callers (the watchdog's probes). */
export const INTERNAL_HEADER = 'x-rampart-internal';
const WATCHDOG: Identity = { tokenId: 'internal', name: 'watchdog', role: 'SDK' };

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Two steps, so the rate limiter can sit between them: identify (who is this?) runs first and
 * never rejects; enforce (may they?) runs after the limiter, so failed attempts are counted
 * against the caller's address before they are refused. Enforcement happens before the body
 * is parsed or validated: a caller without the right token learns nothing about the schema
 * and costs no parsing.
 */
/**
 * `internalSecret` is random per process and never leaves it: requests the server makes to
 * itself with app.inject (the watchdog evaluating probes through the real HTTP path) present it
 * and act as the SDK-role identity `watchdog`.
 */
export function installAuth(app: FastifyInstance, tokens: TokenService, internalSecret: string): void {
  app.decorateRequest('identity', undefined);
  app.decorateRequest('authError', undefined);

  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Access };
    if (config.access) return;
    // Routes registered by the docs plugin serve static files: public.
    if (route.url.startsWith('/docs')) {
      route.config = { ...config, access: 'public' } as typeof route.config;
      return;
    }
    throw new Error(`Route ${route.method} ${route.url} declares no access policy`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access || access === 'public') return;
    const internal = request.headers[INTERNAL_HEADER];
    if (typeof internal === 'string' && sameSecret(internal, internalSecret)) {
      request.identity = WATCHDOG;
      return;
    }
    const header = request.headers.authorization;
    if (!header) {
      request.authError = new AppError('TOKEN_MISSING');
      return;
    }
    const m = BEARER.exec(header);
    const identity = m ? await tokens.authenticate(m[1]!) : undefined;
    if (!identity) {
      request.authError = new AppError('TOKEN_INVALID');
      return;
    }
    request.identity = identity;
    tokens.noteUse(identity);
  });

  app.addHook('preParsing', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access || access === 'public') return;
    if (request.authError) throw request.authError;
    const identity = request.identity!;
    if (!roleAllows(access, identity.role)) {
      throw new AppError('FORBIDDEN', `${identity.role} may not ${request.method} ${request.routeOptions.url}.`, {
        role: identity.role,
        requires: access,
      });
    }
  });
}
