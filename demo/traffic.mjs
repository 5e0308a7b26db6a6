// The demo's traffic generator (a worker thread of `npm run demo`): passengers of a city
// (pass_000001 … pass_999999, a few thousand different ones every demo hour) and the runbook's
// ten beta passengers ask the matching service for rides at a steady rate, over keep-alive HTTP.
// Each request comes from a passenger drawn at random from the whole city, so requests are
// (nearly) independent draws of the rollout's hash: with only a few thousand passengers asking
// again and again, the exposed share of *passengers* (±18 % relative at 1 % of 3 000) would show
// in every exposure count, and the watchdog's sample-ratio-mismatch gate would rightly stop the
// rollout as "assignment broken".
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { port, rps, passengers, betaIds, betaShare, favoritesShare } = workerData;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const MAX_IN_FLIGHT = 512;
const TICK_MS = 10;

const stats = { sent: 0, ok: 0, s4xx: 0, s5xx: 0, failed: 0 };
let inFlight = 0;
let budget = 0;
let stopping = false;

function send() {
  // The beta passengers ride often (they are the testers); everyone else is one of the city.
  const id = Math.random() < betaShare ? betaIds[Math.floor(Math.random() * betaIds.length)] : `pass_${String(1 + Math.floor(Math.random() * passengers)).padStart(6, '0')}`;
  const path = Math.random() < favoritesShare ? '/v1/favorites' : '/v1/match';
  inFlight++;
  stats.sent++;
  const req = http.get({ agent, host: '127.0.0.1', port, path, headers: { 'x-subject-id': id } }, (res) => {
    const status = res.statusCode ?? 0;
    if (status >= 500) stats.s5xx++;
    else if (status >= 400) stats.s4xx++;
    else stats.ok++;
    res.resume();
    res.on('end', () => inFlight--);
    res.on('error', () => inFlight--);
  });
  req.on('error', () => {
    stats.failed++;
    inFlight--;
  });
}

let last = performance.now();
const timer = setInterval(() => {
  if (stopping) return;
  const now = performance.now();
  // Catch up on a late tick, but never by more than a second's worth.
  budget = Math.min(budget + ((now - last) / 1000) * rps, rps);
  last = now;
  while (budget >= 1 && inFlight < MAX_IN_FLIGHT) {
    budget--;
    send();
  }
}, TICK_MS);

const statsTimer = setInterval(() => {
  parentPort.postMessage({ type: 'stats', stats: { ...stats, inFlight } });
  for (const k of Object.keys(stats)) stats[k] = 0;
}, 1000);

parentPort.on('message', (message) => {
  if (message?.type !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  clearInterval(statsTimer);
  agent.destroy();
  parentPort.postMessage({ type: 'stopped' });
  parentPort.close();
});
