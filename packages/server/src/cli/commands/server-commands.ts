import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { migrate } from '../../db/migrate.js';
import { openDatabase } from '../../db/open.js';
import { startServer } from '../../server.js';
import type { Io } from '../output.js';

export function registerServerCommands(program: Command, io: Io, onServe: (stop: () => Promise<void>) => void): void {
  program
    .command('serve')
    .description('start the Rampart server (API, docs at /docs) on the embedded database or DATABASE_URL')
    .option('--host <host>', 'address to bind (HOST)')
    .option('--port <port>', 'port (PORT)')
    .option('--data-dir <dir>', 'embedded database directory (RAMPART_DATA_DIR)')
    .action(async (opts: { host?: string; port?: string; dataDir?: string }) => {
      const config = loadConfig({
        ...io.env,
        ...(opts.host ? { HOST: opts.host } : {}),
        ...(opts.port ? { PORT: opts.port } : {}),
        ...(opts.dataDir ? { RAMPART_DATA_DIR: opts.dataDir } : {}),
      });
      const server = await startServer(config);
      const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
      io.out(`Rampart listening on ${server.url} — database: ${where}`);
      io.out(`API docs: ${server.url}/docs`);
      if (server.createdAdminToken) {
        io.out('');
        io.out('  First start: a SUPER_ADMIN token was created. It is shown this once; store it now:');
        io.out(`    ${server.createdAdminToken}`);
        io.out(`  export RAMPART_URL=${server.url} RAMPART_TOKEN=${server.createdAdminToken}`);
        io.out('');
      }
      onServe(() => server.close());
    });

  program
    .command('migrate')
    .description('apply database migrations (also done on every start)')
    .action(async () => {
      const config = loadConfig(io.env);
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const r = await migrate(db);
        io.out(r.applied.length ? `applied: ${r.applied.join(', ')}` : 'database is up to date');
      } finally {
        await db.close();
      }
    });
}
