import { readFileSync } from 'node:fs';
import { COHORTS, FLAG_KEY_PATTERN, HISTOGRAM_BUCKETS } from '@rampart/core';
import fc from 'fast-check';
import type * as FastifyModule from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Role } from '../src/auth/roles.js';
import type { Database } from '../src/db/database.js';
import { startTestApp, type TestApp } from './support/app.js';
import { DRIVERS } from './support/databases.js';
import { REGISTERED } from './support/route-log.js';

// The fuzzed routes are held against what the server registers (see support/route-log.ts).
vi.mock('fastify', async (original) => (await import('./support/route-log.js')).logRoutes(await original<typeof FastifyModule>()));

/** The documented codes and their statuses, read from docs/errors.md: a code not there is a bug. */
const DOCUMENTED = new Map(
  [...readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
);

/** How many generated inputs each driver gets; the figure printed is what was actually sent. */
const INVALID_RUNS = 10_000;
const MIXED_RUNS = 40;

const F = '/api/admin/feature-flags';
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const FULL_SIZE = 9_995;

// ─── Building blocks ─────────────────────────────────────────────────────────────────────────

/**
 * A JSON token written as-is into the body text: `1e309` (valid JSON that parses as Infinity),
 * `NaN`, `0x10`, … which JSON.stringify cannot produce.
 */
const RAW = '\u0001raw:';
const raw = (token: string) => ({ toJSON: () => `${RAW}${token}\u0001` });
const serialise = (body: unknown) => JSON.stringify(body).replace(/"\\u0001raw:([^"]*?)\\u0001"/g, '$1');

const printable = fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));
const nulString = fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`);
/**
 * More than `max` characters (zod counts code points, so an astral character is one), made of
 * arbitrary astral, combining and right-to-left characters.
 */
const tooLong = (max: number) =>
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map((s) => s.repeat(Math.ceil((max + 1) / [...s].length)));
const badKey = fc.oneof(
  fc.string({ maxLength: 140 }).filter((s) => !FLAG_KEY_PATTERN.test(s)),
  fc.constantFrom('', 'Checkout', '_x', '-x', 'a b', 'prüfung', 'k'.repeat(129), 'a\u0000b', '..', 'a/b'),
);
const badInt = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
    fc.double({ min, max, noNaN: true }).filter((v) => !Number.isInteger(v)),
    fc.constantFrom(raw('1e309'), raw('-1e309'), raw('1.5'), raw('1e-7'), '1', 'NaN', 'Infinity', '1e309', '-0'),
  );
const badPercentage = fc.oneof(
  fc.double({ min: 100.0001, max: 1e300, noNaN: true }),
  fc.double({ min: -1e300, max: -0.0001, noNaN: true }),
  fc.double({ min: 0, max: 100, noNaN: true }).filter((v) => Math.abs(Math.round(v * 100) - v * 100) > 1e-6),
  fc.constantFrom(raw('1e309'), raw('-1e309'), '5', 'NaN', '50%'),
);

interface Field {
  /** JSON types the schema accepts for this field (a wrong-type value is any other). */
  readonly types: readonly ('string' | 'number' | 'boolean' | 'array' | 'object' | 'null')[];
  /** Values of an accepted type that the schema or the service still refuses. */
  readonly invalid?: fc.Arbitrary<unknown>;
}
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const text = (max: number, min = 0): Field => ({
  types: ['string'],
  invalid: fc.oneof(nulString, tooLong(max), ...(min > 0 ? [fc.constant('')] : [])),
});
const key: Field = { types: ['string'], invalid: badKey };
const bool: Field = { types: ['boolean'] };
const int = (min: number, max: number): Field => ({ types: ['number'], invalid: badInt(min, max) });
const oneOf = (values: readonly string[]): Field => ({
  types: ['string'],
  invalid: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...values.map((v) => v.toUpperCase()), ...values.map((v) => ` ${v}`))).filter((s) => !values.includes(s)),
});
const isoTime: Field = { types: ['string'], invalid: fc.oneof(fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s)), fc.constantFrom('2026-13-01T00:00:00Z', 'yesterday', '1700000000000')) };
/** An array field: a wrong item, too few, or more than allowed (built from valid items). */
const list = (item: Field, validItem: (i: number) => unknown, min: number, max: number, nullable = false): Field => ({
  types: nullable ? ['array', 'null'] : ['array'],
  invalid: fc.oneof(
    { weight: 8, arbitrary: fieldInvalid(item).map((bad) => [validItem(0), bad]) },
    ...(min > 0 ? [{ weight: 1, arbitrary: fc.constant([]) }] : []),
    { weight: 1, arbitrary: fc.constant(null).map(() => Array.from({ length: max + 1 }, (_, i) => validItem(i))) },
  ),
});

/** A value this field refuses: a wrong JSON type, or a right type with a wrong value. */
function fieldInvalid(field: Field): fc.Arbitrary<unknown> {
  const wrongType = fc
    .oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', 'true', '0', 'null', 'NaN', '1e309', -0, 0, 1.5, [], {}))
    .filter((v) => !field.types.includes(typeOf(v) as Field['types'][number]));
  return field.invalid ? fc.oneof(wrongType, field.invalid) : wrongType;
}

// ─── The routes ──────────────────────────────────────────────────────────────────────────────

interface FuzzRoute {
  readonly route: string;
  readonly url: string;
  readonly as: Role;
  /** A body the route accepts; the generators corrupt it. Absent: the route reads no body. */
  readonly body?: Record<string, unknown>;
  readonly fields?: Record<string, Field>;
  /** The route also accepts no body at all (or `null`). */
  readonly nullable?: boolean;
  /** A path the route refuses (a malformed or unknown key or id). */
  readonly badPaths: fc.Arbitrary<string>;
  readonly ifMatch?: boolean;
  readonly idempotencyKey?: boolean;
  /** Route-specific whole bodies it must refuse. */
  readonly badBodies?: fc.Arbitrary<unknown>;
}

const keyPath = (make: (k: string) => string) =>
  fc.oneof(
    badKey.filter((k) => k.length > 0 && !k.includes('/')).map((k) => make(encodeURIComponent(k))),
    fc.constantFrom('no-such-flag', 'never.created').map(make),
  );
const idPath = (make: (id: string) => string, max: number) =>
  fc.oneof(fc.constantFrom('nope', 'x_0', 'tok_missing', 'nc_missing', 'sn_missing', 'sc_missing').map(make), fc.constant(make('i'.repeat(max + 1))));
const reason = { reason: text(1000) };
const stage = (percentage: number) => ({ percentage, minDwellMinutes: 0 });
const stageField = list(
  { types: ['object'], invalid: fc.oneof(fc.constant({ percentage: 5 }), fc.constant({ percentage: 5, minDwellMinutes: 1.5 }), fc.constant({ percentage: 5, minDwellMinutes: 0, gate: 'maybe' }), fc.constant({ ...stage(5), extra: 1 })) },
  (i) => stage(Math.min(100, i + 1)),
  1,
  50,
);
const flagFields: Record<string, Field> = {
  description: text(1000),
  enabled: bool,
  rolloutPercentage: { types: ['number'], invalid: badPercentage },
  rolloutBasisPoints: int(0, 10_000),
  allowlist: list(text(256, 1), (i) => `u-${i}`, 0, 10_000),
  salt: text(128, 1),
  stickiness: { types: ['string'], invalid: fc.oneof(fc.constant(''), fc.constant('1abc'), fc.constant('a b'), tooLong(64)) },
  ...reason,
};

function fuzzRoutes(ids: { channel: string; snapshot: string; change: string; token: string }): FuzzRoute[] {
  const actions = ['advance', 'approve', 'pause', 'resume', 'rollback', 'complete', 'abort'].map(
    (a): FuzzRoute => ({ route: `POST /api/admin/rollouts/:key/${a}`, url: `/api/admin/rollouts/fuzz-planned/${a}`, as: 'OPERATOR', body: {}, fields: reason, nullable: true, badPaths: keyPath((k) => `/api/admin/rollouts/${k}/${a}`) }),
  );
  const cohort = (c: string) => ({ type: 'exposure', flag: 'fuzz', cohort: c });
  const badEvent = fc.oneof(
    fc.string({ maxLength: 40 }).filter((c) => !(COHORTS as readonly string[]).includes(c)).map(cohort),
    fc.constant({ type: 'exposure', flag: 'no-such-flag', cohort: 'exposed' }),
    badKey.map((flag) => ({ type: 'exposure', flag, cohort: 'exposed' })),
    fc.oneof(fc.integer({ min: 600, max: 1e9 }), fc.integer({ min: -1e9, max: 99 }), fc.constant(200.5)).map((status) => ({ type: 'http', flag: 'fuzz', cohort: 'exposed', status, latencyMs: 1 })),
    fc.constantFrom(-1, -1e-9, raw('1e309'), raw('-1e309')).map((latencyMs) => ({ type: 'http', flag: 'fuzz', cohort: 'exposed', status: 200, latencyMs })),
    fc.constantFrom(raw('1e309'), raw('-1e309'), '1', null).map((value) => ({ type: 'value', flag: 'fuzz', cohort: 'exposed', metric: 'time_ms', value })),
    fc.oneof(fc.string({ maxLength: 70 }).filter((m) => !/^[a-z][a-z0-9_]{0,62}$/.test(m)), fc.constant('A')).map((metric) => ({ type: 'rate', flag: 'fuzz', cohort: 'exposed', metric, success: true })),
    fc.constantFrom(NOW - 100 * 86_400_000, NOW + 3_600_000, 'garbage', '', raw('1e309'), iso(NOW - 91 * 86_400_000)).map((at) => ({ type: 'exposure', flag: 'fuzz', cohort: 'exposed', at })),
    fc.constantFrom('click', 'Exposure', '', null, 1).map((type) => ({ type, flag: 'fuzz', cohort: 'exposed' })),
    fc.jsonValue({ maxDepth: 1 }).filter((v) => typeOf(v) !== 'object'),
  );
  const minute = Math.floor(NOW / 60_000) * 60_000 - 120_000;
  const agg = (over: Record<string, unknown>) => ({ flag: 'fuzz', cohort: 'exposed', metric: 'checkout_ok', kind: 'rate', minute, count: 2, sum: 1, ...over });
  const badAggregate = fc.oneof(
    fc.constantFrom(-1, -0.5, 1.5, raw('1e309'), raw('-1e309')).map((count) => agg({ count })),
    fc.constantFrom(3, -1, raw('1e309')).map((sum) => agg({ sum })),
    fc.constantFrom(minute + 1, minute + 59_999, NOW - 100 * 86_400_000, 'soon').map((m) => agg({ minute: m })),
    fc.constant(agg({ kind: undefined })),
    fc.constant(agg({ kind: 'gauge' })),
    fc.constant(agg({ metric: '_exposures', kind: 'rate' })),
    fc.constant(agg({ kind: 'distribution', histogram: { [String(HISTOGRAM_BUCKETS)]: 2 }, sum: 3 })),
    fc.constant(agg({ kind: 'distribution', histogram: { '0': 1 }, sum: 3 })),
    fc.constant(agg({ kind: 'distribution', sum: 3 })),
    fc.constant(agg({ kind: 'counter', histogram: { '0': 2 } })),
    fc.constant(agg({ histogramx: {} })),
  );
  const event = (i: number) => ({ type: 'exposure', flag: 'fuzz', cohort: COHORTS[i % COHORTS.length] });
  return [
    { route: 'POST /api/admin/feature-flags', url: F, as: 'OPERATOR', body: { key: 'fuzz-new' }, fields: { key, ...flagFields }, badPaths: fc.constant(`${F}/`) },
    { route: 'PUT /api/admin/feature-flags/:key', url: `${F}/fuzz`, as: 'OPERATOR', body: { description: 'fuzzed' }, fields: flagFields, ifMatch: true, badPaths: keyPath((k) => `${F}/${k}`) },
    { route: 'DELETE /api/admin/feature-flags/:key', url: `${F}/fuzz`, as: 'OPERATOR', body: {}, fields: reason, nullable: true, ifMatch: true, badPaths: keyPath((k) => `${F}/${k}`) },
    ...(['POST', 'DELETE'] as const).map(
      (method): FuzzRoute => ({
        route: `${method} /api/admin/feature-flags/:key/allowlist`,
        url: `${F}/fuzz/allowlist`,
        as: 'OPERATOR',
        body: { ids: [method === 'POST' ? 'fresh-id' : 'member-0'] },
        fields: { ids: list(text(256, 1), (i) => `id-${i}`, 1, 10_000), ...reason },
        ifMatch: true,
        badPaths: keyPath((k) => `${F}/${k}/allowlist`),
        // One more id than the 10 000 a list may hold: ALLOWLIST_TOO_LARGE (on POST) or a no-op-free refusal.
        ...(method === 'POST' ? { badBodies: fc.integer({ min: 6, max: 50 }).map((n) => ({ ids: Array.from({ length: n }, (_, i) => `over-${i}`), __target: 'full' })) } : {}),
      }),
    ),
    {
      route: 'POST /api/admin/rollouts/:key',
      url: '/api/admin/rollouts/fuzz',
      as: 'OPERATOR',
      body: { stages: [stage(10), stage(100)] },
      fields: { template: text(64), stages: stageField, cadence: text(100), rollbackPolicy: text(32), maxExtensions: int(0, 100), maxDataErrors: int(1, 100), ...reason },
      badPaths: keyPath((k) => `/api/admin/rollouts/${k}`),
      badBodies: fc.constantFrom(
        {},
        { stages: [] },
        { stages: [stage(50), stage(10)] },
        { stages: [{ percentage: 10, minDwellMinutes: -5 }] },
        { stages: [stage(10)], rollbackPolicy: 'panic' },
        { template: 'no-such-template' },
        { stages: [stage(101)] },
      ),
    },
    ...actions,
    {
      route: 'PUT /api/admin/plan-templates/:name',
      url: '/api/admin/plan-templates/fuzz-template',
      as: 'OPERATOR',
      body: { stages: [stage(10), stage(100)], rollbackPolicy: 'zero' },
      fields: { description: text(1000), stages: stageField, cadence: text(100), rollbackPolicy: oneOf(['disable', 'zero', 'previous', 'halve']), ...reason },
      badPaths: fc.oneof(badKey.filter((k) => k.length > 0 && !k.includes('/')).map((k) => `/api/admin/plan-templates/${encodeURIComponent(k)}`), fc.constant('/api/admin/plan-templates/runbook-5-phase')),
    },
    { route: 'POST /api/admin/tokens', url: '/api/admin/tokens', as: 'SUPER_ADMIN', body: { name: 'fuzz', role: 'VIEWER' }, fields: { name: text(100, 1), role: oneOf(['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK']), ...reason }, badPaths: fc.constant('/api/admin/tokens/') },
    { route: 'DELETE /api/admin/tokens/:id', url: `/api/admin/tokens/${ids.token}`, as: 'SUPER_ADMIN', body: {}, fields: reason, nullable: true, badPaths: idPath((id) => `/api/admin/tokens/${id}`, 64) },
    {
      route: 'POST /api/evaluate',
      url: '/api/evaluate',
      as: 'SDK',
      body: { context: { id: 'u1' } },
      fields: { context: { types: ['object'], invalid: fc.oneof(fc.constant({ id: { nested: 1 } }), fc.constant(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'v']))), fc.constant({ id: 'v'.repeat(257) })) }, flags: list(key, () => 'fuzz', 0, 1000) },
      badPaths: fc.constant('/api/evaluate/'),
    },
    {
      route: 'POST /api/evaluate/batch',
      url: '/api/evaluate/batch',
      as: 'SDK',
      body: { contexts: [{ id: 'u1' }] },
      fields: { contexts: list({ types: ['object'], invalid: fc.constant({ id: [] }) }, (i) => ({ id: `u${i}` }), 1, 1000), flags: list(key, () => 'fuzz', 0, 100) },
      badPaths: fc.constant('/api/evaluate/batches'),
    },
    {
      route: 'POST /api/metrics',
      url: '/api/metrics',
      as: 'SDK',
      body: { events: [event(0)] },
      fields: {
        idempotencyKey: { types: ['string'], invalid: fc.oneof(fc.string({ maxLength: 7 }), tooLong(128), nulString.map((s) => `${s}--------`)) },
        events: list({ types: ['object'], invalid: badEvent }, event, 0, 10_000),
        aggregates: list({ types: ['object'], invalid: badAggregate }, (i) => agg({ cohort: COHORTS[i % 4] }), 0, 5_000),
      },
      idempotencyKey: true,
      badPaths: fc.constant('/api/metric'),
      // 51 new application metric names for one flag: TOO_MANY_METRICS.
      badBodies: fc.constant({ events: Array.from({ length: 51 }, (_, i) => ({ type: 'rate', flag: 'fuzz', cohort: 'exposed', metric: `m_${i}`, success: true })) }),
    },
    {
      route: 'POST /api/admin/metrics/:key/baselines',
      url: '/api/admin/metrics/fuzz/baselines',
      as: 'OPERATOR',
      body: { mode: 'window', from: iso(NOW - 3_600_000), to: iso(NOW) },
      fields: { mode: oneOf(['pre_rollout', 'window', 'weekly']), from: isoTime, to: isoTime, ...reason },
      badPaths: keyPath((k) => `/api/admin/metrics/${k}/baselines`),
      badBodies: fc.constantFrom({ mode: 'weekly', weeks: 13 }, { mode: 'weekly', hours: 0 }, { mode: 'pre_rollout', hours: 721 }, { mode: 'window', from: iso(NOW), to: iso(NOW - 3_600_000) }),
    },
    {
      route: 'POST /api/admin/beta-monitor/:key/run',
      url: '/api/admin/beta-monitor/fuzz/run',
      as: 'OPERATOR',
      body: { phase: 'fuzz' },
      fields: { phase: text(64), label: text(128), expectedRollout: { types: ['number'], invalid: badPercentage }, trigger: oneOf(['manual', 'api']) },
      nullable: true,
      badPaths: keyPath((k) => `/api/admin/beta-monitor/${k}/run`),
    },
    {
      route: 'PUT /api/admin/beta-monitor/:key/settings',
      url: '/api/admin/beta-monitor/fuzz/settings',
      as: 'OPERATOR',
      body: { recentHours: 12 },
      fields: {
        schedule: { types: ['string'], invalid: fc.constantFrom('every hour', '* * *', '61 * * * *', 'x'.repeat(101)) },
        probeIds: list(text(256, 1), (i) => `p-${i}`, 0, 10_000, true),
        syntheticProbes: int(0, 100_000),
        recentHours: int(1, 168),
        thresholds: { types: ['object', 'null'] },
        ...reason,
      },
      badPaths: keyPath((k) => `/api/admin/beta-monitor/${k}/settings`),
    },
    {
      route: 'POST /api/admin/beta-monitor/:key/signals',
      url: '/api/admin/beta-monitor/fuzz/signals',
      as: 'OPERATOR',
      body: { note: 'fuzz' },
      fields: { complaints: int(0, 1_000_000), critical: bool, note: text(2000), severity: oneOf(['info', 'warning', 'critical']) },
      badPaths: keyPath((k) => `/api/admin/beta-monitor/${k}/signals`),
      badBodies: fc.constantFrom({}, { severity: 'info' }),
    },
    {
      route: 'PUT /api/admin/metric-definitions/:name',
      url: '/api/admin/metric-definitions/fuzz_def',
      as: 'OPERATOR',
      body: { kind: 'rate', source: 'prometheus', query: 'sum(x{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}])', prometheusUrl: 'http://127.0.0.1:9' },
      fields: {
        kind: oneOf(['rate', 'distribution', 'counter', 'gauge']),
        source: oneOf(['prometheus']),
        query: { types: ['string'], invalid: fc.oneof(text(10_000, 1).invalid!, fc.constantFrom('x{{nope}}', '{{flag}', 'rate(x[{{windows}}])')) },
        prometheusUrl: { types: ['string', 'null'], invalid: fc.constantFrom('ftp://x', 'http://u:p@x', 'http://x/?q=1', 'not a url', 'http://x/#f') },
        description: text(1000),
        ...reason,
      },
      badPaths: fc.oneof(fc.constantFrom('Bad', '1abc', 'a-b', 'x'.repeat(64)).map((n) => `/api/admin/metric-definitions/${n}`)),
    },
    { route: 'DELETE /api/admin/metric-definitions/:name', url: '/api/admin/metric-definitions/fuzz_def', as: 'OPERATOR', body: {}, fields: reason, nullable: true, badPaths: fc.constantFrom('no_such_def', 'Bad', '9').map((n) => `/api/admin/metric-definitions/${n}`) },
    {
      route: 'POST /api/admin/metric-definitions/:name/query',
      url: '/api/admin/metric-definitions/fuzz_def/query',
      as: 'VIEWER',
      body: { flag: 'fuzz', cohort: 'exposed', windowSeconds: 60 },
      fields: { flag: text(256, 1), cohort: oneOf(COHORTS), windowSeconds: int(1, 366 * 86_400), baselineOffsetSeconds: int(1, 366 * 86_400), at: isoTime },
      badPaths: fc.constantFrom('no_such_def', 'Bad').map((n) => `/api/admin/metric-definitions/${n}/query`),
    },
    {
      route: 'POST /api/admin/notification-channels',
      url: '/api/admin/notification-channels',
      as: 'SUPER_ADMIN',
      body: { name: 'fuzz', type: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } },
      fields: {
        name: text(200, 1),
        type: oneOf(['webhook', 'slack', 'email']),
        config: { types: ['object'], invalid: fc.constantFrom({}, { url: 'ftp://x' }, { url: 'http://u:p@x' }, { url: 'http://x', secret: 'short' }, { url: 'http://x', extra: 1 }, { to: ['a@b.c'] }) },
        flagKeys: list(key, () => 'fuzz', 1, 1000, true),
        enabled: bool,
        ...reason,
      },
      badPaths: fc.constant('/api/admin/notification-channel'),
      // E-mail without RAMPART_SMTP_URL: SMTP_NOT_CONFIGURED.
      badBodies: fc.constant({ name: 'mail', type: 'email', config: { to: ['ops@example.com'] } }),
    },
    {
      route: 'PUT /api/admin/notification-channels/:id',
      url: `/api/admin/notification-channels/${ids.channel}`,
      as: 'SUPER_ADMIN',
      body: { name: 'renamed' },
      fields: {
        name: text(200, 1),
        type: oneOf(['webhook', 'slack', 'email']),
        config: { types: ['object'], invalid: fc.constantFrom({ url: 'ftp://x' }, { url: 'http://x', secret: 'short' }, { to: [] }) },
        flagKeys: list(key, () => 'fuzz', 1, 1000, true),
        enabled: bool,
        ...reason,
      },
      badPaths: idPath((id) => `/api/admin/notification-channels/${id}`, 100),
    },
    { route: 'DELETE /api/admin/notification-channels/:id', url: `/api/admin/notification-channels/${ids.channel}`, as: 'SUPER_ADMIN', body: {}, fields: reason, nullable: true, badPaths: idPath((id) => `/api/admin/notification-channels/${id}`, 100) },
    // Reads no body: only its path and the body's transport (JSON, media type, size) can be wrong.
    { route: 'POST /api/admin/notification-channels/:id/test', url: `/api/admin/notification-channels/${ids.channel}/test`, as: 'SUPER_ADMIN', badPaths: idPath((id) => `/api/admin/notification-channels/${id}/test`, 100) },
    { route: 'POST /api/admin/snapshots', url: '/api/admin/snapshots', as: 'OPERATOR', body: {}, fields: { label: text(200), ...reason }, nullable: true, badPaths: fc.constant('/api/admin/snapshot') },
    { route: 'POST /api/admin/snapshots/:id/restore', url: `/api/admin/snapshots/${ids.snapshot}/restore`, as: 'SUPER_ADMIN', body: {}, fields: reason, nullable: true, badPaths: idPath((id) => `/api/admin/snapshots/${id}/restore`, 64) },
    {
      route: 'POST /api/admin/feature-flags/:key/scheduled-changes',
      url: `${F}/fuzz/scheduled-changes`,
      as: 'OPERATOR',
      body: { at: iso(NOW + 86_400_000), enabled: true },
      fields: { at: isoTime, enabled: bool, rolloutPercentage: { types: ['number'], invalid: badPercentage }, ...reason },
      badPaths: keyPath((k) => `${F}/${k}/scheduled-changes`),
      badBodies: fc.constantFrom({ at: iso(NOW + 86_400_000) }, { at: iso(NOW - 60_000), enabled: true }, { at: iso(NOW + 400 * 86_400_000), enabled: true }),
    },
    { route: 'DELETE /api/admin/scheduled-changes/:id', url: `/api/admin/scheduled-changes/${ids.change}`, as: 'OPERATOR', body: {}, fields: reason, nullable: true, badPaths: idPath((id) => `/api/admin/scheduled-changes/${id}`, 64) },
  ];
}

// ─── Requests that must be refused ───────────────────────────────────────────────────────────

interface Request {
  as?: Role;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  what: string;
}

const NOT_JSON_TYPES = fc.oneof(
  fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html; charset=utf-8', 'application/octet-stream', 'image/png', 'text/json-ish', '*/*'),
  fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,20}$/).filter((t) => !t.includes('json')),
);
/** Strings JSON.parse refuses: broken text, JavaScript-only literals, trailing garbage. */
// (A byte-order mark before valid JSON is not among them: RFC 8259 lets parsers skip it.)
const notJson = (valid: string) =>
  fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n)),
    fc.constantFrom('}', ']', 'x', ',', '{', '"', 'null', '\u0000').map((junk) => valid + junk),
    fc.constantFrom('{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":0x10}', '{"a":01}', '{"a":+1}', '{"a":.5}', '{"a":1.}', "{'a':1}", '{a:1}', '{"a":1,}', '[1,]', '{"a":undefined}', '\uFEFF', '{"a":"\u0000"}'.replace('\\u0000', '\u0000'), '{"a":"\\x41"}', '{"a":"\\u12"}'),
    fc.string({ maxLength: 60 }).filter((s) => {
      try {
        // A leading byte-order mark is allowed (RFC 8259 §8.1), and Fastify's parser skips it.
        JSON.parse(s.replace(/^\uFEFF/, ''));
        return false;
      } catch {
        return true;
      }
    }),
  );
const garbageIfMatch = printable.filter((s) => s.trim() !== '*' && !/^(?:W\/)?"?(\d{1,9})"?$/.test(s.trim()));
const staleIfMatch = fc.integer({ min: 1_000_000, max: 999_999_999 }).chain((v) => fc.constantFrom(`"${v}"`, `W/"${v}"`, String(v)));
/** Query strings a mutating route ignores or refuses: never what makes a request valid. */
const oddQuery = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?', '?&&', '?a=1&a=2', '?__proto__[x]=1', '?constructor=1', '?%ZZ=1', '?a=%E0%A4%A', `?q=${'x'.repeat(3000)}`, '?id=%00'),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }).map((d) => `?${new URLSearchParams(d).toString()}`),
);
const oddHeaders = fc.record(
  {
    'x-request-id': fc.oneof(printable, fc.constant('a'.repeat(200))),
    accept: fc.constantFrom('text/markdown', '*/*', 'application/xml', 'garbage'),
    'idempotency-key': printable,
  },
  { requiredKeys: [] },
);

function withUnknownField(body: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
  const out = { ...body };
  // defineProperty: `out.__proto__ = …` would set the prototype instead of sending the field.
  Object.defineProperty(out, name, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

/** One request the route must refuse, with a note on how it was made. */
function invalidRequest(r: FuzzRoute): fc.Arbitrary<Request> {
  const method = r.route.slice(0, r.route.indexOf(' '));
  const json = (url: string, body: unknown, what: string, headers: Record<string, string> = {}): Request => ({
    method,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: serialise(body),
    what,
  });
  const base = r.body ?? {};
  const valid = serialise(base);
  // Weighted: the 1 MiB bodies are costly to build and say the same thing every time.
  const kinds: fc.WeightedArbitrary<Request>[] = [
    { weight: 3, arbitrary: notJson(valid).map((p) => ({ method, url: r.url, headers: { 'content-type': 'application/json' }, payload: p, what: 'malformed JSON' })) },
    { weight: 2, arbitrary: NOT_JSON_TYPES.map((ct) => ({ method, url: r.url, headers: { 'content-type': ct }, payload: valid, what: `content-type ${ct}` })) },
    {
      weight: 1,
      arbitrary: fc.constant(null).map(() => ({ method, url: r.url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...base, padding: 'x'.repeat(1_100_000) }), what: 'a body over 1 MiB' })),
    },
    { weight: 3, arbitrary: r.badPaths.map((url) => ({ ...json(url, base, 'a malformed or unknown path'), url })) },
  ];
  if (r.body) {
    const known = Object.keys(r.fields ?? {});
    kinds.push(
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'Key', 'version')), fc.jsonValue({ maxDepth: 2 }))
          .filter(([name]) => !known.includes(name))
          .map(([name, value]) => json(r.url, withUnknownField(base, name, value), `unknown field ${JSON.stringify(name)}`)),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).filter((v) => typeOf(v) !== 'object' && !(r.nullable && v === null)).map((v) => json(r.url, v, 'a body that is not an object')) },
    );
    if (!r.nullable) kinds.push({ weight: 1, arbitrary: fc.constant(null).map(() => ({ method, url: r.url, headers: { 'content-type': 'application/json' }, payload: '', what: 'an empty JSON body' })) });
    if (known.length > 0) {
      kinds.push({
        weight: 4 * Math.min(known.length, 4),
        arbitrary: fc
          .constantFrom(...known)
          .chain((name) => fieldInvalid(r.fields![name]!).map((value) => [name, value] as const))
          .map(([name, value]) => json(r.url, { ...base, [name]: value }, `field ${name} = ${serialise(value)?.slice(0, 60)}`)),
      });
    }
  }
  if (r.badBodies) {
    kinds.push({
      weight: 3,
      arbitrary: r.badBodies.map((b) => {
        const { __target, ...body } = b as Record<string, unknown>;
        return json(__target === 'full' ? `${F}/fuzz-full/allowlist` : r.url, body, 'a body the service refuses');
      }),
    });
  }
  if (r.ifMatch) {
    kinds.push({ weight: 3, arbitrary: fc.oneof(garbageIfMatch, staleIfMatch).map((v) => json(r.url, base, `If-Match ${v}`, { 'if-match': v })) });
  }
  if (r.idempotencyKey) {
    kinds.push({
      weight: 2,
      arbitrary: fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 7 }), fc.integer({ min: 129, max: 4000 }).map((n) => 'k'.repeat(n))).map((k) =>
        json(r.url, base, `Idempotency-Key of ${k.length} characters`, { 'idempotency-key': k.replace(/[^\x21-\x7e]/g, 'x') }),
      ),
    });
  }
  // Noise on top: odd query strings and headers never turn a refused request into an accepted one.
  return fc.tuple(fc.oneof(...kinds), oddQuery, oddHeaders).map(([req, q, h]) => {
    const { 'idempotency-key': idem, ...rest } = h;
    // An extra valid-looking Idempotency-Key would not change validity either, but keep it out of
    // requests whose point is the key itself.
    const headers = { ...rest, ...(idem !== undefined && !r.idempotencyKey ? { 'idempotency-key': idem } : {}), ...req.headers };
    return { ...req, as: r.as, url: req.url + q, headers };
  });
}

// ─── The database, all of it ─────────────────────────────────────────────────────────────────

/** Columns that change without anyone writing anything a user asked for. */
const VOLATILE: Record<string, readonly string[]> = { api_tokens: ['last_used_at'], replica_leases: ['lease_until'] };

/** Every row of every table, as sorted JSON per table: "nothing was written" means equal dumps. */
async function dumpAll(db: Database): Promise<Record<string, string[]>> {
  const tables = await db.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    const rows = await db.query<{ r: Record<string, unknown> }>(`select to_jsonb(t) as r from "${name}" t`);
    out[name] = rows
      .map(({ r }) => {
        for (const c of VOLATILE[name] ?? []) delete r[c];
        return JSON.stringify(r);
      })
      .sort();
  }
  return out;
}

function checkRefusal(res: LightMyRequestResponse, req: Request): string | undefined {
  const where = `${req.method} ${req.url.slice(0, 120)} (${req.what})`;
  if (res.statusCode >= 500) return `${where}: ${res.statusCode} ${res.body.slice(0, 300)}`;
  if (res.statusCode < 400) return `${where}: accepted with ${res.statusCode} ${res.body.slice(0, 200)}`;
  let body: { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
  try {
    body = res.json();
  } catch {
    return `${where}: ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`;
  }
  const e = body.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || typeof e.requestId !== 'string') return `${where}: not the error shape: ${res.body.slice(0, 300)}`;
  if (e.requestId !== res.headers['x-request-id']) return `${where}: requestId ${e.requestId} is not the X-Request-Id ${String(res.headers['x-request-id'])}`;
  if (!DOCUMENTED.has(e.code)) return `${where}: ${e.code} is not in docs/errors.md`;
  if (DOCUMENTED.get(e.code) !== res.statusCode) return `${where}: ${e.code} came with ${res.statusCode}, docs/errors.md says ${DOCUMENTED.get(e.code)}`;
  return undefined;
}

describe.each(DRIVERS)('fuzzing every write with malformed input on %s', (driver) => {
  let t: TestApp;
  let routes: FuzzRoute[];
  const seen = { inputs: 0, fiveHundreds: 0, codes: new Map<string, number>() };

  beforeAll(async () => {
    t = await startTestApp(driver, { rateLimitAdmin: 0, rateLimitSdk: 0, rateLimitIngest: 0 });
    const ok = async (method: string, url: string, body: unknown) => {
      const res = await t.call(method, url, { body });
      expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 200)}`).toBeLessThan(300);
      return res.json() as { id: string };
    };
    await ok('POST', F, { key: 'fuzz', enabled: true, rolloutPercentage: 10, allowlist: ['member-0', 'member-1'] });
    await ok('POST', F, { key: 'fuzz-full', allowlist: Array.from({ length: FULL_SIZE }, (_, i) => `member-${i}`) });
    await ok('POST', F, { key: 'fuzz-planned', enabled: true });
    await ok('POST', '/api/admin/rollouts/fuzz-planned', { stages: [stage(5), stage(50), stage(100)] });
    await ok('PUT', '/api/admin/metric-definitions/fuzz_def', { kind: 'rate', source: 'prometheus', query: 'sum(x{flag="{{flag}}"}[{{window}}])', prometheusUrl: 'http://127.0.0.1:9' });
    routes = fuzzRoutes({
      channel: (await ok('POST', '/api/admin/notification-channels', { name: 'fuzz', type: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } })).id,
      snapshot: (await ok('POST', '/api/admin/snapshots', { label: 'fuzz' })).id,
      change: (await ok('POST', `${F}/fuzz/scheduled-changes`, { at: iso(NOW + 86_400_000), enabled: false })).id,
      token: (await ok('POST', '/api/admin/tokens', { name: 'fuzz', role: 'VIEWER' })).id,
    });
  });
  afterAll(async () => {
    await t?.close();
    const codes = [...seen.codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
    console.log(`fuzz on ${driver}: ${seen.inputs} inputs tried, ${seen.fiveHundreds} answered 5xx; refusals: ${codes}`);
  });

  it('fuzzes every write route the server registers (and POST /api/metrics)', () => {
    const writes = [...REGISTERED].filter((r) => /^(POST|PUT|DELETE|PATCH) /.test(r));
    const fuzzed = new Set(routes.map((r) => r.route));
    expect(writes.filter((w) => !fuzzed.has(w)), 'write routes without a fuzz target').toEqual([]);
    expect(fuzzed.has('POST /api/metrics')).toBe(true);
  });

  it(`refuses ${INVALID_RUNS} generated malformed writes with a documented 4xx, and writes nothing`, async () => {
    const before = await dumpAll(t.db);
    // POST /api/metrics takes the richest input (events, aggregates, histograms): it gets a larger share.
    const request = fc.oneof(...routes.map((r) => ({ weight: r.route === 'POST /api/metrics' ? 20 : 2, arbitrary: invalidRequest(r) })));
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const headers = { authorization: `Bearer ${t.tokens[req.as!]}`, ...req.headers };
        const res = await t.app.inject({ method: req.method as 'POST', url: req.url, headers, ...(req.payload === undefined ? {} : { payload: req.payload }) });
        seen.inputs++;
        if (res.statusCode >= 500) seen.fiveHundreds++;
        const code = (res.json() as { error?: { code?: string } }).error?.code ?? String(res.statusCode);
        seen.codes.set(code, (seen.codes.get(code) ?? 0) + 1);
        const problem = checkRefusal(res, req);
        if (problem) throw new Error(problem);
      }),
      { numRuns: INVALID_RUNS, endOnFailure: true },
    );
    const after = await dumpAll(t.db);
    for (const table of Object.keys(before)) expect(after[table], `table ${table} changed`).toEqual(before[table]);
  }, 300_000);
});

// ─── Valid and invalid mixed: the state is what the accepted requests alone make ─────────────

interface Step {
  method: string;
  path: (ns: string) => string;
  body: unknown;
  ifMatch?: string;
}

/** Flag writes on a handful of keys, valid or not (boundary numbers included: -0, 0.01, 100). */
const [flagCreate, flagStep] = ((): [fc.Arbitrary<Step>, fc.Arbitrary<Step>] => {
  const k = fc.constantFrom('a', 'b', 'c');
  // Mostly valid values, so that most sequences get somewhere; now and then a refused one.
  const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) => fc.oneof({ weight: 10, arbitrary: valid }, { weight: 1, arbitrary: invalid });
  const value = {
    enabled: mostly(fc.boolean(), fc.constantFrom('true', 1, null)),
    rolloutPercentage: mostly(fc.oneof(fc.constantFrom(0, -0, 0.01, 12.34, 99.99, 100), fc.integer({ min: 0, max: 100 })), fc.constantFrom(100.01, -1, 0.001, 1e-7, raw('1e309'))),
    description: mostly(fc.string({ unit: 'binary', maxLength: 30 }).map((d) => d.replace(/\u0000/g, '')), fc.constantFrom('x'.repeat(1001), 'n\u0000ul')),
    allowlist: mostly(fc.array(fc.constantFrom('p1', 'p2', 'p3', 'p4'), { maxLength: 4 }), fc.constant([''])),
  };
  // Basis points now and then, in place of the percentage or (rarely agreeing) beside it.
  const basisPoints = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: mostly(fc.oneof(fc.constantFrom(0, -0, 1, 10_000), fc.integer({ min: 0, max: 10_000 })), fc.constantFrom(10_001, 1.5, -1)) },
  );
  const bogus = fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
  const fields = fc.tuple(fc.record(value, { requiredKeys: [] }), basisPoints, bogus).map(([f, bp, junk]) => ({
    ...f,
    ...(bp === undefined ? {} : { rolloutBasisPoints: bp }),
    ...(junk === undefined ? {} : { bogus: junk }),
  }));
  const ids = mostly(fc.array(fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5'), { minLength: 1, maxLength: 4 }), fc.constantFrom([], [''], ['n\u0000ul']));
  const ifMatch = fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 1, max: 6 }).map((v) => `"${v}"`), fc.constantFrom('*', 'junk')) });
  const create = fc.tuple(k, fields).map(([key, f]): Step => ({ method: 'POST', path: () => F, body: { key, ...f } }));
  const write = fc.oneof(
    { weight: 1, arbitrary: create },
    { weight: 3, arbitrary: fc.tuple(k, fields, ifMatch).map(([key, f, m]): Step => ({ method: 'PUT', path: (ns) => `${F}/${ns}${key}`, body: f, ...(m ? { ifMatch: m } : {}) })) },
    { weight: 1, arbitrary: fc.tuple(k, ifMatch).map(([key, m]): Step => ({ method: 'DELETE', path: (ns) => `${F}/${ns}${key}`, body: {}, ...(m ? { ifMatch: m } : {}) })) },
    { weight: 3, arbitrary: fc.tuple(k, fc.constantFrom('POST', 'DELETE'), ids, ifMatch).map(([key, method, list, m]): Step => ({ method, path: (ns) => `${F}/${ns}${key}/allowlist`, body: { ids: list }, ...(m ? { ifMatch: m } : {}) })) },
  );
  return [create, write];
})();

/** What a user could compare between two servers: flags and their audit trail, minus clocks and ids. */
async function flagStory(db: Database, ns: string) {
  const flags = await db.query(
    `select key, description, enabled, rollout_basis_points, allowlist, salt, stickiness, version, archived_at is not null as archived
       from flags where key like $1 order by key`,
    [`${ns}%`],
  );
  const audit = await db.query(`select actor, actor_role, action, flag_key, before, after, reason from audit_events where flag_key like $1 order by id`, [`${ns}%`]);
  return { flags, audit };
}

describe.each(DRIVERS)('valid and invalid writes mixed on %s', (driver) => {
  let live: TestApp;
  let replica: TestApp;
  let tried = 0;
  let accepted = 0;
  beforeAll(async () => {
    [live, replica] = await Promise.all([startTestApp(driver, { rateLimitAdmin: 0 }), startTestApp(driver, { rateLimitAdmin: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([live?.close(), replica?.close()]);
    console.log(`mixed fuzz on ${driver}: ${tried} inputs tried, ${accepted} accepted and replayed`);
  });

  it('ends in the state that replaying only the accepted requests on a fresh database gives', async () => {
    let run = 0;
    await fc.assert(
      // Each run starts by creating its keys (those creates may be refused too), then mixes writes.
      fc.asyncProperty(fc.array(flagCreate, { minLength: 3, maxLength: 3 }), fc.array(flagStep, { minLength: 5, maxLength: 40 }), async (creates, rest) => {
        const steps = [...creates, ...rest];
        // A key namespace per run: the runs share the two databases but never each other's flags.
        const ns = `r${run++}-`;
        const send = (app: TestApp, s: Step) => {
          const body = s.method === 'POST' && s.path(ns) === F ? { ...(s.body as object), key: `${ns}${(s.body as { key: string }).key}` } : s.body;
          return app.app.inject({
            method: s.method as 'POST',
            url: s.path(ns),
            headers: { authorization: `Bearer ${app.tokens.OPERATOR}`, 'content-type': 'application/json', ...(s.ifMatch ? { 'if-match': s.ifMatch } : {}) },
            payload: serialise(body),
          });
        };
        const kept: Step[] = [];
        for (const s of steps) {
          const res = await send(live, s);
          tried++;
          expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
          if (res.statusCode < 300) kept.push(s);
          else expect(checkRefusal(res, { method: s.method, url: s.path(ns), headers: {}, what: 'mixed' })).toBeUndefined();
        }
        accepted += kept.length;
        for (const s of kept) {
          const res = await send(replica, s);
          expect(res.statusCode, `replaying ${s.method} ${s.path(ns)}: ${res.body.slice(0, 200)}`).toBeLessThan(300);
        }
        expect(await flagStory(replica.db, ns)).toEqual(await flagStory(live.db, ns));
      }),
      { numRuns: MIXED_RUNS, endOnFailure: true },
    );
  }, 240_000);
});
