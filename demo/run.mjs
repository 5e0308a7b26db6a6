// `npm run demo`: Rampart catches a bad rollout, on an accelerated clock, in about five minutes.
//
// One process: Rampart (server + admin UI, embedded PGlite in a fresh temporary directory,
// removed on exit) on the main thread; the simulated matching service and the traffic
// generator on two worker threads. Ctrl-C (SIGINT) or SIGTERM stops everything and exits 0.
//
// Options (or environment variables):
//   --speed N       demo ms per real ms (RAMPART_DEMO_SPEED, default 60: 1 min = 1 h)
//   --rps N         requests per second to the matching service (RAMPART_DEMO_RPS, default 1000)
//   --passengers N  the city's passengers besides the 10 beta ones (default 999999: pass_000001 …)
//   --port N        Rampart's port (RAMPART_DEMO_PORT, default 4000; a taken port → any free one)
//   --stages LIST   other plan percentages, e.g. 25,50,100 (auto stages; the test uses it)
//   --no-build      do not build packages/*/dist when missing
// See docs/demo.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createDemoClock, demoEpoch, speedLabel } from './demo-clock.mjs';
import { BETA_IDS, DEMO_STAGES, FAILURE_RATE, FLAG, LATENCY_FACTOR, REGRESSION_FLAGS, createNarrator, parseStages, setUpFlags, startPlan } from './story.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    speed: { type: 'string', default: process.env.RAMPART_DEMO_SPEED ?? '60' },
    rps: { type: 'string', default: process.env.RAMPART_DEMO_RPS ?? '1000' },
    passengers: { type: 'string', default: '999999' },
    port: { type: 'string', default: process.env.RAMPART_DEMO_PORT ?? '4000' },
    stages: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run demo [-- --speed 60] [--rps 1000] [--passengers 999999] [--port 4000] [--stages 1,5,10,25,50,100] [--no-build]   (docs/demo.md)');
  process.exit(0);
}
const speed = Number(args.speed);
const rps = Number(args.rps);
const passengers = Number(args.passengers);
const port = Number(args.port);
for (const [name, v] of Object.entries({ speed, rps, passengers, port })) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'port' && v === 0)) {
    console.error(`demo: --${name} must be a positive number`);
    process.exit(2);
  }
}
let stages = DEMO_STAGES;
try {
  if (args.stages) stages = parseStages(args.stages);
} catch (err) {
  console.error(`demo: ${err.message}`);
  process.exit(2);
}

function ensureBuilt() {
  const needed = ['packages/server/dist/index.js', 'packages/sdk/dist/index.js', 'packages/web/dist/index.html'];
  const missing = needed.filter((p) => !existsSync(`${root}/${p}`));
  if (missing.length === 0) return;
  if (args['no-build']) {
    console.error(`demo: ${missing.join(', ')} missing; run npm run build first`);
    process.exit(2);
  }
  console.log(`demo: ${missing.join(', ')} missing — running npm run build first…`);
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('demo: npm run build failed');
    process.exit(built.status ?? 1);
  }
}
ensureBuilt();
// After the build: these import packages/server/dist.
const { startRampart } = await import('./rampart-in-process.mjs');

const label = speedLabel(speed);
const started = Date.now();
const stamp = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

// Demo time: 5 h behind the wall clock, on the hour; frozen until the plan starts.
let clockImpl = createDemoClock({ speed, demoStart: demoEpoch(), realStart: Date.now() });
let frozen = true;
const clock = {
  now: () => (frozen ? clockImpl.demoStart : clockImpl.now()),
  get speed() {
    return clockImpl.speed;
  },
  get demoStart() {
    return clockImpl.demoStart;
  },
  get realStart() {
    return clockImpl.realStart;
  },
};
const print = (line) => console.log(`[${stamp()} | demo ${new Date(clock.now()).toISOString().slice(11, 16)}] ${line}`);

let rampart;
let narrator;
let watchdogTimer;
const workers = [];
let shuttingDown;

/** Stops the traffic, then the service (its SDK sends its last metrics), then Rampart; exits with `code`. */
function shutdown(signal, code = 0) {
  shuttingDown ??= (async () => {
    console.log(`\n${signal}: stopping the traffic, the matching service and Rampart…`);
    narrator?.stop();
    clearTimeout(watchdogTimer);
    const stopOne = (w) =>
      new Promise((resolve) => {
        if (w.exited) return resolve();
        const force = setTimeout(() => void w.terminate().then(resolve, resolve), 5000);
        w.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        w.postMessage({ type: 'stop' });
      });
    for (const w of [...workers].reverse()) await stopOne(w);
    if (rampart) {
      await rampart.close();
      console.log(`stopped; ${rampart.dataDir} removed.`);
    }
    process.exitCode = code;
  })();
  return shuttingDown;
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

function startWorker(file, workerData, onMessage) {
  const w = new Worker(new URL(file, import.meta.url), { workerData });
  w.exited = false;
  w.on('message', onMessage);
  w.on('error', (err) => {
    console.error(`demo: ${file} failed: ${err.stack ?? err}`);
    void shutdown('error', 1);
  });
  w.on('exit', () => (w.exited = true));
  workers.push(w);
  return w;
}

// A demo hour lasts 3 600 000 / speed real ms: look for due checkpoints ~60 times an hour, at most every second.
const tickMs = Math.max(100, Math.min(1000, Math.round(3_600_000 / speed / 60)));

/** Everything up to the first narrated line (a signal meanwhile stops it where it is). */
async function main() {
  rampart = await startRampart({ clock, port, tickMs });
  if (shuttingDown) {
    // Ctrl-C while Rampart was starting: the shutdown did not know it yet.
    await shuttingDown;
    await rampart.close();
    return;
  }
  await setUpFlags(rampart.api, { speedText: label, stages });

  // Demo time starts now, on the hour, with the plan.
  clockImpl = createDemoClock({ speed, demoStart: clockImpl.demoStart, realStart: Date.now() });
  frozen = false;
  const plan = await startPlan(rampart.api, { speedText: label, stages });

  // The matching service needs the SDK config before it serves: start it, wait for its port.
  const servicePort = await new Promise((resolve, reject) => {
    startWorker(
      './matching-service.mjs',
      {
        rampartUrl: rampart.url,
        sdkToken: rampart.tokens.sdk,
        flag: FLAG,
        regressionFlags: REGRESSION_FLAGS,
        failureRate: FAILURE_RATE,
        latencyFactor: LATENCY_FACTOR,
        // About every two demo minutes (at most every 2 s real): aggregates reach the watchdog promptly.
        flushIntervalMs: Math.max(250, Math.min(2000, Math.round(120_000 / speed))),
        clock: clockImpl.describe(),
      },
      (m) => {
        if (m.type === 'listening') resolve(m.port);
        else if (m.type === 'regression') narrator?.regression(m.which, m.flag, m.on);
        else if (m.type === 'warn' && !shuttingDown) print(`(matching service SDK: ${m.message})`);
      },
    );
    setTimeout(() => reject(new Error('the matching service did not start within 30 s')), 30_000).unref();
  });
  if (shuttingDown) return shuttingDown;
  startWorker('./traffic.mjs', { port: servicePort, rps, passengers, betaIds: BETA_IDS, betaShare: 0.01, favoritesShare: 0.05 }, (m) => {
    if (m.type === 'stats') narrator?.traffic(m.stats.sent);
  });
  // Scheduled checkpoints from the first full demo hour of the plan on: the scheduler's first
  // look comes min(tickMs, 1 s) after it starts, so start it just that long before the slot
  // (no checkpoint of an empty stage at its very start).
  const firstSlot = clockImpl.demoStart + 3_600_000;
  watchdogTimer = setTimeout(() => rampart.startWatchdog(), Math.max(0, clockImpl.realMsUntil(firstSlot) - Math.min(tickMs, 1000) + 50));

  const cli = `RAMPART_URL=${rampart.url} RAMPART_TOKEN=${rampart.tokens.operator}`;
  const hourReal = 3600 / speed;
  console.log(`
Rampart demo — a guarded rollout of ${FLAG}, and a regression the watchdog catches
────────────────────────────────────────────────────────────────────────────────
DEMO CLOCK: ${label} (×${speed}). Rampart, its watchdog and the service's SDK all run on it:
every "hour" below lasts ${hourReal >= 60 ? `${hourReal / 60} real minute(s)` : `${hourReal} real seconds`}. Demo time starts ${new Date(clockImpl.demoStart).toISOString().slice(0, 16)}Z.

  Admin UI        ${rampart.url}/admin/
  OPERATOR token  ${rampart.tokens.operator}
  (SUPER_ADMIN    ${rampart.tokens.admin})
  export RAMPART_URL=${rampart.url} RAMPART_TOKEN=${rampart.tokens.operator}

  Traffic: ~${rps} ride requests/s from a city of ${passengers.toLocaleString('en-US')} passengers (pass_000001 …; a few
  thousand different ones every demo hour) and the runbook's 10 beta passengers, to a simulated
  matching service using @rampart/sdk (rampartFastify + gate + track('matching_success')).

  Plan ${plan.id}: ${stages.map((s) => `${s.percentage} %${s.gate === 'approval' ? ' (approval)' : ''}`).join(' → ')}, a checkpoint every demo hour;
  a healthy stage advances on its second checkpoint (about every 2 demo hours).

  1. Watch: Feature flags → ${FLAG} (plan, stages) and Beta monitor → ${FLAG}
     (checkpoints and their reports; the charts follow your browser's clock: 6 h or 24 h window).
  2. Once the plan is at 5 % or more, break the treatment cohort:
       UI:  Feature flags → ${REGRESSION_FLAGS.errors} → turn it ON
       CLI: ${cli} npx rampart flags enable ${REGRESSION_FLAGS.errors} --reason "demo: break it"
     (or ${REGRESSION_FLAGS.latency}: +${Math.round((LATENCY_FACTOR - 1) * 100)} % latency for the same cohort)
  3. The next checkpoints FAIL on the 5xx rate, exposed vs control, and the plan rolls back to
     0 % by itself (the beta allowlist keeps the feature). Read why in the checkpoint's report.
  Ctrl-C stops everything (and removes ${rampart.dataDir}).
`);

  narrator = createNarrator({ api: (m, p, b) => rampart.api(m, p, b, rampart.tokens.narrator), clock, print, url: rampart.url, operatorToken: rampart.tokens.operator });
  narrator.start(Math.max(200, Math.min(1000, Math.round((hourReal * 1000) / 20))));
}

main().catch((err) => {
  console.error(`demo: ${err.stack ?? err}`);
  return shutdown('error', 1);
});
