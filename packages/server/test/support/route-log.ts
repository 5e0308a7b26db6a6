import type * as FastifyModule from 'fastify';

/**
 * Every `METHOD /url` the server registers, collected by an `onRoute` hook installed on each
 * Fastify instance the moment it is created — before any plugin adds a route, so nothing (a
 * plugin's own routes included) escapes the list. HEAD (Fastify's automatic twin of each GET)
 * and the static /docs browser are left out.
 *
 * Use from a test file, whose `vi.mock` is hoisted above the imports:
 * `vi.mock('fastify', async (original) => (await import('./support/route-log.js')).logRoutes(await original<typeof FastifyModule>()));`
 */
export const REGISTERED = new Set<string>();

export function logRoutes(mod: typeof FastifyModule): typeof FastifyModule {
  const withRouteLog = ((options?: Parameters<typeof mod.default>[0]) => {
    const app = mod.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD' && !route.url.startsWith('/docs')) REGISTERED.add(`${method} ${route.url}`);
      }
    });
    return app;
  }) as unknown as typeof mod.default;
  return { ...mod, default: withRouteLog, fastify: withRouteLog };
}
