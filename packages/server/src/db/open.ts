import { mkdir } from 'node:fs/promises';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface DatabaseConfig {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly poolMax?: number;
}

/** `DATABASE_URL` selects PostgreSQL; otherwise the embedded PGlite in `dataDir`. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl) return openPostgres({ url: config.databaseUrl, poolMax: config.poolMax });
  await mkdir(config.dataDir, { recursive: true });
  return openPglite(config.dataDir);
}
