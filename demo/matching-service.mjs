// The simulated ride-hailing "matching" service (a worker thread of `npm run demo`).
//
// An ordinary Fastify app using @rampart/sdk the way docs/sdk.md shows: the SDK evaluates
// `passenger_favorites_matching` in-process, `rampartFastify` attributes every response's status
// and latency to the passenger's cohort with no other code, `gate` guards the favorites list,
// and `client.track` reports the business metric `matching_success`. The only demo-specific
// parts: the SDK reads the demo's accelerated clock (`now`), and two flags let an operator
// break the treatment cohort on purpose (`demo_regression_5xx`, `demo_regression_latency`).
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import Fastify from 'fastify';
import { createClient } from '@rampart/sdk';
import { gate, rampartFastify } from '@rampart/sdk/node';
import { createDemoClock } from './demo-clock.mjs';

const { rampartUrl, sdkToken, flag, regressionFlags, failureRate, latencyFactor, flushIntervalMs } = workerData;
const clock = createDemoClock(workerData.clock);

const client = createClient({
  url: rampartUrl,
  token: sdkToken,
  // The demo's clock: per-minute aggregates are dated in demo minutes.
  now: clock.now,
  flushIntervalMs,
  // "Stale after 60 s" means 60 real seconds, which are 60 × speed demo seconds.
  staleAfterMs: 60_000 * clock.speed,
  // The demo ignores FEATURE_* master switches in your shell.
  env: {},
  logger: { warn: (message) => parentPort.postMessage({ type: 'warn', message }) },
});

/** The regression switches, read through the SDK whenever the config changes (not per request). */
const regression = { errors: false, latency: false };
function readRegressions() {
  const next = {
    errors: client.evaluate(regressionFlags.errors, { id: 'demo-operator' }).value,
    latency: client.evaluate(regressionFlags.latency, { id: 'demo-operator' }).value,
  };
  for (const which of /** @type {const} */ (['errors', 'latency'])) {
    if (next[which] !== regression[which]) {
      regression[which] = next[which];
      parentPort.postMessage({ type: 'regression', which, flag: regressionFlags[which], on: next[which] });
    }
  }
}
client.on('update', readRegressions);

/** Per-cohort counters, posted to the main thread every second. */
const stats = { requests: 0, byCohort: {} };
function count(cohort, status) {
  stats.requests++;
  const c = (stats.byCohort[cohort] ??= { requests: 0, s5xx: 0, s4xx: 0, injected: 0 });
  c.requests++;
  if (status >= 500) c.s5xx++;
  else if (status >= 400) c.s4xx++;
}

/** Time to find a driver: mostly 15–45 ms, with a tail (a busy dispatch region). */
function matchLatencyMs() {
  const base = 15 + Math.random() * 30;
  return Math.random() < 0.04 ? base + 40 + Math.random() * 60 : base;
}

const app = Fastify({ logger: false });
await app.register(rampartFastify(client));

app.get('/v1/match', async (req, reply) => {
  const id = req.headers['x-subject-id'];
  if (typeof id !== 'string' || id === '') return reply.code(400).send({ error: { code: 'SUBJECT_REQUIRED' } });
  const passenger = { id };
  // The feature: favorites-aware matching for passengers the flag is ON for.
  const result = client.evaluate(flag, passenger);
  const treated = result.cohort === 'exposed';
  let ms = matchLatencyMs();
  if (regression.latency && treated) ms *= latencyFactor;
  await sleep(ms);

  if (regression.errors && treated && Math.random() < failureRate) {
    stats.byCohort.exposed = stats.byCohort.exposed ?? { requests: 0, s5xx: 0, s4xx: 0, injected: 0 };
    stats.byCohort.exposed.injected++;
    client.track('matching_success', false, { ...passenger, flag });
    count(result.cohort, 503);
    return reply.code(503).send({ error: { code: 'FAVORITES_INDEX_UNAVAILABLE', message: 'favorites index timed out' } });
  }
  const roll = Math.random();
  if (roll < 0.005) {
    // The healthy service's own background failures: the dispatch backend times out now and then.
    client.track('matching_success', false, { ...passenger, flag });
    count(result.cohort, 502);
    return reply.code(502).send({ error: { code: 'DISPATCH_TIMEOUT' } });
  }
  if (roll < 0.02) {
    count(result.cohort, 422);
    return reply.code(422).send({ error: { code: 'PICKUP_OUT_OF_AREA' } });
  }
  const matched = Math.random() < 0.93;
  client.track('matching_success', matched, { ...passenger, flag });
  count(result.cohort, 200);
  return { matched, favoritesUsed: result.value, driverId: matched ? `drv_${Math.floor(Math.random() * 5000)}` : null, etaSeconds: matched ? 120 + Math.floor(Math.random() * 480) : null };
});

// The favorites list exists only for passengers the flag is ON for: the SDK's gate answers 403
// FEATURE_DISABLED for the others (and keeps that 403 out of the outcomes it reports).
app.get('/v1/favorites', { preHandler: gate(client, flag) }, async (req) => {
  await sleep(5 + Math.random() * 10);
  return { passenger: req.headers['x-subject-id'], favorites: ['Home', 'Work', 'Gym'] };
});

app.get('/healthz', async () => ({ ok: true, rampart: client.status().state }));

await client.ready;
readRegressions();
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
parentPort.postMessage({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });

const statsTimer = setInterval(() => {
  parentPort.postMessage({ type: 'stats', stats, sdk: client.status().metrics });
  stats.requests = 0;
  stats.byCohort = {};
}, 1000);

parentPort.on('message', async (message) => {
  if (message?.type !== 'stop') return;
  clearInterval(statsTimer);
  await app.close().catch(() => {});
  // Sends everything still pending, the current minute included.
  await client.close().catch(() => {});
  parentPort.postMessage({ type: 'stopped' });
  parentPort.close();
});
