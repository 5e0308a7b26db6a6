import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EvaluationContext, Reason } from '@rampart/core';
import type { RampartClient } from '../client.js';
import { excludeCurrentRequest, searchParamsOf } from './request-scope.js';

export interface FlagsHandlerOptions {
  /**
   * The context to evaluate for. Default: every query parameter is an attribute (the first of
   * repeated ones), `id` the subject: `/flags?id=passenger-42&country=FR`.
   */
  readonly context?: (req: IncomingMessage) => EvaluationContext;
}

/** The 200 answer: every flag of the config in use, for one subject. */
export interface FlagsResponse {
  readonly flags: Record<string, { readonly value: boolean; readonly reason: Reason }>;
}

function queryContext(req: IncomingMessage): EvaluationContext {
  const context: Record<string, string> = {};
  for (const [name, value] of searchParamsOf(req.url)) if (!(name in context)) context[name] = value;
  return context;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store'); // per subject
  res.end(JSON.stringify(body));
}

/**
 * Serves the per-subject `/flags` endpoint from the local config: 200
 * `{ flags: { <key>: { value, reason } } }`, or 400 `SUBJECT_REQUIRED` without an `id`. The
 * request itself is not attributed to the flags' HTTP outcomes (it says nothing about them).
 *
 * @example
 * // Express
 * app.get('/flags', flagsHandler(client));
 * // Fastify: hand the raw request and response over, and tell Fastify not to answer itself.
 * const flags = flagsHandler(client);
 * app.get('/flags', (req, reply) => {
 *   reply.hijack();
 *   flags(req.raw, reply.raw);
 * });
 * // Node
 * http.createServer(flagsHandler(client));
 */
export function flagsHandler(client: RampartClient, opts?: FlagsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const contextOf = opts?.context ?? queryContext;
  return (req, res) => {
    try {
      const context = contextOf(req);
      const id = context.id;
      if ((typeof id !== 'string' && typeof id !== 'number') || id === '') {
        send(res, 400, { error: { code: 'SUBJECT_REQUIRED', message: 'Name the subject: /flags?id=<subject id>.' } });
        return;
      }
      // This request says nothing about the flags' health: keep it out of their HTTP outcomes.
      excludeCurrentRequest(client);
      const results = client.allFlags(context);
      const flags: FlagsResponse['flags'] = {};
      for (const [key, r] of Object.entries(results)) flags[key] = { value: r.value, reason: r.reason };
      send(res, 200, { flags } satisfies FlagsResponse);
    } catch (err) {
      if (res.headersSent) return void res.destroy(err instanceof Error ? err : undefined);
      send(res, 500, { error: { code: 'INTERNAL', message: 'The flags could not be evaluated.' } });
    }
  };
}
