// Watchdog checkpoint latency: POST /api/admin/beta-monitor/<key>/run through HTTP against one
// Rampart server process, on PostgreSQL and on the embedded PGlite, with a week of metrics behind
// the flag. Target (the issue): a checkpoint over 7 days of minute rollups (4 cohorts, 10
// metrics) completes in ≤ 250 ms on PostgreSQL.
//
// Seed (bench/lib/rollup-fixture.mjs, as bench/metrics-summary.mjs): 7 days of minute rollups
// for one flag × 4 cohorts × 10 metrics and their hour rows. The flag is created through the API
// (enabled, rollout 20 %: the seeded exposed share, 10-id allowlist). Its stage must span the
// seeded week, but the stage starts at the `at` of the last audited rollout change, and the API
// writes "now". audit_events is append-only (no UPDATE), so after creating the flag the
// benchmark INSERTs one more audit event, `flag.update` with before = the creation snapshot at
// rollout 0 and after = the creation snapshot, dated at the first seeded minute: "the rollout
// went 0 → 20 % a week ago". It is the newest event by id, so it is the stage start, and it
// matches the live flag, so it raises no drift. The run's stored checkpoint is read back to show
// the stage window it actually covered. A baseline (mode window: the first 24 h of the seed) is
// captured through the API, so the judge compares three ways: exposed vs control, vs the
// baseline, vs absolute levels.
//
// Each run: the default probes (2 allowlist members + 1 000 synthetic ids, evaluated twice
// in-process and once through POST /api/evaluate/batch), the stage summary (7 d) and the last 6 h,
// baselines, judge, report, insert. Sequential runs (one in flight) after warm-ups; each must
// answer 200 with a verdict PASS, WARN or FAIL. Breakdown, measured on the same server: runs
// with `syntheticProbes: 0` (2 probes; the difference is the determinism check of 1 000 ids),
// and the two summaries alone (GET summary for the stage window and 6 h, in parallel as the
// runner does).
//
// Usage: node bench/checkpoint.mjs [--quick]   (--quick: 1 day of minutes, fewer runs)
// stdout: the markdown report; stderr: progress. PostgreSQL: a scratch database
// rampart_bench_checkpoint_<pid> on PGHOST_URL (default postgres://postgres@127.0.0.1:5432),
// dropped at the end, also on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../packages/server/dist/db/open.js';
import { migrate } from '../packages/server/dist/db/migrate.js';
import { ADMIN, HOUR, MINUTE, PG_BASE, adminSql, cleanupOnSignals, cleanups, runCleanups, seed, startServer, stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const DAYS = quick ? 1 : 7;
const RUNS = quick ? 8 : 20;
const WARMUP = 3;
const FLAG = 'bench_checkpoint_flag';
const ROLLOUT = 20;
const ALLOWLIST = Array.from({ length: 10 }, (_, i) => `bench-allow-${i}`);
const TARGET_MS = 250;
const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg()[0];
cleanupOnSignals();

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1], n: s.length };
};

async function api(url, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

const VERDICTS = new Set(['PASS', 'WARN', 'FAIL']);

/** One checkpoint through HTTP: client time, the server's durationMs, the verdict. */
async function runOnce(url) {
  const t0 = performance.now();
  const cp = await api(url, 'POST', `/api/admin/beta-monitor/${FLAG}/run`, {});
  const ms = performance.now() - t0;
  if (!VERDICTS.has(cp.status) || typeof cp.durationMs !== 'number') throw new Error(`run: no verdict: ${JSON.stringify(cp).slice(0, 300)}`);
  return { ms, durationMs: cp.durationMs, status: cp.status, id: cp.id, decision: cp.decision, alerts: cp.alerts };
}

/** The checkpoint's two summaries alone: the stage window and the recent 6 h, in parallel. */
async function summariesOnce(url, stageFrom) {
  const t0 = performance.now();
  await Promise.all([
    api(url, 'GET', `/api/admin/metrics/${FLAG}/summary?from=${new Date(stageFrom).toISOString()}&to=${new Date().toISOString()}`),
    api(url, 'GET', `/api/admin/metrics/${FLAG}/summary?window=6h`),
  ]);
  return performance.now() - t0;
}

// ---------------------------------------------------------------- run

const results = [];
let pgVersion = '';
try {
  pgVersion = (await adminSql('select version() as v'))[0].v.split(' on ')[0];
  for (const driver of ['postgres', 'pglite']) {
    log(`== ${driver}`);
    // The scheduler off: it would run the flag's due hourly slot during the timed runs.
    const env = { ...process.env, RAMPART_WATCHDOG_SCHEDULE: 'false' };
    delete env.DATABASE_URL;
    let dataDir;
    if (driver === 'postgres') {
      const name = `rampart_bench_checkpoint_${process.pid}`;
      await adminSql(`drop database if exists ${name}`);
      await adminSql(`create database ${name}`);
      cleanups.add(() => adminSql(`drop database if exists ${name} with (force)`));
      env.DATABASE_URL = `${PG_BASE}/${name}`;
    } else {
      dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-bench-'));
      cleanups.add(async () => rmSync(dataDir, { recursive: true, force: true }));
      env.RAMPART_DATA_DIR = dataDir;
    }
    // The database is opened in this process only while no server runs: PGlite's directory has one owner at a time.
    const withDb = async (fn) => {
      const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: dataDir ?? '' });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };
    const last = Math.floor(Date.now() / MINUTE) * MINUTE;
    const first = last - (DAYS * 24 * 60 - 1) * MINUTE;
    const seeded = await withDb(async (db) => {
      await migrate(db);
      return seed(db, FLAG, first, last);
    });
    log(`  seeded ${seeded.minuteRows.toLocaleString('en-US')} minute rows in ${seeded.minuteSeconds.toFixed(0)} s, ${seeded.hourRows.toLocaleString('en-US')} hour rows in ${seeded.hourSeconds.toFixed(1)} s`);

    // The flag, through the API.
    let server = await startServer(env);
    let stopServer = () => stop(server.child);
    cleanups.add(stopServer);
    try {
      await api(server.url, 'POST', '/api/admin/feature-flags', { key: FLAG, enabled: true, rolloutPercentage: ROLLOUT, allowlist: ALLOWLIST });
    } finally {
      await stopServer();
      cleanups.delete(stopServer);
    }
    // The stage start: an inserted (append-only table) audit event dated at the first seeded minute.
    await withDb((db) =>
      db.query(
        `insert into audit_events (at, actor, actor_role, actor_token_id, action, flag_key, before, after, reason)
         select $2, actor, actor_role, actor_token_id, 'flag.update', flag_key, jsonb_set(after, '{rolloutBasisPoints}', '0'), after,
                'bench/checkpoint.mjs: stage start backdated to the first seeded minute'
         from audit_events where flag_key = $1 order by id desc limit 1`,
        [FLAG, new Date(first).toISOString()],
      ),
    );

    server = await startServer(env);
    stopServer = () => stop(server.child);
    cleanups.add(stopServer);
    try {
      const { url } = server;
      const baseline = await api(url, 'POST', `/api/admin/metrics/${FLAG}/baselines`, {
        mode: 'window',
        from: new Date(first).toISOString(),
        to: new Date(first + 24 * HOUR).toISOString(),
      });
      log(`  baseline ${baseline.id}: ${baseline.from} → ${baseline.to}`);

      // Full runs (1 002 probes) and 2-probe runs alternate, with the summary pair between, so
      // background load lands on all three alike; the probe count is switched through the API.
      const setProbes = (n) => api(url, 'PUT', `/api/admin/beta-monitor/${FLAG}/settings`, { syntheticProbes: n, reason: 'bench: determinism share' });
      const full = [];
      const few = [];
      const summaries = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        await setProbes(1000);
        const r = await runOnce(url);
        const s = await summariesOnce(url, first);
        await setProbes(0);
        const f = await runOnce(url);
        if (i >= WARMUP) {
          full.push(r);
          summaries.push(s);
          few.push(f);
        }
      }
      // What the last full run read, from its stored record.
      const stored = await api(url, 'GET', `/api/admin/beta-monitor/checkpoints/${full[full.length - 1].id}`);
      const det = stored.determinism;
      if (det.failures !== 0) throw new Error(`determinism: ${det.failures} of ${det.probes} probes failed`);
      const read = {
        probes: det.probes,
        stageFrom: stored.metrics.stage.from,
        recentFrom: stored.metrics.recent.from,
        baselineId: stored.metrics.baselineId,
        exposed: stored.metrics.stage.exposed.requests,
        control: stored.metrics.stage.control.requests,
        looks: stored.judgement.looks,
      };
      if (read.baselineId !== baseline.id) throw new Error(`the checkpoint did not use the baseline (${read.baselineId})`);
      if (Date.parse(read.stageFrom) > first) throw new Error(`the stage starts at ${read.stageFrom}, after the first seeded minute`);
      log(`  full runs: ${JSON.stringify(stats(full.map((r) => r.ms)))}; read ${JSON.stringify(read)}`);
      log(`  2-probe runs: ${JSON.stringify(stats(few.map((r) => r.ms)))}`);
      results.push({ driver, seeded, full, summaries, few, read, baseline });
    } finally {
      await stopServer();
      cleanups.delete(stopServer);
    }
    await runCleanups();
  }

  const f0 = (n) => n.toFixed(0);
  const f1 = (n) => n.toFixed(1);
  const driverName = { pglite: 'PGlite (embedded)', postgres: pgVersion };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const s0 = results[0].seeded;
  const r0 = results[0];
  const verdicts = (rs) =>
    Object.entries(rs.reduce((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {}))
      .map(([k, n]) => `${n} × ${k}`)
      .join(', ');
  const rows = results.map((r) => {
    const c = stats(r.full.map((x) => x.ms));
    const d = stats(r.full.map((x) => x.durationMs));
    return { r, c, d };
  });
  const pg = rows.find((x) => x.r.driver === 'postgres');
  const lines = [
    `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pgVersion} on the same machine (loopback); ` +
      `1-minute load average at the start ${LOAD_AT_START.toFixed(1)} (anything above ~1 is other processes competing for the cores). ` +
      `One Rampart server process with default settings (minute retention 48 h, recent window 6 h) except \`RAMPART_WATCHDOG_SCHEDULE=false\`, so no scheduled checkpoint runs among the timed ones. ` +
      `Seed: ${DAYS} d of minute rollups for one flag × 4 cohorts × 10 metrics = ${s0.minuteRows.toLocaleString('en-US')} minute rows and ${s0.hourRows.toLocaleString('en-US')} hour rows. ` +
      `Flag created through the API (enabled, rollout ${ROLLOUT} %, ${ALLOWLIST.length}-id allowlist); stage start backdated by an inserted audit event to the first seeded minute, ` +
      `so each checkpoint read the stage from ${r0.read.stageFrom.slice(0, 16).replace('T', ' ')} UTC (${DAYS} d; ${r0.read.exposed.toLocaleString('en-US')} exposed and ${r0.read.control.toLocaleString('en-US')} control requests) ` +
      `plus the recent 6 h, with a baseline (window mode, the first 24 h of the seed) and ${r0.read.probes.toLocaleString('en-US')} determinism probes (0 failures). ` +
      `${RUNS} sequential runs after ${WARMUP} warm-ups, each answered with a verdict; between runs, the breakdown's summary pair.`,
    '',
    '| database | runs | p50 ms | p95 ms | max ms | server `durationMs` p50 / p95 | verdicts |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(({ r, c, d }) => `| ${driverName[r.driver]} | ${c.n} | ${f1(c.p50)} | ${f1(c.p95)} | ${f1(c.max)} | ${f0(d.p50)} / ${f0(d.p95)} | ${verdicts(r.full)} |`),
    '',
    `Where the time goes (medians of ${RUNS}, same server, server-side \`durationMs\` unless said): the full checkpoint; the same with \`syntheticProbes: 0\` ` +
      '(2 probes; these runs alternate with the full ones), whose difference is the determinism check of 1 000 synthetic ids (each evaluated twice in-process ' +
      'and once through the batch evaluation route, by `inject`); the two summaries the checkpoint reads (stage and 6 h, fetched in parallel through HTTP, ' +
      'so a little over what they cost inside the run); the rest of a 2-probe run (its `durationMs` minus the summary pair of its round: flag, settings, expected config, baselines, signals, look count, judge, ' +
      'report, insert); and what the client waits beyond `durationMs` (HTTP, the advisory lock, the response).',
    '',
    '| database | checkpoint | with 2 probes | → 1 000 probes | summaries (7 d ‖ 6 h, HTTP) | → rest | client − `durationMs` |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ r, d }) => {
      // Differences are medians of the per-round differences (a full run, the summary pair and a 2-probe run each round).
      const few = stats(r.few.map((x) => x.durationMs)).p50;
      const probes = stats(r.full.map((x, i) => x.durationMs - r.few[i].durationMs)).p50;
      const sum = stats(r.summaries).p50;
      const rest = stats(r.few.map((x, i) => x.durationMs - r.summaries[i])).p50;
      const wait = stats(r.full.map((x) => x.ms - x.durationMs)).p50;
      return `| ${driverName[r.driver]} | ${f0(d.p50)} ms | ${f0(few)} ms | ${f0(probes)} ms | ${f1(sum)} ms | ${f0(rest)} ms | ${f1(wait)} ms |`;
    }),
    '',
    `Target: a checkpoint over ${DAYS} d of minute rollups in ≤ ${TARGET_MS} ms on PostgreSQL (p95): ${pg.c.p95 <= TARGET_MS ? 'met' : 'not met'} (p95 ${f1(pg.c.p95)} ms, p50 ${f1(pg.c.p50)} ms).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await runCleanups();
}
