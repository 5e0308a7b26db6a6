import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { Cohort, EvaluationContext } from '@rampart/core';
import type { FlagResult, RampartClient } from '../client.js';

/** Options shared by `rampartExpress` and `rampartFastify`. */
export interface MiddlewareOptions {
  /** A millisecond clock for latencies (default `performance.now`). */
  readonly now?: () => number;
}

/** Options of `gate` (Fastify) and `gateExpress`. */
export interface GateOptions<Req> {
  /** The subject to evaluate for (default `{ id }` from the `X-Subject-Id` header, else `?id=`). */
  readonly subject?: (req: Req) => EvaluationContext;
  /** The value when the flag cannot be evaluated (unknown flag, no config yet); default false. */
  readonly defaultValue?: boolean;
}

/**
 * What one request evaluated: each flag with the subject's cohort (the last evaluation wins),
 * recorded with the response's status and latency when the response finishes.
 */
export interface RequestScope {
  /** The request (Node's `IncomingMessage`) the scope belongs to. */
  readonly request: object;
  readonly startedAt: number;
  readonly flags: Map<string, Cohort>;
  /** The request's outcome says nothing about its flags (e.g. a gate refused it): record nothing. */
  excluded: boolean;
  finished: boolean;
}

const storages = new WeakMap<RampartClient, AsyncLocalStorage<RequestScope>>();

/** Evaluations of flags that are not in the config are never reported (the server would refuse the whole batch). */
const ABSENT = new Set(['NOT_READY', 'FLAG_NOT_FOUND']);

/**
 * The client's request storage. The first call subscribes, once per client, to every
 * evaluation, and adds it to the request being handled, if any.
 */
export function scopeStorage(client: RampartClient): AsyncLocalStorage<RequestScope> {
  let als = storages.get(client);
  if (!als) {
    const storage = new AsyncLocalStorage<RequestScope>();
    storages.set(client, (als = storage));
    client.on('evaluation', (result: FlagResult) => {
      const scope = storage.getStore();
      if (!scope || scope.finished) return;
      if (result.errorCode && ABSENT.has(result.errorCode)) return;
      scope.flags.set(result.flag, result.cohort); // one per flag: the last cohort wins
    });
  }
  return als;
}

const defaultClock = (): number => performance.now();
const clockOf = (opts: MiddlewareOptions | undefined): (() => number) => opts?.now ?? defaultClock;

export function createScope(request: object, opts: MiddlewareOptions | undefined): RequestScope {
  return { request, startedAt: clockOf(opts)(), flags: new Map(), excluded: false, finished: false };
}

/** Records the response's status and latency once for every flag the request evaluated. */
export function finishScope(client: RampartClient, scope: RequestScope, status: number, opts: MiddlewareOptions | undefined): void {
  if (scope.finished) return;
  scope.finished = true;
  if (scope.excluded || scope.flags.size === 0) return;
  const latencyMs = Math.max(0, clockOf(opts)() - scope.startedAt);
  for (const [flag, cohort] of scope.flags) {
    try {
      client.recordHttp(flag, cohort, status, latencyMs);
    } catch {
      /* reporting must never break the application */
    }
  }
}

/** The scope of the request being handled, if the middleware is installed and one is. */
export function currentScope(client: RampartClient): RequestScope | undefined {
  const scope = storages.get(client)?.getStore();
  return scope && !scope.finished ? scope : undefined;
}

/**
 * Leaves the current request out of the HTTP outcomes: its status and latency are not the
 * flags' doing (a gate's own 403, for instance). Exposures are still counted.
 */
export function excludeCurrentRequest(client: RampartClient): void {
  const scope = currentScope(client);
  if (scope) scope.excluded = true;
}


/** What the gates answer when the flag is off for the subject. */
export interface FeatureDisabledBody {
  readonly error: { readonly code: 'FEATURE_DISABLED'; readonly message: string; readonly flag: string; readonly reason: FlagResult['reason'] };
}

/**
 * The gates' rule, for both frameworks: undefined lets the request through; otherwise the 403
 * body, and the request is left out of the HTTP outcomes (its 403 is the gate's, not the
 * feature's; its exposure counts).
 */
export function gateRefusal(client: RampartClient, flagKey: string, context: EvaluationContext, defaultValue = false): FeatureDisabledBody | undefined {
  const result = client.evaluate(flagKey, context, defaultValue);
  if (result.value) return undefined;
  excludeCurrentRequest(client);
  return featureDisabled(result);
}

function featureDisabled(result: FlagResult): FeatureDisabledBody {
  return {
    error: {
      code: 'FEATURE_DISABLED',
      message: `Feature ${result.flag} is not enabled for this subject.`,
      flag: result.flag,
      reason: result.reason,
    },
  };
}

/**
 * The gates' default subject: `{ id }` from the `X-Subject-Id` header, else the `id` query
 * parameter (the framework's parsed `query` if it has one, else the URL's).
 */
export function defaultSubject(req: { readonly headers: IncomingHttpHeaders; readonly url?: string | undefined; readonly query?: unknown }): EvaluationContext {
  const header = req.headers['x-subject-id'];
  let id: unknown = Array.isArray(header) ? header[0] : header;
  if (id === undefined || id === '') {
    const query = req.query;
    id =
      query && typeof query === 'object'
        ? (query as Record<string, unknown>).id
        : searchParamsOf(req.url).get('id');
    if (Array.isArray(id)) id = id[0];
  }
  return typeof id === 'string' && id !== '' ? { id } : {};
}

/** The query string of a request target; empty if it cannot be read. */
export function searchParamsOf(url: string | undefined): URLSearchParams {
  try {
    return new URL(url ?? '/', 'http://localhost').searchParams;
  } catch {
    return new URLSearchParams();
  }
}
