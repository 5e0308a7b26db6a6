// Rampart itself, in the demo's process: the built server (packages/server/dist) on an embedded
// PGlite database in a fresh temporary directory, with the demo's accelerated clock handed to
// buildApp, so the watchdog, the plans, the checkpoint scheduler and the metric windows all run
// on it. The admin UI is served at /admin as by `npm start`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, loadConfig, migrate, openDatabase } from '@rampart/server';

const DEMO_ACTOR = { actor: { tokenId: 'demo', name: 'demo', role: 'SUPER_ADMIN' } };

/** Rampart's JSON log lines, warnings and worse only, as one short line each on stderr. */
function compactLog() {
  let buffered = '';
  return new Writable({
    write(chunk, _enc, done) {
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line);
          const err = entry.err?.message ? `: ${entry.err.message}` : '';
          process.stderr.write(`  [rampart ${entry.level >= 50 ? 'error' : 'warn'}] ${entry.msg ?? ''}${err}\n`);
        } catch {
          if (line.trim()) process.stderr.write(`  [rampart] ${line}\n`);
        }
      }
      done();
    },
  });
}

/**
 * @param {{ clock: { now: () => number }, port: number, tickMs: number }} opts
 */
export async function startRampart({ clock, port, tickMs }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'rampart-demo-'));
  let db;
  let app;
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const env = { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', RAMPART_DATA_DIR: dataDir, RAMPART_RATE_LIMIT_INGEST: '0' };
    // The demo's FEATURE_* master switches are none, whatever your shell exports.
    const config = { ...loadConfig(env), env: {} };
    db = await openDatabase({ dataDir });
    await migrate(db);
    app = await buildApp(config, { db, clock: clock.now, logStream: compactLog() });
    const boot = await app.rampart.tokens.bootstrap(undefined);
    const token = async (name, role) => (await app.rampart.tokens.create(DEMO_ACTOR, name, role)).token;
    const tokens = {
      admin: boot.createdSecret,
      operator: await token('demo-operator (you)', 'OPERATOR'),
      setup: await token('demo-setup', 'OPERATOR'),
      narrator: await token('demo-narrator', 'VIEWER'),
      sdk: await token('matching-service', 'SDK'),
    };
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (err) {
      if (err?.code !== 'EADDRINUSE') throw err;
      await app.listen({ host: config.host, port: 0 }); // the port is taken (npm start?): any free one
    }
    const address = app.server.address();
    const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}`;

    /** The admin API, in-process (app.inject: no socket, same routes, same auth and audit). */
    async function api(method, path, body, as = tokens.setup) {
      const res = await app.inject({
        method,
        url: path,
        headers: { authorization: `Bearer ${as}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      const json = res.body ? JSON.parse(res.body) : undefined;
      if (res.statusCode >= 400) throw new Error(`${method} ${path}: ${res.statusCode} ${json?.error?.code ?? ''} ${json?.error?.message ?? res.body}`);
      return json;
    }

    let closed = false;
    return {
      app,
      url,
      dataDir,
      tokens,
      api,
      /** Scheduled checkpoints on the demo clock: due slots are looked for every `tickMs` real ms. */
      startWatchdog: () => app.watchdog.scheduler.start(tickMs),
      async close() {
        if (closed) return;
        closed = true;
        app.watchdog.scheduler.stop();
        await app.close().catch(() => {});
        await db.close().catch(() => {});
        removeData();
      },
    };
  } catch (err) {
    await app?.close().catch(() => {});
    await db?.close().catch(() => {});
    removeData();
    throw err;
  }
}
