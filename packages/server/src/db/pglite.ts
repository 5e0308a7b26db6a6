import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/**
 * Embedded PostgreSQL (WASM). One connection: PGlite serialises queries and transactions
 * itself, which gives the same isolation a single-writer Postgres would.
 * `dataDir` undefined means in memory (tests).
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const held = new Set<string>();
  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await q.query<T>(sql, params ? [...params] : undefined)).rows;
  return {
    driver: 'pglite',
    query: (sql, params) => run(pg, sql, params),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    transaction: (fn) =>
      pg.transaction((tx) =>
        fn({
          query: (sql, params) => run(tx, sql, params),
          exec: async (sql) => {
            await tx.exec(sql);
          },
        } satisfies Queryable),
      ),
    async listen(channel, onPayload) {
      const unsubscribe = await pg.listen(channel, onPayload);
      return async () => unsubscribe();
    },
    // PGlite has one connection and lives in one process: an in-process lock is exact there,
    // and an advisory lock held inside a transaction would block the work it protects.
    async tryWithLock(name, fn) {
      if (held.has(name)) return { busy: true };
      held.add(name);
      try {
        return { busy: false, value: await fn() };
      } finally {
        held.delete(name);
      }
    },
    async ping() {
      await pg.query('select 1');
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}
