// The soak: a fixed mixed load on one Rampart server for a long time, watching what a long run
// reveals and a short benchmark hides: errors that appear only after a while, latency creeping
// up, memory that keeps growing, lost writes, SSE clients that fall behind.
//
// The load, at a fixed rate (autocannon, `overallRate`), in a cycle of 20 requests per connection:
//   18 evaluations (90 %): 14 × GET /api/evaluate/:key and 4 × GET /api/flags, random subject ids;
//    1 admin write  (5 %): PUT /api/admin/feature-flags/:key, a new rollout and description on one
//                          of 5 flags;
//    1 ingestion    (5 %): POST /api/metrics, 20 exposure events with a fresh idempotency key;
// plus SSE_CLIENTS clients on GET /api/sdk/stream for the whole run, each receiving every change.
//
// The server is `rampart serve` in its own process, on the embedded PGlite in a scratch data
// directory (the README's default), or on PostgreSQL with --postgres (a throwaway database on
// PGHOST_URL, dropped at the end). Rate limits are off: the soak measures the server, not the
// limiter. Its RSS is read from /proc every second.
//
// Targets (exit status 1 when one is missed, so CI can run it):
//   - errors 0: no failed connection, timeout or non-2xx answer;
//   - RSS growth < 10 % from the end of the warm-up to the end of the run (medians of 5 s);
//   - nothing lost: every acknowledged write is in its flag's version, every accepted exposure
//     is counted, and every SSE client holds the final config a moment after the last write.
//
// Usage: npm run soak                               (10 minutes on PGlite)
//        node bench/soak.mjs [--duration=600] [--warmup=90] [--rate=1000] [--postgres] [--json] [--write]
//   --duration: seconds of measured load (default 600), after --warmup seconds (default 90) of
//               the same load;
//   --write: put the report into docs/reliability.md between <!-- soak:pglite:start/end -->
//            (or soak:postgres) markers;
//   --json: print a JSON summary on stdout instead of the markdown report.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { rssOf } from './lib/proc.mjs';
import { ADMIN, adminSql, PG_BASE, startServer, stop } from './lib/rollup-fixture.mjs';

const arg = (name, fallback) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : fallback;
};
const DURATION_S = arg('duration', 600);
// Before the measured part: a Node server's RSS rises for its first minute under load and then
// settles (V8 sizing its heap; PGlite also releases its start-up allocations), by 30 % or more on
// the machine of docs/reliability.md, and back down by 90 s on both stores. Growth is measured
// from after that, so that it shows a leak rather than the start-up transient.
const WARMUP_S = arg('warmup', 90);
const RATE = arg('rate', 1000);
const POSTGRES = process.argv.includes('--postgres');
const JSON_OUT = process.argv.includes('--json');
const WRITE = process.argv.includes('--write');
const CONNECTIONS = 20;
const SSE_CLIENTS = 20;
const EVENTS_PER_BATCH = 20;
const RSS_TARGET = 0.1;

const root = fileURLToPath(new URL('..', import.meta.url));
const log = (...a) => console.error(...a);

const READ_FLAGS = Array.from({ length: 5 }, (_, i) => `soak_read_${i}`);
const WRITE_FLAGS = Array.from({ length: 5 }, (_, i) => `soak_write_${i}`);
const INGEST_FLAG = 'soak_ingest';
const ALL_FLAGS = [...READ_FLAGS, ...WRITE_FLAGS, INGEST_FLAG];

async function call(url, token, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

/** An SSE client that remembers the id (config ETag) of the last event it received. */
function sseClient(url, token) {
  const ac = new AbortController();
  const state = { lastId: undefined, events: 0, errors: 0, done: undefined };
  state.done = (async () => {
    try {
      const res = await fetch(`${url}/api/sdk/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ac.signal });
      if (res.status !== 200) throw new Error(`stream: HTTP ${res.status}`);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const id = /^id: (.*)$/m.exec(frame);
          if (id && /^event: config$/m.test(frame)) {
            state.lastId = id[1];
            state.events++;
          }
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) {
        state.errors++;
        log(`SSE client: ${err.message}`);
      }
    }
  })();
  return { state, close: () => ac.abort() };
}

async function main() {
  const started = new Date();
  const cleanups = [];
  let server;
  try {
    // ------------------------------------------------------------------ server and fixtures
    const env = { ...process.env, RAMPART_RATE_LIMIT_ADMIN: '0', RAMPART_RATE_LIMIT_INGEST: '0', RAMPART_WATCHDOG_SCHEDULE: 'false' };
    let store;
    if (POSTGRES) {
      const db = `rampart_soak_${randomBytes(4).toString('hex')}`;
      await adminSql(`CREATE DATABASE ${db}`);
      cleanups.push(() => adminSql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
      env.DATABASE_URL = `${PG_BASE}/${db}`;
      store = 'PostgreSQL (loopback, scratch database)';
    } else {
      const dir = mkdtempSync(join(os.tmpdir(), 'rampart-soak-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      env.RAMPART_DATA_DIR = dir;
      delete env.DATABASE_URL;
      store = 'embedded PGlite (scratch data directory)';
    }
    server = await startServer(env);
    const { url, child } = server;
    log(`soak: server ${url} (pid ${child.pid}) on ${store}; ${WARMUP_S} s of warm-up then ${DURATION_S} s at ${RATE} req/s`);

    for (const key of ALL_FLAGS) {
      await call(url, ADMIN, 'POST', '/api/admin/feature-flags', { key, enabled: true, rolloutPercentage: 50, allowlist: ['pass_beta_001_2026'] });
    }
    const sdk = (await call(url, ADMIN, 'POST', '/api/admin/tokens', { name: 'soak-sdk', role: 'SDK' })).json.token;
    const operator = (await call(url, ADMIN, 'POST', '/api/admin/tokens', { name: 'soak-operator', role: 'OPERATOR' })).json.token;

    const streams = Array.from({ length: SSE_CLIENTS }, () => sseClient(url, sdk));
    cleanups.push(() => streams.forEach((s) => s.close()));

    // ------------------------------------------------------------------ the load
    const counts = { evaluate: 0, flags: 0, write: 0, ingest: 0 };
    const failures = { evaluate: 0, flags: 0, write: 0, ingest: 0 };
    const ackedWrites = Object.fromEntries(WRITE_FLAGS.map((k) => [k, 0]));
    let acceptedExposures = 0;
    const outcome = (kind, onOk) => (status, body, context) => {
      counts[kind]++;
      if (status >= 200 && status < 300) onOk?.(body, context);
      else if (failures[kind]++ < 5) log(`soak: ${kind} answered ${status}: ${String(body).slice(0, 200)}`);
    };
    const sdkHeaders = { authorization: `Bearer ${sdk}` };
    const evaluate = {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/api/evaluate/${READ_FLAGS[Math.floor(Math.random() * READ_FLAGS.length)]}?id=passenger-${Math.floor(Math.random() * 1e6)}`, headers: sdkHeaders }),
      onResponse: outcome('evaluate'),
    };
    const flags = {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/api/flags?id=passenger-${Math.floor(Math.random() * 1e6)}`, headers: sdkHeaders }),
      onResponse: outcome('flags'),
    };
    const write = {
      method: 'PUT',
      setupRequest: (req, context) => {
        context.key = WRITE_FLAGS[Math.floor(Math.random() * WRITE_FLAGS.length)];
        return {
          ...req,
          path: `/api/admin/feature-flags/${context.key}`,
          headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
          // A unique description makes every write a change (an unchanged flag keeps its version),
          // so the versions at the end count the acknowledged writes exactly.
          body: JSON.stringify({ rolloutPercentage: Math.floor(Math.random() * 101), description: `soak ${randomUUID()}`, reason: 'soak' }),
        };
      },
      onResponse: outcome('write', (_body, context) => ackedWrites[context.key]++),
    };
    const ingest = {
      method: 'POST',
      setupRequest: (req) => {
        const at = Date.now();
        const events = Array.from({ length: EVENTS_PER_BATCH }, () => ({ type: 'exposure', flag: INGEST_FLAG, cohort: 'exposed', at }));
        return {
          ...req,
          path: '/api/metrics',
          headers: { ...sdkHeaders, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ events }),
        };
      },
      onResponse: outcome('ingest', (body) => (acceptedExposures += JSON.parse(body).accepted)),
    };
    const requests = [...Array(7).fill(evaluate), flags, ...Array(7).fill(evaluate), flags, flags, flags, write, ingest];

    const samples = [];
    const sampler = setInterval(() => {
      samples.push({ t: performance.now(), rss: rssOf(child.pid) });
      if (process.env.SOAK_TRACE && samples.length % 5 === 0) log(`rss ${samples.length} s ${mib(samples.at(-1).rss)}`);
    }, 1000);
    cleanups.push(() => clearInterval(sampler));
    const rssIdle = rssOf(child.pid);
    const t0 = performance.now();
    const result = await new Promise((resolve, reject) => {
      const instance = autocannon({ url, connections: CONNECTIONS, overallRate: RATE, duration: WARMUP_S + DURATION_S, requests, timeout: 10 }, (err, r) => (err ? reject(err) : resolve(r)));
      const stopOnSignal = () => instance.stop();
      process.once('SIGINT', stopOnSignal);
      let lastReport = performance.now();
      instance.on('response', () => {
        const now = performance.now();
        if (now - lastReport < 30_000) return;
        lastReport = now;
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        log(`soak: ${Math.round((now - t0) / 1000)} s, ${total} requests, RSS ${mib(rssOf(child.pid))}`);
      });
    });
    clearInterval(sampler);
    const t1 = performance.now();

    // ------------------------------------------------------------------ nothing lost
    // One last write, then every SSE client must hold the config that includes it.
    const lastKey = WRITE_FLAGS[0];
    await call(url, operator, 'PUT', `/api/admin/feature-flags/${lastKey}`, { rolloutPercentage: 42, description: 'soak: final', reason: 'soak: final' });
    ackedWrites[lastKey]++;
    const finalEtag = (await call(url, sdk, 'GET', '/api/sdk/config')).headers.get('etag');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !streams.every((s) => s.state.lastId === finalEtag)) await sleep(20);
    const sseCurrent = streams.filter((s) => s.state.lastId === finalEtag).length;
    const sseErrors = streams.reduce((a, s) => a + s.state.errors, 0);
    const sseEvents = streams.reduce((a, s) => a + s.state.events, 0);

    // A flag's version counts the writes applied to it. Writes still in flight when the load
    // stopped are applied but their answers are not counted here (at most one per connection);
    // an acknowledged write that is missing would make the version smaller than the count.
    const lostWrites = [];
    let inFlightWrites = 0;
    for (const key of WRITE_FLAGS) {
      const flag = (await call(url, ADMIN, 'GET', `/api/admin/feature-flags/${key}`)).json;
      const applied = (flag.version ?? flag.flag?.version) - 1;
      if (applied < ackedWrites[key]) lostWrites.push(`${key}: ${applied} writes applied, ${ackedWrites[key]} acknowledged`);
      else inFlightWrites += applied - ackedWrites[key];
    }
    const summary = (await call(url, ADMIN, 'GET', `/api/admin/metrics/${INGEST_FLAG}/summary?window=${Math.ceil((WARMUP_S + DURATION_S) / 3600) + 1}h`)).json;
    // As with writes, batches in flight at the stop are counted but not in acceptedExposures.
    const countedExposures = summary.cohorts?.exposed?.exposures ?? 0;
    const lostExposures = Math.max(0, acceptedExposures - countedExposures);
    const inFlightExposures = Math.max(0, countedExposures - acceptedExposures);

    // ------------------------------------------------------------------ figures
    const window = (from, to) => samples.filter((s) => s.t >= t0 + from * 1000 && s.t < t0 + to * 1000).map((s) => s.rss);
    const rssStart = median(window(WARMUP_S, WARMUP_S + 5));
    const rssEnd = median(window(WARMUP_S + DURATION_S - 5, WARMUP_S + DURATION_S + 1));
    const rssPeak = Math.max(...samples.map((s) => s.rss));
    const growth = (rssEnd - rssStart) / rssStart;
    const errors = result.errors + result.timeouts + result.non2xx;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const figures = {
      startedAt: started.toISOString(),
      store,
      durationS: DURATION_S,
      elapsedS: Math.round((t1 - t0) / 1000),
      warmupS: WARMUP_S,
      rateTarget: RATE,
      connections: CONNECTIONS,
      sseClients: SSE_CLIENTS,
      requests: total,
      throughput: Math.round(total / ((t1 - t0) / 1000)),
      mix: counts,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      errors,
      errorsByKind: failures,
      connectionErrors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      rss: { idle: rssIdle, start: rssStart, end: rssEnd, peak: rssPeak, growth },
      lost: {
        writes: lostWrites,
        inFlightWrites,
        exposures: lostExposures,
        inFlightExposures,
        sseClientsBehind: SSE_CLIENTS - sseCurrent,
        sseErrors,
      },
      sseEvents,
      machine: `${os.cpus()[0]?.model?.split(' ').slice(0, 2).join(' ') ?? 'cpu'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    };
    const missed = [];
    if (errors > 0) missed.push(`${errors} errors`);
    if (!(growth < RSS_TARGET)) missed.push(`RSS grew ${(growth * 100).toFixed(1)} %`);
    if (lostWrites.length) missed.push(`lost writes: ${lostWrites.join('; ')}`);
    if (figures.lost.exposures !== 0) missed.push(`${figures.lost.exposures} accepted exposures not counted`);
    if (figures.lost.sseClientsBehind > 0 || sseErrors > 0) missed.push(`${figures.lost.sseClientsBehind} SSE clients behind, ${sseErrors} stream errors`);
    figures.targetsMet = missed.length === 0;
    figures.missed = missed;

    const report = markdown(figures);
    if (JSON_OUT) console.log(JSON.stringify(figures, null, 2));
    else console.log(report);
    if (WRITE) writeReport(report);
    if (missed.length) {
      log(`soak: targets missed: ${missed.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    if (server) await stop(server.child);
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e) => log(`cleanup: ${e.message}`));
  }
}

function markdown(f) {
  const pct = (x) => `${(x * 100).toFixed(1)} %`;
  const duration = f.durationS >= 120 ? `${Math.round(f.durationS / 60)} min` : `${f.durationS} s`;
  const cmd = `node bench/soak.mjs${f.durationS === 600 ? '' : ` --duration=${f.durationS}`}${f.warmupS === 90 ? '' : ` --warmup=${f.warmupS}`}${POSTGRES ? ' --postgres' : ''}`;
  return [
    `_Last run: ${f.startedAt.slice(0, 16).replace('T', ' ')} UTC, \`${cmd}\` (${f.machine}; ${f.store})._`,
    '',
    '| figure | value | target |',
    '|---|---:|---|',
    `| measured, after a warm-up of | ${duration}, ${f.warmupS} s (the figures below but RSS cover both) | |`,
    `| throughput | ${f.throughput.toLocaleString('en-US')} req/s (${f.requests.toLocaleString('en-US')} requests at a fixed ${f.rateTarget} req/s, ${f.connections} connections) | |`,
    `| mix | ${f.mix.evaluate + f.mix.flags} evaluations (${f.mix.flags} of them \`/api/flags\`), ${f.mix.write} admin writes, ${f.mix.ingest} metric batches; ${f.sseClients} SSE clients received ${f.sseEvents.toLocaleString('en-US')} config events | 90 / 5 / 5 % |`,
    `| latency p50 / p90 / p99 / max | ${f.latencyMs.p50} / ${f.latencyMs.p90} / ${f.latencyMs.p99} / ${f.latencyMs.max} ms | |`,
    `| errors (connection, timeout, non-2xx) | ${f.errors} (${f.connectionErrors}, ${f.timeouts}, ${f.non2xx}) | 0 |`,
    `| server RSS idle → after warm-up → end (peak) | ${mib(f.rss.idle)} → ${mib(f.rss.start)} → ${mib(f.rss.end)} (${mib(f.rss.peak)}) | |`,
    `| RSS growth after warm-up | ${pct(f.rss.growth)} | < 10 % |`,
    `| acknowledged writes lost; accepted exposures not counted | ${f.lost.writes.length}; ${f.lost.exposures} (${f.mix.write} writes acknowledged, ${f.lost.inFlightWrites} more applied and ${f.lost.inFlightExposures} more exposures counted while their answers were in flight at the stop) | 0; 0 |`,
    `| SSE clients without the final config 5 s after the last write; stream errors | ${f.lost.sseClientsBehind}; ${f.lost.sseErrors} | 0; 0 |`,
    '',
    f.targetsMet ? 'All targets met.' : `**Targets missed:** ${f.missed.join('; ')}.`,
  ].join('\n');
}

function writeReport(report) {
  const path = join(root, 'docs', 'reliability.md');
  const doc = readFileSync(path, 'utf8');
  const which = POSTGRES ? 'postgres' : 'pglite';
  const start = `<!-- soak:${which}:start -->`;
  const end = `<!-- soak:${which}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i === -1 || j === -1) throw new Error(`docs/reliability.md has no ${start} … ${end} markers`);
  writeFileSync(path, `${doc.slice(0, i + start.length)}\n${report}\n${doc.slice(j)}`);
  log('soak: wrote docs/reliability.md');
}

await main();
