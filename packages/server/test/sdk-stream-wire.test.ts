import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

/**
 * The SDK stream's bytes on the wire. The stream hub writes each event, framed once, straight
 * to the sockets of chunked responses (src/sdk/stream-hub.ts): these tests read raw sockets, so
 * a broken chunk size or an event cut between framings would show here even if a lenient
 * client coped with it.
 */

const F = '/api/admin/feature-flags';

/** A raw HTTP request on its own socket; `read()` is everything received so far. */
function rawRequest(port: number, request: string): { socket: Socket; read: () => Buffer } {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(request);
  return { socket, read: () => Buffer.concat(chunks) };
}

async function until<T>(get: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Decodes a chunked body strictly; undefined while a chunk is incomplete. */
function dechunk(body: Buffer): { text: string; ended: boolean } {
  let at = 0;
  let text = '';
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return { text, ended: false };
    const sizeLine = body.subarray(at, eol).toString('latin1');
    expect(sizeLine, 'chunk size line').toMatch(/^[0-9a-f]+$/);
    const size = parseInt(sizeLine, 16);
    if (size === 0) return { text, ended: true };
    if (body.length < eol + 2 + size + 2) return { text, ended: false };
    text += body.subarray(eol + 2, eol + 2 + size).toString('utf8');
    expect(body.subarray(eol + 2 + size, eol + 4 + size).toString('latin1'), 'CRLF after a chunk').toBe('\r\n');
    at = eol + 4 + size;
  }
}

const configEvents = (text: string) => text.split('\n\n').filter((e) => e.includes('event: config'));

describe('SDK stream on the wire', () => {
  let t: TestApp;
  let port = 0;

  beforeAll(async () => {
    t = await startTestApp('pglite', { rateLimitAdmin: 0, rateLimitSdk: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    // An allowlisted id with multi-byte characters: chunk sizes count bytes, not characters.
    const created = await t.call('POST', F, { body: { key: 'wire', enabled: true, allowlist: ['josé-✓-🚦'] } });
    expect(created.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  const headers = () => `authorization: Bearer ${t.tokens.SDK}\r\naccept: text/event-stream\r\nhost: 127.0.0.1\r\n\r\n`;

  it('HTTP/1.0: the events come unframed, delimited by the connection', async () => {
    const { socket, read } = rawRequest(port, `GET /api/sdk/stream HTTP/1.0\r\n${headers()}`);
    const text = await until(() => {
      const all = read().toString('utf8');
      const split = all.indexOf('\r\n\r\n');
      return split >= 0 && configEvents(all.slice(split + 4)).length >= 1 ? all : undefined;
    }, 'the config event');
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.toLowerCase()).not.toContain('transfer-encoding');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.startsWith('retry: 1000\n\nid: ')).toBe(true);
    expect(body).toContain('josé-✓-🚦');
    socket.destroy();
  });
  it('HTTP/1.1: every event is one well-formed chunk (sizes in bytes), the config and each change, and a shutdown ends the body with the last chunk', async () => {
    const { socket, read } = rawRequest(port, `GET /api/sdk/stream HTTP/1.1\r\n${headers()}`);
    const body = () => {
      const all = read();
      const split = all.indexOf('\r\n\r\n');
      return split < 0 ? undefined : { head: all.subarray(0, split).toString('latin1'), rest: all.subarray(split + 4) };
    };
    const first = await until(() => {
      const b = body();
      return b && configEvents(dechunk(b.rest).text).length >= 1 ? b : undefined;
    }, 'the first config event');
    expect(first.head).toMatch(/^HTTP\/1\.1 200/);
    expect(first.head.toLowerCase()).toContain('transfer-encoding: chunked');

    for (const pct of [10, 20, 30]) {
      expect((await t.call('PUT', `${F}/wire`, { body: { rolloutPercentage: pct } })).statusCode).toBe(200);
    }
    const text = await until(() => {
      const d = dechunk(body()!.rest);
      const events = configEvents(d.text);
      return events.some((e) => e.includes('"rolloutBasisPoints":3000')) ? d.text : undefined;
    }, 'the 30 % config');
    // Each event parses as SSE: an id, the event name, one data line of JSON.
    for (const e of configEvents(text)) {
      const data = /^data: (.*)$/m.exec(e)?.[1];
      expect(() => JSON.parse(data ?? '')).not.toThrow();
    }
    expect(text.startsWith('retry: 1000\n\n')).toBe(true);

    expect(text).toContain('josé-✓-🚦');

    // A server shutting down ends the body properly: the last chunk, then the connection closes.
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    await t.app.close();
    await closed;
    expect(dechunk(body()!.rest).ended).toBe(true);
  });

});
