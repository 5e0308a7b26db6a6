// Core evaluation benchmark: Rampart's evaluator against peer SDKs' in-process evaluation, in
// one process and one run, same workload and loop shape for everyone.
//
// Workload A: one flag, a 10-id allowlist, a 10 % rollout, 1 000 000 distinct subject ids
// (pre-generated), a fresh context object per call. Workload B (Rampart only): 10 000 active
// subjects evaluated 1 000 000 times. Each line is the median of 5 passes after a warm-up pass;
// passes are interleaved across implementations so background load hits everyone alike.
//
// Usage: node bench/core-eval.mjs [--quick] [--json]
// The markdown report goes to stdout (bench/run.mjs copies it into docs/benchmarks.md);
// progress and sanity checks go to stderr. --json prints the results as one JSON object
// instead of the report (bench/peers.mjs runs this script as a child that way).
import { hash as cryptoHash, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createEvaluator } from '@rampart/core';
import { FlagdCore } from '@openfeature/flagd-core';
import { GrowthBookClient } from '@growthbook/growthbook';
import { init as initLaunchDarkly, integrations } from '@launchdarkly/node-server-sdk';
import { InMemStorageProvider, Unleash } from 'unleash-client';

const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.includes('--json');
const N = QUICK ? 200_000 : 1_000_000;
const ACTIVE = 10_000;
const PASSES = 5;
const KEY = 'passenger_favorites_matching';
const ALLOWLIST = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
const ids = Array.from({ length: N }, (_, i) => `user-${i}`);
const sanityIds = Array.from({ length: 20_000 }, (_, i) => `sanity-${i}`);
const log = (...args) => console.error(...args);

function versionOf(name) {
  for (const base of ['./node_modules/', '../node_modules/']) {
    const url = new URL(`${base}${name}/package.json`, import.meta.url);
    if (existsSync(url)) return JSON.parse(readFileSync(url, 'utf8')).version;
  }
  return '?';
}

// ---- Implementations. Each `pass` is its own loop (not a shared loop calling a callback), so
// every implementation gets a monomorphic call site and a fresh `{ ... }` context per call.

function rampart() {
  const ev = createEvaluator();
  const flag = { key: KEY, enabled: true, rolloutBasisPoints: 1000, allowlist: ALLOWLIST };
  return {
    check: (id) => ev.evaluate(flag, { id }).value,
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (ev.evaluate(flag, { id: ids[i] }).value) on++;
      return on;
    },
  };
}

function rampartActive() {
  const ev = createEvaluator();
  const flag = { key: KEY, enabled: true, rolloutBasisPoints: 1000, allowlist: ALLOWLIST };
  return {
    check: (id) => ev.evaluate(flag, { id }).value,
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (ev.evaluate(flag, { id: ids[i % ACTIVE] }).value) on++;
      return on;
    },
  };
}

// Reference: Node's native SHA-256 on the same input, bucketing only (no flag logic). The hex
// output of crypto.hash is its fastest form here: a Buffer result costs ~3x as much.
function nodeCrypto() {
  const bucket = typeof cryptoHash === 'function'
    ? (id) => parseInt(cryptoHash('sha256', `${KEY}:${id}`).slice(0, 8), 16) % 10_000
    : (id) => createHash('sha256').update(`${KEY}:${id}`).digest().readUInt32BE(0) % 10_000;
  const allow = new Set(ALLOWLIST);
  return {
    check: (id) => allow.has(id) || bucket(id) < 1000,
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) {
        const ctx = { id: ids[i] };
        if (bucket(ctx.id) < 1000) on++;
      }
      return on;
    },
  };
}

function flagd() {
  const core = new FlagdCore();
  core.setConfigurations(JSON.stringify({
    flags: {
      [KEY]: {
        state: 'ENABLED',
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: {
          if: [{ in: [{ var: 'targetingKey' }, ALLOWLIST] }, 'on', { fractional: [['on', 10], ['off', 90]] }],
        },
      },
    },
  }));
  return {
    check: (id) => core.resolveBooleanEvaluation(KEY, false, { targetingKey: id }).value,
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (core.resolveBooleanEvaluation(KEY, false, { targetingKey: ids[i] }).value) on++;
      return on;
    },
  };
}

async function unleash() {
  // Offline: features come from `bootstrap`; refreshInterval 0 never polls, metrics are off,
  // the in-memory storage provider writes no backup file. The URL is required but never used.
  const client = new Unleash({
    appName: 'rampart-bench',
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
    bootstrap: {
      data: [{
        name: KEY,
        enabled: true,
        project: 'default',
        type: 'release',
        variants: [],
        strategies: [
          { name: 'userWithId', parameters: { userIds: ALLOWLIST.join(',') }, constraints: [] },
          { name: 'flexibleRollout', parameters: { rollout: '10', stickiness: 'userId', groupId: KEY }, constraints: [] },
        ],
      }],
    },
  });
  client.on('error', (err) => log('unleash error:', err.message));
  await new Promise((resolve) => (client.isSynchronized?.() ? resolve() : client.once('ready', resolve)));
  return {
    check: (id) => client.isEnabled(KEY, { userId: id }),
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (client.isEnabled(KEY, { userId: ids[i] })) on++;
      return on;
    },
    close: () => client.destroy(),
  };
}

function growthbook() {
  const client = new GrowthBookClient({});
  client.initSync({
    payload: {
      features: {
        [KEY]: {
          defaultValue: false,
          rules: [
            { condition: { id: { $in: ALLOWLIST } }, force: true },
            { force: true, coverage: 0.1, hashAttribute: 'id' },
          ],
        },
      },
    },
  });
  return {
    check: (id) => client.isOn(KEY, { attributes: { id } }),
    pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (client.isOn(KEY, { attributes: { id: ids[i] } })) on++;
      return on;
    },
    close: () => client.destroy(),
  };
}

async function launchDarkly() {
  // TestData as the data source: no streaming, no polling; events and diagnostics off.
  const td = new integrations.TestData();
  await td.usePreconfiguredFlag({
    key: KEY,
    version: 1,
    on: true,
    salt: KEY,
    variations: [true, false],
    offVariation: 1,
    targets: [{ values: ALLOWLIST, variation: 0 }],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    fallthrough: { rollout: { variations: [{ variation: 0, weight: 10_000 }, { variation: 1, weight: 90_000 }] } },
    trackEvents: false,
    trackEventsFallthrough: false,
  });
  const client = initLaunchDarkly('sdk-bench-offline', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: { error: log, warn: log, info: () => {}, debug: () => {} },
  });
  await client.waitForInitialization({ timeout: 10 });
  return {
    // The server SDK's API is asynchronous: every evaluation returns a promise.
    check: (id) => client.variation(KEY, { kind: 'user', key: id }, false),
    async pass() {
      let on = 0;
      for (let i = 0; i < N; i++) if (await client.variation(KEY, { kind: 'user', key: ids[i] }, false)) on++;
      return on;
    },
    close: () => client.close(),
  };
}

// ---- Harness

const impls = [
  { name: 'Rampart `createEvaluator` (A: distinct ids)', pkg: '@rampart/core', make: rampart },
  { name: 'Rampart `createEvaluator` (B: 10 000 active ids)', pkg: '@rampart/core', make: rampartActive, activeOnly: true },
  { name: 'flagd-core `fractional`', pkg: '@openfeature/flagd-core', make: flagd },
  { name: 'unleash-client (bootstrap, offline)', pkg: 'unleash-client', make: unleash },
  { name: 'GrowthBook `GrowthBookClient.isOn`', pkg: '@growthbook/growthbook', make: growthbook },
  { name: 'LaunchDarkly node-server-sdk (TestData, async)', pkg: '@launchdarkly/node-server-sdk', make: launchDarkly },
  { name: 'reference: `node:crypto` `hash()` SHA-256, bucket only', pkg: 'node', make: nodeCrypto },
];

async function sanity(impl) {
  let allowed = 0;
  for (const id of ALLOWLIST) if (await impl.check(id)) allowed++;
  let on = 0;
  for (const id of sanityIds) if (await impl.check(id)) on++;
  return { allowed, share: on / sanityIds.length };
}

async function timePass(impl) {
  const t0 = performance.now();
  const on = await impl.pass();
  return { ns: ((performance.now() - t0) * 1e6) / N, on };
}

async function main() {
  log(`core-eval: ${N} evaluations per pass, ${PASSES} passes after a warm-up`);
  for (const entry of impls) {
    entry.version = entry.pkg === 'node' ? process.version : versionOf(entry.pkg);
    entry.impl = await entry.make();
    const s = await sanity(entry.impl);
    entry.sanity = s;
    log(`sanity ${entry.name}: allowlist ${s.allowed}/10 on, ${(s.share * 100).toFixed(2)} % of random ids on`);
    const nodeRef = entry.pkg === 'node';
    if ((!nodeRef && s.allowed !== 10) || s.share < 0.08 || s.share > 0.12) {
      throw new Error(`${entry.name} fails the sanity check; refusing to time an error path`);
    }
    const warm = await timePass(entry.impl);
    log(`warm-up ${entry.name}: ${warm.ns.toFixed(0)} ns/eval (${((warm.on / N) * 100).toFixed(2)} % on)`);
    entry.samples = [];
  }
  for (let p = 0; p < PASSES; p++) {
    for (const entry of impls) {
      const r = await timePass(entry.impl);
      entry.samples.push(r.ns);
      log(`pass ${p + 1} ${entry.name}: ${r.ns.toFixed(0)} ns/eval`);
    }
  }
  for (const entry of impls) await entry.impl.close?.();
  if (JSON_OUT) {
    const results = impls.map((e) => {
      const sorted = [...e.samples].sort((a, b) => a - b);
      return { name: e.name, pkg: e.pkg, version: e.version, activeOnly: Boolean(e.activeOnly), median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], samples: e.samples, sanity: e.sanity };
    });
    console.log(JSON.stringify({ n: N, passes: PASSES, results }));
    return;
  }

  const rows = impls.map((e) => {
    const sorted = [...e.samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const sanityText = e.pkg === 'node'
      ? `${(e.sanity.share * 100).toFixed(1)} %`
      : `${e.sanity.allowed}/10 allowlisted, ${(e.sanity.share * 100).toFixed(1)} %`;
    return `| ${e.name} | ${e.version} | ${median.toFixed(0)} | ${sorted[0].toFixed(0)} | ${fmtOps(1e9 / median)} | ${sanityText} |`;
  });
  const cpus = os.cpus();
  const out = [
    '| Implementation | Version | ns/eval (median) | ns/eval (min) | ops/s | Sanity: allowlist on, share of random ids on |',
    '| --- | --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}. ` +
      `${N.toLocaleString('en-US')} evaluations per pass, median of ${PASSES} passes after a warm-up pass.`,
  ];
  console.log(out.join('\n'));
}

function fmtOps(ops) {
  return ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M` : `${(ops / 1e3).toFixed(0)} k`;
}

await main();
