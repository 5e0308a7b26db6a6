import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** Where `npm run build` puts the UI: packages/web/dist, beside this package. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/**
 * The UI's pages are static files; the API does the checking. The headers keep the pages from
 * being framed, sniffed or from loading anything but their own scripts (no inline script: the
 * token lives in sessionStorage, so an injected script is what we must not allow).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function withHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers(SECURITY_HEADERS);
}

/** Serves the built UI at /admin; any /admin/… path that is not a file is the app (client routing). */
export function adminUiRoutes(webDir: string): FastifyPluginAsync {
  return async (app) => {
    const index = join(webDir, 'index.html');
    const built = existsSync(index);
    app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin/'));
    if (!built) {
      // The same headers as the built UI: a browser shown this page gets the same protection.
      app.get('/admin/*', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) =>
        withHeaders(reply).code(503).type('text/plain').send(`The admin UI is not built (${index} is missing). Run: npm run build`),
      );
      return;
    }
    // serve: false — the plugin only lends reply.sendFile (path-safe, ranges, ETag); the route
    // stays ours, with its access policy like every other route.
    await app.register(fastifyStatic, { root: webDir, serve: false });
    const assets = join(webDir, 'assets');
    app.get('/admin', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin/'));
    app.get('/admin/*', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
      const rel = (req.params as { '*': string })['*'];
      withHeaders(reply);
      if (rel.startsWith('assets/')) {
        // A missing asset is a 404, not the app: a stale tab must not run HTML as a script.
        if (!existsSync(join(assets, rel.slice('assets/'.length)))) return reply.callNotFound();
        return reply.sendFile(rel, { maxAge: '365d', immutable: true });
      }
      if (rel && !rel.includes('/') && existsSync(join(webDir, rel))) return reply.sendFile(rel, { cacheControl: false });
      // Every other path is a page of the app (client-side routing).
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    });
  };
}
