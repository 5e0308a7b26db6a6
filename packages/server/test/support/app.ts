import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database, DriverName } from '../../src/db/database.js';
import type { Role } from '../../src/auth/roles.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const SYSTEM_ACTOR = { actor: { tokenId: 'tok_test', name: 'test-setup', role: 'SUPER_ADMIN' as const } };

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly testDb: TestDatabase;
  readonly config: Config;
  /** A token secret per role. */
  readonly tokens: Record<Role, string>;
  call(method: string, url: string, opts?: CallOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface CallOptions {
  /** A role (its token is used), a raw secret, or null for no Authorization header. */
  as?: Role | null | { secret: string };
  body?: unknown;
  /** Sent as-is (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  // Tests send webhooks to, and query Prometheus on, loopback servers: allowed explicitly here.
  // The default (refused) is tested with `allowPrivateTargets: false` (security-targets.test.ts).
  return { ...loadConfig({ LOG_LEVEL: 'silent' }), env: {}, allowPrivateTargets: true, ...overrides };
}

/** A real app (real Fastify, real database of the given driver) with one token per role. */
export async function startTestApp(
  driver: DriverName,
  overrides: Partial<Config> = {},
  existing?: TestDatabase,
  extra: { clock?: () => number; logStream?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const testDb = existing ?? (await createTestDatabase(driver));
  const config = testConfig(overrides);
  const app = await buildApp(config, { db: testDb.db, ...extra });
  await app.ready();
  const tokens = {} as Record<Role, string>;
  for (const role of ['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK'] as const) {
    tokens[role] = (await app.rampart.tokens.create(SYSTEM_ACTOR, `test-${role.toLowerCase()}`, role)).token;
  }
  return {
    app,
    db: testDb.db,
    testDb,
    config,
    tokens,
    call(method, url, opts = {}) {
      const as = opts.as === undefined ? 'SUPER_ADMIN' : opts.as;
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (as !== null) headers.authorization ??= `Bearer ${typeof as === 'string' ? tokens[as] : as.secret}`;
      let payload: string | undefined;
      if (opts.rawBody !== undefined) payload = opts.rawBody;
      else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
      if (payload !== undefined) headers['content-type'] ??= 'application/json';
      return app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
    },
    async close() {
      await app.close();
      if (!existing) await testDb.drop();
    },
  };
}

export const BETA_IDS = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
