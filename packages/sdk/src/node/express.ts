import type { IncomingMessage, ServerResponse } from 'node:http';
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
} from './request-scope.js';

/** Express's `next`. */
export type NextFunctionLike = (err?: unknown) => void;

/** A connect/Express middleware; Express's `Request` and `Response` extend Node's. */
export type ExpressMiddleware<Req extends IncomingMessage = IncomingMessage> = (req: Req, res: ServerResponse, next: NextFunctionLike) => void;

/**
 * Attributes each request's outcome (status, latency) to the cohort of every flag it
 * evaluated, with no other code: `app.use(rampartExpress(client))` before the routes.
 */
export function rampartExpress(client: RampartClient, opts?: MiddlewareOptions): ExpressMiddleware {
  const als = scopeStorage(client);
  return (req, res, next) => {
    if (als.getStore()?.request === req) return next(); // installed twice
    const scope = createScope(req, opts);
    res.once('finish', () => finishScope(client, scope, res.statusCode, opts));
    als.run(scope, next);
  };
}

/**
 * Lets the request through only if `flagKey` is on for its subject; otherwise answers 403
 * `{ error: { code: 'FEATURE_DISABLED', message, flag, reason } }`. A refused request is left
 * out of the HTTP outcomes (its 403 is the gate's, not the feature's); its exposure counts.
 *
 * @example app.get('/favorites', gateExpress(client, 'passenger_favorites'), handler)
 */
export function gateExpress<Req extends IncomingMessage = IncomingMessage>(
  client: RampartClient,
  flagKey: string,
  opts?: GateOptions<Req>,
): ExpressMiddleware<NoInfer<Req>> {
  const subject = opts?.subject ?? defaultSubject;
  return (req, res, next) => {
    let refused: FeatureDisabledBody | undefined;
    try {
      refused = gateRefusal(client, flagKey, subject(req), opts?.defaultValue);
    } catch (err) {
      return next(err); // the subject extractor threw
    }
    if (!refused) return next();
    res.statusCode = 403;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(refused));
  };
}
