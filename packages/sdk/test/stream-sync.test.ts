// The client's stream behaviour over both transports (Node's default, node:http, and an
// application's own fetch): a change arriving, a refused token, a silent stream, close().
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, TOKEN_REFUSED, type ClientOptions, type RampartClient } from '../src/index.js';
import { until } from './support/server-process.js';
import { configEvent, startScriptedServer } from './support/scripted-server.js';

type Scripted = Awaited<ReturnType<typeof startScriptedServer>>;
const servers: Scripted[] = [];
const clients: RampartClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const fetched: string[] = [];
const ownFetch: typeof fetch = (input, init) => {
  fetched.push(String(input));
  return globalThis.fetch(input, init);
};

describe.each([
  ['node:http (the default in Node)', {}],
  ["the application's fetch", { fetch: ownFetch }],
] as const)('client stream over %s', (_name, transport: Partial<ClientOptions>) => {
  async function setup(handle: Parameters<typeof startScriptedServer>[0], opts: Partial<ClientOptions> = {}) {
    const server = await startScriptedServer(handle);
    servers.push(server);
    const client = createClient({
      url: server.url,
      token: 'rpt_test',
      env: {},
      reportExposures: false,
      flushIntervalMs: 3_600_000,
      backoff: { minMs: 20, maxMs: 50 },
      pollIntervalMs: 60_000,
      ...transport,
      ...opts,
    });
    clients.push(client);
    return { server, client };
  }
  const streams = (s: Scripted) => s.seen.filter((r) => r.path === '/api/sdk/stream');

  it('installs the configs the stream sends, and close() ends the stream', async () => {
    let stream: ServerResponse | undefined;
    fetched.length = 0;
    const { server, client } = await setup((req, res) => {
      if (req.url !== '/api/sdk/stream') return void res.writeHead(404).end();
      stream = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(configEvent(1));
    });
    await client.ready;
    expect(client.status()).toMatchObject({ source: 'server', connection: 'streaming', etag: '"e1"' });
    const versions: (number | undefined)[] = [];
    client.on('changed', (e) => versions.push(e.version));
    stream!.write(configEvent(2));
    await until(() => versions.includes(2), 5000, 'the second config');
    expect(client.evaluate('f', { id: 'ü-vip' })).toMatchObject({ value: true, reason: 'ALLOWLIST', version: 2 });
    expect(streams(server)[0]!.headers.authorization).toBe('Bearer rpt_test');
    if (transport.fetch) expect(fetched).toContain(`${server.url}/api/sdk/stream`);
    await client.close();
    if (!transport.fetch) await until(() => streams(server)[0]!.closed, 1000, 'the stream to close');
  });

  it('reports a refused token as TOKEN_REFUSED and keeps retrying with backoff', async () => {
    const { server, client } = await setup((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"TOKEN_INVALID"}'));
    const errors: unknown[] = [];
    client.on('error', (err) => errors.push(err));
    await until(() => streams(server).length >= 3, 5000, 'three stream attempts');
    expect(errors.some((e) => (e as { code?: string }).code === TOKEN_REFUSED)).toBe(true);
    expect(client.status()).toMatchObject({ state: 'NOT_READY', connection: 'offline' });
  });

  it('drops a silent stream after streamIdleTimeoutMs and reconnects with Last-Event-ID', async () => {
    const { server, client } = await setup(
      (req, res) => {
        if (req.url !== '/api/sdk/stream') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (streams(server).length === 1) res.write(configEvent(1)); // then nothing, not even a ping
      },
      { streamIdleTimeoutMs: 200 },
    );
    const errors: string[] = [];
    client.on('error', (err) => errors.push((err as Error).message));
    await client.ready;
    await until(() => streams(server).length >= 2, 5000, 'a second stream');
    expect(streams(server)[1]!.headers['last-event-id']).toBe('"e1"');
    expect(errors).toContain('stream idle');
  });
});
