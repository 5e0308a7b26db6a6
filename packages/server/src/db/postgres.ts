import pg from 'pg';
import type { Database, Queryable } from './database.js';

export interface PostgresOptions {
  readonly url: string;
  readonly poolMax?: number;
  /** How long a query waits for a free pooled connection before it fails (DATABASE_BUSY). */
  readonly poolWaitMs?: number;
  /** Called when the listener connection fails; it reconnects by itself. */
  readonly onListenerError?: (err: Error) => void;
}

/** First retry of a lost LISTEN connection; doubled after each failure, up to the maximum. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 1_000;

/** PostgreSQL through a connection pool, plus one dedicated connection for LISTEN. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.poolWaitMs ?? 5_000,
    // Rampart is an internal service: fail fast rather than hang when the database is gone.
    query_timeout: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const listeners = new Map<string, Set<(payload: string) => void>>();
  const resyncs = new Set<() => void>();
  let listener: pg.Client | undefined;
  let listenerStarting: Promise<pg.Client> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let closed = false;

  async function connectListener(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: options.url });
    client.on('notification', (msg) => {
      for (const fn of listeners.get(msg.channel) ?? []) fn(msg.payload ?? '');
    });
    client.on('error', (err) => {
      options.onListenerError?.(err);
      lost(client);
    });
    // A server shutdown can close the socket with no 'error' on an idle client.
    client.on('end', () => lost(client));
    try {
      await client.connect();
      for (const channel of listeners.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    listener = client;
    return client;
  }

  /**
   * The LISTEN connection is gone (database restarted, network cut). Reconnect until it works,
   * not once: an outage usually outlasts the first attempt, and without LISTEN this replica
   * would hear of other replicas' changes only when its config cache expires.
   */
  function lost(client: pg.Client): void {
    // Errors of a client still connecting reach connectListener's caller, which retries.
    if (listener !== client) return;
    listener = undefined;
    listenerStarting = undefined;
    client.end().catch(() => {});
    scheduleReconnect(RECONNECT_MIN_MS);
  }

  function scheduleReconnect(delayMs: number): void {
    if (closed || listeners.size === 0 || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureListener().then(
        // Notifications sent while no connection listened are lost for good: subscribers reload.
        () => {
          for (const fn of resyncs) fn();
        },
        () => scheduleReconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS)),
      );
    }, delayMs);
    reconnectTimer.unref();
  }

  function ensureListener(): Promise<pg.Client> {
    if (listener) return Promise.resolve(listener);
    listenerStarting ??= connectListener().catch((err: unknown) => {
      listenerStarting = undefined;
      throw err;
    });
    return listenerStarting;
  }

  const query = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) =>
    (await q.query(sql, params ? [...params] : undefined)).rows as T[];

  return {
    driver: 'postgres',
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: (sql, params) => query(client, sql, params),
          exec: async (sql) => {
            await client.query(sql);
          },
        } satisfies Queryable);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload, onResync) {
      if (onResync) resyncs.add(onResync);
      let set = listeners.get(channel);
      const isNew = !set;
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(onPayload);
      const client = await ensureListener();
      if (isNew && client !== undefined) await client.query(`LISTEN ${quoteIdent(channel)}`);
      return async () => {
        if (onResync) resyncs.delete(onResync);
        set.delete(onPayload);
        if (set.size === 0) {
          listeners.delete(channel);
          await listener?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
        }
      };
    },
    // A session advisory lock on a connection of its own, held for the duration of `fn`:
    // every replica sharing the database sees it.
    async tryWithLock(name, fn) {
      const client = await pool.connect();
      try {
        const got = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [name]);
        if (!got.rows[0]?.ok) return { busy: true };
        try {
          return { busy: false, value: await fn() };
        } finally {
          await client.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => {});
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      await listener?.end().catch(() => {});
      await pool.end();
    },
  };
}

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
