// HTTP evaluation throughput: Rampart's GET /api/evaluate/:key and GET /api/flags against a
// bare Fastify route (the floor), on loopback, with autocannon, in the same run.
// Each server runs in its own process; autocannon runs in this one.
// stdout: the markdown report; stderr: progress.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuMicros, pinToCore } from './lib/proc.mjs';
import { stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const DURATION = quick ? 3 : 5;
const CONNECTIONS = 50;
const root = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = 'rpt_bench-admin-token-0123456789abcdefghij';

// On a machine this small the client and the server fight for the same cores, and where the
// scheduler happens to put them moves a run by ±40 %. With taskset, autocannon keeps core 0 and
// every server core 1, so all targets are measured under the same placement.
// Only with a core 1 for the servers.
const pinned = os.cpus().length >= 2 && pinToCore(process.pid, 0);

function startProcess(args, env, ready) {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = pinned ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = ready(out);
      if (found) resolve({ child, ...found });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited early (${code}): ${out}`)));
  });
}

async function load(name, url, headers, pid) {
  // A short warm-up so the JIT and caches settle before the measured run.
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers });
  // Not measured: JIT, caches and connections settle first.
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers });
  const cpu0 = cpuMicros(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  const cpuPerRequest = (cpuMicros(pid) - cpu0) / r.requests.total;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  console.error(`${name}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms, ${cpuPerRequest.toFixed(1)} µs CPU/request`);
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, cpu: cpuPerRequest };
}

const ROUNDS = quick ? 1 : 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-bench-'));
const runs = { floor: [], evaluate: [], flags: [] };
let floor;
let rampart;
try {
  // Both servers run side by side and the rounds alternate, so a noisy neighbour on a shared
  // machine slows both alike; each figure is the median of its rounds.
  floor = await startProcess(['bench/fixtures/bare-fastify.mjs'], {}, (out) => (/^(\d+)\n/.test(out) ? { port: Number(out.trim()) } : undefined));
  rampart = await startProcess(
    ['packages/server/bin/rampart.js', 'serve'],
    { PORT: '0', RAMPART_DATA_DIR: dataDir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', RAMPART_WATCHDOG_SCHEDULE: 'false' },
    (out) => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      return m ? { url: m[1] } : undefined;
    },
  );
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const post = async (path, body) => {
    const res = await fetch(rampart.url + path, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const beta = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
  await post('/api/admin/feature-flags', { key: 'passenger_favorites_matching', enabled: true, rolloutPercentage: 10, allowlist: beta });
  for (let i = 0; i < 9; i++) await post('/api/admin/feature-flags', { key: `other_flag_${i}`, enabled: true, rolloutPercentage: 50 });
  const { token } = await post('/api/admin/tokens', { name: 'bench', role: 'SDK' });
  const sdk = { authorization: `Bearer ${token}` };
  for (let round = 0; round < ROUNDS; round++) {
    runs.floor.push(await load('bare Fastify route (floor)', `http://127.0.0.1:${floor.port}/api/evaluate/passenger_favorites_matching?id=passenger-42`, {}, floor.child.pid));
    runs.evaluate.push(await load('Rampart GET /api/evaluate/:key', `${rampart.url}/api/evaluate/passenger_favorites_matching?id=passenger-42`, sdk, rampart.child.pid));
    runs.flags.push(await load('Rampart GET /api/flags (10 flags)', `${rampart.url}/api/flags?id=passenger-42`, sdk, rampart.child.pid));
  }
} finally {
  if (floor) await stop(floor.child);
  if (rampart) await stop(rampart.child);
  rmSync(dataDir, { recursive: true, force: true });
}
// Throughput on this shared 2-core VM swings by ±40 % from round to round, for the floor as much
// as for Rampart, so the table also gives the server's CPU time per request, which moves far less:
// "CPU vs floor" is the floor's cost divided by the target's (100 % = as cheap as the floor).
const summarize = (rs) => ({
  name: rs[0].name,
  rps: median(rs.map((r) => r.rps)),
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  total: rs.reduce((n, r) => n + r.total, 0),
  cpu: median(rs.map((r) => r.cpu)),
  all: rs.map((r) => Math.round(r.rps)),
});
const results = [summarize(runs.floor), summarize(runs.evaluate), summarize(runs.flags)];
const [floorResult] = results;

const version = (pkg) => JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
    `Fastify ${version('fastify')}, autocannon ${version('autocannon')}. ` +
    `${CONNECTIONS} connections, ${DURATION} s per run after a 2 s warm-up, ${ROUNDS} alternating rounds (median shown), loopback; servers in their own processes` +
    (pinned ? ' pinned to core 1, autocannon on core 0 (taskset), ' : ', ') +
    `Rampart with its default settings (embedded PGlite, an SDK token, no rate limit on evaluation), the flag config served from memory.`,
  '',
  '| target | req/s (median) | vs floor | server CPU µs/request (median) | CPU vs floor | p50 ms | p99 ms | req/s of each round | requests |',
  '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${Math.round((r.rps / floorResult.rps) * 100)} % | ${r.cpu.toFixed(1)} | ${Math.round((floorResult.cpu / r.cpu) * 100)} % | ${r.p50} | ${r.p99} | ${r.all.map((x) => x.toLocaleString('en-US')).join(' / ')} | ${r.total.toLocaleString('en-US')} |`,
  ),
];
process.stdout.write(lines.join('\n') + '\n');
