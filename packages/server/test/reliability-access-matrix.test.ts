import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FastifyModule from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Access, Role } from '../src/auth/roles.js';
import { SYSTEM_ACTOR, startTestApp, testConfig, type TestApp } from './support/app.js';
import { DRIVERS } from './support/databases.js';
import { REGISTERED } from './support/route-log.js';

// Every route the server really registers (see support/route-log.ts): what the server serves is
// held against the policy below, which is what the README promises.
vi.mock('fastify', async (original) => (await import('./support/route-log.js')).logRoutes(await original<typeof FastifyModule>()));

type Credential = 'no token' | 'a malformed header' | 'a revoked token' | Role;
const CREDENTIALS: readonly Credential[] = ['no token', 'a malformed header', 'a revoked token', 'SDK', 'VIEWER', 'OPERATOR', 'SUPER_ADMIN'];
const slug = (who: Credential) => who.toLowerCase().replace(/[^a-z]+/g, '-');
const snake = (who: Credential) => who.toLowerCase().replace(/[^a-z]+/g, '_');

/**
 * Who may call what, as the README's "The API" table and its closing paragraph say: roles nest
 * SUPER_ADMIN ⊃ OPERATOR ⊃ VIEWER; SDK tokens only evaluate (people's tokens may evaluate too);
 * operations routes and the admin UI's static pages need no token. Hand-written on purpose: it
 * is compared with the server's behaviour, never derived from the routes' own config.
 */
const MAY: Record<Access, readonly Role[]> = {
  public: ['SDK', 'VIEWER', 'OPERATOR', 'SUPER_ADMIN'],
  sdk: ['SDK', 'VIEWER', 'OPERATOR', 'SUPER_ADMIN'],
  viewer: ['VIEWER', 'OPERATOR', 'SUPER_ADMIN'],
  operator: ['OPERATOR', 'SUPER_ADMIN'],
  super_admin: ['SUPER_ADMIN'],
};

interface Fixtures {
  checkpointId: string;
  baselineId: string;
  channelId: string;
  snapshotId: string;
  scheduledChangeId: string;
  /** Per credential, so a destructive call by one caller never hides the answer to the next. */
  tokenToRevoke: Record<string, string>;
  channelToDelete: Record<string, string>;
  changeToCancel: Record<string, string>;
}

interface RouteRow {
  /** From the README table, by hand. */
  readonly access: Access;
  readonly url: (fx: Fixtures, who: Credential) => string;
  /** A minimal, valid-ish body (writes get `{}` unless they say otherwise). */
  readonly body?: (fx: Fixtures, who: Credential) => unknown;
}

const F = '/api/admin/feature-flags';
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const nextWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();
const query = 'sum(rate(http_requests_total{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}]))';
/** Port 9 (discard) refuses connections at once: a test send or query fails fast, with a 200. */
const DEAD_URL = 'http://127.0.0.1:9/hook';

/** The one policy table: every route the README documents, with how to call it. */
const POLICY: Record<string, RouteRow> = {
  'GET /healthz': { access: 'public', url: () => '/healthz' },
  'GET /readyz': { access: 'public', url: () => '/readyz' },
  'GET /metrics': { access: 'public', url: () => '/metrics' },
  // "serves the admin UI at /admin/": static pages, the API does the checking.
  'GET /': { access: 'public', url: () => '/' },
  'GET /admin': { access: 'public', url: () => '/admin' },
  'GET /admin/*': { access: 'public', url: () => '/admin/feature-flags' },

  'GET /api/admin/feature-flags': { access: 'viewer', url: () => F },
  'POST /api/admin/feature-flags': { access: 'operator', url: () => F, body: (_fx, who) => ({ key: `made-by-${slug(who)}` }) },
  'GET /api/admin/feature-flags/:key': { access: 'viewer', url: () => `${F}/matrix` },
  'PUT /api/admin/feature-flags/:key': { access: 'operator', url: () => `${F}/matrix`, body: (_fx, who) => ({ description: `by ${who}` }) },
  'DELETE /api/admin/feature-flags/:key': { access: 'operator', url: (_fx, who) => `${F}/doomed-${slug(who)}` },
  'POST /api/admin/feature-flags/:key/allowlist': { access: 'operator', url: () => `${F}/matrix/allowlist`, body: (_fx, who) => ({ ids: [`id-${slug(who)}`] }) },
  'DELETE /api/admin/feature-flags/:key/allowlist': { access: 'operator', url: () => `${F}/matrix/allowlist`, body: (_fx, who) => ({ ids: [`id-${slug(who)}`] }) },
  'GET /api/admin/feature-flags/:key/audit': { access: 'viewer', url: () => `${F}/matrix/audit` },
  'GET /api/admin/audit': { access: 'viewer', url: () => '/api/admin/audit' },

  'POST /api/admin/tokens': { access: 'super_admin', url: () => '/api/admin/tokens', body: (_fx, who) => ({ name: `by-${slug(who)}`, role: 'VIEWER' }) },
  'GET /api/admin/tokens': { access: 'super_admin', url: () => '/api/admin/tokens' },
  'DELETE /api/admin/tokens/:id': { access: 'super_admin', url: (fx, who) => `/api/admin/tokens/${fx.tokenToRevoke[who]}` },
  'GET /api/admin/session': { access: 'viewer', url: () => '/api/admin/session' },
  'GET /api/admin/events': { access: 'viewer', url: () => '/api/admin/events' },

  'GET /api/evaluate/:key': { access: 'sdk', url: () => '/api/evaluate/matrix?id=user-1' },
  'POST /api/evaluate': { access: 'sdk', url: () => '/api/evaluate', body: () => ({ context: { id: 'user-1' } }) },
  'POST /api/evaluate/batch': { access: 'sdk', url: () => '/api/evaluate/batch', body: () => ({ contexts: [{ id: 'user-1' }] }) },
  'GET /api/flags': { access: 'sdk', url: () => '/api/flags?id=user-1' },
  'GET /api/sdk/config': { access: 'sdk', url: () => '/api/sdk/config' },
  'GET /api/sdk/stream': { access: 'sdk', url: () => '/api/sdk/stream' },

  'GET /api/admin/metric-definitions': { access: 'viewer', url: () => '/api/admin/metric-definitions' },
  'GET /api/admin/metric-definitions/:name': { access: 'viewer', url: () => '/api/admin/metric-definitions/error_rate' },
  'PUT /api/admin/metric-definitions/:name': {
    access: 'operator',
    url: (_fx, who) => `/api/admin/metric-definitions/made_by_${snake(who)}`,
    body: () => ({ kind: 'rate', source: 'prometheus', query, prometheusUrl: 'http://127.0.0.1:9' }),
  },
  'DELETE /api/admin/metric-definitions/:name': { access: 'operator', url: (_fx, who) => `/api/admin/metric-definitions/doomed_${snake(who)}` },
  'POST /api/admin/metric-definitions/:name/query': {
    access: 'viewer',
    url: () => '/api/admin/metric-definitions/error_rate/query',
    body: () => ({ flag: 'matrix', cohort: 'exposed', windowSeconds: 60 }),
  },

  'GET /api/admin/notification-channels': { access: 'viewer', url: () => '/api/admin/notification-channels' },
  'POST /api/admin/notification-channels': {
    access: 'super_admin',
    url: () => '/api/admin/notification-channels',
    body: (_fx, who) => ({ name: `by ${who}`, type: 'webhook', config: { url: DEAD_URL } }),
  },
  'GET /api/admin/notification-channels/:id': { access: 'viewer', url: (fx) => `/api/admin/notification-channels/${fx.channelId}` },
  'PUT /api/admin/notification-channels/:id': {
    access: 'super_admin',
    url: (fx) => `/api/admin/notification-channels/${fx.channelId}`,
    body: (_fx, who) => ({ name: `renamed by ${who}` }),
  },
  'DELETE /api/admin/notification-channels/:id': { access: 'super_admin', url: (fx, who) => `/api/admin/notification-channels/${fx.channelToDelete[who]}` },
  'POST /api/admin/notification-channels/:id/test': { access: 'super_admin', url: (fx) => `/api/admin/notification-channels/${fx.channelId}/test` },
  'GET /api/admin/notification-channels/:id/deliveries': { access: 'viewer', url: (fx) => `/api/admin/notification-channels/${fx.channelId}/deliveries` },

  'POST /api/metrics': { access: 'sdk', url: () => '/api/metrics', body: () => ({ events: [{ type: 'exposure', flag: 'matrix', cohort: 'exposed' }] }) },
  'GET /api/admin/metrics/:key/summary': { access: 'viewer', url: () => '/api/admin/metrics/matrix/summary' },
  'GET /api/admin/metrics/:key/series': { access: 'viewer', url: () => '/api/admin/metrics/matrix/series?metric=_exposures' },
  'GET /api/admin/metrics/:key/timeline': { access: 'viewer', url: () => '/api/admin/metrics/matrix/timeline' },
  'GET /api/admin/metrics/:key/names': { access: 'viewer', url: () => '/api/admin/metrics/matrix/names' },
  'POST /api/admin/metrics/:key/baselines': {
    access: 'operator',
    url: () => '/api/admin/metrics/matrix/baselines',
    body: () => ({ mode: 'window', from: hourAgo(), to: new Date().toISOString() }),
  },
  'GET /api/admin/metrics/:key/baselines': { access: 'viewer', url: () => '/api/admin/metrics/matrix/baselines' },
  'GET /api/admin/baselines/:id': { access: 'viewer', url: (fx) => `/api/admin/baselines/${fx.baselineId}` },

  'POST /api/admin/beta-monitor/:key/run': { access: 'operator', url: () => '/api/admin/beta-monitor/matrix/run', body: () => ({ phase: 'matrix' }) },
  'GET /api/admin/beta-monitor/:key/checkpoints': { access: 'viewer', url: () => '/api/admin/beta-monitor/matrix/checkpoints' },
  'GET /api/admin/beta-monitor/checkpoints/:id': { access: 'viewer', url: (fx) => `/api/admin/beta-monitor/checkpoints/${fx.checkpointId}` },
  'GET /api/admin/beta-monitor/:key/settings': { access: 'viewer', url: () => '/api/admin/beta-monitor/matrix/settings' },
  'PUT /api/admin/beta-monitor/:key/settings': { access: 'operator', url: () => '/api/admin/beta-monitor/matrix/settings', body: () => ({ recentHours: 6 }) },
  'GET /api/admin/beta-monitor/:key/signals': { access: 'viewer', url: () => '/api/admin/beta-monitor/matrix/signals' },
  'POST /api/admin/beta-monitor/:key/signals': { access: 'operator', url: () => '/api/admin/beta-monitor/matrix/signals', body: (_fx, who) => ({ note: `from ${who}` }) },

  'POST /api/admin/snapshots': { access: 'operator', url: () => '/api/admin/snapshots', body: (_fx, who) => ({ label: `by ${who}` }) },
  'GET /api/admin/snapshots': { access: 'viewer', url: () => '/api/admin/snapshots' },
  'GET /api/admin/snapshots/:id': { access: 'viewer', url: (fx) => `/api/admin/snapshots/${fx.snapshotId}` },
  'GET /api/admin/snapshots/:id/diff': { access: 'viewer', url: (fx) => `/api/admin/snapshots/${fx.snapshotId}/diff` },
  'POST /api/admin/snapshots/:id/restore': { access: 'super_admin', url: (fx) => `/api/admin/snapshots/${fx.snapshotId}/restore` },

  'POST /api/admin/feature-flags/:key/scheduled-changes': {
    access: 'operator',
    url: () => `${F}/matrix/scheduled-changes`,
    body: () => ({ at: nextWeek(), enabled: true }),
  },
  'GET /api/admin/feature-flags/:key/scheduled-changes': { access: 'viewer', url: () => `${F}/matrix/scheduled-changes` },
  'GET /api/admin/scheduled-changes': { access: 'viewer', url: () => '/api/admin/scheduled-changes' },
  'GET /api/admin/scheduled-changes/:id': { access: 'viewer', url: (fx) => `/api/admin/scheduled-changes/${fx.scheduledChangeId}` },
  'DELETE /api/admin/scheduled-changes/:id': { access: 'operator', url: (fx, who) => `/api/admin/scheduled-changes/${fx.changeToCancel[who]}` },

  'GET /api/admin/rollouts/:key': { access: 'viewer', url: () => '/api/admin/rollouts/planned' },
  'POST /api/admin/rollouts/:key': { access: 'operator', url: (_fx, who) => `/api/admin/rollouts/start-${slug(who)}`, body: () => ({ template: 'runbook-5-phase' }) },
  ...Object.fromEntries(
    ['advance', 'approve', 'pause', 'resume', 'rollback', 'complete', 'abort'].map((action) => [
      `POST /api/admin/rollouts/:key/${action}`,
      { access: 'operator', url: () => `/api/admin/rollouts/planned/${action}` } satisfies RouteRow,
    ]),
  ),
  'GET /api/admin/plan-templates': { access: 'viewer', url: () => '/api/admin/plan-templates' },
  'PUT /api/admin/plan-templates/:name': {
    access: 'operator',
    url: (_fx, who) => `/api/admin/plan-templates/by-${slug(who)}`,
    body: () => ({ stages: [{ percentage: 10, minDwellMinutes: 0 }, { percentage: 100, minDwellMinutes: 0 }], rollbackPolicy: 'zero' }),
  },
};

interface Answer {
  status: number;
  body: unknown;
  requestId: string | null;
}

/**
 * Over real HTTP, as a client sees it: evaluation requests then go through the evaluation fast
 * path (which does its own token check) exactly as in production. Streams are closed as soon
 * as their status is known.
 */
async function send(base: string, method: string, url: string, authorization: string | undefined, body: unknown): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 20_000);
  try {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    const payload = method === 'GET' ? undefined : JSON.stringify(body ?? {});
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + url, { method, headers, body: payload, redirect: 'manual', signal: abort.signal });
    const requestId = res.headers.get('x-request-id');
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, body: undefined, requestId };
    }
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as unknown) : text;
    return { status: res.status, body: json, requestId };
  } finally {
    clearTimeout(timer);
  }
}

/** What must happen, in words a failure message can show. */
function expectation(access: Access, who: Credential): { status: 401 | 403; code: string } | 'allowed' {
  if (access === 'public') return 'allowed';
  if (who === 'no token') return { status: 401, code: 'TOKEN_MISSING' };
  if (who === 'a malformed header' || who === 'a revoked token') return { status: 401, code: 'TOKEN_INVALID' };
  return MAY[access].includes(who) ? 'allowed' : { status: 403, code: 'FORBIDDEN' };
}

describe.each(DRIVERS)('access matrix over every registered route on %s', (driver) => {
  let checks = 0;
  let t: TestApp;
  let base = '';
  let fx: Fixtures;
  const auth: Partial<Record<Credential, string>> = {};

  beforeAll(async () => {
    // A stand-in for the built UI, so the static routes exist whatever the state of packages/web.
    const webDir = mkdtempSync(join(tmpdir(), 'rampart-matrix-web-'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Rampart</title>');
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0, rateLimitIngest: 0, webDir });
    const admin = async (method: string, url: string, body?: unknown) => {
      const res = await t.call(method, url, { body: body ?? (method === 'GET' ? undefined : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 300)}`).toBeLessThan(300);
      return res.json() as Record<string, unknown>;
    };
    await admin('POST', F, { key: 'matrix', enabled: true, rolloutPercentage: 10 });
    await admin('POST', F, { key: 'planned', enabled: true });
    await admin('POST', '/api/admin/rollouts/planned', { template: 'runbook-5-phase' });
    // Few probes: each run of the checkpoint stays well under a second.
    await admin('PUT', '/api/admin/beta-monitor/matrix/settings', { syntheticProbes: 20 });
    await admin('PUT', '/api/admin/metric-definitions/error_rate', { kind: 'rate', source: 'prometheus', query, prometheusUrl: 'http://127.0.0.1:9' });
    const channel = await admin('POST', '/api/admin/notification-channels', { name: 'matrix', type: 'webhook', config: { url: DEAD_URL } });
    fx = {
      checkpointId: String((await admin('POST', '/api/admin/beta-monitor/matrix/run', {})).id),
      baselineId: String((await admin('POST', '/api/admin/metrics/matrix/baselines', { mode: 'window', from: hourAgo(), to: new Date().toISOString() })).id),
      channelId: String(channel.id),
      snapshotId: String((await admin('POST', '/api/admin/snapshots', { label: 'matrix' })).id),
      scheduledChangeId: String((await admin('POST', `${F}/matrix/scheduled-changes`, { at: nextWeek(), enabled: false })).id),
      tokenToRevoke: {},
      channelToDelete: {},
      changeToCancel: {},
    };
    for (const who of CREDENTIALS) {
      await admin('POST', F, { key: `doomed-${slug(who)}` });
      await admin('POST', F, { key: `start-${slug(who)}` });
      await admin('PUT', `/api/admin/metric-definitions/doomed_${snake(who)}`, { kind: 'rate', source: 'prometheus', query, prometheusUrl: 'http://127.0.0.1:9' });
      fx.tokenToRevoke[who] = (await t.app.rampart.tokens.create(SYSTEM_ACTOR, `revoke-me-${slug(who)}`, 'VIEWER')).id;
      fx.channelToDelete[who] = String((await admin('POST', '/api/admin/notification-channels', { name: `doomed ${who}`, type: 'slack', config: { url: DEAD_URL } })).id);
      fx.changeToCancel[who] = String((await admin('POST', `${F}/matrix/scheduled-changes`, { at: nextWeek(), rolloutPercentage: 20 })).id);
    }
    // Revoked through the API, by an admin, as it happens in real life; and a SUPER_ADMIN one, so
    // "revoked" is tested at the top of the ladder.
    const leaked = await t.app.rampart.tokens.create(SYSTEM_ACTOR, 'leaked', 'SUPER_ADMIN');
    expect((await t.call('DELETE', `/api/admin/tokens/${leaked.id}`, { body: { reason: 'leaked' } })).statusCode).toBe(200);
    auth['a malformed header'] = 'Basic dXNlcjpwYXNzd29yZA==';
    auth['a revoked token'] = `Bearer ${leaked.token}`;
    for (const role of ['SDK', 'VIEWER', 'OPERATOR', 'SUPER_ADMIN'] as const) auth[role] = `Bearer ${t.tokens[role]}`;
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    console.log(`access matrix on ${driver}: ${checks} route × credential checks (${REGISTERED.size} registered routes, ${CREDENTIALS.length} credentials each)`);
  });

  it('documents every route the server registers, and registers every documented one', () => {
    const documented = new Set(Object.keys(POLICY));
    const undocumented = [...REGISTERED].filter((r) => !documented.has(r)).sort();
    const missing = [...documented].filter((r) => !REGISTERED.has(r)).sort();
    expect(undocumented, `registered but absent from the policy table (add them to README "The API" and POLICY): ${undocumented.join(', ')}`).toEqual([]);
    expect(missing, `in the policy table but not registered: ${missing.join(', ')}`).toEqual([]);
  });

  it.each(Object.entries(POLICY))('%s answers each credential as the README says', async (route, row) => {
    const method = route.slice(0, route.indexOf(' '));
    const problems: string[] = [];
    for (const who of CREDENTIALS) {
      const res = await send(base, method, row.url(fx, who), who === 'no token' ? undefined : auth[who], row.body?.(fx, who));
      checks++;
      const want = expectation(row.access, who);
      const error = (res.body as { error?: { code?: string; message?: string; requestId?: string } } | undefined)?.error;
      if (want === 'allowed') {
        if (res.status === 401 || res.status === 403 || res.status >= 500) problems.push(`${who}: expected to be let through, got ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      } else if (res.status !== want.status || error?.code !== want.code) {
        problems.push(`${who}: expected ${want.status} ${want.code}, got ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      } else if (typeof error.message !== 'string' || !error.requestId || error.requestId !== res.requestId) {
        problems.push(`${who}: the ${want.code} body lacks a message or the request id of the response: ${JSON.stringify(res.body)}`);
      }
    }
    expect(problems, `${route} (${row.access})`).toEqual([]);
  });
});

describe('revocation reaches every replica on the next request (postgres)', () => {
  it.runIf(DRIVERS.includes('postgres'))('a token revoked on replica A is refused by replica B’s very next request, on the admin API and on evaluation', async () => {
    const a = await startTestApp('postgres', { rateLimitAdmin: 0, rateLimitSdk: 0 });
    const otherDb = await a.testDb.openAnother();
    const b = await buildApp(testConfig({ rateLimitAdmin: 0, rateLimitSdk: 0 }), { db: otherDb });
    try {
      await b.listen({ host: '127.0.0.1', port: 0 });
      const baseB = `http://127.0.0.1:${(b.server.address() as AddressInfo).port}`;
      await a.call('POST', F, { body: { key: 'replicated', enabled: true, rolloutPercentage: 50 } });
      // Several rounds: a race that loses only sometimes must still be caught.
      for (let round = 0; round < 5; round++) {
        const operator = (await a.call('POST', '/api/admin/tokens', { body: { name: `op-${round}`, role: 'OPERATOR' } })).json();
        const sdk = (await a.call('POST', '/api/admin/tokens', { body: { name: `sdk-${round}`, role: 'SDK' } })).json();
        // B has seen (and cached) both tokens before the revocation.
        expect((await send(baseB, 'GET', F, `Bearer ${operator.token}`, undefined)).status).toBe(200);
        expect((await send(baseB, 'GET', '/api/evaluate/replicated?id=u1', `Bearer ${sdk.token}`, undefined)).status).toBe(200);
        for (const id of [operator.id, sdk.id]) expect((await a.call('DELETE', `/api/admin/tokens/${id}`, { body: {} })).statusCode).toBe(200);
        const write = await send(baseB, 'PUT', `${F}/replicated`, `Bearer ${operator.token}`, { description: `after revocation ${round}` });
        const evaluation = await send(baseB, 'GET', '/api/evaluate/replicated?id=u1', `Bearer ${sdk.token}`, undefined);
        expect([write.status, evaluation.status], `round ${round}`).toEqual([401, 401]);
        expect((write.body as { error: { code: string } }).error.code).toBe('TOKEN_INVALID');
        expect((evaluation.body as { error: { code: string } }).error.code).toBe('TOKEN_INVALID');
      }
      expect((await a.call('GET', `${F}/replicated`)).json().description).toBe('');
    } finally {
      await b.close();
      await a.close();
    }
  });
});
