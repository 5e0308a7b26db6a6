// Shared by the benchmarks that need a flag with a week of metrics behind it
// (bench/metrics-summary.mjs, bench/checkpoint.mjs): the server child process, scratch
// databases and their cleanup, and the seed of minute and hour rollups.
//
// The seed: minute rollups for one flag × 4 cohorts × 10 metrics, written with batched
// multi-row inserts through the repo's own db layer (packages/server/dist/db), then the hour
// rollups computed from them in SQL (group by hour, histograms added bucket by bucket), which is
// what ingestion writes. The 10 metrics: _exposures, _http_latency_ms (histogram),
// _http_status_{2xx,3xx,4xx,5xx,401,429}, matching_success (rate), time_to_match_ms
// (distribution, histogram). Histograms are sparse {bucket index: count} in the layout of
// @rampart/core with 20–40 non-empty buckets a row.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { COHORTS, histogramBucket, histogramBucketValue } from '@rampart/core';
import pg from 'pg';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const PG_BASE = process.env.PGHOST_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const ADMIN = 'rpt_bench-admin-token-0123456789abcdefghij';
const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (...args) => console.error(...args);

/** Requests a minute per cohort at the daily peak. */
export const VOLUME = { exposed: 400, control: 1600, allowlist: 150, off: 500 };

// ---------------------------------------------------------------- processes and databases

export function startServer(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['packages/server/bin/rampart.js', 'serve'], {
      cwd: root,
      env: { ...env, PORT: '0', RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`rampart serve exited early (${code}): ${out}`)));
  });
}

export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

export async function adminSql(sql) {
  const client = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

export const cleanups = new Set();
export async function runCleanups() {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    await fn().catch((err) => log(`cleanup failed: ${err.message}`));
  }
}
/** On Ctrl-C or SIGTERM, run the cleanups (drop scratch databases, stop servers), then exit. */
export function cleanupOnSignals() {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------- seed

/** Deterministic PRNG (mulberry32), so every run sends and seeds the same data. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n observations spread like a log-normal around `median`: buckets within ±(below, above) of its bucket. */
function histogram(r, n, median, spread) {
  const center = histogramBucket(median);
  const weights = [];
  for (let i = center - 12; i <= center + 22; i++) {
    const z = (i - center) / (i < center ? spread : spread * 1.5);
    weights.push([i, Math.exp((-z * z) / 2)]);
  }
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const h = {};
  let count = 0;
  let sum = 0;
  for (const [i, w] of weights) {
    const x = (n * w) / total;
    const k = Math.floor(x) + (r() < x - Math.floor(x) ? 1 : 0);
    if (k === 0) continue;
    h[i] = k;
    count += k;
    sum += k * histogramBucketValue(i);
  }
  return { h, count, sum };
}

/** One minute's 40 rows (4 cohorts × 10 metrics); adds them to `totals`. */
function minuteRows(r, t, totals) {
  const hourOfDay = (t / HOUR) % 24;
  const load = 0.65 + 0.35 * Math.sin((2 * Math.PI * (hourOfDay - 8)) / 24);
  const rows = [];
  for (const cohort of COHORTS) {
    const n = Math.max(20, Math.round(VOLUME[cohort] * load * (0.9 + 0.2 * r())));
    const latency = histogram(r, n, 45 * (1 + 0.3 * load), 5);
    const requests = latency.count;
    const pick = (share) => Math.round(requests * share * (0.5 + r()));
    const s4xx = pick(0.03);
    const s401 = Math.min(s4xx, pick(0.005));
    const s429 = Math.min(s4xx - s401, pick(0.003));
    const s3xx = pick(0.01);
    const s5xx = pick(0.005);
    const status = { '2xx': requests - s3xx - s4xx - s5xx, '3xx': s3xx, '4xx': s4xx, '5xx': s5xx, '401': s401, '429': s429 };
    const trials = Math.round(requests * 0.3);
    const successes = Math.round(trials * (0.88 + 0.06 * r()));
    const ttm = histogram(r, trials, 1800, 4);
    const exposures = Math.round(requests * 0.8);
    rows.push([cohort, '_exposures', exposures, 0, null]);
    for (const [s, c] of Object.entries(status)) rows.push([cohort, `_http_status_${s}`, c, 0, null]);
    rows.push([cohort, '_http_latency_ms', requests, latency.sum, latency.h]);
    rows.push([cohort, 'matching_success', trials, successes, null]);
    rows.push([cohort, 'time_to_match_ms', ttm.count, ttm.sum, ttm.h]);
    const x = totals[cohort];
    x.exposures += exposures;
    x.requests += requests;
    for (const [s, c] of Object.entries(status)) x.status[s] += c;
    x.trials += trials;
    x.successes += successes;
    x.ttm += ttm.count;
  }
  return rows.map(([cohort, metric, count, sum, h]) => ({ cohort, metric, t, count, sum, h }));
}

/**
 * Seeds `flag`'s minute rows [first, last] minute by minute in batched inserts, then the hour rows
 * from them in SQL, and the names of the two application metrics. Returns the seeded totals.
 */
export async function seed(db, flag, first, last) {
  const r = rng(42);
  const totals = Object.fromEntries(COHORTS.map((c) => [c, { exposures: 0, requests: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, '401': 0, '429': 0 }, trials: 0, successes: 0, ttm: 0 }]));
  const MINUTES_PER_INSERT = 250; // 10 000 rows a statement
  let rows = 0;
  let buckets = [Infinity, 0, 0, 0];
  const t0 = performance.now();
  for (let from = first; from <= last; from += MINUTES_PER_INSERT * MINUTE) {
    const batch = [];
    for (let t = from; t <= last && t < from + MINUTES_PER_INSERT * MINUTE; t += MINUTE) batch.push(...minuteRows(r, t, totals));
    for (const b of batch) {
      if (!b.h) continue;
      const k = Object.keys(b.h).length;
      buckets = [Math.min(buckets[0], k), Math.max(buckets[1], k), buckets[2] + k, buckets[3] + 1];
    }
    await db.query(
      `insert into metric_rollups_minute (flag_key, metric, cohort, minute, count, sum, histogram)
       select $1, m, c, t, n, s, h::jsonb
       from unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::float8[], $7::text[]) as u(m, c, t, n, s, h)`,
      [
        flag,
        batch.map((b) => b.metric),
        batch.map((b) => b.cohort),
        batch.map((b) => new Date(b.t).toISOString()),
        batch.map((b) => b.count),
        batch.map((b) => b.sum),
        batch.map((b) => (b.h ? JSON.stringify(b.h) : null)),
      ],
    );
    rows += batch.length;
    if (rows % 100_000 < batch.length) log(`  ${rows.toLocaleString('en-US')} minute rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const minuteSeconds = (performance.now() - t0) / 1000;
  // The hours as ingestion keeps them: counts and sums added, histograms added per bucket.
  const t1 = performance.now();
  await db.query(
    `insert into metric_rollups_hour (flag_key, metric, cohort, hour, count, sum, histogram)
     with m as (
       select flag_key, metric, cohort, date_bin('1 hour', minute, timestamptz '2000-01-01 00:00:00+00') as hour, count, sum, histogram
       from metric_rollups_minute where flag_key = $1
     ), totals as (
       select flag_key, metric, cohort, hour, sum(count)::bigint as count, sum(sum) as sum from m group by 1, 2, 3, 4
     ), hist as (
       select flag_key, metric, cohort, hour, jsonb_object_agg(k, n) as histogram
       from (select m.flag_key, m.metric, m.cohort, m.hour, e.key as k, sum(e.value::bigint) as n
             from m cross join lateral jsonb_each_text(m.histogram) as e
             group by 1, 2, 3, 4, 5) b
       group by 1, 2, 3, 4
     )
     select t.flag_key, t.metric, t.cohort, t.hour, t.count, t.sum, hist.histogram
     from totals t left join hist using (flag_key, metric, cohort, hour)`,
    [flag],
  );
  await db.query(`insert into metric_names (flag_key, metric, kind) values ($1, 'matching_success', 'rate'), ($1, 'time_to_match_ms', 'distribution')`, [flag]);
  await db.query('analyze metric_rollups_minute');
  await db.query('analyze metric_rollups_hour');
  const hourSeconds = (performance.now() - t1) / 1000;
  const [check] = await db.query(
    `select (select count(*) from metric_rollups_minute)::int as minutes, (select count(*) from metric_rollups_hour)::int as hours,
            (select sum(count) from metric_rollups_minute)::text as minute_total, (select sum(count) from metric_rollups_hour)::text as hour_total`,
  );
  if (check.minute_total !== check.hour_total) throw new Error(`seed: hours hold ${check.hour_total} events, minutes ${check.minute_total}`);
  return { totals, minuteRows: check.minutes, hourRows: check.hours, minuteSeconds, hourSeconds, buckets };
}
