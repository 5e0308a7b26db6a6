import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenService } from '../auth/token-service.js';
import type { ConfigCache } from '../evaluation/config-cache.js';
import type { ChangeBus } from '../events/change-bus.js';
import { sdkConfigOf } from './config.js';

const PING = Buffer.from(': ping\n\n');
const RETRY = Buffer.from('retry: 1000\n\n');

interface Client {
  readonly res: ServerResponse;
  readonly secret: string | undefined;
  /** The etag this client last received. */
  sent: string | undefined;
}

/**
 * The SDK streams of this replica. A flag change — committed here, or on another replica and
 * heard through LISTEN/NOTIFY — invalidates the config cache; the hub then reloads the config
 * once and sends it to every client whose copy differs. Because the reload happens after the
 * notification, a client is never sent a config older than the change it was notified of.
 */
export function createStreamHub(deps: { cache: ConfigCache; bus: ChangeBus; tokens: TokenService; heartbeatMs: number; log: FastifyBaseLogger }) {
  const clients = new Set<Client>();
  let pushing: Promise<void> | undefined;
  let again = false;

  /**
   * One payload, already encoded: a string would be UTF-8 encoded again for every stream
   * (~20 % of the write loop's CPU for a 33 kB config). Node corks a chunked write itself but
   * uncorks on the next tick, after the loop has been through every stream; uncorking here
   * sends each copy (size, data, CRLF: one writev) at once, so the clients read the first
   * copies while the hub still writes the rest.
   */
  function write(client: Client, payload: Buffer): void {
    const res = client.res;
    if (res.writableEnded) return;
    res.cork();
    res.write(payload);
    res.uncork();
  }

  /** The current config to every listed client whose copy differs; serialised and encoded once. */
  async function sendCurrent(targets: Iterable<Client>): Promise<void> {
    const snap = await deps.cache.get();
    let payload: Buffer | undefined;
    for (const c of targets) {
      if (c.sent === snap.etag) continue;
      c.sent = snap.etag;
      payload ??= Buffer.from(`id: ${snap.etag}\nevent: config\ndata: ${JSON.stringify(sdkConfigOf(snap))}\n\n`);
      write(c, payload);
    }
  }

  /** One push at a time; changes that arrive meanwhile cause exactly one more. */
  function pushAll(): void {
    if (pushing) {
      again = true;
      return;
    }
    pushing = (async () => {
      do {
        again = false;
        await sendCurrent(clients);
      } while (again);
    })()
      .catch((err: unknown) => deps.log.warn({ err }, 'sdk stream push failed; clients keep their config and the next change retries'))
      .finally(() => {
        pushing = undefined;
      });
  }

  /** A revoked token's streams end: the SDK's reconnect then gets its 401. */
  async function recheckTokens(): Promise<void> {
    for (const c of clients) {
      if (!c.secret || !(await deps.tokens.authenticate(c.secret))) c.res.end();
    }
  }

  const unsubscribe = deps.bus.subscribe((e) => {
    // The cache has cleared itself on this same event (it subscribed first).
    if (e.kind === 'flag' || e.kind === 'resync') pushAll();
    // After a resync a revocation may have been missed too.
    if ((e.kind === 'tokens' && e.epoch !== undefined) || e.kind === 'resync') void recheckTokens();
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) write(c, PING);
  }, deps.heartbeatMs);
  heartbeat.unref();

  return {
    size: () => clients.size,

    async open(
      req: IncomingMessage,
      res: ServerResponse,
      opts: { secret: string | undefined; lastEventId: string | undefined; headers: OutgoingHttpHeaders },
    ): Promise<void> {
      res.writeHead(200, opts.headers);
      res.flushHeaders();
      // A reconnecting client that already holds the current config is not sent it again.
      const client: Client = { res, secret: opts.secret, sent: opts.lastEventId };
      clients.add(client);
      const drop = () => clients.delete(client);
      req.on('close', drop);
      res.on('close', drop);
      write(client, RETRY);
      await sendCurrent([client]).catch((err: unknown) => {
        deps.log.warn({ err }, 'sdk stream: could not load the config; closing so the client retries');
        res.end();
      });
    },

    closeAll(): void {
      clearInterval(heartbeat);
      unsubscribe();
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}
