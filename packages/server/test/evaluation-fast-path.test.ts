import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BETA_IDS, startTestApp, SYSTEM_ACTOR, type TestApp } from './support/app.js';

// Over real HTTP, GET /api/evaluate/:key and GET /api/flags are answered by the fast path
// (evaluation/fast-path.ts) when they can be; app.inject always goes through Fastify. These tests
// hold the two to the same answers, and check that what the fast path skips still happens.
const KEY = 'passenger_favorites_matching';

interface Answer {
  status: number;
  type: string | undefined;
  body: unknown;
}

/** The body without the request id, which differs per request by design. */
function comparable(body: unknown): unknown {
  if (body && typeof body === 'object' && 'error' in body) {
    const { requestId: _ignored, ...rest } = (body as { error: Record<string, unknown> }).error;
    return { error: rest };
  }
  return body;
}

describe('evaluation fast path', () => {
  let t: TestApp;
  let base: string;

  async function overHttp(url: string, token: string | null, headers: Record<string, string> = {}): Promise<Answer & { id: string | null }> {
    const res = await fetch(base + url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    return { status: res.status, type: res.headers.get('content-type') ?? undefined, body: comparable(await res.json()), id: res.headers.get('x-request-id') };
  }

  async function viaFastify(url: string, token: string | null): Promise<Answer> {
    const res = await t.app.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, type: res.headers['content-type'] as string | undefined, body: comparable(res.json()) };
  }

  beforeAll(async () => {
    t = await startTestApp('pglite');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = t.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    await t.app.rampart.flags.create(SYSTEM_ACTOR, { key: KEY, enabled: true, rolloutBasisPoints: 5000, allowlist: BETA_IDS });
    await t.app.rampart.flags.create(SYSTEM_ACTOR, { key: 'chat', enabled: true, rolloutBasisPoints: 0, stickiness: 'passengerId' });
  });
  afterAll(async () => t.close());

  it('gives the same status, content type and body as the Fastify route, request after request', async () => {
    const long = 'x'.repeat(257);
    const many = Array.from({ length: 33 }, (_, i) => `a${i}=1`).join('&');
    const urls = [
      `/api/evaluate/${KEY}?id=pass_beta_001_2026`,
      `/api/evaluate/${KEY}?id=passenger-42`,
      `/api/evaluate/${KEY}?id=passenger-7`,
      `/api/evaluate/${KEY}`,
      `/api/evaluate/${KEY}?id=`,
      `/api/evaluate/${KEY}?id=a+b%20c&country=BR`,
      `/api/evaluate/chat?passengerId=pass_beta_002_2026`,
      `/api/flags?id=passenger-42`,
      `/api/flags`,
      // Each of these is refused or missed, and must be answered by the route's own error.
      `/api/evaluate/no_such_flag?id=passenger-42`,
      `/api/evaluate/Not-A-Key?id=passenger-42`,
      `/api/evaluate/${KEY}?id=1&id=2`,
      `/api/evaluate/${KEY}?id=${long}`,
      `/api/evaluate/${KEY}?${many}`,
      `/api/evaluate/${KEY}/?id=passenger-42`,
      `/api/flags?id=${long}`,
    ];
    for (const token of [t.tokens.SDK, t.tokens.VIEWER, t.tokens.SUPER_ADMIN, 'rpt_not-a-token', null]) {
      for (const url of urls) {
        const fastify = await viaFastify(url, token);
        // Twice over HTTP: the first may fill the token cache through the route, the second is the fast path's.
        for (let i = 0; i < 2; i++) {
          const { id: _id, ...http } = await overHttp(url, token);
          expect(http, `${url} as ${token ?? 'nobody'}`).toEqual(fastify);
        }
      }
    }
    expect(t.app.evaluationFastPath!.served()).toBeGreaterThan(0);
  });

  it('answers well-formed evaluations itself, and leaves every error to the route', async () => {
    const fast = t.app.evaluationFastPath!;
    await overHttp(`/api/evaluate/${KEY}?id=warm`, t.tokens.SDK);
    const before = fast.served();
    expect((await overHttp(`/api/evaluate/${KEY}?id=passenger-42`, t.tokens.SDK)).status).toBe(200);
    expect((await overHttp(`/api/flags?id=passenger-42`, t.tokens.SDK)).status).toBe(200);
    expect(fast.served()).toBe(before + 2);
    expect((await overHttp(`/api/evaluate/no_such_flag?id=x`, t.tokens.SDK)).status).toBe(404);
    expect((await overHttp(`/api/evaluate/${KEY}?id=x`, null)).status).toBe(401);
    expect((await overHttp(`/api/evaluate/${KEY}?id=x&id=y`, t.tokens.SDK)).status).toBe(400);
    expect(fast.served()).toBe(before + 2);
  });

  it('serves a kill switch on the very next request', async () => {
    const on = await overHttp(`/api/evaluate/${KEY}?id=pass_beta_003_2026`, t.tokens.SDK);
    expect(on.body).toMatchObject({ value: true, reason: 'ALLOWLIST' });
    const kill = await t.call('PUT', `/api/admin/feature-flags/${KEY}`, { body: { enabled: false, rolloutPercentage: 0 } });
    expect(kill.statusCode).toBe(200);
    const off = await overHttp(`/api/evaluate/${KEY}?id=pass_beta_003_2026`, t.tokens.SDK);
    expect(off.body).toMatchObject({ value: false, reason: 'DISABLED', version: kill.json().version });
    await t.call('PUT', `/api/admin/feature-flags/${KEY}`, { body: { enabled: true, rolloutPercentage: 50 } });
  });

  it('refuses a revoked token on the very next request', async () => {
    const created = (await t.call('POST', '/api/admin/tokens', { body: { name: 'soon-revoked', role: 'SDK' } })).json();
    expect((await overHttp(`/api/evaluate/${KEY}?id=p1`, created.token)).status).toBe(200);
    expect((await overHttp(`/api/evaluate/${KEY}?id=p1`, created.token)).status).toBe(200);
    expect((await t.call('DELETE', `/api/admin/tokens/${created.id}`)).statusCode).toBe(200);
    const after = await overHttp(`/api/evaluate/${KEY}?id=p1`, created.token);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });

  it('counts its requests and evaluations in /metrics and puts a request id on every answer', async () => {
    const scrape = async () => (await t.app.inject({ url: '/metrics' })).body;
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const requests = /rampart_http_requests_total\{method="GET",route="\/api\/evaluate\/:key",status="200"\} (\d+)/;
    const rollout = /rampart_evaluations_total\{flag="chat",decision="OFF"\} (\d+)/;
    const histogram = /rampart_http_request_duration_seconds_count\{method="GET",route="\/api\/evaluate\/:key"\} (\d+)/;
    // After the earlier changes the config cache is cold: the route reloads it on the first request.
    await overHttp(`/api/evaluate/chat?passengerId=warm`, t.tokens.SDK);
    const before = await scrape();
    const served = t.app.evaluationFastPath!.served();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await overHttp(`/api/evaluate/chat?passengerId=p${i}`, t.tokens.SDK)).id!);
    expect(t.app.evaluationFastPath!.served()).toBe(served + 5);
    const after = await scrape();
    expect(count(after, requests) - count(before, requests)).toBe(5);
    expect(count(after, histogram) - count(before, histogram)).toBe(5);
    expect(count(after, rollout) - count(before, rollout)).toBe(5);
    expect(ids.size).toBe(5);
    // A caller's own safe request id is echoed, as the route does.
    expect((await overHttp(`/api/evaluate/chat?passengerId=p1`, t.tokens.SDK, { 'x-request-id': 'trace-abc.1' })).id).toBe('trace-abc.1');
  });

  it('stands aside when an evaluation rate limit is configured, so the limit holds', async () => {
    const limited = await startTestApp('pglite', { rateLimitSdk: 3 }, t.testDb);
    try {
      expect(limited.app.evaluationFastPath).toBeUndefined();
      await limited.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = limited.app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/evaluate/${KEY}?id=p1`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(url, { headers: { authorization: `Bearer ${limited.tokens.SDK}` } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limited.app.close();
    }
  });
});
