// SDK memory: the heap one `@rampart/sdk` client uses for 10 000 flags, each with a 10-id
// allowlist, loaded from a bootstrap config.
//
// The bootstrap is handed over as JSON text (what a file or an environment variable holds), so
// every string the client keeps is its own; the text itself is allocated before the first
// measurement and stays alive until the last, so it is in every reading and in no difference.
// Readings are `process.memoryUsage().heapUsed` after two full garbage collections: before the
// client, after `createClient` + `ready`, and after evaluating each flag once (which prepares
// each flag for the evaluator: the allowlist as a Set, the salt's SHA-256 midstate, a bucket
// cache; with exposure reporting on, one per-minute exposure counter per flag as well). The
// client makes no network request: streaming off, `pollIntervalMs: 0`, metrics sent through an
// in-process `fetch`. Measured in the same process with exposure reporting on (the default) and
// off, after a discarded warm-up round.
//
// Then `@rampart/core`'s bucket cache alone: one evaluator (default options, as the SDK and the
// server create it), 200 flags × the same 10 000 active subjects, each pair evaluated twice
// (so every flag's cache is past its trial window and active), heap above the reading before.
//
// Usage: node bench/sdk-memory.mjs [--quick]   (re-runs itself under `node --expose-gc`;
// --quick changes nothing here: the run takes about a second)
// stdout: the markdown report; stderr: progress.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { createClient } = await import('../packages/sdk/dist/index.js');
const { DEFAULT_BUCKET_CACHE_SIZE, createEvaluator } = await import('@rampart/core');
const FLAGS = 10_000;
const ALLOWLIST = 10;
const MiB = 1024 * 1024;
const log = (...args) => console.error(...args);
const mib = (b) => (b / MiB).toFixed(1);

function heap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// Realistic, distinct keys and ids (no string shared between flags).
const flags = Array.from({ length: FLAGS }, (_, i) => ({
  key: `team_${i % 40}_feature_${String(i).padStart(5, '0')}`,
  enabled: i % 10 !== 0,
  rolloutBasisPoints: (i * 37) % 10_001,
  allowlist: Array.from({ length: ALLOWLIST }, (_, j) => `user_${String(i).padStart(5, '0')}_${String(j).padStart(2, '0')}_beta`),
  salt: `team_${i % 40}_feature_${String(i).padStart(5, '0')}`,
  stickiness: 'id',
  version: 1 + (i % 7),
}));
const keys = flags.map((f) => f.key);
let text = JSON.stringify({ etag: '"b"', specVersion: 1, hashVersion: 'sha256-v1', flags });
flags.length = 0;

async function measure(reportExposures) {
  const before = heap();
  let client = createClient({
    url: 'http://127.0.0.1:9',
    token: 'rpt_bench-sdk-token-offline',
    bootstrap: text,
    streaming: false,
    pollIntervalMs: 0,
    flushIntervalMs: 3_600_000,
    reportExposures,
    env: {},
    fetch: async () => new Response('{"accepted":0}', { status: 202 }),
  });
  await client.ready;
  if (client.keys().length !== FLAGS) throw new Error(`the client holds ${client.keys().length} flags, not ${FLAGS}`);
  const loaded = heap();
  let on = 0;
  for (let i = 0; i < keys.length; i++) if (client.evaluate(keys[i], { id: `subject-${i}` }).value) on++;
  const evaluated = heap();
  const pending = client.status().metrics.pending;
  log(`reportExposures ${reportExposures}: ${on} of ${FLAGS} on, ${pending} pending aggregates`);
  await client.close();
  client = undefined;
  await new Promise((resolve) => setTimeout(resolve, 100)); // let close()'s promise chains settle
  const after = heap();
  return { reportExposures, before, loaded, evaluated, after, pending };
}

// A first, discarded round fills what is process-wide rather than per client (core's shared
// rollout results, at most 20 000 small frozen objects; compiled code), so that neither measured
// client is charged for it.
const warmup = await measure(true);
log(`warm-up round: ${mib(warmup.after - warmup.before)} MiB stays process-wide after the client is gone`);
const results = [await measure(true), await measure(false)];
const textBytes = Buffer.byteLength(text);
text = undefined;

// ---- @rampart/core's bucket cache: 200 flags × 10 000 active subjects
const CACHE_FLAGS = 200;
const CACHE_IDS = 10_000;
const cacheFlags = Array.from({ length: CACHE_FLAGS }, (_, i) => ({ key: `cache_flag_${i}`, enabled: true, rolloutBasisPoints: 5000, allowlist: [] }));
const cacheIds = Array.from({ length: CACHE_IDS }, (_, i) => `active-subject-${i}`);
const cacheBefore = heap();
let ev = createEvaluator();
for (let round = 0; round < 2; round++) for (const flag of cacheFlags) for (const id of cacheIds) ev.evaluate(flag, { id });
const cacheHeap = heap() - cacheBefore;
const cached = ev.cachedBuckets();
ev = undefined;
log(`bucket cache: ${mib(cacheHeap)} MiB, ${cached} buckets cached`);

const perFlag = (b) => Math.round(b / FLAGS).toLocaleString('en-US');
const rows = [];
for (const r of results) {
  const label = r.reportExposures ? 'exposures on (default)' : '`reportExposures: false`';
  rows.push(`| ${label} | after \`createClient\` + \`ready\` | ${mib(r.loaded - r.before)} | ${perFlag(r.loaded - r.before)} |`);
  rows.push(`| ${label} | after evaluating each flag once | ${mib(r.evaluated - r.before)} | ${perFlag(r.evaluated - r.before)} |`);
}
const cpus = os.cpus();
const out = [
  `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}. ` +
    `${FLAGS.toLocaleString('en-US')} flags with ${ALLOWLIST} allowlisted ids each, bootstrap JSON text of ${mib(textBytes)} MiB ` +
    `(${Math.round(textBytes / FLAGS)} bytes/flag), alive during every reading. Each figure: heap used above the reading just before ` +
    `that client was created (after GC; ${mib(results[0].before)} MiB before the first), after a discarded warm-up round that leaves ` +
    `${mib(warmup.after - warmup.before)} MiB of process-wide state behind (\`@rampart/core\`'s shared rollout results, at most 20 000 small frozen objects, and compiled code).`,
  '',
  '| client | reading | heap MiB | bytes/flag |',
  '|---|---|---:|---:|',
  ...rows,
  '',
  `After \`close()\` and dropping the client the heap is back within ${Math.max(...results.map((r) => Math.abs(r.after - r.before) / 1024)).toFixed(0)} KiB ` +
    'of the reading before it (both clients): nothing stays behind per client.',
  '',
  `\`@rampart/core\`'s bucket cache alone: one \`createEvaluator()\` (default \`bucketCacheSize\`, ${DEFAULT_BUCKET_CACHE_SIZE.toLocaleString('en-US')} ` +
    `entries shared by every flag), ${CACHE_FLAGS} flags × the same ${CACHE_IDS.toLocaleString('en-US')} active subjects, each pair evaluated twice: ` +
    `${mib(cacheHeap)} MiB of heap above the reading before it, ${cached.toLocaleString('en-US')} buckets cached.`,
];
console.log(out.join('\n'));
