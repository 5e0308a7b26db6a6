import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createEvaluator, type Flag } from '@rampart/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../server/test/support/databases.js';
import { pgEnabled } from '../../server/test/support/pg-urls.js';
import { createClient, type RampartClient } from '../src/index.js';
import { fileStorage } from '../src/node/index.js';
import { admin, sdkToken, startServerProcess, until, type ServerProcess } from './support/server-process.js';

const KEY = 'passenger_favorites_matching';
const BETA = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
const fast = { backoff: { minMs: 50, maxMs: 200 }, pollIntervalMs: 200, flushIntervalMs: 200 };

interface EvalCase {
  name: string;
  flag: (Flag & { key: string }) | null;
  context?: Record<string, unknown>;
  env?: Record<string, string>;
  expected: { value: boolean; reason: string; bucket?: number };
}
const cases = JSON.parse(readFileSync(new URL('../../core/test/cases.json', import.meta.url), 'utf8')) as { evaluations: EvalCase[] };

describe('SDK client against a real server process', () => {
  let dir: string;
  let server: ServerProcess;
  let token: string;
  const clients: RampartClient[] = [];
  const client = (opts: Partial<Parameters<typeof createClient>[0]> = {}) => {
    const c = createClient({ url: server.url, token, ...fast, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(os.tmpdir(), 'rampart-sdk-'));
    server = await startServerProcess({ RAMPART_DATA_DIR: join(dir, 'data') });
    token = await sdkToken(server.url);
    await admin(server.url, 'POST', '/api/admin/feature-flags', { key: KEY, enabled: true, rolloutPercentage: 0, allowlist: BETA });
  });
  // Each test's clients close when it ends: one left open keeps flushing (retrying what it could
  // not send while the server was down), and its exposures would land in a later test's counts.
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates locally after ready: the probe ids ON by ALLOWLIST, a stranger OFF, with buckets', async () => {
    const c = client();
    expect((await c.ready).state).toBe('READY');
    expect(c.evaluate(KEY, { id: 'pass_beta_001_2026' })).toMatchObject({ value: true, reason: 'ALLOWLIST', version: 1, cohort: 'allowlist' });
    expect(c.evaluate(KEY, { id: 'passenger-42' })).toMatchObject({ value: false, reason: 'NOT_IN_ROLLOUT', bucket: 5678, cohort: 'control' });
    expect(c.evaluate('no_such_flag', { id: 'x' }, true)).toMatchObject({ value: true, reason: 'FLAG_NOT_FOUND', errorCode: 'FLAG_NOT_FOUND' });
    expect(c.status()).toMatchObject({ source: 'server', connection: 'streaming' });
  });

  it('agrees with packages/core and the server endpoint on every case of cases.json', async () => {
    const usable = cases.evaluations.filter((k) => k.flag !== null && k.expected.reason !== 'ERROR' && !k.env);
    for (const [i, k] of usable.entries()) {
      const f = k.flag!;
      await admin(server.url, 'POST', '/api/admin/feature-flags', {
        key: `sdkcase-${i}`, enabled: f.enabled, rolloutBasisPoints: f.rolloutBasisPoints, allowlist: f.allowlist, salt: f.salt ?? f.key, stickiness: f.stickiness,
      });
    }
    const c = client();
    await c.ready;
    await until(() => usable.every((_, i) => c.keys().includes(`sdkcase-${i}`)), 5000, 'all case flags');
    const core = createEvaluator();
    for (const [i, k] of usable.entries()) {
      const key = `sdkcase-${i}`;
      const sdk = c.evaluate(key, k.context ?? {});
      const local = core.evaluate(k.flag!, k.context ?? {});
      const res = await fetch(`${server.url}/api/evaluate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ context: k.context ?? {}, flags: [key] }),
      });
      const remote = (await res.json()).flags[key];
      expect({ value: sdk.value, reason: sdk.reason }, k.name).toEqual({ value: k.expected.value, reason: k.expected.reason });
      expect({ value: local.value, reason: local.reason }, k.name).toEqual({ value: sdk.value, reason: sdk.reason });
      expect({ value: remote.value, reason: remote.reason }, k.name).toEqual({ value: sdk.value, reason: sdk.reason });
      if (k.expected.bucket !== undefined) expect([sdk.bucket, remote.bucket], k.name).toEqual([k.expected.bucket, k.expected.bucket]);
    }
    expect(usable.length).toBeGreaterThan(10);
  });

  it('emits changed for a kill switch within milliseconds, and serves it', async () => {
    const c = client();
    await c.ready;
    const seen: number[] = [];
    c.on('changed', (e) => {
      if (e.key === KEY && e.version !== undefined) seen.push(e.version);
    });
    const t0 = Date.now();
    const killed = await admin<{ version: number }>(server.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { enabled: false, rolloutPercentage: 0 });
    await until(() => seen.includes(killed.version), 2000, 'changed event');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(c.evaluate(KEY, { id: 'pass_beta_001_2026' })).toMatchObject({ value: false, reason: 'DISABLED' });
    await admin(server.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { enabled: true, rolloutPercentage: 0 });
  });

  it('polls with ETag when streaming is off, and gets changes that way', async () => {
    const c = client({ streaming: false, pollIntervalMs: 100 });
    await c.ready;
    expect(c.status().connection).toBe('polling');
    await admin(server.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { rolloutPercentage: 100 });
    await until(() => c.evaluate(KEY, { id: 'passenger-42' }).value, 3000, 'polled change');
    await admin(server.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { rolloutPercentage: 0 });
    // The server answers an unchanged config with 304.
    const config = await fetch(`${server.url}/api/sdk/config`, { headers: { authorization: `Bearer ${token}` } });
    const etag = config.headers.get('etag')!;
    const again = await fetch(`${server.url}/api/sdk/config`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('keeps evaluating when the server is killed, reports staleness, and reconnects when it returns', async () => {
    const storagePath = join(dir, 'cache', 'last-good.json');
    const c = client({ staleAfterMs: 300, storage: fileStorage(storagePath) });
    await c.ready;
    await until(() => {
      try {
        return JSON.parse(readFileSync(storagePath, 'utf8')).flags.length > 0;
      } catch {
        return false;
      }
    }, 3000, 'the last good config on disk');
    const events: string[] = [];
    c.on('stale', () => events.push('stale'));
    c.on('reconnected', () => events.push('reconnected'));
    const port = new URL(server.url).port;
    let evaluations = 0;
    let wrong = 0;
    let thrown = 0;
    const loop = setInterval(() => {
      for (let i = 0; i < 100; i++) {
        try {
          evaluations++;
          if (!c.evaluate(KEY, { id: 'pass_beta_002_2026' }).value) wrong++;
        } catch {
          thrown++;
        }
      }
    }, 5);
    try {
      await server.kill();
      await until(() => events.includes('stale'), 5000, 'the stale event');
      expect(c.status().state).toBe('STALE');
      expect(c.status().staleForMs).toBeGreaterThanOrEqual(300);
      expect(c.status().connection).toBe('offline');
      server = await startServerProcess({ RAMPART_DATA_DIR: join(dir, 'data'), PORT: port });
      await until(() => c.status().connection === 'streaming', 10_000, 'the stream to reconnect');
      expect(events).toContain('reconnected');
      expect(c.status().state).toBe('READY');
    } finally {
      clearInterval(loop);
    }
    expect(evaluations).toBeGreaterThan(1000);
    expect([thrown, wrong]).toEqual([0, 0]);

    // A new application instance starts from the file while Rampart is unreachable.
    const offline = createClient({ url: 'http://127.0.0.1:9', token, ...fast, storage: fileStorage(storagePath) });
    clients.push(offline);
    expect(await offline.ready).toMatchObject({ state: 'STALE', source: 'storage' });
    expect(offline.evaluate(KEY, { id: 'pass_beta_003_2026' })).toMatchObject({ value: true, reason: 'ALLOWLIST' });
  });

  it('starts from a bootstrap snapshot export with Rampart unreachable', async () => {
    const snap = await admin<{ id: string }>(server.url, 'POST', '/api/admin/snapshots', { label: 'sdk-bootstrap' });
    const exported = await admin<unknown>(server.url, 'GET', `/api/admin/snapshots/${snap.id}`);
    const file = join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(exported));
    const c = createClient({ url: 'http://127.0.0.1:9', token, ...fast, bootstrap: readFileSync(file, 'utf8') });
    clients.push(c);
    expect(await c.ready).toMatchObject({ state: 'STALE', source: 'bootstrap' });
    expect(c.evaluate(KEY, { id: 'pass_beta_004_2026' })).toMatchObject({ value: true, reason: 'ALLOWLIST' });
    expect(c.evaluate(KEY, { id: 'passenger-42' })).toMatchObject({ value: false, reason: 'NOT_IN_ROLLOUT' });
  });

  it('reports exposures and business metrics per minute, flushed on close', async () => {
    await admin(server.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { rolloutPercentage: 50 });
    const c = client({ flushIntervalMs: 60_000 });
    await c.ready;
    await until(() => c.keys().includes(KEY), 2000, 'config');
    const before = await admin<{ cohorts: Record<string, { exposures: number }> }>(server.url, 'GET', `/api/admin/metrics/${KEY}/summary?window=1h`);
    let exposed = 0;
    let control = 0;
    for (let i = 0; i < 400; i++) {
      const r = c.evaluate(KEY, { id: `rider-${i}` });
      if (r.cohort === 'exposed') exposed++;
      if (r.cohort === 'control') control++;
      c.track('matching_success', r.value ? i % 10 !== 0 : true, { id: `rider-${i}`, flag: KEY });
    }
    await c.close();
    const after = await admin<{ cohorts: Record<string, { exposures: number }> }>(server.url, 'GET', `/api/admin/metrics/${KEY}/summary?window=1h`);
    expect(after.cohorts.exposed!.exposures - (before.cohorts.exposed?.exposures ?? 0)).toBe(exposed);
    expect(after.cohorts.control!.exposures - (before.cohorts.control?.exposures ?? 0)).toBe(control);
    expect(c.status().metrics).toMatchObject({ pending: 0, dropped: 0 });
    expect(exposed).toBeGreaterThan(100);
  });

  it('bounds its memory while Rampart is unreachable: the oldest aggregates are dropped and counted', async () => {
    const c = createClient({ url: 'http://127.0.0.1:9', token, ...fast, bootstrap: { flags: [{ key: 'a', enabled: true, rolloutBasisPoints: 5000, allowlist: [] }] }, maxPendingAggregates: 5 });
    let minute = 0;
    const now = () => 1_800_000_000_000 + minute * 60_000;
    const timed = createClient({ url: 'http://127.0.0.1:9', token, ...fast, now, bootstrap: { flags: [{ key: 'a', enabled: true, rolloutBasisPoints: 5000, allowlist: [] }] }, maxPendingAggregates: 5 });
    for (minute = 0; minute < 20; minute++) timed.evaluate('a', { id: 'u1' });
    expect(timed.status().metrics).toMatchObject({ pending: 5, dropped: 15 });
    await Promise.all([c.close(), timed.close()]);
    expect(timed.status().metrics.pending).toBeLessThanOrEqual(5);
  });
});

describe.runIf(pgEnabled())('SDK across replicas on one PostgreSQL', () => {
  let testDb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    [a, b] = await Promise.all([startServerProcess({ DATABASE_URL: testDb.url! }), startServerProcess({ DATABASE_URL: testDb.url! })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await testDb?.drop();
  });

  it('sees a kill switch flipped on replica A through a stream from replica B', async () => {
    await admin(a.url, 'POST', '/api/admin/feature-flags', { key: KEY, enabled: true, rolloutPercentage: 100 });
    const token = await sdkToken(a.url);
    const c = createClient({ url: b.url, token, ...fast });
    try {
      await c.ready;
      await until(() => c.evaluate(KEY, { id: 'p1' }).value, 3000, 'flag on B');
      const versions: number[] = [];
      c.on('changed', (e) => e.version !== undefined && versions.push(e.version));
      const killed = await admin<{ version: number }>(a.url, 'PUT', `/api/admin/feature-flags/${KEY}`, { enabled: false });
      await until(() => versions.includes(killed.version), 3000, 'the kill switch on B');
      expect(c.evaluate(KEY, { id: 'p1' })).toMatchObject({ value: false, reason: 'DISABLED', version: killed.version });
      // B's own evaluation endpoint never serves an older version than the one it notified.
      const res = await fetch(`${b.url}/api/evaluate/${KEY}?id=p1`, { headers: { authorization: `Bearer ${token}` } });
      expect(await res.json()).toMatchObject({ value: false, version: killed.version });
    } finally {
      await c.close();
    }
  });
});
