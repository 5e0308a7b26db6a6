import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database, DriverName } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { openPglite } from '../../src/db/pglite.js';
import { openPostgres } from '../../src/db/postgres.js';
import { PG_ADMIN_URL, pgEnabled, withDatabase } from './pg-urls.js';

/** The drivers every store-facing suite runs against: `describe.each(DRIVERS)`. */
export const DRIVERS: DriverName[] = pgEnabled() ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  readonly db: Database;
  /** A URL another process can use (postgres only). */
  readonly url: string | undefined;
  /** Opens a second, independent connection to the same database (postgres only). */
  openAnother(): Promise<Database>;
  drop(): Promise<void>;
}

/** A fresh, migrated database of the given driver, private to the caller. */
export async function createTestDatabase(driver: DriverName): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return {
      db,
      url: undefined,
      openAnother: () => Promise.reject(new Error('PGlite in memory has one connection')),
      drop: () => db.close(),
    };
  }
  const template = inject('pgTemplate');
  // Named after the run (the template's pid part) so a crashed run's copies are cleaned up later.
  const name = `${template.replace(/_template$/, '')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    // Two workers copying the template at once make Postgres refuse one: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(name);
  const db = await openPostgres({ url });
  const others: Database[] = [];
  return {
    db,
    url,
    async openAnother() {
      const other = await openPostgres({ url });
      others.push(other);
      return other;
    },
    async drop() {
      for (const o of others) await o.close().catch(() => {});
      await db.close().catch(() => {});
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Everything a request could have written, for "nothing was written" assertions. */
export async function dumpState(db: Database): Promise<unknown> {
  const [flags, audit, tokens] = await Promise.all([
    db.query('select * from flags order by key'),
    db.query('select * from audit_events order by id'),
    db.query('select id, name, role, token_hash, revoked_at from api_tokens order by id'),
  ]);
  return { flags, audit, tokens };
}
