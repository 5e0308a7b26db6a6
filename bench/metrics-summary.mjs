// Window summary latency: GET /api/admin/metrics/<key>/summary over 7 days and over 6 hours,
// through HTTP against one Rampart server process, on PostgreSQL and on the embedded PGlite.
//
// Seed (bench/lib/rollup-fixture.mjs): 7 days of minute rollups for one flag × 4 cohorts ×
// 10 metrics (403 200 minute rows), written with batched multi-row inserts through the repo's
// own db layer, then the hour rollups computed from them in SQL, which is what ingestion writes.
// Before timing, the summary of the whole seeded range must equal the seeded totals.
//
// Each line: sequential requests (one in flight: a dashboard or the watchdog asking), after
// a warm-up; 7 d and 6 h requests alternate so background load lands on both alike. A
// breakdown measured in-process on the same database (same dist code, no HTTP) says where
// the time goes: SQL (database execution vs. transfer and row parsing), the JS merge of rows
// and histograms, JSON serialization.
//
// Usage: node bench/metrics-summary.mjs [--quick]   (--quick: 1 day of minutes, fewer requests)
// stdout: the markdown report; stderr: progress. PostgreSQL: a scratch database
// rampart_bench_summary_<pid> on PGHOST_URL (default postgres://postgres@127.0.0.1:5432),
// dropped at the end, also on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { COHORTS } from '@rampart/core';
import { openDatabase } from '../packages/server/dist/db/open.js';
import { migrate } from '../packages/server/dist/db/migrate.js';
import { createMetricsQueryService } from '../packages/server/dist/metrics/query-service.js';
import { ADMIN, HOUR, MINUTE, PG_BASE, adminSql, cleanupOnSignals, cleanups, runCleanups, seed, startServer, stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const DAYS = quick ? 1 : 7;
const REQUESTS = quick ? 10 : 50;
const WARMUP = 5;
const BREAKDOWN_RUNS = quick ? 5 : 20;
const FLAG = 'bench_summary_flag';
const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg()[0];
cleanupOnSignals();

// ---------------------------------------------------------------- measure

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);

/**
 * Wraps a Database: sums the wall time during which at least one query is running, and keeps
 * each query (text, parameters, time, rows) of the current run.
 */
function timedDb(db) {
  let running = 0;
  let since = 0;
  const stats = { sqlMs: 0, rows: 0, calls: [] };
  const query = async (sql, params) => {
    if (running++ === 0) since = performance.now();
    const t0 = performance.now();
    try {
      const rows = await db.query(sql, params);
      stats.rows += rows.length;
      stats.calls.push({ sql, params, ms: performance.now() - t0, rows: rows.length });
      return rows;
    } finally {
      if (--running === 0) stats.sqlMs += performance.now() - since;
    }
  };
  return { stats, db: { ...db, driver: db.driver, query } };
}

/** Execution time and plan shape the database reports for one statement (no transfer to the client). */
async function explain(db, sql, params) {
  const [row] = await db.query(`explain (analyze, buffers, format json) ${sql}`, params);
  const p = row['QUERY PLAN'];
  const [plan] = typeof p === 'string' ? JSON.parse(p) : p;
  let node = plan.Plan;
  while (node.Plans?.length === 1 && !node['Index Name'] && node['Node Type'] !== 'Seq Scan') node = node.Plans[0];
  const pages = (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0);
  return { ms: plan['Execution Time'], node: `${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`, pages };
}

/** In-process: where a summary's time goes (same dist code and database as the server, no HTTP). */
async function breakdown(db, window) {
  const { stats, db: timed } = timedDb(db);
  const svc = createMetricsQueryService(timed, 48 * HOUR);
  const out = { total: [], sql: [], js: [], json: [], rows: 0, bytes: 0 };
  let calls = [];
  for (let i = 0; i < BREAKDOWN_RUNS + 2; i++) {
    const now = Date.now();
    stats.sqlMs = 0;
    stats.rows = 0;
    stats.calls = [];
    const t0 = performance.now();
    const s = await svc.summary(FLAG, { from: now - window, to: now }, now);
    const t1 = performance.now();
    const body = JSON.stringify(s);
    const t2 = performance.now();
    if (i < 2) continue;
    out.total.push(t1 - t0);
    out.sql.push(stats.sqlMs);
    out.js.push(t1 - t0 - stats.sqlMs);
    out.json.push(t2 - t1);
    out.rows = stats.rows;
    out.bytes = body.length;
    calls = calls.length ? calls.map((c, k) => ({ ...c, times: [...c.times, stats.calls[k]?.ms ?? NaN] })) : stats.calls.map((c) => ({ ...c, times: [c.ms] }));
  }
  // Each statement of the last run, as the database executes it.
  const queries = [];
  for (const c of calls) {
    const table = /from (metric_\w+)/.exec(c.sql)?.[1] ?? /from (\w+)/.exec(c.sql)?.[1] ?? '?';
    const ex = [];
    for (let i = 0; i < 5; i++) ex.push(await explain(db, c.sql, c.params));
    queries.push({ table, rows: c.rows, clientMs: median(c.times), dbMs: median(ex.map((e) => e.ms)), node: ex[0].node, pages: ex[0].pages });
  }
  return { ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.isArray(v) ? median(v) : v])), queries };
}

async function verify(url, first, last, totals) {
  const q = `from=${new Date(Math.floor(first / HOUR) * HOUR).toISOString()}&to=${new Date(last + MINUTE).toISOString()}`;
  const res = await fetch(`${url}/api/admin/metrics/${FLAG}/summary?${q}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`summary: ${res.status} ${await res.text()}`);
  const { cohorts } = await res.json();
  for (const cohort of COHORTS) {
    const got = cohorts[cohort];
    const want = totals[cohort];
    const diffs = [];
    if (got.exposures !== want.exposures) diffs.push(`exposures ${got.exposures} ≠ ${want.exposures}`);
    if (got.requests !== want.requests || got.latencyMs.count !== want.requests) diffs.push(`requests ${got.requests}/${got.latencyMs.count} ≠ ${want.requests}`);
    for (const [s, n] of Object.entries(want.status)) if (got.status[s] !== n) diffs.push(`status ${s} ${got.status[s]} ≠ ${n}`);
    const ms = got.metrics.matching_success;
    if (ms?.count !== want.trials || ms?.sum !== want.successes) diffs.push(`matching_success ${ms?.sum}/${ms?.count} ≠ ${want.successes}/${want.trials}`);
    if (got.metrics.time_to_match_ms?.count !== want.ttm) diffs.push(`time_to_match_ms ${got.metrics.time_to_match_ms?.count} ≠ ${want.ttm}`);
    if (diffs.length) throw new Error(`summary of ${cohort} disagrees with the seed: ${diffs.join('; ')}`);
  }
}

async function time(url, windows) {
  const headers = { authorization: `Bearer ${ADMIN}` };
  const samples = Object.fromEntries(windows.map((w) => [w, []]));
  const bytes = {};
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    for (const w of windows) {
      const t0 = performance.now();
      const res = await fetch(`${url}/api/admin/metrics/${FLAG}/summary?window=${w}`, { headers });
      const body = await res.text();
      const t1 = performance.now();
      if (!res.ok) throw new Error(`summary ${w}: ${res.status} ${body.slice(0, 300)}`);
      if (JSON.parse(body).cohorts.control.requests === 0) throw new Error(`summary ${w}: no data`);
      bytes[w] = body.length;
      if (i >= WARMUP) samples[w].push(t1 - t0);
    }
  }
  return windows.map((w) => {
    const s = samples[w].sort((a, b) => a - b);
    return { window: w, p50: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1], n: s.length, bytes: bytes[w] };
  });
}

// ---------------------------------------------------------------- run

const results = [];
let pgVersion = '';
try {
  pgVersion = (await adminSql('select version() as v'))[0].v.split(' on ')[0];
  for (const driver of ['postgres', 'pglite']) {
    log(`== ${driver}`);
    const env = { ...process.env };
    delete env.DATABASE_URL;
    let dataDir;
    if (driver === 'postgres') {
      const name = `rampart_bench_summary_${process.pid}`;
      await adminSql(`drop database if exists ${name}`);
      await adminSql(`create database ${name}`);
      cleanups.add(() => adminSql(`drop database if exists ${name} with (force)`));
      env.DATABASE_URL = `${PG_BASE}/${name}`;
    } else {
      dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-bench-'));
      cleanups.add(async () => rmSync(dataDir, { recursive: true, force: true }));
      env.RAMPART_DATA_DIR = dataDir;
    }
    // Seed and break down in this process, then close: PGlite's directory has one owner at a time.
    const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: dataDir ?? '' });
    let seeded;
    const parts = {};
    try {
      await migrate(db);
      const last = Math.floor(Date.now() / MINUTE) * MINUTE;
      const first = last - (DAYS * 24 * 60 - 1) * MINUTE;
      seeded = await seed(db, FLAG, first, last);
      seeded.first = first;
      seeded.last = last;
      log(`  seeded ${seeded.minuteRows.toLocaleString('en-US')} minute rows in ${seeded.minuteSeconds.toFixed(0)} s, ${seeded.hourRows.toLocaleString('en-US')} hour rows in ${seeded.hourSeconds.toFixed(1)} s`);
      for (const [label, ms] of [[`${DAYS}d`, DAYS * 24 * HOUR], ['6h', 6 * HOUR]]) {
        parts[label] = await breakdown(db, ms);
        log(`  in-process ${label}: ${JSON.stringify(parts[label], (_k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
      }
    } finally {
      await db.close();
    }
    const server = await startServer(env);
    const stopServer = () => stop(server.child);
    cleanups.add(stopServer);
    try {
      const res = await fetch(`${server.url}/api/admin/feature-flags`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: FLAG, enabled: true, rolloutPercentage: 10 }),
      });
      if (!res.ok) throw new Error(`create flag: ${res.status} ${await res.text()}`);
      await verify(server.url, seeded.first, seeded.last, seeded.totals);
      log('  verified: the summary of the seeded range equals the seeded totals');
      for (const r of await time(server.url, [`${DAYS}d`, '6h'])) {
        log(`  HTTP ${r.window}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`);
        results.push({ driver, ...r, seeded, part: parts[r.window] });
      }
    } finally {
      await stopServer();
      cleanups.delete(stopServer);
    }
    await runCleanups();
  }

  const f1 = (n) => n.toFixed(1);
  const driverName = { pglite: 'PGlite (embedded)', postgres: pgVersion };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const s0 = results[0].seeded;
  const seedLine = results
    .filter((r) => r.window === '6h')
    .map((r) => `${driverName[r.driver].split(' (')[0]}: ${f1(r.seeded.minuteSeconds)} s for the minutes, ${f1(r.seeded.hourSeconds)} s for the hours`)
    .join('; ');
  const pgP95 = results.find((r) => r.driver === 'postgres' && r.window === `${DAYS}d`).p95;
  const lines = [
    `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pgVersion} on the same machine (loopback); ` +
      `1-minute load average at the start ${LOAD_AT_START.toFixed(1)} (anything above ~1 is other processes competing for the cores). ` +
      `One Rampart server process with default settings (minute retention 48 h: a ${DAYS} d window reads hour rows plus the last partial hour's minutes; 6 h reads minutes at both ragged edges and hours between). ` +
      `Seed: ${DAYS} d of minute rollups for one flag × 4 cohorts × 10 metrics = ${s0.minuteRows.toLocaleString('en-US')} minute rows and ${s0.hourRows.toLocaleString('en-US')} hour rows, ` +
      `histograms with ${s0.buckets[0]}–${s0.buckets[1]} (mean ${Math.round(s0.buckets[2] / s0.buckets[3])}) non-empty buckets a minute row (seeding time: ${seedLine}). ` +
      `${REQUESTS} sequential requests per window after ${WARMUP} warm-up requests, windows alternating.`,
    '',
    '| database | window | p50 ms | p95 ms | max ms | rows read | response |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${driverName[r.driver]} | ${r.window} | ${f1(r.p50)} | ${f1(r.p95)} | ${f1(r.max)} | ${r.part.rows.toLocaleString('en-US')} | ${(r.bytes / 1024).toFixed(1)} KiB |`),
    '',
    `Where the time goes (in-process, same database and code, no HTTP; medians of ${BREAKDOWN_RUNS} runs): ` +
      '"summary" is the query service\'s summary(); "SQL" the wall time during which its queries run (they run in parallel; ' +
      'includes transfer and the driver parsing rows and jsonb histograms into objects); "JS merge" the rest (adding counts and histograms, percentiles); ' +
      '"JSON" serializing the answer. Below it, each statement: time as the client sees it, the execution time the database reports (`explain analyze`, no transfer), ' +
      'the plan\'s scan and the 8 KiB pages (index and table) it touched.',
    '',
    '| database | window | summary ms | SQL ms | JS merge ms | JSON ms |',
    '|---|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${driverName[r.driver]} | ${r.window} | ${f1(r.part.total)} | ${f1(r.part.sql)} | ${f1(r.part.js)} | ${f1(r.part.json)} |`),
    '',
    '| database | window | statement | rows returned | client ms | database ms | scan | pages |',
    '|---|---|---|---:|---:|---:|---|---:|',
    ...results.flatMap((r) =>
      r.part.queries.map(
        (q) => `| ${driverName[r.driver]} | ${r.window} | ${q.table} | ${q.rows.toLocaleString('en-US')} | ${f1(q.clientMs)} | ${f1(q.dbMs)} | ${q.node} | ${q.pages.toLocaleString('en-US')} |`,
      ),
    ),
    '',
    `Target: p95 ≤ 100 ms on PostgreSQL for the ${DAYS} d window: ${pgP95 <= 100 ? 'met' : 'not met'} (${f1(pgP95)} ms).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await runCleanups();
}
