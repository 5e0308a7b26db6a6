import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HASH_VERSION, SPEC_VERSION } from '@rampart/core';

/** A request the scripted server saw, and whether its connection has closed since. */
export interface SeenRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  closed: boolean;
}

/**
 * An in-process HTTP server whose answers a test scripts (`handle`), for the transport and
 * stream behaviour a real Rampart does not show on demand: a refused token, a silent stream,
 * a connection cut mid-body, a character split across two chunks.
 */
export async function startScriptedServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: SeenRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const entry: SeenRequest = { path: req.url ?? '', headers: req.headers, closed: false };
    seen.push(entry);
    open.add(res);
    res.on('close', () => {
      entry.closed = true;
      open.delete(res);
    });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async stop(): Promise<void> {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An SSE `config` event carrying one flag at `version`. */
export function configEvent(version: number, etag = `"e${version}"`): string {
  const config = {
    etag,
    specVersion: SPEC_VERSION,
    hashVersion: HASH_VERSION,
    flags: [{ key: 'f', enabled: true, rolloutBasisPoints: 5000, allowlist: ['ü-vip'], salt: 'f', stickiness: 'id', version }],
  };
  return `id: ${etag}\nevent: config\ndata: ${JSON.stringify(config)}\n\n`;
}
