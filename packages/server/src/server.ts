import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { scheduleIntervalFrom } from './schedules/service.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly url: string;
  /** Set only on the very first start without RAMPART_ADMIN_TOKEN. */
  readonly createdAdminToken: string | undefined;
  close(): Promise<void>;
}

/** Opens the database, applies migrations, makes sure an admin token exists, and listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  const scheduleEvery = scheduleIntervalFrom(config.env);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.pgPoolMax });
  try {
    await migrate(db);
    const app = await buildApp(config, { db });
    const boot = await app.rampart.tokens.bootstrap(config.adminToken);
    await app.listen({ host: config.host, port: config.port });
    if (config.watchdogSchedule) app.watchdog.scheduler.start();
    if (scheduleEvery > 0) app.schedules.start(scheduleEvery);
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    let closed = false;
    return {
      app,
      db,
      url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
      createdAdminToken: boot.createdSecret,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
