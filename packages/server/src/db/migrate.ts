import { readdir, readFile } from 'node:fs/promises';
import type { Database } from './database.js';

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

export interface MigrationResult {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

/**
 * Applies the plain SQL files in `migrations/` in name order, each in its own transaction,
 * recorded in `schema_migrations`. An advisory lock makes concurrent starts of several
 * replicas take turns instead of racing.
 */
export async function migrate(db: Database): Promise<MigrationResult> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  // Under the migrations' lock too: two first starts running `create table if not exists` at
  // once can both find no table, and one then fails (type "schema_migrations" already exists).
  await db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:migrations'))`);
    await tx.query(
      `create table if not exists schema_migrations (
         name text primary key,
         applied_at timestamptz not null default now()
       )`,
    );
  });
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  // A recorded migration is committed and never undone, so skipping it needs no lock: a start
  // with nothing to apply costs one query instead of a transaction per file (~0.5 s on PGlite).
  const recorded = new Set((await db.query<{ name: string }>('select name from schema_migrations')).map((r) => r.name));
  for (const name of files) {
    if (recorded.has(name)) {
      alreadyApplied.push(name);
      continue;
    }
    const sql = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
    const didApply = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:migrations'))`);
      const done = await tx.query('select 1 from schema_migrations where name = $1', [name]);
      if (done.length > 0) return false;
      await tx.exec(sql);
      await tx.query('insert into schema_migrations (name) values ($1)', [name]);
      return true;
    });
    (didApply ? applied : alreadyApplied).push(name);
  }
  return { applied, alreadyApplied };
}
