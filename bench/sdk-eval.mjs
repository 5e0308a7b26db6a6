// SDK evaluation benchmark: `client.evaluate` of @rampart/sdk (its public API, built from
// packages/sdk/dist) beside packages/core's `createEvaluator().evaluate` in the same process and
// run, with core-eval's workload and loop shape.
//
// Workload A: one flag, a 10-id allowlist, a 10 % rollout, 1 000 000 distinct subject ids
// (pre-generated), a fresh context object per call. Workload B: 10 000 active subjects evaluated
// 1 000 000 times. The SDK client is built from a `bootstrap` config and never touches the
// network: streaming off and `pollIntervalMs: 0` (no sync at all), metrics flushed once an hour
// through an in-process `fetch` that answers 202 (so `close()` sends nothing anywhere either).
// It is measured with exposure reporting on (the default: one per-minute counter per evaluation)
// and off, each configuration in its own child process next to its own core evaluator (see the
// harness below). Each line is the median of 5 passes after warming up.
//
// Usage: node bench/sdk-eval.mjs [--quick] [--workload=A|B] [--json]
//   --quick: 200 000 evaluations per pass; --workload: only that workload's configurations;
//   --json: the results as one JSON object instead of the report (bench/peers.mjs uses it).
// stdout: the markdown report (bench/run.mjs copies it into docs/benchmarks.md); stderr: progress.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createEvaluator } from '@rampart/core';
import { createClient } from '../packages/sdk/dist/index.js';

const QUICK = process.argv.includes('--quick');
const N = QUICK ? 200_000 : 1_000_000;
const ACTIVE = 10_000;
const PASSES = 5;
const TARGET = 0.1;
const KEY = 'passenger_favorites_matching';
const ALLOWLIST = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
const ids = Array.from({ length: N }, (_, i) => `user-${i}`);
const sanityIds = Array.from({ length: 20_000 }, (_, i) => `sanity-${i}`);
const log = (...args) => console.error(...args);

const BOOTSTRAP = {
  etag: '"b"',
  specVersion: 1,
  hashVersion: 'sha256-v1',
  flags: [{ key: KEY, enabled: true, rolloutBasisPoints: 1000, allowlist: ALLOWLIST, salt: KEY, stickiness: 'id', version: 1 }],
};

/** Stands in for the network: every metrics POST is accepted, nothing leaves the process. */
let posts = 0;
const offlineFetch = async () => {
  posts++;
  return new Response('{"accepted":0}', { status: 202, headers: { 'content-type': 'application/json' } });
};

async function sdkClient(reportExposures) {
  const client = createClient({
    url: 'http://127.0.0.1:9',
    token: 'rpt_bench-sdk-token-offline',
    bootstrap: BOOTSTRAP,
    streaming: false,
    pollIntervalMs: 0,
    flushIntervalMs: 3_600_000,
    reportExposures,
    fetch: offlineFetch,
  });
  client.on('error', (err) => log('sdk error:', err instanceof Error ? err.message : err));
  await client.ready;
  return client;
}

// ---- Implementations. Each `pass` is its own loop (not a shared loop calling a callback), so
// every implementation gets a monomorphic call site and a fresh `{ ... }` context per call.

function core(active) {
  const ev = createEvaluator();
  const flag = { key: KEY, enabled: true, rolloutBasisPoints: 1000, allowlist: ALLOWLIST };
  return {
    check: (id) => ev.evaluate(flag, { id }).value,
    pass: active
      ? () => {
          let on = 0;
          for (let i = 0; i < N; i++) if (ev.evaluate(flag, { id: ids[i % ACTIVE] }).value) on++;
          return on;
        }
      : () => {
          let on = 0;
          for (let i = 0; i < N; i++) if (ev.evaluate(flag, { id: ids[i] }).value) on++;
          return on;
        },
  };
}

async function sdk(active, reportExposures) {
  const client = await sdkClient(reportExposures);
  return {
    check: (id) => client.evaluate(KEY, { id }).value,
    pass: active
      ? () => {
          let on = 0;
          for (let i = 0; i < N; i++) if (client.evaluate(KEY, { id: ids[i % ACTIVE] }).value) on++;
          return on;
        }
      : () => {
          let on = 0;
          for (let i = 0; i < N; i++) if (client.evaluate(KEY, { id: ids[i] }).value) on++;
          return on;
        },
    close: () => client.close(),
  };
}

// ---- Harness
//
// Each SDK configuration runs in its own child process beside its own core evaluator, as a
// service would run it: one client per process. (With several clients in one process, the one
// call site inside `client.evaluate` that calls the evaluator sees several evaluator closures
// and V8 stops inlining it, which would charge the SDK for the harness.) Within a child, core's
// and the SDK's passes alternate, so background load hits both alike; "vs core" compares each
// SDK line with the core measured in the same process.

const ONLY_WORKLOAD = process.argv.find((a) => a.startsWith('--workload='))?.slice('--workload='.length);
const CONFIGS = [
  { workload: 'A', exposures: true },
  { workload: 'A', exposures: false },
  { workload: 'B', exposures: true },
  { workload: 'B', exposures: false },
].filter((c) => !ONLY_WORKLOAD || c.workload === ONLY_WORKLOAD);

function sanity(impl) {
  let allowed = 0;
  for (const id of ALLOWLIST) if (impl.check(id)) allowed++;
  let on = 0;
  for (const id of sanityIds) if (impl.check(id)) on++;
  return { allowed, share: on / sanityIds.length };
}

function timePass(impl) {
  const t0 = performance.now();
  const on = impl.pass();
  return { ns: ((performance.now() - t0) * 1e6) / N, on };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtOps = (ops) => (ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M` : `${(ops / 1e3).toFixed(0)} k`);

/** Child: core and one SDK client for one workload; prints the samples as JSON. */
async function child(workload, exposures) {
  const active = workload === 'B';
  const label = `${workload} sdk exposures ${exposures ? 'on' : 'off'}`;
  const entries = [
    { name: `${workload} core`, impl: core(active) },
    { name: label, impl: await sdk(active, exposures) },
  ];
  for (const entry of entries) {
    entry.sanity = sanity(entry.impl);
    const s = entry.sanity;
    log(`sanity ${entry.name}: allowlist ${s.allowed}/10 on, ${(s.share * 100).toFixed(2)} % of random ids on`);
    if (s.allowed !== 10 || s.share < 0.08 || s.share > 0.12) throw new Error(`${entry.name} fails the sanity check; refusing to time an error path`);
    // The sanity check's 20 000 distinct ids make the bucket cache rest for its next 640 000
    // lookups; warm up for at least 1 000 000 evaluations so that every timed pass is past that.
    let warm;
    for (let done = 0; done < 1_000_000; done += N) warm = timePass(entry.impl);
    log(`warm-up ${entry.name}: ${warm.ns.toFixed(0)} ns/eval (${((warm.on / N) * 100).toFixed(2)} % on)`);
    entry.on = warm.on;
    entry.samples = [];
  }
  for (let p = 0; p < PASSES; p++) {
    for (const entry of entries) {
      const r = timePass(entry.impl);
      if (r.on !== entry.on) throw new Error(`${entry.name}: ${r.on} on in pass ${p + 1}, ${entry.on} in the warm-up`);
      entry.samples.push(r.ns);
      log(`pass ${p + 1} ${entry.name}: ${r.ns.toFixed(0)} ns/eval`);
    }
  }
  await entries[1].impl.close();
  if (exposures && posts === 0) throw new Error('the reporting client sent no exposures at close');
  const [c, k] = entries;
  console.log(JSON.stringify({ core: c.samples, coreSanity: c.sanity, sdk: k.samples, sdkSanity: k.sanity }));
}

function runChild(config) {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), `--child=${config.workload}:${config.exposures ? 'on' : 'off'}`, ...process.argv.slice(2)];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${args.slice(1).join(' ')} exited with code ${code}`))));
  });
}

async function main() {
  log(`sdk-eval: ${N} evaluations per pass, ${PASSES} passes after a warm-up, one child process per SDK configuration`);
  const results = [];
  for (const config of CONFIGS) results.push({ ...config, ...(await runChild(config)) });
  if (process.argv.includes('--json')) {
    // Per configuration: the medians, and the SDK's overhead over the core of its own process
    // (median over the pass pairs, as in the report).
    const json = results.map((r) => ({
      ...r,
      coreMedian: median(r.core),
      sdkMedian: median(r.sdk),
      over: median(r.sdk.map((x, i) => x / r.core[i] - 1)),
    }));
    console.log(JSON.stringify({ n: N, passes: PASSES, results: json }));
    return;
  }

  const sanityText = (s) => `${s.allowed}/10, ${(s.share * 100).toFixed(1)} %`;
  const rows = [];
  const verdicts = [];
  for (const workload of ['A', 'B'].filter((w) => results.some((r) => r.workload === w))) {
    const group = results.filter((r) => r.workload === workload);
    const coreAll = group.flatMap((r) => r.core);
    rows.push(`| ${workload} | \`@rampart/core\` \`createEvaluator().evaluate\` (both processes) | ${median(coreAll).toFixed(0)} | ${Math.min(...coreAll).toFixed(0)} | ${fmtOps(1e9 / median(coreAll))} | — | ${sanityText(group[0].coreSanity)} |`);
    for (const r of group) {
      // Pass by pass (each SDK pass right after a core pass in the same process), so a slowdown
      // of the machine that lasts a few passes moves both sides of a ratio alike.
      const over = median(r.sdk.map((x, i) => x / r.core[i] - 1));
      const extra = median(r.sdk.map((x, i) => x - r.core[i]));
      const med = median(r.sdk);
      const name = r.exposures ? 'exposures on (default)' : '`reportExposures: false`';
      verdicts.push({ workload, name, over, extra });
      rows.push(
        `| ${workload} | \`@rampart/sdk\` \`client.evaluate\`, ${name} | ${med.toFixed(0)} | ${Math.min(...r.sdk).toFixed(0)} | ${fmtOps(1e9 / med)} | ` +
          `${over >= 0 ? '+' : ''}${(over * 100).toFixed(0)} % (${extra >= 0 ? '+' : ''}${extra.toFixed(0)} ns; core ${median(r.core).toFixed(0)}) | ${sanityText(r.sdkSanity)} |`,
      );
    }
  }
  const cpus = os.cpus();
  const verdict = (v) => `${v.over <= TARGET ? 'met' : 'not met'} for ${v.workload}, ${v.name} (${v.over >= 0 ? '+' : ''}${(v.over * 100).toFixed(0)} %)`;
  const out = [
    '| Workload | Implementation | ns/eval (median) | ns/eval (min) | ops/s | vs core in the same process (median of pass pairs) | Sanity: allowlist on, share of random ids on |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}. ` +
      `${N.toLocaleString('en-US')} evaluations per pass, median of ${PASSES} passes after warming up; one process per SDK line, ` +
      'holding that one client and a core evaluator, their passes alternating. ' +
      'Workload A: distinct ids (every call hashes); B: 10 000 active ids (the bucket cache answers).',
    '',
    `Target: the SDK within ${TARGET * 100} % of core — ${verdicts.map(verdict).join('; ')}.`,
  ];
  console.log(out.join('\n'));
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const [workload, exposures] = childArg.slice('--child='.length).split(':');
  await child(workload, exposures === 'on');
} else {
  await main();
}
