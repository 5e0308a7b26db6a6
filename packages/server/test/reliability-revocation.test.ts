import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Database } from '../src/db/database.js';
import { startTestApp, testConfig, type TestApp } from './support/app.js';
import { DRIVERS } from './support/databases.js';

/**
 * Revocation is final on every replica once DELETE /api/admin/tokens/:id answers, whatever
 * happened to the NOTIFY that normally carries it: the revocation waits until each replica with
 * a live lease has emptied its token cache, and a replica that cannot renew its lease stops
 * trusting that cache (src/auth/replica-lease.ts; the lapse itself, under a real database
 * outage, is in reliability-outage.test.ts). Two in-process replicas on one PostgreSQL
 * database, with a short lease so that the slow paths take a second, not ten.
 */

const LEASE_MS = 1_000;
const F = '/api/admin/feature-flags';
type App = Awaited<ReturnType<typeof buildApp>>;

async function status(base: string, path: string, token: string): Promise<number> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

describe.runIf(DRIVERS.includes('postgres'))('revocation with replicas that miss the news (postgres)', () => {
  let a: TestApp;
  let b: App | undefined;
  let baseB = '';

  async function twoReplicas(): Promise<void> {
    const overrides = { rateLimitAdmin: 0, rateLimitSdk: 0, replicaLeaseMs: LEASE_MS };
    a = await startTestApp('postgres', overrides);
    const otherDb: Database = await a.testDb.openAnother();
    b = await buildApp(testConfig(overrides), { db: otherDb });
    await b.listen({ host: '127.0.0.1', port: 0 });
    baseB = `http://127.0.0.1:${(b.server.address() as AddressInfo).port}`;
    expect((await a.call('POST', F, { body: { key: 'guarded', enabled: true } })).statusCode).toBe(201);
  }

  /** An OPERATOR and an SDK token, both verified (and so cached) by replica B. */
  async function tokensCachedOnB(): Promise<{ ids: string[]; operator: string; sdk: string }> {
    const operator = (await a.call('POST', '/api/admin/tokens', { body: { name: 'op', role: 'OPERATOR' } })).json();
    const sdk = (await a.call('POST', '/api/admin/tokens', { body: { name: 'sdk', role: 'SDK' } })).json();
    expect(await status(baseB, F, operator.token)).toBe(200);
    expect(await status(baseB, '/api/evaluate/guarded?id=u1', sdk.token)).toBe(200);
    return { ids: [operator.id, sdk.id], operator: operator.token, sdk: sdk.token };
  }

  async function revokeTimed(id: string): Promise<number> {
    const started = performance.now();
    expect((await a.call('DELETE', `/api/admin/tokens/${id}`, { body: {} })).statusCode).toBe(200);
    return performance.now() - started;
  }

  afterEach(async () => {
    await b?.close();
    b = undefined;
    await a?.close();
  });

  it('reaches a replica whose LISTEN connection is gone: the revocation waits for its next lease renewal', async () => {
    await twoReplicas();
    const t = await tokensCachedOnB();
    // B hears no NOTIFY from now on: only its lease renewal can tell it of the revocation.
    await b!.rampart.bus.stop();
    const waited = [await revokeTimed(t.ids[0]!), await revokeTimed(t.ids[1]!)];
    expect(await status(baseB, F, t.operator)).toBe(401);
    expect(await status(baseB, '/api/evaluate/guarded?id=u1', t.sdk)).toBe(401);
    // Renewals come every fifth of the lease; the revocation waited for one, not for the lease.
    expect(Math.max(...waited)).toBeLessThan(LEASE_MS);
    // B acknowledged both revocations (emptied its cache) before they answered.
    const rows = await a.db.query<{ epoch: string }>('select tokens_epoch::text as epoch from replica_leases where replica_id = $1', [b!.rampart.tokens.replicaId]);
    expect(rows).toEqual([{ epoch: '2' }]);
  });

  it('waits out the lease of a replica that died without a goodbye, and not for one that stopped cleanly', async () => {
    await twoReplicas();
    const t = await tokensCachedOnB();
    // B stops cleanly: it drops its lease, so revocations need not wait for it.
    await b!.close();
    b = undefined;
    expect(await revokeTimed(t.ids[0]!)).toBeLessThan(LEASE_MS / 2);
    // A replica that was SIGKILLed leaves its lease behind, as this row: it could still be
    // answering from its cache for all A knows, until the lease lapses.
    await a.db.query(`insert into replica_leases (replica_id, lease_until, tokens_epoch) values ('killed', clock_timestamp() + $1 * interval '1 millisecond', 0)`, [LEASE_MS]);
    const waited = await revokeTimed(t.ids[1]!);
    expect(waited).toBeGreaterThan(LEASE_MS * 0.7);
    expect(waited).toBeLessThan(LEASE_MS + 1_000);
  });
});
