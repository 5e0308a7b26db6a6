import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';
import { PG_ADMIN_URL, TEST_DB_PREFIX, pgEnabled, templateName, withDatabase } from './pg-urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}

/**
 * Migrates one template database on the real PostgreSQL once per run; each test file then
 * copies it (CREATE DATABASE ... TEMPLATE), which is much faster than migrating again.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  await dropDatabases(admin, (pid) => !isAlive(pid));
  const template = templateName(process.pid);
  await admin.query(`create database ${template}`);
  const db = await openPostgres({ url: withDatabase(template) });
  await migrate(db);
  await db.close();
  await admin.end();
  project.provide('pgTemplate', template);
  return async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await dropDatabases(c, (pid) => pid === process.pid);
    await c.end();
  };
}

/** Drops test databases whose run matches; leftovers of killed runs are cleaned next time. */
async function dropDatabases(client: pg.Client, ofRun: (pid: number) => boolean): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [
    `${TEST_DB_PREFIX}%`,
  ]);
  for (const { datname } of rows) {
    const pid = Number(datname.slice(TEST_DB_PREFIX.length).split('_')[0]);
    if (Number.isInteger(pid) && ofRun(pid)) await client.query(`drop database if exists "${datname}" with (force)`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
