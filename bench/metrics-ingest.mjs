// Metrics ingestion throughput: POST /api/metrics against one Rampart server process, on the
// embedded PGlite and on PostgreSQL, with raw-event batches and with per-minute aggregates.
// The server runs in its own process (default settings, except RAMPART_RATE_LIMIT_INGEST=0 so
// that the ingest rate limit does not cap the run); the senders run in this one.
//
// Senders: SENDERS concurrent loops, each with one request in flight, over Node's built-in
// fetch (undici). Not autocannon: we need each response's `accepted` (the events counted are
// the ones the server says it took, not requests × batch size), per-batch latency, a fresh
// Idempotency-Key per batch (as an SDK sends), and several distinct bodies. Bodies are built
// and encoded to bytes before the clock starts, so the client's CPU share (same machine, two
// cores) is the cost of sending bytes, not of building JSON.
//
// Correctness: after each driver's run, the summary endpoint's per-cohort figures (exposures,
// requests, status series, rate trials/successes, distribution counts) must equal the sum of
// what the accepted batches carried, for every flag and cohort; any non-200 answer aborts.
//
// Usage: node bench/metrics-ingest.mjs [--quick]
// stdout: the markdown report (bench/run.mjs copies it into docs/benchmarks.md); stderr: progress.
// PostgreSQL: a scratch database rampart_bench_<pid> on PGHOST_URL (default
// postgres://postgres@127.0.0.1:5432), dropped at the end, also on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { COHORTS, addToHistogram } from '@rampart/core';
import { ADMIN, PG_BASE, adminSql, cleanupOnSignals, cleanups, rng, runCleanups, startServer, stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const DURATION_S = quick ? 3 : 10;
const WARMUP_S = quick ? 1 : 2;
const PASSES = quick ? 1 : 3;
const SENDERS = 4;
const EVENTS_PER_BATCH = 5_000;
const BODIES = 8;
const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg()[0];
cleanupOnSignals();

/** Starts a server on `driver`, calls fn(server), then stops it and removes its data. */
async function withServer(driver, fn) {
  // Ingestion is measured without its rate limit, which would otherwise cap the run.
  const env = { ...process.env, RAMPART_RATE_LIMIT_INGEST: '0' };
  delete env.DATABASE_URL;
  let dropDb;
  let dataDir;
  if (driver === 'postgres') {
    const name = `rampart_bench_${process.pid}`;
    await adminSql(`drop database if exists ${name}`);
    await adminSql(`create database ${name}`);
    dropDb = () => adminSql(`drop database if exists ${name} with (force)`);
    cleanups.add(dropDb);
    env.DATABASE_URL = `${PG_BASE}/${name}`;
  } else {
    dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-bench-'));
    env.RAMPART_DATA_DIR = dataDir;
  }
  let server;
  const stopServer = async () => server && stop(server.child);
  cleanups.add(stopServer);
  try {
    server = await startServer(env);
    return await fn(server);
  } finally {
    await stopServer();
    cleanups.delete(stopServer);
    if (dropDb) {
      await dropDb();
      cleanups.delete(dropDb);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- workloads

const pickWeighted = (r, items) => {
  let x = r() * items.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of items) if ((x -= w) < 0) return v;
  return items[items.length - 1][0];
};
/** Log-normal around `median` (Box–Muller), two decimals like a real timer. */
const logNormal = (r, median, sigma) => Math.round(median * Math.exp(sigma * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r())) * 100) / 100;

const COHORT_WEIGHTS = [['exposed', 15], ['control', 60], ['allowlist', 5], ['off', 20]];
const STATUS_WEIGHTS = [[200, 880], [201, 40], [204, 20], [302, 10], [304, 10], [400, 10], [401, 6], [403, 4], [404, 10], [429, 4], [500, 3], [503, 3]];
const STATUS_SERIES = ['2xx', '3xx', '4xx', '5xx', '401', '403', '429'];
const seriesOf = (status) => {
  const out = [`${Math.floor(status / 100)}xx`];
  if (status === 401 || status === 403 || status === 429) out.push(String(status));
  return out;
};

/** What one body should add to each flag × cohort's summary, to check the totals at the end. */
function emptyExpectation(flags) {
  const e = {};
  for (const f of flags) {
    e[f] = {};
    for (const c of COHORTS) {
      e[f][c] = { exposures: 0, requests: 0, status: Object.fromEntries(STATUS_SERIES.map((s) => [s, 0])), metrics: {} };
    }
  }
  return e;
}
function addMetric(target, name, count, sum) {
  const m = (target.metrics[name] ??= { count: 0, sum: 0 });
  m.count += count;
  m.sum += sum;
}
function addExpectation(total, part, times = 1) {
  for (const f in part) {
    for (const c in part[f]) {
      const t = total[f][c];
      const p = part[f][c];
      t.exposures += p.exposures * times;
      t.requests += p.requests * times;
      for (const s in p.status) t.status[s] += p.status[s] * times;
      for (const [name, m] of Object.entries(p.metrics)) addMetric(t, name, m.count * times, m.sum * times);
    }
  }
}

/**
 * A raw batch of 5 000 events as an SDK flushes them every ~10 s: 30 % exposures, 40 % HTTP
 * outcomes (varied status and latency), 15 % trials of a rate (matching_success), 15 %
 * observations of a distribution (time_to_match_ms); 2 flags × 4 cohorts; times within the
 * last 10 s (so a batch touches one or two minutes).
 */
function rawBody(seed, flags, now) {
  const r = rng(seed);
  const expect = emptyExpectation(flags);
  const events = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const flag = flags[i % flags.length];
    const cohort = pickWeighted(r, COHORT_WEIGHTS);
    const at = now - Math.floor(r() * 10_000);
    const x = expect[flag][cohort];
    const kind = r();
    if (kind < 0.3) {
      events.push({ type: 'exposure', flag, cohort, at });
      x.exposures++;
    } else if (kind < 0.7) {
      const status = pickWeighted(r, STATUS_WEIGHTS);
      events.push({ type: 'http', flag, cohort, status, latencyMs: logNormal(r, status >= 500 ? 400 : 45, 0.6), at });
      x.requests++;
      for (const s of seriesOf(status)) x.status[s]++;
    } else if (kind < 0.85) {
      const success = r() < (cohort === 'exposed' ? 0.93 : 0.9);
      events.push({ type: 'rate', flag, cohort, metric: 'matching_success', success, at });
      addMetric(x, 'matching_success', 1, success ? 1 : 0);
    } else {
      events.push({ type: 'value', flag, cohort, metric: 'time_to_match_ms', value: logNormal(r, 1800, 0.5), at });
      addMetric(x, 'time_to_match_ms', 1, 0);
    }
  }
  return { bytes: new TextEncoder().encode(JSON.stringify({ events })), events: EVENTS_PER_BATCH, expect };
}

/**
 * A batch of per-minute aggregates as an SDK sends them once a minute: one minute × 2 flags ×
 * 4 cohorts × 10 metrics (_exposures, _http_latency_ms with its histogram, _http_status_{2xx,
 * 3xx,4xx,5xx,429}, matching_success as a rate, time_to_match_ms as a distribution with its
 * histogram, orders_placed as a counter) = 80 aggregates. Histograms come from real samples
 * bucketed with @rampart/core, so they have the usual 20–40 non-empty buckets.
 */
function aggregateBody(seed, flags, minute) {
  const r = rng(seed);
  const expect = emptyExpectation(flags);
  const aggregates = [];
  let represented = 0;
  const volume = { exposed: 600, control: 2400, allowlist: 120, off: 800 };
  for (const flag of flags) {
    for (const cohort of COHORTS) {
      const x = expect[flag][cohort];
      const n = Math.round(volume[cohort] * (0.8 + 0.4 * r()));
      const latency = {};
      let latencySum = 0;
      const status = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, '429': 0 };
      for (let i = 0; i < n; i++) {
        const code = pickWeighted(r, STATUS_WEIGHTS);
        const ms = logNormal(r, code >= 500 ? 90 : 45, 0.25);
        addToHistogram(latency, ms);
        latencySum += ms;
        for (const s of seriesOf(code)) if (s in status) status[s]++;
      }
      const trials = Math.round(n * 0.3);
      const successes = Math.round(trials * (0.88 + 0.06 * r()));
      const ttm = {};
      let ttmSum = 0;
      for (let i = 0; i < trials; i++) {
        const v = logNormal(r, 1800, 0.25);
        addToHistogram(ttm, v);
        ttmSum += v;
      }
      const exposures = Math.round(n * 0.7);
      const orders = Math.round(n * 0.05);
      const push = (metric, count, extra = {}) => {
        aggregates.push({ flag, cohort, metric, minute, count, ...extra });
        represented += count;
      };
      push('_exposures', exposures);
      push('_http_latency_ms', n, { sum: latencySum, histogram: latency });
      for (const [s, count] of Object.entries(status)) push(`_http_status_${s}`, count);
      push('matching_success', trials, { kind: 'rate', sum: successes });
      push('time_to_match_ms', trials, { kind: 'distribution', sum: ttmSum, histogram: ttm });
      push('orders_placed', orders, { kind: 'counter' });
      x.exposures += exposures;
      x.requests += n;
      for (const [s, count] of Object.entries(status)) x.status[s] += count;
      addMetric(x, 'matching_success', trials, successes);
      addMetric(x, 'time_to_match_ms', trials, 0);
      addMetric(x, 'orders_placed', orders, 0);
    }
  }
  return { bytes: new TextEncoder().encode(JSON.stringify({ aggregates })), events: represented, aggregates: aggregates.length, expect };
}

// ---------------------------------------------------------------- load

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * SENDERS loops, each posting the next body as soon as its previous answer arrived, for
 * `seconds`. Every accepted batch is added to `sent` (for the final check).
 */
async function drive(url, token, bodies, seconds, sent, tag) {
  const latencies = [];
  let events = 0;
  let batches = 0;
  let next = 0;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const start = performance.now();
  const end = start + seconds * 1000;
  const sender = async () => {
    while (performance.now() < end) {
      const body = bodies[next++ % bodies.length];
      const t0 = performance.now();
      const res = await fetch(`${url}/api/metrics`, { method: 'POST', headers: { ...headers, 'idempotency-key': `${tag}-${process.pid}-${next}` }, body: body.bytes });
      const json = await res.json();
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`POST /api/metrics: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      if (json.duplicate || json.accepted !== body.events) throw new Error(`POST /api/metrics: accepted ${json.accepted} of ${body.events} (duplicate: ${json.duplicate})`);
      events += json.accepted;
      batches++;
      latencies.push(t1 - t0);
      addExpectation(sent, body.expect);
      sent.batches = (sent.batches ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { eventsPerS: events / elapsed, batchesPerS: batches / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), batches, events };
}

/** Warm-up, then PASSES passes of DURATION_S; the pass with the median events/s is reported. */
async function measure(name, url, token, bodies, sent) {
  await drive(url, token, bodies, WARMUP_S, sent, `${name}-warmup`);
  const passes = [];
  for (let i = 0; i < PASSES; i++) {
    const p = await drive(url, token, bodies, DURATION_S, sent, `${name}-${i}`);
    log(`  ${name} pass ${i + 1}: ${Math.round(p.eventsPerS).toLocaleString('en-US')} events/s, ${p.batchesPerS.toFixed(1)} batches/s, p50 ${p.p50.toFixed(0)} ms, p99 ${p.p99.toFixed(0)} ms`);
    passes.push(p);
  }
  const mid = median(passes.map((p) => p.eventsPerS));
  const chosen = passes.find((p) => p.eventsPerS === mid);
  return { ...chosen, min: Math.min(...passes.map((p) => p.eventsPerS)), max: Math.max(...passes.map((p) => p.eventsPerS)) };
}

async function verify(url, flags, sent) {
  let checked = 0;
  for (const flag of flags) {
    const res = await fetch(`${url}/api/admin/metrics/${flag}/summary?window=2h`, { headers: { authorization: `Bearer ${ADMIN}` } });
    if (!res.ok) throw new Error(`summary ${flag}: ${res.status} ${await res.text()}`);
    const { cohorts } = await res.json();
    for (const cohort of COHORTS) {
      const want = sent[flag][cohort];
      const got = cohorts[cohort];
      const diffs = [];
      if (got.exposures !== want.exposures) diffs.push(`exposures ${got.exposures} ≠ ${want.exposures}`);
      if (got.requests !== want.requests || got.latencyMs.count !== want.requests) diffs.push(`requests ${got.requests}/${got.latencyMs.count} ≠ ${want.requests}`);
      for (const s of STATUS_SERIES) if (got.status[s] !== want.status[s]) diffs.push(`status ${s} ${got.status[s]} ≠ ${want.status[s]}`);
      for (const [name, m] of Object.entries(want.metrics)) {
        const g = got.metrics[name];
        if (!g || g.count !== m.count) diffs.push(`${name} count ${g?.count} ≠ ${m.count}`);
        if (name === 'matching_success' && g?.sum !== m.sum) diffs.push(`${name} successes ${g?.sum} ≠ ${m.sum}`);
      }
      if (diffs.length) throw new Error(`summary of ${flag}/${cohort} disagrees with what was sent: ${diffs.join('; ')}`);
      checked++;
    }
  }
  return checked;
}

// ---------------------------------------------------------------- run

const RAW_FLAGS = ['bench_raw_checkout', 'bench_raw_matching'];
const AGG_FLAGS = ['bench_agg_checkout', 'bench_agg_matching'];
const results = [];
let pgVersion = '';
try {
  const now = Date.now();
  const rawBodies = Array.from({ length: BODIES }, (_, i) => rawBody(1000 + i, RAW_FLAGS, now));
  // The last whole minute, as an SDK reports it.
  const minute = new Date(Math.floor(now / 60_000) * 60_000 - 60_000).toISOString();
  const aggBodies = Array.from({ length: BODIES }, (_, i) => aggregateBody(2000 + i, AGG_FLAGS, minute));
  const rawKb = Math.round(rawBodies.reduce((s, b) => s + b.bytes.length, 0) / BODIES / 1024);
  const aggKb = Math.round(aggBodies.reduce((s, b) => s + b.bytes.length, 0) / BODIES / 1024);
  const aggEvents = Math.round(aggBodies.reduce((s, b) => s + b.events, 0) / BODIES);
  const buckets = aggBodies.flatMap((b) => JSON.parse(new TextDecoder().decode(b.bytes)).aggregates.filter((a) => a.histogram).map((a) => Object.keys(a.histogram).length));
  pgVersion = (await adminSql('select version() as v'))[0].v.split(' on ')[0];

  for (const driver of ['pglite', 'postgres']) {
    log(`== ${driver}`);
    await withServer(driver, async ({ url }) => {
      const post = async (path, body) => {
        const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      };
      for (const key of [...RAW_FLAGS, ...AGG_FLAGS]) await post('/api/admin/feature-flags', { key, enabled: true, rolloutPercentage: 10 });
      const { token } = await post('/api/admin/tokens', { name: 'bench-ingest', role: 'SDK' });
      const sentRaw = emptyExpectation(RAW_FLAGS);
      const sentAgg = emptyExpectation(AGG_FLAGS);
      const raw = await measure('raw', url, token, rawBodies, sentRaw);
      const agg = await measure('aggregates', url, token, aggBodies, sentAgg);
      await verify(url, RAW_FLAGS, sentRaw);
      await verify(url, AGG_FLAGS, sentAgg);
      log(`  verified: the summaries hold exactly what ${sentRaw.batches} raw and ${sentAgg.batches} aggregate batches carried`);
      results.push({ driver, workload: `raw events (${EVENTS_PER_BATCH.toLocaleString('en-US')}/batch, ~${rawKb} KiB)`, ...raw, checked: sentRaw.batches });
      results.push({ driver, workload: `per-minute aggregates (80/batch, ~${aggEvents.toLocaleString('en-US')} events, ~${aggKb} KiB)`, ...agg, checked: sentAgg.batches });
    });
  }

  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const driverName = { pglite: 'PGlite (embedded)', postgres: pgVersion };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pgVersion} on the same machine (loopback); ` +
      `1-minute load average at the start ${LOAD_AT_START.toFixed(1)} (anything above ~1 is other processes competing for the cores). ` +
      `One Rampart server process with default settings except \`RAMPART_RATE_LIMIT_INGEST=0\` (the ingest rate limit is off so that it does not cap the run); ` +
      `${SENDERS} concurrent senders in the benchmark process (fetch, one batch in flight each, pre-encoded bodies, a fresh Idempotency-Key per batch). ` +
      `Each line: the median of ${PASSES} pass(es) of ${DURATION_S} s after a ${WARMUP_S} s warm-up (range of events/s across passes in brackets). ` +
      `Aggregate batches: histograms with ${Math.min(...buckets)}–${Math.max(...buckets)} non-empty buckets; their events are the response's \`accepted\` (the sum of the aggregates' counts).`,
    '',
    '| database | batches | events/s | batches/s | p50 ms | p99 ms | summary = sent (all batches incl. warm-up) |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${driverName[r.driver]} | ${r.workload} | ${fmt(r.eventsPerS)} (${fmt(r.min)}–${fmt(r.max)}) | ${r.batchesPerS.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ✓ ${fmt(r.checked)} batches |`,
    ),
    '',
    `Target (raw events): ≥ 100,000 events/s. ` +
      results
        .filter((r) => r.workload.startsWith('raw'))
        .map((r) => `${driverName[r.driver].split(' (')[0].split(' ').slice(0, 2).join(' ')}: ${r.eventsPerS >= 100_000 ? 'met' : 'not met'}`)
        .join(', ') +
      '.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await runCleanups();
}
