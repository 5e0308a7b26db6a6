import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RampartClient } from '../client.js';
import {
  createScope,
  defaultSubject,
  finishScope,
  gateRefusal,
  scopeStorage,
  type FeatureDisabledBody,
  type GateOptions,
  type MiddlewareOptions,
  type RequestScope,
} from './request-scope.js';

/** What the middleware uses of a Fastify request (Fastify's `FastifyRequest` fits). */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly headers: IncomingHttpHeaders;
  readonly url: string;
  readonly query: unknown;
}

/** What the middleware uses of a Fastify reply (Fastify's `FastifyReply` fits). */
export interface FastifyReplyLike {
  readonly statusCode: number;
  code(statusCode: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

export type HookDone = (err?: Error) => void;
export type FastifyHookLike<Req extends FastifyRequestLike = FastifyRequestLike> = (req: Req, reply: FastifyReplyLike, done: HookDone) => void;

/** What the plugin uses of a Fastify instance (Fastify's `FastifyInstance` fits). */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest' | 'preValidation' | 'preHandler' | 'onResponse', hook: FastifyHookLike): unknown;
}

/** A Fastify plugin whose hooks apply to the whole app (it is not encapsulated). */
export type RampartFastifyPlugin = (instance: FastifyInstanceLike, opts: unknown, done: (err?: Error) => void) => void;

/**
 * Attributes each request's outcome (status, latency) to the cohort of every flag it
 * evaluated, with no other code: `await app.register(rampartFastify(client))`. The plugin skips
 * Fastify's encapsulation (as `fastify-plugin` would), so its hooks see every route.
 */
export function rampartFastify(client: RampartClient, opts?: MiddlewareOptions): RampartFastifyPlugin {
  const als = scopeStorage(client);
  const scopes = new WeakMap<IncomingMessage, RequestScope>();
  /**
   * Runs the rest of the lifecycle in the request's scope. The later stages re-enter it, so a
   * body parser or hook that resumes from another async context cannot lose it.
   */
  const enter: FastifyHookLike = (req, _reply, done) => {
    const scope = scopes.get(req.raw);
    if (scope && als.getStore() !== scope) als.run(scope, done);
    else done();
  };
  const plugin: RampartFastifyPlugin = (instance, _opts, done) => {
    instance.addHook('onRequest', (req, reply, next) => {
      const current = als.getStore(); // the same client's plugin registered twice shares one scope
      scopes.set(req.raw, current?.request === req.raw ? current : createScope(req.raw, opts));
      enter(req, reply, next);
    });
    instance.addHook('preValidation', enter);
    instance.addHook('preHandler', enter);
    instance.addHook('onResponse', (req, reply, next) => {
      const scope = scopes.get(req.raw);
      if (scope) finishScope(client, scope, reply.statusCode, opts);
      next();
    });
    done();
  };
  // What `fastify-plugin` does: no encapsulation, so the hooks apply to the whole app.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'rampart' });
  return plugin;
}

/**
 * A `preHandler` that lets the request through only if `flagKey` is on for its subject;
 * otherwise answers 403 `{ error: { code: 'FEATURE_DISABLED', message, flag, reason } }`. A
 * refused request is left out of the HTTP outcomes (its 403 is the gate's, not the
 * feature's); its exposure counts.
 *
 * @example app.get('/favorites', { preHandler: gate(client, 'passenger_favorites') }, handler)
 */
export function gate<Req extends FastifyRequestLike = FastifyRequestLike>(
  client: RampartClient,
  flagKey: string,
  opts?: GateOptions<Req>,
): FastifyHookLike<NoInfer<Req>> {
  const subject = opts?.subject ?? defaultSubject;
  return (req, reply, done) => {
    let refused: FeatureDisabledBody | undefined;
    try {
      refused = gateRefusal(client, flagKey, subject(req), opts?.defaultValue);
    } catch (err) {
      return done(err instanceof Error ? err : new Error(String(err))); // the subject extractor threw
    }
    if (!refused) return done();
    reply.code(403).send(refused);
  };
}
