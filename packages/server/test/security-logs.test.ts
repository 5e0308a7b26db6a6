import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

const KEY = 'log_probe_flag';
// Distinctive so a grep cannot match anything by accident.
const SUBJECTS = ['pass_logcheck_q1w2e3', 'pass_logcheck_r4t5y6', 'pass_logcheck_u7i8o9', 'pass_logcheck_allow_p0', 'pass_logcheck_batch_a1'];
const BOGUS = 'rpt_bogusBOGUSbogusBOGUSbogusBOGUSbogusBOGUS12';

/** Keeps every line the app logs. */
function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe.each(DRIVERS)('logs under load keep secrets and subject ids out on %s', (driver) => {
  let t: TestApp;
  const log = capture();
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(driver, { logLevel: 'debug' }, undefined, { logStream: log.stream });
    secrets.push(...Object.values(t.tokens), BOGUS);
  });
  afterAll(async () => t?.close());

  it('writes debug lines for evaluations, admin writes, ingestion and failed auth, with none of them in clear', async () => {
    const ok = (res: { statusCode: number; body: string }, status = 200) => expect(res.statusCode, res.body.slice(0, 200)).toBe(status);
    // Admin writes, with tokens.
    ok(await t.call('POST', '/api/admin/feature-flags', { as: 'OPERATOR', body: { key: KEY, enabled: true, rolloutPercentage: 50, allowlist: [SUBJECTS[3]] } }), 201);
    ok(await t.call('POST', `/api/admin/feature-flags/${KEY}/allowlist`, { as: 'OPERATOR', body: { ids: [SUBJECTS[4]], reason: 'beta' } }));
    ok(await t.call('PUT', `/api/admin/feature-flags/${KEY}`, { as: 'OPERATOR', body: { rolloutPercentage: 60 } }));
    const created = await t.call('POST', '/api/admin/tokens', { body: { name: 'new-sdk', role: 'SDK' } });
    ok(created, 201);
    const newSecret = created.json().token as string;
    secrets.push(newSecret);

    // Evaluations with subject ids, in the query and in bodies, by SDK tokens, old and new.
    ok(await t.call('GET', `/api/evaluate/${KEY}?id=${SUBJECTS[0]}&country=BR`, { as: 'SDK' }));
    ok(await t.call('GET', `/api/evaluate/${KEY}?id=${SUBJECTS[3]}`, { as: { secret: newSecret } }));
    ok(await t.call('POST', '/api/evaluate', { as: 'SDK', body: { context: { id: SUBJECTS[1] } } }));
    ok(await t.call('POST', '/api/evaluate/batch', { as: 'SDK', body: { contexts: [{ id: SUBJECTS[4] }, { id: SUBJECTS[2] }] } }));
    ok(await t.call('GET', `/api/flags?id=${SUBJECTS[2]}`, { as: 'SDK' }));
    ok(await t.call('GET', '/api/sdk/config', { as: 'SDK' }));
    ok(await t.call('GET', `/api/evaluate/no_such_flag?id=${SUBJECTS[0]}`, { as: 'SDK' }), 404);

    // Metric ingestion.
    const events = [
      { type: 'exposure', flag: KEY, cohort: 'exposed' },
      { type: 'http', flag: KEY, cohort: 'exposed', status: 500, latencyMs: 12 },
    ];
    ok(await t.call('POST', '/api/metrics', { as: 'SDK', body: { events } }));
    // A batch that carries a subject id is refused; the id must not be logged either.
    ok(await t.call('POST', '/api/metrics', { as: 'SDK', body: { events: [{ ...events[0], subjectId: SUBJECTS[1] }] } }), 400);

    // Failed authentication: a bogus token, a malformed header, on admin and SDK routes.
    ok(await t.call('GET', '/api/admin/feature-flags', { as: { secret: BOGUS } }), 401);
    ok(await t.call('GET', `/api/evaluate/${KEY}?id=${SUBJECTS[0]}`, { as: { secret: BOGUS } }), 401);
    ok(await t.call('GET', '/api/admin/feature-flags', { as: null, headers: { authorization: `Token ${BOGUS}` } }), 401);

    // Over a real connection too (Node's HTTP parsing, the fast-path server wrapper).
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    for (const [secret, id] of [[t.tokens.SDK, SUBJECTS[0]], [BOGUS, SUBJECTS[1]]] as const) {
      await (await fetch(`${base}/api/evaluate/${KEY}?id=${id}`, { headers: { authorization: `Bearer ${secret}` } })).text();
    }

    const text = log.text();
    // The load was logged, at debug: the check below is not vacuous.
    expect(text).toMatch(new RegExp(`feature_key=${KEY} decision=[A-Z_]+ subject=[0-9a-f]{16}`));
    expect(text).toContain('POST /api/admin/tokens 201');
    expect(text).toContain('POST /api/metrics 200');
    expect(text).toContain('GET /api/admin/feature-flags 401');
    expect(text.split('\n').length).toBeGreaterThan(20);

    for (const secret of secrets) {
      expect(text, 'a token secret').not.toContain(secret);
      expect(text, 'a token secret without its prefix').not.toContain(secret.slice(4));
    }
    for (const id of SUBJECTS) expect(text, `subject id ${id}`).not.toContain(id);
    expect(text).not.toMatch(/bearer/i);
    expect(text).not.toMatch(/authorization/i);
  });
});
