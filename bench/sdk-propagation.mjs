// SDK change propagation: how long a flag change takes to reach streaming SDK clients.
//
// Two Rampart server processes (replicas A and B) on one scratch PostgreSQL database, 1 000
// `@rampart/sdk` clients (500 streaming from A, 500 from B, `reportExposures: false`) in
// `--procs=N` client processes (default 1; bench/lib/sdk-fleet.mjs), each holding 1 000 / N of
// them, half on each replica. After 3 warm-up changes (the first is reported on its own), 20 changes of one flag's rollout percentage, `PUT /api/admin/feature-flags/:key`
// through replica A, 300 ms apart. For every change and every client: the time from the change's
// commit (the issue's definition; observed as the earlier of the PUT's answer and the NOTIFY
// reaching this process's own LISTEN connection) to the client's `changed` event for the version
// the PUT returned; and, as a second figure, from just before the PUT is sent. Clients on A
// hear of the change from A itself (right after its commit); clients on B through PostgreSQL
// LISTEN/NOTIFY and B's reload of the config. Everything runs on one machine (loopback), and
// the clients of a process share its single event loop, so the tail includes the time a client
// process takes to read, parse and install its copies of the config one after the other. Times
// are taken on one clock shared by every process of the machine (`performance.timeOrigin +
// performance.now()`): the PUT in this process, the `changed` events in the client processes.
//
// Usage: node bench/sdk-propagation.mjs [--quick] [--procs=N] [--no-pin]   (--quick: 200 clients, 5 changes;
// --no-pin: leave the replicas and client processes where the scheduler puts them)
// stdout: the markdown report; stderr: progress. PostgreSQL: a scratch database
// rampart_bench_prop_<pid> on PGHOST_URL (default postgres://postgres@127.0.0.1:5432), dropped at
// the end, also on failure.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMicros, pinToCore } from './lib/proc.mjs';
import { startFleet, wallNow } from './lib/sdk-fleet.mjs';
import pg from 'pg';
import { ADMIN, PG_BASE, adminSql, cleanupOnSignals, cleanups, runCleanups, startServer, stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const CLIENTS = quick ? 200 : 1000;
const CHANGES = quick ? 5 : 20;
const PIN = !process.argv.includes('--no-pin');
const PROCS = Math.max(1, Number(process.argv.find((a) => a.startsWith('--procs='))?.slice('--procs='.length) ?? 1));
const SPACING_MS = 300;
// Changes made and delivered before the measured ones: the first change after the clients
// connect runs cold code in every process (the SDK's install and events, the servers' push and
// reload paths) and is reported on its own line, as every other benchmark here warms up first.
const WARMUP_CHANGES = 3;
const SETTLE_MS = 2000;
const TARGET_P99_MS = 50;
const FLAG = 'bench_propagation_flag';
const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg()[0];
cleanupOnSignals();

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function admin(url, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const cpuMs = (pid) => cpuMicros(pid) / 1000;

/** `promise`, or a rejection after `ms`. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let pgVersion = '';
const clients = [];
const fleets = [];
try {
  pgVersion = (await adminSql('select version() as v'))[0].v.split(' on ')[0];
  const name = `rampart_bench_prop_${process.pid}`;
  await adminSql(`drop database if exists ${name}`);
  await adminSql(`create database ${name}`);
  cleanups.add(() => adminSql(`drop database if exists ${name} with (force)`));
  const env = { ...process.env, DATABASE_URL: `${PG_BASE}/${name}`, RAMPART_WATCHDOG_SCHEDULE: 'false' };
  // The commit of each change, observed as the earliest of two signals that both follow it: the
  // PUT's answer, and the change's NOTIFY reaching this process's own LISTEN connection (as it
  // reaches replica B's). PostgreSQL delivers a NOTIFY at commit.
  const listener = new pg.Client({ connectionString: env.DATABASE_URL });
  await listener.connect();
  cleanups.add(() => listener.end());
  const heard = new Map();
  listener.on('notification', (msg) => {
    const at = wallNow();
    try {
      const e = JSON.parse(msg.payload ?? '');
      if (e.kind === 'flag' && e.key === FLAG && !heard.has(e.version)) heard.set(e.version, at);
    } catch {
      /* not ours */
    }
  });
  await listener.query('LISTEN rampart_changes');

  // One after the other: the first applies the migrations.
  const servers = {};
  for (const replica of ['A', 'B']) {
    const s = await startServer(env);
    servers[replica] = s;
    cleanups.add(() => stop(s.child));
    log(`replica ${replica}: ${s.url} (pid ${s.child.pid})`);
  }
  // The replicas share core 1 and the client processes get core 0 (PostgreSQL and this process
  // float): left to the scheduler, a replica's write loop and the clients' reads preempt each
  // other, and the tail moves by tens of ms from run to run (docs/benchmarks.md).
  const pinned = PIN && pinToCore(servers.A.child.pid, 1) && pinToCore(servers.B.child.pid, 1);
  const A = servers.A.url;
  await admin(A, 'POST', '/api/admin/feature-flags', { key: FLAG, enabled: true, rolloutPercentage: 10 });
  const { token } = await admin(A, 'POST', '/api/admin/tokens', { name: 'bench-propagation', role: 'SDK' });

  // ---- connect the clients: PROCS client processes, each with half its clients on each replica
  const t0 = performance.now();
  for (let p = 0; p < PROCS; p++) fleets.push(startFleet());
  if (pinned) for (const f of fleets) pinToCore(f.child.pid, 0);
  const shares = fleets.map(() => []);
  for (let i = 0; i < CLIENTS; i++) {
    const replica = i < CLIENTS / 2 ? 'A' : 'B';
    shares[i % PROCS].push({ url: servers[replica].url, replica });
  }
  const streaming = Promise.all(fleets.map((f, p) => f.request({ type: 'start', token, flag: FLAG, clients: shares[p] }, 'streaming')));
  await within(streaming, 60_000, 'every client to stream');
  const connectMs = performance.now() - t0;
  log(`${CLIENTS} clients in ${PROCS} process(es) streaming after ${connectMs.toFixed(0)} ms`);
  await sleep(500);

  // ---- warm-up: a few changes, each waited for until every client has it
  const fleetReport = async () => {
    const all = [];
    for (const f of fleets) all.push(...(await f.request({ type: 'report' }, 'report')).clients);
    return all.map((c) => ({ replica: c.replica, seen: new Map(c.seen), errors: c.errors }));
  };
  /** The fleets' report once every client has `version`, or the last one after `ms`. */
  const untilAllSeen = async (version, ms, pollMs) => {
    const end = performance.now() + ms;
    for (;;) {
      const got = await fleetReport();
      if (got.every((c) => c.seen.has(version))) return got;
      if (performance.now() > end) {
        log(`not every client saw version ${version} ${ms} ms after it`);
        return got;
      }
      await sleep(pollMs);
    }
  };
  const cold = [];
  for (let n = 0; n < WARMUP_CHANGES; n++) {
    const flag = await admin(A, 'PUT', `/api/admin/feature-flags/${FLAG}`, { rolloutPercentage: 50 + n });
    const answered = wallNow();
    const got = await untilAllSeen(flag.version, 10_000, 50);
    const committed = Math.min(answered, heard.get(flag.version) ?? Infinity);
    if (n === 0) for (const c of got) if (c.seen.has(flag.version)) cold.push(c.seen.get(flag.version) - committed);
    await sleep(SPACING_MS);
  }
  // The replicas' PostgreSQL connections join them on core 1 once their pools are open (after the
  // warm-up): in production the clients run on other machines, and on this one they keep core 0 to
  // themselves. The benchmark's own LISTEN connection stays unpinned, with this process: both
  // observe the commit, and slowing them would flatter the figures.
  let pgPinned = 0;
  if (pinned) {
    const own = (await listener.query('select pg_backend_pid() as pid')).rows[0].pid;
    const { rows } = await listener.query('select pid from pg_stat_activity where datname = current_database() and pid <> $1', [own]);
    for (const r of rows) if (pinToCore(r.pid, 1)) pgPinned++;
    log(`pinned ${pgPinned} of ${rows.length} PostgreSQL backends of the replicas to core 1`);
  }
  cold.sort((a, b) => a - b);
  log(`warm-up: ${WARMUP_CHANGES} changes; the first (cold) reached ${cold.length} clients, p50 ${quantile(cold, 0.5)?.toFixed(1)} ms, max ${cold.at(-1)?.toFixed(1)} ms`);

  // ---- the changes
  const fleetCpu = () => fleets.reduce((sum, f) => sum + cpuMs(f.child.pid), 0);
  const cpu0 = { bench: fleetCpu(), A: cpuMs(servers.A.child.pid), B: cpuMs(servers.B.child.pid) };
  const changes = [];
  for (let n = 0; n < CHANGES; n++) {
    const pct = 11 + n; // every change a different percentage, so every PUT writes a new version
    const sent = wallNow();
    const flag = await admin(A, 'PUT', `/api/admin/feature-flags/${FLAG}`, { rolloutPercentage: pct });
    const answered = wallNow();
    if (!flag.changed) throw new Error(`PUT ${pct} %: the server says nothing changed`);
    changes.push({ version: flag.version, sent, answered });
    await sleep(Math.max(0, SPACING_MS - (wallNow() - sent)));
  }
  const last = changes[changes.length - 1].version;
  clients.push(...(await untilAllSeen(last, SETTLE_MS, 100)));
  const benchCpu = fleetCpu() - cpu0.bench;
  // CPU per change (ms), for where the fan-out's time goes; includes the 15 s heartbeats and idle timers.
  const cpuPerChange = {
    bench: benchCpu / CHANGES,
    A: (cpuMs(servers.A.child.pid) - cpu0.A) / CHANGES,
    B: (cpuMs(servers.B.child.pid) - cpu0.B) / CHANGES,
  };
  log(`CPU per change: client processes ${cpuPerChange.bench.toFixed(1)} ms, replica A ${cpuPerChange.A.toFixed(1)} ms, replica B ${cpuPerChange.B.toFixed(1)} ms`);

  // ---- results
  // From the commit (the target's definition), and from just before the PUT was sent.
  const committedAt = (ch) => Math.min(ch.answered, heard.get(ch.version) ?? Infinity);
  const lat = { A: [], B: [], all: [] };
  const fromSent = [];
  let missed = 0;
  let complete = 0;
  for (const c of clients) {
    let all = true;
    for (const ch of changes) {
      const at = c.seen.get(ch.version);
      if (at === undefined) {
        all = false;
        missed++;
        continue;
      }
      const ms = at - committedAt(ch);
      lat[c.replica].push(ms);
      lat.all.push(ms);
      fromSent.push(at - ch.sent);
    }
    if (all) complete++;
  }
  const put = changes.map((c) => c.answered - c.sent).sort((a, b) => a - b);
  const commitSeen = changes.map((c) => committedAt(c) - c.sent);
  const byNotify = changes.filter((c) => (heard.get(c.version) ?? Infinity) < c.answered).length;
  // Per change and replica: the first client's delivery (the server's path: commit, notify,
  // reload, write) and the last one's (plus the fan-out: the replica writing to each socket and
  // this process reading, parsing and installing one copy after the other).
  const firstLast = { A: { first: [], last: [] }, B: { first: [], last: [] } };
  for (const ch of changes) {
    for (const replica of ['A', 'B']) {
      const times = clients.filter((c) => c.replica === replica).map((c) => c.seen.get(ch.version)).filter((t) => t !== undefined);
      if (!times.length) continue;
      firstLast[replica].first.push(Math.min(...times) - committedAt(ch));
      firstLast[replica].last.push(Math.max(...times) - committedAt(ch));
    }
  }
  // Each change on stderr, so a tail can be traced to the changes that make it.
  changes.forEach((ch, i) => {
    const f = (xs) => (xs[i] === undefined ? '—' : xs[i].toFixed(1));
    log(`change ${i + 1} (v${ch.version}): PUT ${(ch.answered - ch.sent).toFixed(1)} ms, commit seen ${(committedAt(ch) - ch.sent).toFixed(1)} ms after sending; from it, A first/last ${f(firstLast.A.first)}/${f(firstLast.A.last)} ms; B first/last ${f(firstLast.B.first)}/${f(firstLast.B.last)} ms`);
  });
  const med = (xs) => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5).toFixed(1) : '—');
  const mx = (xs) => (xs.length ? Math.max(...xs).toFixed(1) : '—');
  const errors = clients.reduce((n, c) => n + c.errors, 0);
  log(`deliveries: ${lat.all.length} of ${CLIENTS * CHANGES}, ${missed} missed, ${errors} client errors; PUT round trip p50 ${quantile(put, 0.5).toFixed(1)} ms`);

  const row = (label, xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const f = (q) => (s.length ? quantile(s, q).toFixed(1) : '—');
    return `| ${label} | ${s.length.toLocaleString('en-US')} | ${f(0.5)} | ${f(0.95)} | ${f(0.99)} | ${s.length ? s[s.length - 1].toFixed(1) : '—'} |`;
  };
  const p99 = quantile([...lat.all].sort((a, b) => a - b), 0.99);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${pgVersion} on the same machine (loopback); ` +
      `1-minute load average at the start ${LOAD_AT_START.toFixed(1)}. Two Rampart server processes on one PostgreSQL database ` +
      `(default settings, watchdog schedule off)${pinned ? ', both replicas pinned to core 1 and the client process' + (PROCS === 1 ? '' : 'es') + ` to core 0 (\`taskset\`; ${pgPinned ? `the replicas' ${pgPinned} PostgreSQL backends on core 1 too, the rest of PostgreSQL and the benchmark process unpinned` : 'PostgreSQL unpinned'})` : ', no process pinned'}; ${CLIENTS.toLocaleString('en-US')} SDK clients in ${PROCS === 1 ? 'one client process' : `${PROCS} client processes of ${CLIENTS / PROCS} each`} ` +
      `(${CLIENTS / 2} streaming from each replica, \`reportExposures: false\`, the SDK's Node stream transport over node:http), all streaming after ${(connectMs / 1000).toFixed(1)} s; ` +
      'the PUTs are sent from the benchmark process, and times are read on one clock shared by all processes. ' +
      `${CHANGES} changes of one flag's rollout percentage through replica A, ${SPACING_MS} ms apart; ` +
      `each delivery: from the change's commit to the client's \`changed\` event for that version. The commit is observed as the earlier of two ` +
      `signals that both follow it: the PUT's answer, and the change's NOTIFY reaching a LISTEN connection of the benchmark process (the earlier one ` +
      `for ${byNotify} of ${CHANGES} changes). The last row counts from just before the PUT is sent instead, the write's own round trip included ` +
      `(p50 ${quantile(put, 0.5).toFixed(1)} ms, max ${put[put.length - 1].toFixed(1)} ms).`,
    '',
    '| clients | deliveries | p50 ms | p95 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|',
    row(`on replica A (the one written to), ${CLIENTS / 2}`, lat.A),
    row(`on replica B (hears through LISTEN/NOTIFY), ${CLIENTS / 2}`, lat.B),
    row(`all ${CLIENTS.toLocaleString('en-US')}`, lat.all),
    row(`all ${CLIENTS.toLocaleString('en-US')}, from just before the PUT is sent`, fromSent),
    '',
    `Where the time goes, per change (the ${CHANGES} changes): the first client of a replica to have a change measures the server's path ` +
      '(commit, notification, reload, first write); the gap to the last one is the fan-out, i.e. the replica writing to each stream and the ' +
      'client processes reading, parsing and installing one copy after the other.',
    '',
    '| per change (from the commit, except the first two lines) | median ms | max ms |',
    '|---|---:|---:|',
    `| PUT answered (through A), from sending it | ${med(put)} | ${mx(put)} |`,
    `| commit observed, from sending the PUT | ${med(commitSeen)} | ${mx(commitSeen)} |`,
    `| first client on A | ${med(firstLast.A.first)} | ${mx(firstLast.A.first)} |`,
    `| last client on A | ${med(firstLast.A.last)} | ${mx(firstLast.A.last)} |`,
    `| first client on B | ${med(firstLast.B.first)} | ${mx(firstLast.B.first)} |`,
    `| last client on B | ${med(firstLast.B.last)} | ${mx(firstLast.B.last)} |`,
    '',
    `CPU time per change: ${cpuPerChange.bench.toFixed(0)} ms in the client process${PROCS === 1 ? '' : 'es'} (the ${CLIENTS.toLocaleString('en-US')} clients' streams), ` +
      `${cpuPerChange.A.toFixed(0)} ms in replica A (the PUT, the reload, ${CLIENTS / 2} writes), ${cpuPerChange.B.toFixed(0)} ms in replica B ` +
      `(the reload, ${CLIENTS / 2} writes): ${(cpuPerChange.bench + cpuPerChange.A + cpuPerChange.B).toFixed(0)} ms of CPU for every change on ${os.cpus().length} cores.`,
    '',
    `Clients that saw every one of the ${CHANGES} changes: ${complete.toLocaleString('en-US')} of ${CLIENTS.toLocaleString('en-US')} ` +
      `(${((complete / CLIENTS) * 100).toFixed(1)} %); deliveries missing ${SETTLE_MS / 1000} s after the last change: ${missed}.`,
    '',
    `Comparison (documented, not measured): Unleash's Node SDK polls every 15 s by default (\`refreshInterval = 15 * 1000\` in unleash-client 6.12.1), ` +
      'so a change reaches a service after 0–15 s, 7.5 s on average, plus the Unleash server\'s own caching.',
    '',
    `Not counted above: ${WARMUP_CHANGES} warm-up changes made first, each waited for until every client had it. The first of them, the first change the processes ` +
      `handle (cold code paths in the SDK and the servers), reached ${cold.length.toLocaleString('en-US')} clients with p50 ${quantile(cold, 0.5)?.toFixed(1)} ms, ` +
      `p99 ${quantile(cold, 0.99)?.toFixed(1)} ms, max ${cold.at(-1)?.toFixed(1)} ms.`,
    '',
    `Target: p99 ≤ ${TARGET_P99_MS} ms — ${p99 <= TARGET_P99_MS ? 'met' : 'not met'} (${p99.toFixed(1)} ms).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await Promise.all(fleets.map((f) => within(f.request({ type: 'close' }, 'closed'), 10_000, 'the clients to close').catch(() => f.child.kill())));
  await runCleanups();
}
