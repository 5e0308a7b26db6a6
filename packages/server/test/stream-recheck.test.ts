import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

/**
 * A revocation heard while this replica cannot reach its database. Each open stream's token is
 * checked again on a revocation; when the check itself fails, the stream ends (the reconnect is
 * checked in full) and the process goes on: an unhandled rejection there used to be able to stop
 * it. The database is really closed under the running server; the revocation arrives as the
 * replica's change bus delivers one heard through LISTEN.
 */

interface OpenStream {
  readonly text: () => string;
  readonly ended: Promise<'ended'>;
}

async function openStream(url: string, token: string): Promise<OpenStream> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return 'ended' as const;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { text: () => text, ended };
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a revocation this replica cannot check', () => {
  let t: TestApp;
  let base = '';

  beforeAll(async () => {
    t = await startTestApp('pglite', { rateLimitAdmin: 0, rateLimitSdk: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.app.close().catch(() => {});
  });

  it('ends the SDK and admin-UI streams, and the server keeps answering', async () => {
    const sdk = await openStream(`${base}/api/sdk/stream`, t.tokens.SDK);
    const ui = await openStream(`${base}/api/admin/events`, t.tokens.VIEWER);
    await until('the SDK config and the UI hello', () => sdk.text().includes('event: config') && ui.text().includes('event: hello'));

    await t.db.close();
    t.app.rampart.bus.emitLocal({ kind: 'tokens', epoch: 1 });

    const timeout = new Promise<'open'>((r) => setTimeout(() => r('open'), 5_000));
    expect(await Promise.race([sdk.ended, timeout])).toBe('ended');
    expect(await Promise.race([ui.ended, timeout])).toBe('ended');
    // Still serving: /healthz needs no database, and a database route says why it cannot answer.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const flags = await fetch(`${base}/api/admin/feature-flags`, { headers: { authorization: `Bearer ${t.tokens.VIEWER}` } });
    expect(flags.status).toBe(503);
    expect(((await flags.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
  });
});
