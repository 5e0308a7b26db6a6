import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BEARER } from '../auth/plugin.js';
import type { TokenService } from '../auth/token-service.js';
import type { ConfigCache } from '../evaluation/config-cache.js';
import type { ChangeBus } from '../events/change-bus.js';
import { errorResponses } from '../http/schemas.js';
import { hijackForEvents } from '../http/sse.js';
import { SdkConfig, sdkConfigOf } from './config.js';
import { createStreamHub } from './stream-hub.js';

const tags = ['sdk'];

export function sdkRoutes(deps: { cache: ConfigCache; bus: ChangeBus; tokens: TokenService; heartbeatMs: number }): FastifyPluginAsyncZod {
  return async (app) => {
    const hub = createStreamHub({ ...deps, log: app.log });
    app.addHook('preClose', async () => hub.closeAll());

    app.get('/api/sdk/config', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'The flag config for local evaluation; 304 when If-None-Match still matches',
        headers: z.object({ 'if-none-match': z.string().max(200).optional() }).passthrough(),
        response: { 200: SdkConfig, 304: z.null().describe('not modified'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const snap = await deps.cache.get();
        reply.header('etag', snap.etag).header('cache-control', 'no-cache');
        if (req.headers['if-none-match'] === snap.etag) return reply.code(304).send(null);
        return sdkConfigOf(snap);
      },
    });

    app.get('/api/sdk/stream', {
      config: { access: 'sdk', rateLimitClass: 'sdk' },
      schema: {
        tags,
        summary: 'Server-sent events: `config` with the whole config on connect and after every change, `: ping` comments as heartbeat',
        produces: ['text/event-stream'],
        response: errorResponses,
      },
      handler: async (req, reply) => {
        const secret = BEARER.exec(req.headers.authorization ?? '')?.[1];
        const headers = hijackForEvents(reply);
        await hub.open(req.raw, reply.raw, { secret, lastEventId: req.headers['last-event-id'] as string | undefined, headers });
      },
    });
  };
}
