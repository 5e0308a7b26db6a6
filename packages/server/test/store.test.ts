import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.js';
import { ChangeBus, type ChangeEvent } from '../src/events/change-bus.js';
import { createFlagService } from '../src/flags/service.js';
import { DRIVERS, createTestDatabase, type TestDatabase } from './support/databases.js';
import { SYSTEM_ACTOR } from './support/app.js';

const MIGRATIONS = readdirSync(new URL('../migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();

const waitFor = async (check: () => boolean, ms = 3000) => {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe.each(DRIVERS)('store on %s', (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(driver);
  });
  afterAll(async () => t.drop());

  it('applies migrations once: running them again changes nothing', async () => {
    const again = await migrate(t.db);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toContain('001_foundation.sql');
    const rows = await t.db.query<{ name: string }>('select name from schema_migrations order by name');
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS);
  });

  it('writes a change and its audit event in one transaction', async () => {
    const bus = new ChangeBus(t.db);
    const flags = createFlagService(t.db, bus);
    await flags.create({ ...SYSTEM_ACTOR, reason: 'seed', requestId: 'r1' }, { key: 'atomic', enabled: true });
    const audit = await t.db.query<{ action: string; reason: string; request_id: string; actor_role: string }>(
      `select action, reason, request_id, actor_role from audit_events where flag_key = 'atomic'`,
    );
    expect(audit).toEqual([{ action: 'flag.create', reason: 'seed', request_id: 'r1', actor_role: 'SUPER_ADMIN' }]);
  });

  it('rolls the change back when its audit insert fails, leaving neither', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(`insert into flags (key, salt) values ('half', 'half')`);
        await tx.query(`insert into audit_events (actor, actor_role, action) values (null, 'X', 'flag.create')`);
      }),
    ).rejects.toThrow();
    expect(await t.db.query(`select key from flags where key = 'half'`)).toEqual([]);
  });

  it('rejects UPDATE, DELETE and TRUNCATE on the audit trail', async () => {
    const count = async () => (await t.db.query<{ n: number }>('select count(*)::int as n from audit_events'))[0]!.n;
    const n = await count();
    expect(n).toBeGreaterThan(0);
    await expect(t.db.query(`update audit_events set reason = 'rewritten'`)).rejects.toThrow(/append-only/);
    await expect(t.db.query('delete from audit_events')).rejects.toThrow(/append-only/);
    await expect(t.db.query('truncate audit_events')).rejects.toThrow(/append-only/);
    expect(await count()).toBe(n);
    const reasons = await t.db.query<{ reason: string | null }>('select reason from audit_events');
    expect(reasons.some((r) => r.reason === 'rewritten')).toBe(false);
  });

  it('enforces the flag model in the schema too: key pattern, rollout range, allowlist size', async () => {
    await expect(t.db.query(`insert into flags (key, salt) values ('Bad Key', 'x')`)).rejects.toThrow();
    await expect(t.db.query(`insert into flags (key, salt, rollout_basis_points) values ('ok1', 'x', 10001)`)).rejects.toThrow();
    await expect(
      t.db.query(`insert into flags (key, salt, allowlist) values ('ok2', 'x', $1)`, [Array.from({ length: 10_001 }, (_, i) => `u${i}`)]),
    ).rejects.toThrow();
  });

  it('announces a change to listeners only once it commits', async () => {
    const bus = new ChangeBus(t.db);
    await bus.start();
    const heard: ChangeEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    await expect(
      t.db.transaction(async (tx) => {
        await bus.publish(tx, { kind: 'flag', key: 'rolled-back', version: 1 });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await t.db.transaction(async (tx) => bus.publish(tx, { kind: 'flag', key: 'committed', version: 7 }));
    expect(await waitFor(() => heard.length > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([{ kind: 'flag', key: 'committed', version: 7 }]);
    await bus.stop();
  });

  it('keeps the version climbing across archive and re-create, so caches never go backwards', async () => {
    const flags = createFlagService(t.db, new ChangeBus(t.db));
    await flags.create(SYSTEM_ACTOR, { key: 'phoenix' });
    await flags.update(SYSTEM_ACTOR, 'phoenix', { enabled: true }, 1);
    await flags.archive(SYSTEM_ACTOR, 'phoenix', undefined);
    const reborn = await flags.create(SYSTEM_ACTOR, { key: 'phoenix' });
    expect(reborn.version).toBe(4);
    expect(reborn.enabled).toBe(false);
  });
});

describe('store across connections (postgres)', () => {
  it.runIf(DRIVERS.includes('postgres'))('delivers a change made on one connection to a listener on another', async () => {
    const t = await createTestDatabase('postgres');
    try {
      const other = await t.openAnother();
      const listener = new ChangeBus(other);
      await listener.start();
      const heard: ChangeEvent[] = [];
      listener.subscribe((e) => heard.push(e));
      const flags = createFlagService(t.db, new ChangeBus(t.db));
      await flags.create(SYSTEM_ACTOR, { key: 'cross' });
      // The flag's version and the audited action, both delivered only after the commit.
      expect(await waitFor(() => heard.length >= 2)).toBe(true);
      expect(heard).toContainEqual({ kind: 'flag', key: 'cross', version: 1 });
      expect(heard).toContainEqual({ kind: 'activity', key: 'cross', what: 'flag.create' });
      await listener.stop();
    } finally {
      await t.drop();
    }
  });
});
