import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Takes the socket over from Fastify for a server-sent events response and returns the headers
 * to open it with. A hijacked reply is written raw, so the headers hooks already set on it (CORS,
 * rate limit) would be lost unless carried over here.
 */
export function hijackForEvents(reply: FastifyReply): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx buffer responses unless told not to.
    'x-accel-buffering': 'no',
    'x-request-id': reply.request.id,
  };
  reply.hijack();
  return headers;
}
