// Rampart against its peers, in one run on one machine, three comparisons:
//
// 1. In-process evaluation: bench/core-eval.mjs (Rampart's core evaluator, flagd-core,
//    unleash-client, GrowthBook, LaunchDarkly's Node server SDK, node:crypto) and
//    bench/sdk-eval.mjs --workload=A (@rampart/sdk `client.evaluate` beside a core evaluator),
//    each run as a child process with --json; their harnesses are not duplicated here.
// 2. HTTP evaluation: Rampart's GET /api/evaluate/:key and GET /api/flags against
//    unleash-server's GET /api/frontend (frontend token, a context with userId), with autocannon,
//    50 connections, a warm-up then the measured run, rounds alternating between the targets.
//    Both servers run side by side on the same PostgreSQL server, each in its own scratch
//    database, pinned to core 1; autocannon (this process) on core 0.
// 3. Change propagation: a rollout change through each system's admin API until each SDK client's
//    `changed` event: Rampart's streaming (bench/lib/sdk-fleet.mjs, 100 @rampart/sdk clients in
//    one client process) against unleash-client's default polling (20 clients with default
//    settings, refreshInterval 15 s, their starts spread over one interval).
//
// unleash-server is installed from the npm registry into a scratch directory outside the repo
// (os.tmpdir()/rampart-peers/unleash) on first use; the databases rampart_peers_unleash_<random>
// and rampart_peers_rampart_<random> are created on PGHOST_URL (default
// postgres://postgres@127.0.0.1:5432) at the start and dropped at the end, on failure and on
// Ctrl-C too; every child process (servers, client fleet, benchmark children) is stopped.
//
// Usage: npm run bench:peers                    (builds first; writes docs/benchmarks.md)
//        node bench/peers.mjs [--quick] [--no-write]
//   --quick: a short smoke run (fewer evaluations, 3 s HTTP runs, fewer clients and changes);
//   --no-write: print the report only. UNLEASH_SERVER_VERSION overrides the unleash-server version.
// stdout: the markdown report (also written between <!-- peers:start --> and <!-- peers:end -->);
// stderr: progress.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { Unleash } from 'unleash-client';
import { cpuMicros, pinToCore } from './lib/proc.mjs';
import { startFleet, wallNow } from './lib/sdk-fleet.mjs';
import { ADMIN, PG_BASE, cleanups, runCleanups, stop } from './lib/rollup-fixture.mjs';

const QUICK = process.argv.includes('--quick');
const NO_WRITE = process.argv.includes('--no-write');
// unleash-server 8.x and 7.6.x require Node ≥ 22; 7.5.1 is the newest release for Node ≥ 20.
const UNLEASH_VERSION = process.env.UNLEASH_SERVER_VERSION ?? '7.5.1';
const SCRATCH = join(os.tmpdir(), 'rampart-peers', 'unleash');
const KEY = 'passenger_favorites_matching';
const BETA = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
const OTHER_FLAGS = 9;

const CONNECTIONS = 50;
const FIRST_WARMUP_S = QUICK ? 2 : 10; // once per target before the first round (JIT, caches)
const WARMUP_S = QUICK ? 1 : 2; // before every measured run
const DURATION_S = QUICK ? 3 : 10;
const ROUNDS = QUICK ? 1 : 3;
const TARGET_RATIO = 10;
const TARGET_P99_MS = 10;

const RAMPART_CLIENTS = QUICK ? 20 : 100;
const RAMPART_CHANGES = QUICK ? 5 : 20;
const RAMPART_SPACING_MS = 300;
const UNLEASH_CLIENTS = QUICK ? 5 : 20;
const UNLEASH_CHANGES = QUICK ? 1 : 4;
const UNLEASH_REFRESH_MS = 15_000; // unleash-client's default refreshInterval, not passed to it

const root = fileURLToPath(new URL('..', import.meta.url));
const docPath = join(root, 'docs', 'benchmarks.md');
const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg()[0];

// Secrets in Unleash's `project:environment.secret` form, created by the server at start-up.
const SUFFIX = randomBytes(6).toString('hex');
const UNLEASH_ADMIN = `*:*.peers-admin-${SUFFIX}`;
const UNLEASH_FRONTEND = `default:development.peers-frontend-${SUFFIX}`;
// The production environment holds only the benchmark's flag: a frontend token for it gives a
// one-toggle /api/frontend, the counterpart of Rampart's one-flag GET /api/evaluate/:key.
const UNLEASH_FRONTEND_ONE = `default:production.peers-frontend-${SUFFIX}`;
const UNLEASH_BACKEND = `default:development.peers-backend-${SUFFIX}`;

// ---------------------------------------------------------------- child processes, cleanup

/** Every child process still running; killed on exit whatever happens. */
const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    interrupted = true;
    log(`\n${sig}: stopping the servers and clients, dropping the scratch databases`);
    void runCleanups().finally(() => process.exit(130));
  });
}

// Pinning as in bench/http-eval.mjs: autocannon (this process) on core 0, the servers on core 1.
let pinned = false;
function pinSelf() {
  // Only with a core 1 for the servers.
  pinned = os.cpus().length >= 2 && pinToCore(process.pid, 0);
}

/** Spawns a server process (on core 1 when pinned); keeps the tail of its output for errors. */
function spawnServer(args, { cwd, env }) {
  const [cmd, argv] = pinned ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const child = track(spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  child.output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (child.output = (child.output + chunk).slice(-8000)));
  }
  cleanups.add(() => stop(child));
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `node script args` and resolves with its stdout parsed as JSON; stderr passes through. */
function runJson(script, args) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`node ${script} ${args.join(' ')} exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (err) {
        reject(new Error(`node ${script}: no JSON on stdout (${err.message})`));
      }
    });
  });
}

// ---------------------------------------------------------------- PostgreSQL

async function sql(query, database = 'postgres') {
  const client = new pg.Client({ connectionString: `${PG_BASE}/${database}`, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

async function checkPostgres() {
  try {
    const [{ v }] = await sql('select version() as v');
    return v.split(' on ')[0];
  } catch (err) {
    const why = err.code ?? err.message ?? String(err);
    throw new Error(
      `PostgreSQL is unreachable at ${PG_BASE} (${why}). bench/peers.mjs runs unleash-server and Rampart on ` +
        'scratch databases of a PostgreSQL server: start one on loopback (e.g. `pg_ctlcluster 15 main start`), ' +
        'or set PGHOST_URL=postgres://user[:password]@host:port to a server where that user may create databases.',
      { cause: err },
    );
  }
}

async function scratchDatabase(prefix) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await sql(`create database ${name}`);
  cleanups.add(() => sql(`drop database if exists ${name} with (force)`).then(() => log(`dropped database ${name}`)));
  return name;
}

// ---------------------------------------------------------------- versions

function versionIn(dir, pkg) {
  const file = join(dir, 'node_modules', pkg, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : '?';
}
const repoVersion = (pkg) => versionIn(root, pkg);

/** Installs unleash-server@UNLEASH_VERSION into SCRATCH unless it is there; checks its Node engine. */
async function ensureUnleashServer() {
  const pkgFile = join(SCRATCH, 'node_modules', 'unleash-server', 'package.json');
  const installed = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')) : undefined;
  if (installed?.version !== UNLEASH_VERSION) {
    mkdirSync(SCRATCH, { recursive: true });
    const own = join(SCRATCH, 'package.json');
    if (!existsSync(own)) writeFileSync(own, JSON.stringify({ name: 'rampart-peers-unleash', private: true }, null, 2) + '\n');
    log(`installing unleash-server@${UNLEASH_VERSION} into ${SCRATCH} (once; npm install --no-audit --no-fund)`);
    // Not the npm_* variables `npm run` sets for this repo: they would point npm at the repo.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    await new Promise((resolve, reject) => {
      const child = track(
        spawn('npm', ['install', `unleash-server@${UNLEASH_VERSION}`, '--no-audit', '--no-fund', '--prefix', SCRATCH], {
          cwd: SCRATCH,
          env,
          stdio: ['ignore', 'inherit', 'inherit'],
        }),
      );
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm install unleash-server@${UNLEASH_VERSION} failed (${code})`))));
    });
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const min = /^>=\s*(\d+)/.exec(pkg.engines?.node ?? '')?.[1];
  if (min && Number(process.versions.node.split('.')[0]) < Number(min)) {
    throw new Error(`unleash-server@${pkg.version} needs Node ${pkg.engines.node}, this is ${process.version}; set UNLEASH_SERVER_VERSION to a release for this Node`);
  }
  return pkg;
}

// ---------------------------------------------------------------- servers

async function startUnleash(database) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: 'UTC',
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: `${PG_BASE}/${database}`,
    DATABASE_SSL: 'false',
    LOG_LEVEL: 'error',
    SEND_TELEMETRY: 'false',
    CHECK_VERSION: 'false',
    INIT_ADMIN_API_TOKENS: UNLEASH_ADMIN,
    INIT_FRONTEND_API_TOKENS: `${UNLEASH_FRONTEND},${UNLEASH_FRONTEND_ONE}`,
    INIT_BACKEND_API_TOKENS: UNLEASH_BACKEND,
  };
  const child = spawnServer([join(SCRATCH, 'node_modules', 'unleash-server', 'dist', 'server.js')], { cwd: SCRATCH, env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`unleash-server exited early (${child.exitCode}):\n${child.output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`unleash-server not healthy after 120 s:\n${child.output}`);
    await sleep(250);
  }
  return { child, url };
}

function startRampart(database) {
  const child = spawnServer(['packages/server/bin/rampart.js', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      DATABASE_URL: `${PG_BASE}/${database}`,
      RAMPART_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
      RAMPART_WATCHDOG_SCHEDULE: 'false',
    },
  });
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(child.output);
      if (m) {
        child.stdout.off('data', onData);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`rampart serve exited early (${code}):\n${child.output}`)));
  });
}

async function call(base, auth, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The same flags in both: KEY (10 % rollout + the 10 beta ids), and 9 others at 50 %. */
async function configureRampart(r) {
  const admin = (method, path, body) => call(r.url, `Bearer ${ADMIN}`, method, path, body);
  await admin('POST', '/api/admin/feature-flags', { key: KEY, enabled: true, rolloutPercentage: 10, allowlist: BETA });
  for (let i = 0; i < OTHER_FLAGS; i++) await admin('POST', '/api/admin/feature-flags', { key: `other_flag_${i}`, enabled: true, rolloutPercentage: 50 });
  const { token } = await admin('POST', '/api/admin/tokens', { name: 'bench-peers', role: 'SDK' });
  return token;
}

const rolloutStrategy = (flag, rollout) => ({
  name: 'flexibleRollout',
  parameters: { rollout: String(rollout), stickiness: 'userId', groupId: flag },
  constraints: [],
});

async function configureUnleash(u) {
  const admin = (method, path, body) => call(u.url, UNLEASH_ADMIN, method, path, body);
  const features = '/api/admin/projects/default/features';
  const addFlag = async (name, strategies, environments = ['development']) => {
    await admin('POST', features, { name, type: 'release' });
    const ids = [];
    for (const env of environments) {
      for (const s of strategies) ids.push((await admin('POST', `${features}/${name}/environments/${env}/strategies`, s)).id);
      await admin('POST', `${features}/${name}/environments/${env}/on`);
    }
    return ids;
  };
  // The beta ids as a constraint on a 100 % strategy, then the 10 % gradual rollout: a user is in
  // if either strategy says so, as in Rampart (allowlist, then the rollout).
  const [, rolloutId] = await addFlag(
    KEY,
    [{ ...rolloutStrategy(KEY, 100), constraints: [{ contextName: 'userId', operator: 'IN', values: BETA }] }, rolloutStrategy(KEY, 10)],
    ['development', 'production'],
  );
  for (let i = 0; i < OTHER_FLAGS; i++) await addFlag(`other_flag_${i}`, [rolloutStrategy(`other_flag_${i}`, 50)]);
  return {
    setRollout: (rollout) => admin('PUT', `${features}/${KEY}/environments/development/strategies/${rolloutId}`, rolloutStrategy(KEY, rollout)),
  };
}

const frontendToggles = async (u, userId, token = UNLEASH_FRONTEND) => {
  const res = await fetch(`${u.url}/api/frontend?userId=${encodeURIComponent(userId)}`, { headers: { authorization: token } });
  if (!res.ok) return undefined;
  return (await res.json()).toggles.map((t) => t.name);
};

// ---------------------------------------------------------------- 1. in-process evaluation

async function inProcess() {
  const pass = QUICK ? ['--quick'] : [];
  log('\n== 1. in-process evaluation: node bench/core-eval.mjs --json, node bench/sdk-eval.mjs --workload=A --json');
  const core = await runJson('bench/core-eval.mjs', ['--json', ...pass]);
  const sdk = await runJson('bench/sdk-eval.mjs', ['--workload=A', '--json', ...pass]);
  return { core, sdk };
}

function inProcessTable({ core, sdk }) {
  const fmtOps = (ops) => (ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M` : `${(ops / 1e3).toFixed(0)} k`);
  const coreA = core.results.find((r) => r.pkg === '@rampart/core' && !r.activeOnly);
  const sanityText = (s, node) => (node ? `${(s.share * 100).toFixed(1)} %` : `${s.allowed}/10, ${(s.share * 100).toFixed(1)} %`);
  const rows = core.results.map((r) => {
    const ratio = r === coreA ? '1.00×' : `${(r.median / coreA.median).toFixed(2)}×`;
    return `| ${r.name} | ${r.version} | ${r.median.toFixed(0)} | ${r.min.toFixed(0)} | ${fmtOps(1e9 / r.median)} | ${ratio} | ${sanityText(r.sanity, r.pkg === 'node')} |`;
  });
  const sdkVersion = JSON.parse(readFileSync(join(root, 'packages', 'sdk', 'package.json'), 'utf8')).version;
  const sdkRows = sdk.results.map((r) => {
    const name = `Rampart \`@rampart/sdk\` \`client.evaluate\` (A), ${r.exposures ? 'exposures on (default)' : '`reportExposures: false`'} ¹`;
    return (
      `| ${name} | ${sdkVersion} | ${r.sdkMedian.toFixed(0)} | ${Math.min(...r.sdk).toFixed(0)} | ${fmtOps(1e9 / r.sdkMedian)} | ` +
      `${(1 + r.over).toFixed(2)}× ¹ | ${sanityText(r.sdkSanity)} |`
    );
  });
  return [
    '| Implementation | Version | ns/eval (median) | ns/eval (min) | ops/s | time vs Rampart core (A) | Sanity: allowlist on, share of random ids on |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    rows[0],
    ...sdkRows,
    ...rows.slice(1),
    '',
    `${core.n.toLocaleString('en-US')} evaluations per pass, median of ${core.passes} passes after warming up. Workload A (every line but B): ` +
      'distinct ids, every call hashes; B: 10 000 active ids (Rampart\'s bucket cache answers). ' +
      '¹ The SDK lines come from `bench/sdk-eval.mjs`: one process per SDK configuration, holding that one client and a core evaluator ' +
      'whose passes alternate with it; their ratio is against the core of that process (median of pass pairs; core there: ' +
      `${sdk.results.map((r) => `${r.coreMedian.toFixed(0)} ns`).join(', ')}). Every other line is from one \`bench/core-eval.mjs\` process, ratios against its core line.`,
  ];
}

// ---------------------------------------------------------------- 2. HTTP evaluation

/** Fails on any non-2xx, error, timeout or (with verifyBody) body without the flag. */
function check(target, r) {
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0 || r.mismatches > 0) {
    throw new Error(`${target.name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.mismatches} bodies without the flag`);
  }
}

async function sampleCheck(target) {
  const res = await fetch(target.url, { headers: target.headers });
  const body = await res.text();
  if (res.status !== 200 || !target.verify(body)) throw new Error(`${target.name}: ${res.status} ${body.slice(0, 300)}`);
}

async function load(target) {
  // Every body of the warm-up is checked (autocannon's verifyBody); the measured run checks the
  // status only (reading every body costs the client CPU, which would cap the faster server),
  // and one request right after it is checked again.
  const opts = { url: target.url, connections: CONNECTIONS, headers: target.headers };
  check(target, await autocannon({ ...opts, duration: WARMUP_S, verifyBody: target.verify }));
  const cpu0 = cpuMicros(target.pid);
  const r = await autocannon({ ...opts, duration: DURATION_S });
  const cpu = (cpuMicros(target.pid) - cpu0) / r.requests.total;
  check(target, r);
  await sampleCheck(target);
  log(`${target.name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${cpu.toFixed(0)} µs CPU/request`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, cpu };
}

/** The first passenger-N in Unleash's 10 % and in Rampart's (not a beta id: both strategies run). */
async function pickSubject(u, r, token) {
  let fallback;
  for (let i = 0; i < 5000; i++) {
    const id = `passenger-${i}`;
    if (!(await frontendToggles(u, id))?.includes(KEY)) continue;
    fallback ??= id;
    const res = await call(r.url, `Bearer ${token}`, 'GET', `/api/evaluate/${KEY}?id=${id}`);
    if (res.value === true) return { id, rampartOn: true };
  }
  if (!fallback) throw new Error(`no passenger-N among 5 000 in Unleash's 10 % rollout of ${KEY}`);
  return { id: fallback, rampartOn: false };
}

async function http(u, r, token) {
  log('\n== 2. HTTP evaluation');
  const subject = await pickSubject(u, r, token);
  log(`subject ${subject.id}: in Unleash's rollout, Rampart value ${subject.rampartOn}`);
  const sdkAuth = { authorization: `Bearer ${token}` };
  const targets = [
    {
      key: 'evaluate',
      name: 'Rampart `GET /api/evaluate/:key`',
      url: `${r.url}/api/evaluate/${KEY}?id=${subject.id}`,
      headers: sdkAuth,
      pid: r.child.pid,
      verify: (body) => body.includes(`"flag":"${KEY}"`) && body.includes(`"value":${subject.rampartOn}`),
    },
    {
      key: 'flags',
      name: `Rampart \`GET /api/flags\` (${OTHER_FLAGS + 1} flags)`,
      url: `${r.url}/api/flags?id=${subject.id}`,
      headers: sdkAuth,
      pid: r.child.pid,
      verify: (body) => body.includes(`"${KEY}"`),
    },
    {
      key: 'unleash-one',
      name: `unleash-server ${UNLEASH_VERSION} \`GET /api/frontend\`, environment with 1 toggle`,
      url: `${u.url}/api/frontend?userId=${subject.id}`,
      headers: { authorization: UNLEASH_FRONTEND_ONE },
      pid: u.child.pid,
      verify: (body) => body.includes(`"name":"${KEY}"`),
    },
    {
      key: 'unleash',
      name: `unleash-server ${UNLEASH_VERSION} \`GET /api/frontend\` (${OTHER_FLAGS + 1} toggles)`,
      url: `${u.url}/api/frontend?userId=${subject.id}`,
      headers: { authorization: UNLEASH_FRONTEND },
      pid: u.child.pid,
      verify: (body) => body.includes(`"name":"${KEY}"`),
    },
  ];
  // Rampart's one-flag endpoint is compared with Unleash's one-toggle environment, its all-flags
  // endpoint with the ten-toggle one.
  targets[0].peer = 'unleash-one';
  targets[1].peer = 'unleash';
  for (const t of targets) {
    await sampleCheck(t);
    t.runs = [];
    log(`warm-up ${t.name}: ${FIRST_WARMUP_S} s`);
    check(t, await autocannon({ url: t.url, connections: CONNECTIONS, headers: t.headers, duration: FIRST_WARMUP_S, verifyBody: t.verify }));
  }
  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1} of ${ROUNDS}`);
    for (const t of targets) t.runs.push(await load(t));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const t of targets) {
    t.rps = median(t.runs.map((x) => x.rps));
    t.p50 = median(t.runs.map((x) => x.p50));
    t.p99 = median(t.runs.map((x) => x.p99));
    t.cpu = median(t.runs.map((x) => x.cpu));
    t.total = t.runs.reduce((n, x) => n + x.total, 0);
  }
  return { targets, subject };
}

function httpTable({ targets, subject }) {
  const byKey = Object.fromEntries(targets.map((t) => [t.key, t]));
  const one = byKey['unleash-one'];
  const ten = byKey.unleash;
  const verdicts = targets
    .filter((t) => t.peer)
    .map((t) => {
      const peer = byKey[t.peer];
      const ratio = t.rps / peer.rps;
      const met = ratio >= TARGET_RATIO && t.p99 <= TARGET_P99_MS;
      return `${t.name} against ${peer === one ? 'the 1-toggle' : `the ${OTHER_FLAGS + 1}-toggle`} \`/api/frontend\`: ${ratio.toFixed(1)}× at p99 ${t.p99} ms — **${met ? 'met' : 'not met'}**`;
    });
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const ratio = (t, peer) => `${(t.rps / peer.rps).toFixed(1)}×${t.peer === peer.key ? ' ²' : ''}`;
  return [
    `| target | req/s (median) | vs Unleash, 1 toggle | vs Unleash, ${OTHER_FLAGS + 1} toggles | p50 ms | p99 ms | server CPU µs/request | req/s of each round | requests |`,
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    ...targets.map(
      (t) =>
        `| ${t.name} | ${n(t.rps)} | ${ratio(t, one)} | ${ratio(t, ten)} | ${t.p50} | ${t.p99} | ${t.cpu.toFixed(0)} | ` +
        `${t.runs.map((x) => n(x.rps)).join(' / ')} | ${n(t.total)} |`,
    ),
    '',
    `${CONNECTIONS} connections, ${DURATION_S} s measured after a ${WARMUP_S} s warm-up (and ${FIRST_WARMUP_S} s per target before the first round), ` +
      `${ROUNDS} round${ROUNDS > 1 ? 's' : ''} alternating between the targets (median shown), loopback` +
      `${pinned ? ', both servers pinned to core 1 and autocannon to core 0 (`taskset`)' : ''}. ` +
      `Subject \`${subject.id}\`: not a beta id, inside Unleash's 10 % (${subject.rampartOn ? "and Rampart's" : "not Rampart's"}); ` +
      'every response was a 200; every body of the warm-ups and one after each measured run was checked to name the flag. ' +
      `² The like-for-like pairs: one flag (Rampart's \`/api/evaluate/:key\`; Unleash has no one-toggle endpoint, so a frontend token for an environment where only that toggle is on) ` +
      `and every flag for the subject (\`/api/flags\` and \`/api/frontend\` with the same ${OTHER_FLAGS + 1} flags).`,
    '',
    `Target: Rampart ≥ ${TARGET_RATIO}× Unleash's \`/api/frontend\` throughput at p99 ≤ ${TARGET_P99_MS} ms — ${verdicts.join('; ')}.`,
  ];
}

// ---------------------------------------------------------------- 3. change propagation

/**
 * Each client × change: the delay from sending the change to the client seeing it (clients map
 * what identifies a change, `idOf`, to when they saw it), the deliveries missing, client errors.
 */
function deliveries(clients, changes, idOf) {
  const lat = [];
  let missed = 0;
  for (const c of clients) {
    for (const ch of changes) {
      const at = c.seen.get(idOf(ch));
      if (at === undefined) missed++;
      else lat.push(at - ch.sent);
    }
  }
  return { lat, missed, errors: clients.reduce((s, c) => s + c.errors, 0) };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function propagationRampart(r, token) {
  log(`\n== 3a. Rampart streaming: ${RAMPART_CLIENTS} SDK clients, ${RAMPART_CHANGES} changes`);
  const fleet = startFleet();
  track(fleet.child);
  // A fleet process that has died never answers: do not wait for it longer than 5 s.
  const closeFleet = () => Promise.race([fleet.request({ type: 'close' }, 'closed').catch(() => {}), sleep(5000)]);
  cleanups.add(closeFleet);
  try {
    const t0 = performance.now();
    await fleet.request({ type: 'start', token, flag: KEY, clients: Array.from({ length: RAMPART_CLIENTS }, () => ({ url: r.url, replica: 'A' })) }, 'streaming');
    log(`${RAMPART_CLIENTS} clients streaming after ${(performance.now() - t0).toFixed(0)} ms`);
    await sleep(500);
    const changes = [];
    for (let n = 0; n < RAMPART_CHANGES; n++) {
      const sent = wallNow();
      const flag = await call(r.url, `Bearer ${ADMIN}`, 'PUT', `/api/admin/feature-flags/${KEY}`, { rolloutPercentage: 11 + n });
      if (!flag.changed) throw new Error('Rampart: the PUT changed nothing');
      changes.push({ version: flag.version, sent });
      await sleep(Math.max(0, RAMPART_SPACING_MS - (wallNow() - sent)));
    }
    const last = changes[changes.length - 1].version;
    let clients = [];
    const end = performance.now() + 5000;
    for (;;) {
      clients = (await fleet.request({ type: 'report' }, 'report')).clients.map((c) => ({ seen: new Map(c.seen), errors: c.errors }));
      if (clients.every((c) => c.seen.has(last)) || performance.now() > end) break;
      await sleep(100);
    }
    return deliveries(clients, changes, (ch) => ch.version);
  } finally {
    cleanups.delete(closeFleet);
    await closeFleet();
    await stop(fleet.child);
  }
}

async function propagationUnleash(u, unleashAdmin) {
  log(`\n== 3b. Unleash polling: ${UNLEASH_CLIENTS} unleash-client instances (default settings), ${UNLEASH_CHANGES} change(s)`);
  const backups = join(SCRATCH, 'client-backups');
  mkdirSync(backups, { recursive: true });
  const clients = [];
  const destroyAll = async () => {
    for (const c of clients) c.client.destroy();
  };
  cleanups.add(destroyAll);
  const rolloutOf = (features) => features?.find((f) => f.name === KEY)?.strategies?.find((s) => !s.constraints?.length)?.parameters?.rollout;
  try {
    // Starts spread evenly over one refresh interval, so the clients' polls are spread over it
    // as a fleet's are, not all in phase.
    const gap = UNLEASH_REFRESH_MS / UNLEASH_CLIENTS;
    for (let i = 0; i < UNLEASH_CLIENTS; i++) {
      const entry = { seen: new Map(), errors: 0 };
      entry.client = new Unleash({
        appName: 'rampart-bench-peers',
        url: `${u.url}/api/`,
        customHeaders: { Authorization: UNLEASH_BACKEND },
        backupPath: backups, // not os.tmpdir(), where the default would leave a file behind
        skipInstanceCountWarning: true,
      });
      entry.client.on('changed', (features) => {
        const rollout = rolloutOf(features);
        if (rollout !== undefined && !entry.seen.has(rollout)) entry.seen.set(rollout, wallNow());
      });
      entry.client.on('error', () => entry.errors++);
      entry.client.on('warn', () => {});
      clients.push(entry);
      await sleep(gap);
    }
    const waitAll = async (rollout, ms) => {
      const end = performance.now() + ms;
      while (!clients.every((c) => c.seen.has(rollout)) && performance.now() < end) await sleep(20);
    };
    await waitAll('10', 30_000);
    if (!clients.every((c) => c.seen.has('10'))) throw new Error('Unleash: not every client got the initial toggles');
    const changes = [];
    for (let n = 0; n < UNLEASH_CHANGES; n++) {
      await sleep(500 + Math.random() * 2000); // no fixed phase against the polls
      const rollout = String(11 + n);
      const sent = wallNow();
      await unleashAdmin.setRollout(rollout);
      // When the server's client API has the change (it refreshes its revision once a second).
      let serverAt;
      const pollEnd = performance.now() + 10_000;
      while (serverAt === undefined && performance.now() < pollEnd) {
        const res = await fetch(`${u.url}/api/client/features`, { headers: { authorization: UNLEASH_BACKEND } });
        if (rolloutOf((await res.json()).features) === rollout) serverAt = wallNow();
        else await sleep(25);
      }
      changes.push({ rollout, sent, server: serverAt === undefined ? NaN : serverAt - sent });
      log(`Unleash change ${n + 1}: rollout ${rollout} %, in the client API after ${(serverAt - sent).toFixed(0)} ms`);
      await waitAll(rollout, UNLEASH_REFRESH_MS + 15_000);
    }
    return { ...deliveries(clients, changes, (ch) => ch.rollout), server: changes.map((c) => c.server) };
  } finally {
    cleanups.delete(destroyAll);
    await destroyAll();
  }
}

function propagationTable(rampart, unleash) {
  const row = (name, how, clients, changes, res, unit) => {
    const s = [...res.lat].sort((a, b) => a - b);
    const f = (q) => (s.length ? (unit === 's' ? (quantile(s, q) / 1000).toFixed(2) : quantile(s, q).toFixed(1)) : '—');
    const max = s.length ? (unit === 's' ? (s[s.length - 1] / 1000).toFixed(2) : s[s.length - 1].toFixed(1)) : '—';
    return `| ${name} | ${how} | ${clients} | ${changes} | ${s.length} (${res.missed} missed) | ${f(0.5)} ${unit} | ${f(0.95)} ${unit} | ${f(0.99)} ${unit} | ${max} ${unit} |`;
  };
  const server = unleash.server.filter(Number.isFinite);
  return [
    '| system | how a change reaches the SDK | clients | changes | deliveries | p50 | p95 | p99 | max |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    row('Rampart (`@rampart/sdk`)', 'server-sent events stream (default)', RAMPART_CLIENTS, RAMPART_CHANGES, rampart, 'ms'),
    row(`Unleash (unleash-client ${repoVersion('unleash-client')} → unleash-server ${UNLEASH_VERSION})`, `polling, default \`refreshInterval\` ${UNLEASH_REFRESH_MS / 1000} s`, UNLEASH_CLIENTS, UNLEASH_CHANGES, unleash, 's'),
    '',
    `Each delivery: from just before the admin API call is sent to the client's \`changed\` event carrying the new rollout, on one clock shared by all processes. ` +
      `Rampart: ${RAMPART_CHANGES} changes of the flag's rollout percentage (\`PUT /api/admin/feature-flags/:key\`), ${RAMPART_SPACING_MS} ms apart, ` +
      `${RAMPART_CLIENTS} clients in one client process (\`bench/lib/sdk-fleet.mjs\`, \`reportExposures: false\`). ` +
      `Unleash: ${UNLEASH_CHANGES} change${UNLEASH_CHANGES > 1 ? 's' : ''} of the gradual rollout strategy's percentage ` +
      '(`PUT /api/admin/projects/default/features/:feature/environments/development/strategies/:id`), each after every client had the one before, ' +
      `${UNLEASH_CLIENTS} clients in this process with default settings (started ${(UNLEASH_REFRESH_MS / UNLEASH_CLIENTS / 1000).toFixed(2)} s apart so their polls are spread over the interval); ` +
      `the server's client API had each change after ${server.length ? server.map((x) => `${Math.round(x)}`).join(' / ') : '?'} ms (its revision check runs once a second). ` +
      `Client errors: Rampart ${rampart.errors}, Unleash ${unleash.errors}.`,
  ];
}

// ---------------------------------------------------------------- report

function replaceSection(doc, section, body) {
  const start = `<!-- ${section}:start -->`;
  const end = `<!-- ${section}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no ${start} … ${end} markers`);
  return `${doc.slice(0, from + start.length)}\n${body.trim()}\n${doc.slice(to)}`;
}

async function main() {
  const pgVersion = await checkPostgres();
  const unleashPkg = await ensureUnleashServer();
  const cpus = os.cpus();
  log(`peers: ${cpus[0]?.model.trim()}, ${cpus.length} cores, Node ${process.version}, ${pgVersion}, unleash-server ${unleashPkg.version}, load ${LOAD_AT_START.toFixed(2)}`);

  // 1. Before any server starts, unpinned, as `npm run bench` runs it.
  const evalResults = await inProcess();

  // 2 and 3: both servers side by side.
  pinSelf();
  const unleashDb = await scratchDatabase('rampart_peers_unleash');
  const rampartDb = await scratchDatabase('rampart_peers_rampart');
  log(`\nscratch databases ${unleashDb}, ${rampartDb}`);
  const u = await startUnleash(unleashDb);
  log(`unleash-server ${unleashPkg.version}: ${u.url} (pid ${u.child.pid})`);
  const r = await startRampart(rampartDb);
  log(`rampart: ${r.url} (pid ${r.child.pid})`);
  const token = await configureRampart(r);
  const unleashAdmin = await configureUnleash(u);
  // The frontend API answers from a cache refreshed on the server's revision changes: wait for it.
  const end = performance.now() + 30_000;
  const listed = async (token) => (await frontendToggles(u, BETA[0], token))?.includes(KEY);
  while (!(await listed(UNLEASH_FRONTEND)) || !(await listed(UNLEASH_FRONTEND_ONE))) {
    if (performance.now() > end) throw new Error(`unleash /api/frontend does not list ${KEY} 30 s after it was created`);
    await sleep(200);
  }
  const httpResults = await http(u, r, token);
  const rampartProp = await propagationRampart(r, token);
  const unleashProp = await propagationUnleash(u, unleashAdmin);

  const mem = Math.round(os.totalmem() / 2 ** 30);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const note = QUICK ? ' (with `--quick`: a smoke run, not comparable with full runs)' : '';
  const rampartVersion = JSON.parse(readFileSync(join(root, 'packages', 'server', 'package.json'), 'utf8')).version;
  const report = [
    `_Last run: ${when} UTC, command \`npm run bench:peers\`${note}._`,
    '',
    `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${mem} GiB RAM, ${os.platform()} ${os.arch()}; Node ${process.version}; ` +
      `${pgVersion} on loopback; 1-minute load average ${LOAD_AT_START.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
    '',
    `Versions: Rampart ${rampartVersion} (\`@rampart/core\`, \`@rampart/sdk\`, \`@rampart/server\` from this repo); ` +
      `unleash-server ${unleashPkg.version} (npm, in ${SCRATCH.replace(os.tmpdir(), '$TMPDIR')}; the newest release for Node 20: 7.6 and 8.x need Node ≥ 22), ` +
      `unleash-client ${repoVersion('unleash-client')}, @growthbook/growthbook ${repoVersion('@growthbook/growthbook')}, ` +
      `@launchdarkly/node-server-sdk ${repoVersion('@launchdarkly/node-server-sdk')}, @openfeature/flagd-core ${repoVersion('@openfeature/flagd-core')}, ` +
      `autocannon ${repoVersion('autocannon')}.`,
    '',
    'Commands: `npm run bench:peers` = `npm run build && node bench/peers.mjs`' + (QUICK ? ' `--quick`' : '') + ', which runs ' +
      '`node bench/core-eval.mjs --json` and `node bench/sdk-eval.mjs --workload=A --json` as children, then ' +
      '`node packages/server/bin/rampart.js serve` and `node node_modules/unleash-server/dist/server.js` (`NODE_ENV=production`, ' +
      '`INIT_*_API_TOKENS`, telemetry and version check off) on two scratch databases of that PostgreSQL.',
    '',
    '**1. In-process evaluation** (one flag, 10-id allowlist, 10 % rollout, a fresh context per call)',
    '',
    ...inProcessTable(evalResults),
    '',
    `**2. HTTP evaluation** (the same ${OTHER_FLAGS + 1} flags in both servers; in Unleash also an environment where only the benchmark's toggle is on)`,
    '',
    ...httpTable(httpResults),
    '',
    '**3. Change propagation** (a rollout change through the admin API → the SDK\'s `changed` event)',
    '',
    ...propagationTable(rampartProp, unleashProp),
  ].join('\n');
  process.stdout.write(report + '\n');
  if (!NO_WRITE) {
    writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'peers', report));
    log('\nwrote docs/benchmarks.md (peers section)');
  }
}

try {
  await main();
} catch (err) {
  if (!interrupted) {
    log(`\npeers: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  }
} finally {
  if (!interrupted) await runCleanups();
}
