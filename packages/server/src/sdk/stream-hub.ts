import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenService } from '../auth/token-service.js';
import type { ConfigCache } from '../evaluation/config-cache.js';
import type { ChangeBus } from '../events/change-bus.js';
import { sdkConfigOf } from './config.js';

/**
 * An event as bytes, in both framings a stream may have: the body as is (an HTTP/1.0 client's
 * stream, delimited by the connection's end) and as one HTTP/1.1 chunk (size, data, CRLF).
 */
interface Frame {
  readonly body: Buffer;
  readonly chunk: Buffer;
}

function frameOf(text: string): Frame {
  const body = Buffer.from(text);
  return { body, chunk: Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, CRLF]) };
}

const CRLF = Buffer.from('\r\n');
const PING = frameOf(': ping\n\n');
const RETRY = frameOf('retry: 1000\n\n');

interface Client {
  readonly res: ServerResponse;
  /** Set when the response is chunked: then whole chunks are written to the socket directly. */
  readonly socket: Socket | undefined;
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
   * One event, encoded and framed once for every stream (a string would be UTF-8 encoded again
   * for every stream: ~20 % of the write loop's CPU for a 33 kB config). A chunked response's
   * chunk goes straight to its socket: through `res.write` each copy took three buffers through
   * Node's HTTP layer (size line, data, CRLF) and cost ~6 µs more of the ~20 µs a write costs on
   * a slow 2-core VM (bench/sdk-propagation.mjs, docs/benchmarks.md). Once the headers are
   * flushed the response writes nothing of its own until `end()`, which adds the last chunk.
   */
  function write(client: Client, frame: Frame): void {
    const res = client.res;
    if (res.writableEnded) return;
    if (client.socket !== undefined) {
      if (!client.socket.destroyed) client.socket.write(frame.chunk);
      return;
    }
    res.write(frame.body);
  }

  /** The current config to every listed client whose copy differs; serialised and encoded once. */
  async function sendCurrent(targets: Iterable<Client>): Promise<void> {
    const snap = await deps.cache.get();
    let frame: Frame | undefined;
    for (const c of targets) {
      if (c.sent === snap.etag) continue;
      c.sent = snap.etag;
      frame ??= frameOf(`id: ${snap.etag}\nevent: config\ndata: ${JSON.stringify(sdkConfigOf(snap))}\n\n`);
      write(c, frame);
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

  /**
   * A revoked token's streams end: the SDK's reconnect then gets its 401 (or a 503 while the
   * database is away, when the token cannot be checked: the SDK keeps its config meanwhile).
   */
  async function recheckTokens(): Promise<void> {
    // One check per token, not per stream: a service's many clients usually share one SDK token.
    const checks = new Map<string | undefined, Promise<boolean>>();
    for (const c of clients) {
      let valid = checks.get(c.secret);
      if (!valid) checks.set(c.secret, (valid = deps.tokens.stillValid(c.secret)));
      if (!(await valid)) c.res.end();
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
      // Node decides the framing when it writes the headers (HTTP/1.1: chunked). A property of
      // Node's OutgoingMessage, not of its documented API: without it, the streams go through
      // res.write, as they would for an HTTP/1.0 client.
      const chunked = (res as unknown as { chunkedEncoding?: unknown }).chunkedEncoding === true;
      const socket = chunked && res.writableLength === 0 ? (res.socket ?? undefined) : undefined;
      // A reconnecting client that already holds the current config is not sent it again.
      const client: Client = { res, socket, secret: opts.secret, sent: opts.lastEventId };
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
