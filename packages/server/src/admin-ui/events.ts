import type { FastifyPluginAsync } from 'fastify';
import { BEARER } from '../auth/plugin.js';
import type { TokenService } from '../auth/token-service.js';
import type { ChangeBus, ChangeEvent } from '../events/change-bus.js';
import { hijackForEvents } from '../http/sse.js';

/**
 * `GET /api/admin/events`: what the admin UI listens to so that an operator's page follows a
 * rollout without a refresh. It carries *that* something changed (flag version, audited
 * action, checkpoint), never the data: the page refetches what it shows, through the same
 * role-checked routes. Changes on other replicas arrive through LISTEN/NOTIFY.
 */
export function adminEventRoutes(deps: { bus: ChangeBus; tokens: TokenService; heartbeatMs: number }): FastifyPluginAsync {
  return async (app) => {
    const open = new Set<() => void>();
    app.addHook('preClose', async () => {
      for (const end of open) end();
    });

    app.get('/api/admin/events', {
      config: { access: 'viewer' },
      schema: {
        tags: ['admin UI'],
        summary: 'Server-sent events for the admin UI: `change` with {kind, key, version | what} after every committed change',
        produces: ['text/event-stream'],
      },
      handler: async (req, reply) => {
        const secret = BEARER.exec(req.headers.authorization ?? '')?.[1];
        const res = reply.raw;
        res.writeHead(200, hijackForEvents(reply));
        res.write('retry: 2000\n\nevent: hello\ndata: {}\n\n');
        let seq = 0;
        // A change committed on this replica arrives twice (at once, and again through LISTEN):
        // each flag version is sent once.
        const sentVersions = new Map<string, number>();
        const send = (e: ChangeEvent) => {
          if (e.kind === 'flag') {
            if ((sentVersions.get(e.key) ?? 0) >= e.version) return;
            sentVersions.set(e.key, e.version);
          }
          if (!res.writableEnded) res.write(`id: ${++seq}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`);
        };
        const unsubscribe = deps.bus.subscribe((e) => {
          // A revoked token's stream ends; the UI's reconnect then gets its 401 and signs out.
          if (e.kind === 'tokens') void deps.tokens.stillValid(secret).then((valid) => (valid ? send(e) : end()));
          // The UI knows no resync: an activity of no flag in particular makes it refetch everything.
          else send(e.kind === 'resync' ? { kind: 'activity', key: null, what: 'resync' } : e);
        });
        const heartbeat = setInterval(() => res.write(': ping\n\n'), deps.heartbeatMs);
        const end = () => {
          clearInterval(heartbeat);
          unsubscribe();
          open.delete(end);
          if (!res.writableEnded) res.end();
        };
        open.add(end);
        req.raw.on('close', end);
      },
    });
  };
}
