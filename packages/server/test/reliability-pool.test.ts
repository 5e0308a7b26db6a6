import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { openPostgres } from '../src/db/postgres.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, DRIVERS, dumpState, type TestDatabase } from './support/databases.js';
import { call } from './support/server-process.js';

/**
 * A replica's PostgreSQL pool under bursts (PGlite has one connection and no pool). Servers
 * with deliberately small pools, over real HTTP, so that the pool is what runs out.
 */

const F = '/api/admin/feature-flags';

/** The shared HTTP helper (support/server-process.ts), as `token`. */
const send = (base: string, token: string, method: string, path: string, body?: unknown) =>
  call(base, method, path, body, { authorization: `Bearer ${token}` });

async function listening(t: TestApp): Promise<string> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

describe.runIf(DRIVERS.includes('postgres'))('connection pool under bursts (postgres)', () => {
  let testDb: TestDatabase;
  const opened: Database[] = [];
  const apps: TestApp[] = [];

  async function serverWithPool(poolMax: number, poolWaitMs: number): Promise<{ t: TestApp; db: Database; base: string }> {
    const db = await openPostgres({ url: testDb.url!, poolMax, poolWaitMs });
    opened.push(db);
    const t = await startTestApp('postgres', { rateLimitAdmin: 0, rateLimitSdk: 0 }, { ...testDb, db });
    apps.push(t);
    return { t, db, base: await listening(t) };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    for (const t of apps) await t.close();
    for (const db of opened) await db.close();
    await testDb?.drop();
  });

  it('300 concurrent edits of one flag use one connection at a time: none waits on the row lock, and reads of another flag answer meanwhile', async () => {
    const { t, base } = await serverWithPool(3, 10_000);
    const token = t.tokens.SUPER_ADMIN;
    expect((await send(base, token, 'POST', F, { key: 'hot', enabled: true })).status).toBe(201);
    expect((await send(base, token, 'POST', F, { key: 'calm', enabled: true })).status).toBe(201);

    // Watch the database from outside the server's pool: a connection of this server blocked
    // on a row lock is one the hot flag took from everything else.
    let watching = true;
    let lockWaitersMax = 0;
    let samples = 0;
    const watcher = (async () => {
      while (watching) {
        // Row-lock waits only ('transactionid', 'tuple'): a commit may briefly wait on the NOTIFY
        // queue's lock ('object'), which is not a connection held by a queue on the flag.
        const [row] = await testDb.db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and wait_event in ('transactionid', 'tuple')`,
        );
        lockWaitersMax = Math.max(lockWaitersMax, row!.n);
        samples++;
      }
    })();

    const ids = Array.from({ length: 300 }, (_, i) => `joiner-${i}`);
    const edits = Promise.all(ids.map((id) => send(base, token, 'POST', `${F}/hot/allowlist`, { ids: [id] })));
    const reads = Promise.all(Array.from({ length: 30 }, () => send(base, token, 'GET', `${F}/calm`)));
    const [editAnswers, readAnswers] = await Promise.all([edits, reads]);
    watching = false;
    await watcher;

    expect(editAnswers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(readAnswers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(samples).toBeGreaterThan(5);
    expect(lockWaitersMax, 'connections of this server waiting on the hot flag’s row lock').toBe(0);
    const hot = (await send(base, token, 'GET', `${F}/hot`)).body;
    expect(hot.allowlistCount).toBe(300);
    expect(hot.version).toBe(301);
  });

  it('a request that finds every connection busy for the whole wait answers 503 DATABASE_BUSY with Retry-After: 1 and writes nothing', async () => {
    const { t, db, base } = await serverWithPool(1, 300);
    const token = t.tokens.SUPER_ADMIN;
    expect((await send(base, token, 'POST', F, { key: 'queued', enabled: false })).status).toBe(201);
    const before = await dumpState(testDb.db);

    // Hold the server's only connection, as a long transaction would.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const taken = new Promise<void>((r) => (holding = r));
    const holder = db.transaction(async (tx) => {
      await tx.query('select 1');
      holding();
      await held;
    });
    await taken;
    const answer = await send(base, token, 'PUT', `${F}/queued`, { enabled: true });
    release();
    await holder;

    expect(answer.status).toBe(503);
    expect((answer.body.error as { code: string }).code).toBe('DATABASE_BUSY');
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(await dumpState(testDb.db)).toEqual(before);
    // Once the connection is free, the same request goes through.
    expect((await send(base, token, 'PUT', `${F}/queued`, { enabled: true })).status).toBe(200);
  });
});
