/**
 * One SQL dialect, two drivers: embedded PGlite and PostgreSQL. Slices see only this
 * interface, so the same store code and the same store tests run on both.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type DriverName = 'pglite' | 'postgres';

export interface Database extends Queryable {
  readonly driver: DriverName;
  /** Runs `fn` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel; returns the unsubscribe function. `onResync` runs after the
   * subscription was re-established on a new connection: notifications sent meanwhile are lost.
   */
  listen(channel: string, onPayload: (payload: string) => void, onResync?: () => void): Promise<() => Promise<void>>;
  /**
   * Runs `fn` holding an exclusive lock named `name`, across every process sharing the
   * database; resolves to `{ busy: true }` at once when someone else holds it.
   */
  tryWithLock<T>(name: string, fn: () => Promise<T>): Promise<{ busy: false; value: T } | { busy: true }>;
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
