import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { DRIVERS } from './support/databases.js';

/** Reads server-sent events from a real connection until `until` holds or time runs out. */
async function collectEvents(url: string, token: string, until: (events: { event: string; data: string }[]) => boolean, act: () => Promise<unknown>, timeoutMs = 5000) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const events: { event: string; data: string }[] = [];
  let buffer = '';
  let acted = false;
  try {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data !== undefined) events.push({ event, data });
      }
      // Act only once the stream is open (the hello event), so nothing is missed.
      if (!acted && events.some((e) => e.event === 'hello')) {
        acted = true;
        await act();
      }
      if (until(events)) break;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, events: events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data) as Record<string, unknown>) };
}

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

describe.each(DRIVERS)('admin UI support routes on %s', (driver) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('tells a signed-in token who it is, and keeps SDK tokens out of the admin UI', async () => {
    t = await startTestApp(driver);
    for (const role of ['VIEWER', 'OPERATOR', 'SUPER_ADMIN'] as const) {
      const res = await t.call('GET', '/api/admin/session', { as: role });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ role, name: `test-${role.toLowerCase()}` });
      expect(res.json().tokenId).toMatch(/^tok_/);
    }
    expect((await t.call('GET', '/api/admin/session', { as: 'SDK' })).json().error.code).toBe('FORBIDDEN');
    expect((await t.call('GET', '/api/admin/session', { as: null })).json().error.code).toBe('TOKEN_MISSING');
    expect((await t.call('GET', '/api/admin/session', { as: { secret: 'nope' } })).json().error.code).toBe('TOKEN_INVALID');
  });

  it('lists each flag with its live plan stage and the health of its latest checkpoint', async () => {
    t = await startTestApp(driver);
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'planned', enabled: true, rolloutPercentage: 0 } });
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'plain', enabled: false } });
    await t.call('POST', '/api/admin/rollouts/planned', { body: { template: 'runbook-5-phase' } });
    const run = await t.call('POST', '/api/admin/beta-monitor/planned/run', { body: {} });
    expect(run.statusCode).toBe(200);
    const flags = (await t.call('GET', '/api/admin/feature-flags', { as: 'VIEWER' })).json().flags as Record<string, unknown>[];
    expect(flags.find((f) => f.key === 'planned')).toMatchObject({ plan: { state: 'active', stage: 1, of: 7, awaitingApproval: false }, health: run.json().health });
    expect(flags.find((f) => f.key === 'plain')).toMatchObject({ plan: null, health: null, lastCheckpointAt: null });
  });

  it('lists operator signals newest first, for viewers too', async () => {
    t = await startTestApp(driver);
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'noisy', enabled: true } });
    await t.call('POST', '/api/admin/beta-monitor/noisy/signals', { as: 'OPERATOR', body: { complaints: 2, note: 'two tickets' } });
    await t.call('POST', '/api/admin/beta-monitor/noisy/signals', { as: 'OPERATOR', body: { critical: true, note: 'drivers cannot accept rides' } });
    const res = await t.call('GET', '/api/admin/beta-monitor/noisy/signals?limit=10', { as: 'VIEWER' });
    expect(res.statusCode).toBe(200);
    expect(res.json().signals.map((s: { note: string; severity: string; actor: string }) => [s.note, s.severity, s.actor])).toEqual([
      ['drivers cannot accept rides', 'critical', 'test-operator'],
      ['two tickets', 'info', 'test-operator'],
    ]);
    expect((await t.call('GET', '/api/admin/beta-monitor/noisy/signals?limit=0')).json().error.code).toBe('VALIDATION_ERROR');
    expect((await t.call('GET', '/api/admin/beta-monitor/noisy/signals', { as: 'SDK' })).statusCode).toBe(403);
  });

  it('streams committed changes to the UI: flag versions, audited actions and checkpoints', async () => {
    t = await startTestApp(driver);
    const base = await listen(t);
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'watched', enabled: true } });
    const app = t;
    const { status, events } = await collectEvents(
      `${base}/api/admin/events`,
      t.tokens.VIEWER,
      (ev) => ev.some((e) => e.event === 'change' && JSON.parse(e.data).what === 'checkpoint'),
      async () => {
        await app.call('PUT', '/api/admin/feature-flags/watched', { body: { rolloutPercentage: 5, reason: 'ramp' } });
        await app.call('POST', '/api/admin/beta-monitor/watched/run', { body: {} });
      },
    );
    expect(status).toBe(200);
    expect(events).toContainEqual({ kind: 'flag', key: 'watched', version: 2 });
    expect(events).toContainEqual({ kind: 'activity', key: 'watched', what: 'flag.update' });
    expect(events).toContainEqual({ kind: 'activity', key: 'watched', what: 'checkpoint' });
  });

  it('announces nothing for a change that was refused', async () => {
    t = await startTestApp(driver);
    const base = await listen(t);
    await t.call('POST', '/api/admin/feature-flags', { body: { key: 'stale', enabled: true } });
    const app = t;
    const { events } = await collectEvents(
      `${base}/api/admin/events`,
      t.tokens.VIEWER,
      (ev) => ev.some((e) => e.event === 'change' && JSON.parse(e.data).what === 'flag.update'),
      async () => {
        // A stale If-Match rolls the transaction back: its NOTIFY is never delivered.
        expect((await app.call('PUT', '/api/admin/feature-flags/stale', { body: { enabled: false }, headers: { 'if-match': '"7"' } })).statusCode).toBe(409);
        await app.call('PUT', '/api/admin/feature-flags/stale', { body: { description: 'after the refusal' } });
      },
    );
    expect(events.filter((e) => e.kind === 'flag')).toEqual([{ kind: 'flag', key: 'stale', version: 2 }]);
  });

  it('ends the event stream of a token that is revoked, and refuses SDK tokens', async () => {
    t = await startTestApp(driver);
    const base = await listen(t);
    const created = (await t.call('POST', '/api/admin/tokens', { body: { name: 'ui-session', role: 'VIEWER' } })).json();
    const app = t;
    const started = Date.now();
    await collectEvents(`${base}/api/admin/events`, created.token, () => false, () => app.call('DELETE', `/api/admin/tokens/${created.id}`, { body: {} }), 10_000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fetch(`${base}/api/admin/events`, { headers: { authorization: `Bearer ${created.token}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/admin/events`, { headers: { authorization: `Bearer ${t.tokens.SDK}` } })).status).toBe(403);
  });

  it('answers 503 with what to run when the UI is not built, and redirects / to the UI', async () => {
    t = await startTestApp(driver, { webDir: mkdtempSync(join(tmpdir(), 'rampart-no-ui-')) });
    const res = await t.call('GET', '/admin/feature-flags', { as: null });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    const root = await t.call('GET', '/', { as: null });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/admin/');
  });
});
