import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WEB_DIR } from '../../../server/src/admin-ui/static.js';
import { startTestApp, type TestApp } from '../../../server/test/support/app.js';

export interface UiServer extends TestApp {
  /** http://127.0.0.1:<port> of the real server, serving the built UI at /admin. */
  readonly baseUrl: string;
}

/**
 * The real server (real Fastify, real database, the built UI from packages/web/dist) on a free
 * loopback port. `npm test` builds the UI first. The watchdog's scheduler is not started:
 * checkpoints run when a test (or the UI's Run now) asks.
 */
export async function startUiServer(): Promise<UiServer> {
  if (!existsSync(`${DEFAULT_WEB_DIR}/index.html`)) throw new Error(`The UI is not built (${DEFAULT_WEB_DIR}); run npm run build first.`);
  const t = await startTestApp('pglite');
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return Object.assign(t, { baseUrl: `http://127.0.0.1:${port}` });
}
