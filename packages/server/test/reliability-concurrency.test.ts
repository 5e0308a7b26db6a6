import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { startTestApp, type TestApp } from './support/app.js';
import { DRIVERS } from './support/databases.js';

/**
 * Races are run over real HTTP (app.listen on 127.0.0.1:0 + fetch), not app.inject: inject
 * hands each request to the router in turn on one event loop, so "200 at once" would reach the
 * handlers interleaved only at their first await. Real sockets give what clients produce — many
 * connections in flight, parsed and dispatched as they arrive, competing for the connection
 * pool (PostgreSQL) or the single connection (PGlite) and for the same rows — which is where a
 * lost update or a half-applied transition would show.
 */

const F = '/api/admin/feature-flags';
const N = 200;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** What a flag is, as audit snapshots and the flags table both say it. */
interface FlagState {
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  allowlist: string[];
  salt: string;
  stickiness: string;
  version: number;
  archived: boolean;
}

async function liveFlags(db: Database): Promise<Map<string, FlagState>> {
  const rows = await db.query<FlagState & { key: string }>(
    `select key, description, enabled, rollout_basis_points as "rolloutBasisPoints", allowlist, salt, stickiness, version,
            archived_at is not null as archived
       from flags order by key`,
  );
  return new Map(rows.map(({ key, ...state }) => [key, state]));
}

/**
 * Rebuilds every flag from the audit trail alone — each event carrying a flag snapshot sets
 * the flag to its `after` — checking on the way that versions form a gapless chain (each
 * event's `before` is the previous event's `after`). Returns the rebuilt flags and any break.
 */
async function replayAudit(db: Database): Promise<{ flags: Map<string, FlagState>; breaks: string[] }> {
  const events = await db.query<{ id: number; action: string; flagKey: string; before: FlagState | null; after: FlagState }>(
    `select id::float8 as id, action, flag_key as "flagKey", before, after from audit_events
      where flag_key is not null and after ? 'version' and after ? 'allowlist' order by id`,
  );
  const flags = new Map<string, FlagState>();
  const breaks: string[] = [];
  for (const e of events) {
    const previous = flags.get(e.flagKey);
    if (previous && e.before?.version !== previous.version) breaks.push(`event ${e.id} (${e.action} ${e.flagKey}) starts from v${e.before?.version}, the trail was at v${previous.version}`);
    if (previous && e.after.version !== previous.version + 1) breaks.push(`event ${e.id} (${e.action} ${e.flagKey}) jumps from v${previous.version} to v${e.after.version}`);
    const { description, enabled, rolloutBasisPoints, allowlist, salt, stickiness, version, archived } = e.after;
    flags.set(e.flagKey, { description, enabled, rolloutBasisPoints, allowlist, salt, stickiness, version, archived });
  }
  return { flags, breaks };
}

describe.each(DRIVERS)('concurrent writers on %s', (driver) => {
  let t: TestApp;
  let base = '';

  async function send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${t.tokens.OPERATOR}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const codeOf = (a: Answer) => (a.body.error as { code?: string } | undefined)?.code;
  const tally = (answers: Answer[]) => {
    const out: Record<string, number> = {};
    for (const a of answers) out[`${a.status}${codeOf(a) ? ` ${codeOf(a)}` : ''}`] = (out[`${a.status}${codeOf(a) ? ` ${codeOf(a)}` : ''}`] ?? 0) + 1;
    return out;
  };

  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => t?.close());

  // Whatever the race, the audit trail must still tell the whole story.
  afterEach(async () => {
    const { flags, breaks } = await replayAudit(t.db);
    expect(breaks, 'audit trail version chain').toEqual([]);
    expect(Object.fromEntries(flags)).toEqual(Object.fromEntries(await liveFlags(t.db)));
  });

  it(`${N} PUTs with the same If-Match: exactly one wins, ${N - 1} get 409 VERSION_CONFLICT, the version moves by one`, async () => {
    const created = await send('POST', F, { key: 'same-etag', enabled: true });
    const version = created.body.version as number;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => send('PUT', `${F}/same-etag`, { description: `writer ${i}` }, { 'if-match': `"${version}"` })),
    );
    expect(tally(answers)).toEqual({ '200': 1, '409 VERSION_CONFLICT': N - 1 });
    for (const lost of answers.filter((a) => a.status === 409)) {
      expect((lost.body.error as { details: unknown }).details).toEqual({ expected: version, current: version + 1 });
    }
    const winner = answers.find((a) => a.status === 200)!;
    const live = await send('GET', `${F}/same-etag`);
    expect(live.body).toMatchObject({ version: version + 1, description: winner.body.description });
    const audit = await send('GET', `${F}/same-etag/audit`);
    expect((audit.body.events as { action: string }[]).filter((e) => e.action === 'flag.update')).toHaveLength(1);
  });

  it(`${N} PUTs without If-Match: all 200, each its own version, and the flag is the last one applied`, async () => {
    const created = await send('POST', F, { key: 'last-wins', enabled: false });
    const start = created.body.version as number;
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => send('PUT', `${F}/last-wins`, { description: `writer ${i}` })));
    expect(tally(answers)).toEqual({ '200': N });
    expect(answers.every((a) => a.body.changed === true)).toBe(true);
    // Serialised, not merged or lost: the versions handed out are exactly start+1 … start+N.
    const versions = answers.map((a) => a.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: N }, (_, i) => start + 1 + i));
    const last = answers.find((a) => a.body.version === start + N)!;
    const live = await send('GET', `${F}/last-wins`);
    expect(live.body).toMatchObject({ version: start + N, description: last.body.description });
    // Each answer describes what its version holds in the audit trail.
    const events = await t.db.query<{ after: FlagState }>(`select after from audit_events where flag_key = 'last-wins' and action = 'flag.update'`);
    const byVersion = new Map(events.map((e) => [e.after.version, e.after.description]));
    for (const a of answers) expect(byVersion.get(a.body.version as number)).toBe(a.body.description);
  });

  it(`${N} allowlist adds of distinct ids all land`, async () => {
    await send('POST', F, { key: 'crowd', enabled: true, allowlist: ['founder'] });
    const ids = Array.from({ length: N }, (_, i) => `joiner-${i}`);
    const answers = await Promise.all(ids.map((id) => send('POST', `${F}/crowd/allowlist`, { ids: [id] })));
    expect(tally(answers)).toEqual({ '200': N });
    expect(answers.every((a) => a.body.added === 1 && a.body.changed === true)).toBe(true);
    const live = (await send('GET', `${F}/crowd`)).body as { allowlist: string[]; allowlistCount: number; version: number };
    expect(live.allowlistCount).toBe(N + 1);
    expect([...live.allowlist].sort()).toEqual(['founder', ...ids].sort());
    expect(live.version).toBe(1 + N);
  });

  it('plan transitions and checkpoint runs racing on one flag are serialised into one consistent story', async () => {
    await send('POST', F, { key: 'steered', enabled: true });
    // Few probes: each checkpoint is quick, so the runs overlap the transitions rather than trail them.
    await send('PUT', '/api/admin/beta-monitor/steered/settings', { syntheticProbes: 20 });
    const started = await send('POST', '/api/admin/rollouts/steered', {
      stages: [1, 5, 10, 25, 50, 100].map((percentage) => ({ percentage, minDwellMinutes: 0 })),
      rollbackPolicy: 'zero',
    });
    expect(started.status).toBe(201);
    const actions = ['advance', 'pause', 'resume', 'rollback'] as const;
    const requests = [
      ...Array.from({ length: 60 }, (_, i) => ({ kind: actions[i % actions.length]!, run: () => send('POST', `/api/admin/rollouts/steered/${actions[i % actions.length]}`, {}) })),
      ...Array.from({ length: 10 }, () => ({ kind: 'checkpoint' as const, run: () => send('POST', '/api/admin/beta-monitor/steered/run', { phase: 'race' }) })),
    ];
    // Interleave the kinds so that every kind is in flight from the start.
    const answers = await Promise.all(requests.sort(() => Math.random() - 0.5).map(async (r) => ({ kind: r.kind, answer: await r.run() })));

    const allowed: Record<string, string[]> = {
      advance: ['200', '409 PLAN_NOT_ACTIVE', '404 PLAN_NOT_FOUND'],
      pause: ['200', '409 PLAN_NOT_ACTIVE', '404 PLAN_NOT_FOUND'],
      resume: ['200', '409 PLAN_NOT_PAUSED', '404 PLAN_NOT_FOUND'],
      rollback: ['200', '404 PLAN_NOT_FOUND'],
      checkpoint: ['200', '409 CHECKPOINT_RUNNING'],
    };
    for (const { kind, answer } of answers) {
      const seen = `${answer.status}${codeOf(answer) ? ` ${codeOf(answer)}` : ''}`;
      expect(allowed[kind], `${kind} answered ${seen}: ${JSON.stringify(answer.body).slice(0, 300)}`).toContain(seen);
    }

    // The plan's audit events chain: each transition starts where the one before ended.
    const planId = started.body.id as string;
    const events = await t.db.query<{ action: string; actor: string; before: Record<string, unknown> | null; after: Record<string, unknown> }>(
      `select action, actor, before, after from audit_events where target = $1 order by id`,
      [planId],
    );
    const slim = (p: Record<string, unknown> | null) => p && { state: p.state, currentStage: p.currentStage, awaitingApproval: p.awaitingApproval, extensionsUsed: p.extensionsUsed };
    expect(events[0]!.action).toBe('plan.start');
    for (let i = 1; i < events.length; i++) expect(slim(events[i]!.before), `${events[i]!.action} after ${events[i - 1]!.action}`).toEqual(slim(events[i - 1]!.after));
    // One audited transition per request that said it made one (the watchdog's own are extra).
    const byPeople = events.slice(1).filter((e) => e.actor === 'test-operator');
    const transitionsOk = answers.filter((a) => a.kind !== 'checkpoint' && a.answer.status === 200).length;
    expect(byPeople).toHaveLength(transitionsOk);

    // The plan ended (a rollback or the last advance won), in the state its last event says.
    const plan = (await send('GET', '/api/admin/rollouts/steered')).body as { plan: unknown; history: Record<string, unknown>[] };
    expect(plan.plan).toBeNull();
    expect(['rolled_back', 'completed']).toContain(plan.history[0]!.state);
    expect(slim(plan.history[0]!)).toEqual(slim(events.at(-1)!.after));

    // Checkpoints never overlapped, and each 200 is exactly one stored checkpoint.
    const ran = answers.filter((a) => a.kind === 'checkpoint' && a.answer.status === 200).length;
    expect(ran).toBeGreaterThan(0);
    const checkpoints = await t.db.query<{ at: Date; durationMs: number }>(
      `select at, duration_ms as "durationMs" from checkpoints where flag_key = 'steered' and trigger <> 'missed' order by at`,
    );
    expect(checkpoints).toHaveLength(ran);
    for (let i = 1; i < checkpoints.length; i++) {
      const previousEnd = checkpoints[i - 1]!.at.getTime() + checkpoints[i - 1]!.durationMs;
      // A few ms of slack: `at` and the duration are read from the clock at slightly different moments.
      expect(checkpoints[i]!.at.getTime(), `checkpoint ${i} started before checkpoint ${i - 1} ended`).toBeGreaterThanOrEqual(previousEnd - 5);
    }
  });
});
