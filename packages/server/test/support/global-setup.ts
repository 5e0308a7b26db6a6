import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';
import { PG_ADMIN_URL, TEMPLATE_DB, pgEnabled, withDatabase } from './pg-urls.js';

/**
 * Migrates one template database on the real PostgreSQL once per run; each test file then
 * copies it (CREATE DATABASE ... TEMPLATE), which is much faster than migrating again.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (!pgEnabled()) return async () => {};
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `The test suite runs the store against a real PostgreSQL at ${PG_ADMIN_URL} and could not connect ` +
        `(${(err as Error).message}). Start PostgreSQL, or point RAMPART_TEST_PG_URL at one.`,
    );
  }
  await dropTestDatabases(admin);
  await admin.query(`create database ${TEMPLATE_DB}`);
  const db = await openPostgres({ url: withDatabase(TEMPLATE_DB) });
  await migrate(db);
  await db.close();
  await admin.end();
  return async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await dropTestDatabases(c);
    await c.end();
  };
}

async function dropTestDatabases(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    `select datname from pg_database where datname like 'rampart_test_%'`,
  );
  for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
}
