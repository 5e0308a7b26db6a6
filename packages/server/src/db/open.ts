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
  // PGlite keeps a `memory://` data dir in memory: there is no directory to create (mkdir made
  // a stray `memory:` folder in the working directory).
  if (!config.dataDir.startsWith('memory://')) await mkdir(config.dataDir, { recursive: true });
  return openPglite(config.dataDir);
}
