import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { fastify, type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { createClient, type RampartClient } from '../src/client.js';
import { flagsHandler, gate, gateExpress, rampartExpress, rampartFastify } from '../src/node/index.js';

const ADMIN = 'rpt_test-admin-token-0123456789abcdefghij';
/** Off for everyone but the allowlist. */
const BETA = 'beta_checkout';
/** Allowlist by another attribute than `id`. */
const BY_PASSENGER = 'beta_by_passenger';
/** 50 % rollout plus an allowlist: every cohort but `off`, one flag per framework. */
const MATCHING = { fastify: 'fastify_matching', express: 'express_matching' } as const;
/** Not a flag: the handlers evaluate it too, and Rampart would refuse a batch that names it. */
const UNKNOWN = 'not_a_flag';

let server: RampartServer;
let sdkToken: string;
let client: RampartClient;

interface RampartServer {
  readonly s: RunningServer;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

async function startRampart(): Promise<RampartServer> {
  const s = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      RAMPART_DATA_DIR: 'memory://',
      RAMPART_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'silent',
      RAMPART_WATCHDOG_SCHEDULE: 'false',
    }),
  );
  return {
    s,
    async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(s.url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return JSON.parse(text) as T;
    },
  };
}

async function newClient(): Promise<RampartClient> {
  const c = createClient({ url: server.s.url, token: sdkToken, flushIntervalMs: 600_000 });
  const status = await c.ready;
  expect(status.source).toBe('server');
  return c;
}

/** Starts an Express app on 127.0.0.1:0; returns its base URL and a closer. */
async function listenExpress(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const http: Server = app.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function listenFastify(app: FastifyInstance): Promise<{ url: string; close: () => Promise<void> }> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

beforeAll(async () => {
  server = await startRampart();
  sdkToken = (await server.admin<{ token: string }>('POST', '/api/admin/tokens', { name: 'middleware-test', role: 'SDK' })).token;
  await server.admin('POST', '/api/admin/feature-flags', { key: BETA, enabled: true, rolloutPercentage: 0, allowlist: ['beta-1'] });
  await server.admin('POST', '/api/admin/feature-flags', {
    key: BY_PASSENGER,
    enabled: true,
    rolloutPercentage: 0,
    allowlist: ['passenger-7'],
    stickiness: 'passengerId',
  });
  for (const key of Object.values(MATCHING)) {
    await server.admin('POST', '/api/admin/feature-flags', { key, enabled: true, rolloutPercentage: 50, allowlist: ['beta-1'] });
  }
  client = await newClient();
});

afterAll(async () => {
  await client?.close();
  await server?.s.close();
});

const denied = (flag: string, reason: string) => ({
  error: { code: 'FEATURE_DISABLED', message: `Feature ${flag} is not enabled for this subject.`, flag, reason },
});

describe('gate (Fastify)', () => {
  let app: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    const f = fastify();
    await f.register(rampartFastify(client));
    f.get('/checkout', { preHandler: gate(client, BETA) }, async () => ({ ok: true }));
    f.get(
      '/users/:user/checkout',
      { preHandler: gate(client, BETA, { subject: (req: FastifyRequest<{ Params: { user: string } }>) => ({ id: req.params.user }) }) },
      async () => ({ ok: true }),
    );
    app = await listenFastify(f);
  });
  afterAll(() => app.close());

  it('answers 403 FEATURE_DISABLED to a subject outside the rollout, and lets an allowlisted one through', async () => {
    const out = await getJson(`${app.url}/checkout?id=passenger-1`);
    expect(out.status).toBe(403);
    expect(out.type).toMatch(/^application\/json/);
    expect(out.body).toEqual(denied(BETA, 'NOT_IN_ROLLOUT'));

    expect(await getJson(`${app.url}/checkout`, { 'x-subject-id': 'beta-1' })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await getJson(`${app.url}/checkout?id=beta-1`)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('refuses a request without a subject, and takes the subject from where it is told', async () => {
    expect(await getJson(`${app.url}/checkout`)).toMatchObject({ status: 403, body: denied(BETA, 'NO_SUBJECT') });
    expect(await getJson(`${app.url}/users/beta-1/checkout`)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await getJson(`${app.url}/users/passenger-1/checkout?id=beta-1`)).toMatchObject({ status: 403, body: denied(BETA, 'NOT_IN_ROLLOUT') });
  });
});

describe('gateExpress', () => {
  let app: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    const e = express();
    e.use(rampartExpress(client));
    e.get('/checkout', gateExpress(client, BETA), (_req, res) => {
      res.json({ ok: true });
    });
    e.get('/users/:user/checkout', gateExpress(client, BETA, { subject: (req: express.Request) => ({ id: req.params.user }) }), (_req, res) => {
      res.json({ ok: true });
    });
    app = await listenExpress(e);
  });
  afterAll(() => app.close());

  it('answers 403 FEATURE_DISABLED to a subject outside the rollout, and lets an allowlisted one through', async () => {
    const out = await getJson(`${app.url}/checkout?id=passenger-1`);
    expect(out.status).toBe(403);
    expect(out.type).toMatch(/^application\/json/);
    expect(out.body).toEqual(denied(BETA, 'NOT_IN_ROLLOUT'));

    expect(await getJson(`${app.url}/checkout`, { 'x-subject-id': 'beta-1' })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await getJson(`${app.url}/checkout?id=beta-1`)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('refuses a request without a subject, and takes the subject from where it is told', async () => {
    expect(await getJson(`${app.url}/checkout`)).toMatchObject({ status: 403, body: denied(BETA, 'NO_SUBJECT') });
    expect(await getJson(`${app.url}/users/beta-1/checkout`)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await getJson(`${app.url}/users/passenger-1/checkout?id=beta-1`)).toMatchObject({ status: 403, body: denied(BETA, 'NOT_IN_ROLLOUT') });
  });
});

interface CohortSummary {
  exposures: number;
  requests: number;
  status: Record<string, number>;
  errorRate5xx: number | null;
  latencyMs: { count: number; p50: number | null; mean: number | null };
}
type Cohorts = Record<'exposed' | 'control' | 'allowlist' | 'off', CohortSummary>;

/** The body of a matching request: who, whether the handler fails, how long it works first. */
interface MatchBody {
  id: string;
  fail?: boolean;
  delayMs?: number;
  /** Another subject the handler evaluates first (the request counts once, for `id`'s cohort). */
  before?: string;
}

/**
 * What an application's traffic looks like to the test: concurrent requests whose handlers
 * evaluate the flag after an await, some failing with a 500, plus a route gated by the flag.
 * Returns, per cohort, what the callers saw.
 */
async function drive(url: string): Promise<Record<string, { ok: number; failed: number; gatePassed: number; gateDenied: number }>> {
  const subjects = ['beta-1', ...Array.from({ length: 20 }, (_, i) => `passenger-${i}`)];
  const seen: Record<string, { ok: number; failed: number; gatePassed: number; gateDenied: number }> = {};
  const tally = (cohort: string) => (seen[cohort] ??= { ok: 0, failed: 0, gatePassed: 0, gateDenied: 0 });
  const post = (body: MatchBody) =>
    fetch(`${url}/match`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  // One successful request per subject tells its cohort.
  const cohortOf = new Map<string, string>();
  await Promise.all(
    subjects.map(async (id, i) => {
      const allowlisted = id === 'beta-1';
      const res = await post({ id, delayMs: allowlisted ? 80 : i % 5, ...(allowlisted ? {} : { before: 'beta-1' }) });
      expect(res.status).toBe(200);
      const { cohort } = (await res.json()) as { cohort: string };
      cohortOf.set(id, cohort);
      tally(cohort).ok++;
    }),
  );
  // Then, concurrently: a failing request for every third subject, and the gated route for all.
  await Promise.all([
    ...subjects.map(async (id, i) => {
      if (i % 3 !== 0) return;
      const allowlisted = id === 'beta-1';
      const res = await post({ id, fail: true, delayMs: allowlisted ? 80 : (i * 7) % 11 });
      expect(res.status).toBe(500);
      tally(cohortOf.get(id)!).failed++;
    }),
    ...subjects.map(async (id) => {
      const res = await fetch(`${url}/beta`, { headers: { 'x-subject-id': id } });
      const cohort = cohortOf.get(id)!;
      expect(res.status).toBe(cohort === 'control' ? 403 : 200);
      await res.arrayBuffer();
      if (res.status === 403) tally(cohort).gateDenied++;
      else tally(cohort).gatePassed++;
    }),
  ]);
  return seen;
}

async function summaryOf(flag: string): Promise<Cohorts> {
  const summary = await server.admin<{ flag: string; cohorts: Cohorts }>('GET', `/api/admin/metrics/${flag}/summary?window=1h`);
  expect(summary.flag).toBe(flag);
  return summary.cohorts;
}

/** What Rampart reports per cohort matches what the callers saw, with no reporting code in the app. */
function expectOutcomes(cohorts: Cohorts, seen: Awaited<ReturnType<typeof drive>>): void {
  expect(Object.keys(seen).sort()).toEqual(['allowlist', 'control', 'exposed']);
  for (const cohort of ['allowlist', 'exposed'] as const) {
    const s = seen[cohort]!;
    const requests = s.ok + s.failed + s.gatePassed;
    expect(cohorts[cohort], cohort).toMatchObject({
      requests,
      status: { '2xx': s.ok + s.gatePassed, '4xx': 0, '403': 0, '5xx': s.failed },
      latencyMs: { count: requests },
    });
    expect(cohorts[cohort].errorRate5xx).toBeCloseTo(s.failed / requests, 10);
  }
  // The gate's own 403s are not the feature's outcome: control shows only the /match traffic,
  // but every evaluation, refused ones included, counts as an exposure.
  const c = seen.control!;
  expect(cohorts.control).toMatchObject({
    requests: c.ok + c.failed,
    status: { '2xx': c.ok, '4xx': 0, '403': 0, '5xx': c.failed },
    latencyMs: { count: c.ok + c.failed },
    exposures: c.ok + c.failed + c.gateDenied,
  });
  expect(cohorts.off.requests).toBe(0);
  // The allowlisted subject's /match handler works 80 ms: the latency spans the whole request.
  const a = seen.allowlist!;
  expect(cohorts.allowlist.latencyMs.p50).toBeGreaterThanOrEqual(75);
  expect(cohorts.allowlist.latencyMs.mean! * cohorts.allowlist.requests).toBeGreaterThanOrEqual(78 * (a.ok + a.failed));
}

describe('HTTP outcomes per cohort, with no reporting code', () => {
  it('Fastify: status classes and latency reach Rampart per cohort', async () => {
    const flag = MATCHING.fastify;
    const c = await newClient();
    const f = fastify();
    await f.register(rampartFastify(c));
    f.post<{ Body: MatchBody }>('/match', async (req) => {
      await sleep(req.body.delayMs ?? 0);
      if (req.body.before) c.evaluate(flag, { id: req.body.before });
      c.evaluate(UNKNOWN, { id: req.body.id });
      const r = c.evaluate(flag, { id: req.body.id });
      if (req.body.fail) throw new Error('matching failed');
      return { cohort: r.cohort };
    });
    f.get('/beta', { preHandler: gate(c, flag) }, async () => ({ ok: true }));
    const app = await listenFastify(f);
    const seen = await drive(app.url);
    await app.close();
    await c.close();
    expect(c.status().metrics).toMatchObject({ pending: 0, dropped: 0 });
    expectOutcomes(await summaryOf(flag), seen);
  });

  it('Express: status classes and latency reach Rampart per cohort', async () => {
    const flag = MATCHING.express;
    const c = await newClient();
    const e = express();
    e.use(rampartExpress(c));
    e.use(express.json());
    e.post('/match', async (req, res) => {
      const body = req.body as MatchBody;
      await sleep(body.delayMs ?? 0);
      if (body.before) c.evaluate(flag, { id: body.before });
      c.evaluate(UNKNOWN, { id: body.id });
      const r = c.evaluate(flag, { id: body.id });
      if (body.fail) throw new Error('matching failed');
      res.json({ cohort: r.cohort });
    });
    e.get('/beta', gateExpress(c, flag), (_req, res) => {
      res.json({ ok: true });
    });
    // Express would print the stack of the failures; the answer is what matters here.
    e.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: { code: 'INTERNAL' } });
    });
    const app = await listenExpress(e);
    const seen = await drive(app.url);
    await app.close();
    await c.close();
    expect(c.status().metrics).toMatchObject({ pending: 0, dropped: 0 });
    expectOutcomes(await summaryOf(flag), seen);
  });
});

describe('flagsHandler', () => {
  const every = [BETA, BY_PASSENGER, ...Object.values(MATCHING)].sort();

  /** Checks the endpoint; then that serving it counted exposures but no HTTP outcome for the flags. */
  async function checkFlagsEndpoint(url: string, c: RampartClient): Promise<void> {
    const before = (await summaryOf(BY_PASSENGER)).off;

    const beta = await getJson(`${url}/flags?id=beta-1`);
    expect(beta.status).toBe(200);
    expect(beta.type).toMatch(/^application\/json/);
    const flags = (beta.body as { flags: Record<string, unknown> }).flags;
    expect(Object.keys(flags).sort()).toEqual(every);
    expect(flags[BETA]).toEqual({ value: true, reason: 'ALLOWLIST' });
    expect(flags[BY_PASSENGER]).toEqual({ value: false, reason: 'NO_SUBJECT' });

    // Other query parameters are attributes: this flag sticks to passengerId.
    const other = await getJson(`${url}/flags?id=someone&passengerId=passenger-7`);
    expect(other.body).toMatchObject({
      flags: { [BETA]: { value: false, reason: 'NOT_IN_ROLLOUT' }, [BY_PASSENGER]: { value: true, reason: 'ALLOWLIST' } },
    });

    for (const path of ['/flags', '/flags?id=', '/flags?passengerId=passenger-7']) {
      const missing = await getJson(url + path);
      expect(missing.status, path).toBe(400);
      expect(missing.body).toMatchObject({ error: { code: 'SUBJECT_REQUIRED' } });
      expect((missing.body as { error: { message: string } }).error.message).toContain('id');
    }

    await c.close();
    const after = await summaryOf(BY_PASSENGER);
    expect(after.off.exposures - before.exposures).toBe(1); // beta-1 has no passengerId
    expect(after.allowlist.exposures).toBeGreaterThanOrEqual(1);
    expect(after.off.requests + after.allowlist.requests + after.control.requests + after.exposed.requests).toBe(0);
  }

  it('serves /flags from Express', async () => {
    const c = await newClient();
    const e = express();
    e.use(rampartExpress(c));
    e.get('/flags', flagsHandler(c));
    const app = await listenExpress(e);
    try {
      await checkFlagsEndpoint(app.url, c);
    } finally {
      await app.close();
      await c.close();
    }
  });

  it('serves /flags from Fastify (reply.hijack() and the raw request and response)', async () => {
    const c = await newClient();
    const f = fastify();
    await f.register(rampartFastify(c));
    const flags = flagsHandler(c);
    f.get('/flags', (req, reply) => {
      reply.hijack();
      flags(req.raw, reply.raw);
    });
    const app = await listenFastify(f);
    try {
      await checkFlagsEndpoint(app.url, c);
    } finally {
      await app.close();
      await c.close();
    }
  });
});
