// Both stream transports behave the same: `node:http` (what `#stream-transport` is in Node)
// and fetch (browsers, or an application's own fetch). sync.ts relies on this contract.
import { afterEach, describe, expect, it } from 'vitest';
import { fetchTransport } from '../src/transport/fetch.js';
import { platformTransport } from '../src/transport/node.js';
import type { StreamRequest, StreamTransport } from '../src/transport/stream-transport.js';
import { until } from './support/server-process.js';
import { startScriptedServer } from './support/scripted-server.js';

type Scripted = Awaited<ReturnType<typeof startScriptedServer>>;
const servers: Scripted[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(handle: Parameters<typeof startScriptedServer>[0]): Promise<Scripted> {
  const s = await startScriptedServer(handle);
  servers.push(s);
  return s;
}

/** Opens a stream on `url`, recording what the transport hands back. */
function open(transport: StreamTransport, url: string, extra: Partial<StreamRequest> = {}) {
  const abort = new AbortController();
  const got = { status: 0, texts: [] as string[] };
  const done = transport({
    url,
    headers: { authorization: 'Bearer rpt_t', 'last-event-id': '"e7"' },
    signal: abort.signal,
    onResponse: (status) => (got.status = status),
    onText: (text) => got.texts.push(text),
    ...extra,
  });
  return { abort, got, done };
}

// undici closes an aborted or cancelled fetch's connection about 3 s later, not at once, so
// only node:http's closing is waited for.
describe.each([
  ['node:http', platformTransport, true],
  ['fetch', fetchTransport(globalThis.fetch), false],
] as const)('stream transport over %s', (_name, transport, closesAtOnce) => {
  it('sends the headers, and decodes a character split across two chunks', async () => {
    const euro = Buffer.from('€'); // three bytes
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(Buffer.concat([Buffer.from('data: a'), euro.subarray(0, 1)]));
      setTimeout(() => res.end(Buffer.concat([euro.subarray(1), Buffer.from('b\n\n')])), 20);
    });
    const { got, done } = open(transport, `${s.url}/api/sdk/stream`);
    await done; // the server ended the body: resolves
    expect(got.status).toBe(200);
    expect(got.texts.join('')).toBe('data: a€b\n\n');
    expect(got.texts.every((t) => !t.includes('\uFFFD'))).toBe(true);
    expect(s.seen[0]).toMatchObject({ path: '/api/sdk/stream', headers: { authorization: 'Bearer rpt_t', 'last-event-id': '"e7"' } });
  });

  it('rejects with the abort reason and closes the connection', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.write(': hello\n\n');
    });
    const { abort, got, done } = open(transport, s.url);
    await until(() => got.texts.length > 0, 5000, 'the first bytes');
    abort.abort(new Error('stream idle'));
    await expect(done).rejects.toThrow('stream idle');
    if (closesAtOnce) await until(() => s.seen[0]!.closed, 1000, 'the server to see the connection close');
  });

  it('rejects with what onResponse throws, before any text, and closes the connection', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(401);
      res.write('{"code":"TOKEN_INVALID"');
    });
    const { got, done } = open(transport, s.url, {
      onResponse: (status) => {
        throw new Error(`refused (${status})`);
      },
    });
    await expect(done).rejects.toThrow('refused (401)');
    expect(got.texts).toEqual([]);
    if (closesAtOnce) await until(() => s.seen[0]!.closed, 1000, 'the server to see the connection close');
  });

  it('rejects with what onText throws', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.write('data: x\n\n');
    });
    const { done } = open(transport, s.url, {
      onText: () => {
        throw new Error('bad config');
      },
    });
    await expect(done).rejects.toThrow('bad config');
  });

  it('rejects when the connection is cut mid-body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.write(': hello\n\n');
      setTimeout(() => res.destroy(), 20);
    });
    const { got, done } = open(transport, s.url);
    await expect(done).rejects.toThrow();
    expect(got.texts.join('')).toBe(': hello\n\n');
  });

  it('rejects when nothing listens', async () => {
    const s = await serve(() => {});
    const url = s.url;
    await s.stop();
    servers.length = 0;
    await expect(open(transport, url).done).rejects.toThrow();
  });
});
