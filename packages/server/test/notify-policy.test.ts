import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { createNotifier, decideNotification, type CheckpointOutcome, type Notifier } from '../src/notify/index.js';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

const C = '/api/admin/notification-channels';
const DAY = 24 * 3_600_000;
const T0 = new Date('2026-03-02T10:00:00Z');
const silent = { warn: () => {} };

/** A real webhook receiver on loopback; remembers the body of every POST per path. */
async function startReceiver() {
  const bodies = new Map<string, Array<Record<string, unknown>>>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      bodies.set(path, [...(bodies.get(path) ?? []), JSON.parse(raw) as Record<string, unknown>]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    at: (path: string) => bodies.get(path) ?? [],
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let seq = 0;
function cp(flag: string, verdict: CheckpointOutcome['verdict'], at = T0): CheckpointOutcome {
  const health = verdict === 'PASS' ? 'GREEN' : verdict === 'WARN' ? 'YELLOW' : 'RED';
  const decision = verdict === 'PASS' ? 'GO' : verdict === 'WARN' ? 'EXTEND' : 'NO_GO';
  return { id: `cp_${++seq}`, flag, verdict, health, decision, alerts: [], at };
}

describe('the notification policy as a pure function', () => {
  const state = (lastVerdict: 'PASS' | 'WARN' | 'FAIL', lastNotifiedAt: Date | null = T0) => ({
    lastVerdict,
    lastHealth: lastVerdict === 'FAIL' ? ('RED' as const) : ('GREEN' as const),
    lastNotifiedAt,
    lastCheckpointId: 'cp_prev',
  });

  it('announces a plan rollback even when the verdict stayed FAIL (two FAILs in a row)', () => {
    const rolled = { ...cp('f', 'FAIL', new Date(T0.getTime() + 3_600_000)), alerts: [{ code: 'ROLLBACK', severity: 'FAIL', message: 'plan rolled back' }] };
    expect(decideNotification(state('FAIL'), rolled)).toMatchObject({ notify: true, event: 'plan.rolled_back', previousVerdict: 'FAIL' });
    expect(decideNotification({ ...state('FAIL'), lastCheckpointId: rolled.id }, rolled)).toMatchObject({ notify: false });
  });

  it('announces a first checkpoint unless it passes', () => {
    expect(decideNotification(undefined, cp('f', 'PASS'))).toMatchObject({ notify: false });
    expect(decideNotification(undefined, cp('f', 'WARN'))).toMatchObject({ notify: true, event: 'checkpoint.verdict_changed', previousVerdict: null });
  });

  it('announces a change, a RED reminder after exactly 24 h, and nothing for the same checkpoint twice', () => {
    expect(decideNotification(state('PASS'), cp('f', 'WARN'))).toMatchObject({ notify: true, previousVerdict: 'PASS' });
    expect(decideNotification(state('FAIL'), cp('f', 'FAIL', new Date(T0.getTime() + DAY - 1)))).toMatchObject({ notify: false });
    expect(decideNotification(state('FAIL'), cp('f', 'FAIL', new Date(T0.getTime() + DAY)))).toMatchObject({ notify: true, event: 'checkpoint.still_red' });
    expect(decideNotification(state('WARN'), cp('f', 'WARN', new Date(T0.getTime() + 3 * DAY)))).toMatchObject({ notify: false });
    expect(decideNotification(state('PASS'), { ...cp('f', 'FAIL'), id: 'cp_prev' })).toMatchObject({ notify: false, reason: 'checkpoint already handled' });
  });
});

describe.each(DRIVERS)('notifications on %s', (driver) => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let notifier: Notifier;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp(driver);
    notifier = createNotifier({ db: t.db, config: t.config, log: silent, retry: { delaysMs: [5, 5, 5], timeoutMs: 2_000 } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  /** A webhook channel posting to its own path; returns the bodies it received so far. */
  async function hook(path: string, extra: Record<string, unknown> = {}) {
    const res = await t.call('POST', C, { body: { name: path, type: 'webhook', config: { url: `${receiver.url}${path}` }, ...extra } });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().id as string, sent: () => receiver.at(path) };
  }

  it('sends nothing while a flag keeps passing', async () => {
    const ch = await hook('/steady', { flagKeys: ['steady'] });
    expect(await notifier.onCheckpoint(cp('steady', 'PASS'))).toMatchObject({ notified: false, deliveries: [] });
    expect(await notifier.onCheckpoint(cp('steady', 'PASS', new Date(T0.getTime() + 2 * DAY)))).toMatchObject({ notified: false });
    expect(ch.sent()).toHaveLength(0);
  });

  it('sends when the verdict goes PASS → FAIL, once a day while it stays RED, and on recovery', async () => {
    const ch = await hook('/life', { flagKeys: ['life'] });
    await notifier.onCheckpoint(cp('life', 'PASS'));

    const fail = await notifier.onCheckpoint(cp('life', 'FAIL'));
    expect(fail).toMatchObject({ notified: true, deliveries: [{ channelId: ch.id, status: 'sent' }] });
    expect(ch.sent()).toMatchObject([{ event: 'checkpoint.verdict_changed', previousVerdict: 'PASS', verdict: 'FAIL', health: 'RED' }]);

    expect(await notifier.onCheckpoint(cp('life', 'FAIL', new Date(T0.getTime() + 6 * 3_600_000)))).toMatchObject({ notified: false });
    expect(await notifier.onCheckpoint(cp('life', 'FAIL', new Date(T0.getTime() + 23 * 3_600_000)))).toMatchObject({ notified: false });
    expect(ch.sent()).toHaveLength(1);

    const reminder = await notifier.onCheckpoint(cp('life', 'FAIL', new Date(T0.getTime() + DAY)));
    expect(reminder).toMatchObject({ notified: true });
    expect(ch.sent()[1]).toMatchObject({ event: 'checkpoint.still_red', verdict: 'FAIL', previousVerdict: 'FAIL' });
    // The next reminder counts from this one.
    expect(await notifier.onCheckpoint(cp('life', 'FAIL', new Date(T0.getTime() + DAY + 3_600_000)))).toMatchObject({ notified: false });

    const recovery = await notifier.onCheckpoint(cp('life', 'PASS', new Date(T0.getTime() + DAY + 7_200_000)));
    expect(recovery).toMatchObject({ notified: true });
    expect(ch.sent()[2]).toMatchObject({ event: 'checkpoint.verdict_changed', previousVerdict: 'FAIL', verdict: 'PASS', health: 'GREEN' });
    expect(ch.sent()).toHaveLength(3);
  });

  it('uses only enabled channels that watch the flag (or every flag)', async () => {
    const mine = await hook('/scoped-mine', { flagKeys: ['scoped', 'another'] });
    const others = await hook('/scoped-others', { flagKeys: ['unrelated_flag'] });
    const off = await hook('/scoped-off', { flagKeys: ['scoped'], enabled: false });
    const all = await hook('/scoped-all');
    const outcome = await notifier.onCheckpoint(cp('scoped', 'WARN'));
    expect(outcome.deliveries.map((d) => d.channelId).sort()).toEqual(expect.arrayContaining([mine.id, all.id]));
    expect(outcome.deliveries.map((d) => d.channelId)).not.toContain(others.id);
    expect(outcome.deliveries.map((d) => d.channelId)).not.toContain(off.id);
    expect(mine.sent()).toHaveLength(1);
    expect(all.sent()).toHaveLength(1);
    expect(others.sent()).toHaveLength(0);
    expect(off.sent()).toHaveLength(0);

    // Switching the channel off (audited) silences it too.
    const put = await t.call('PUT', `${C}/${mine.id}`, { body: { enabled: false, reason: 'noisy' } });
    expect(put.json()).toMatchObject({ enabled: false, changed: true });
    await notifier.onCheckpoint(cp('scoped', 'FAIL'));
    expect(mine.sent()).toHaveLength(1);
    expect(all.sent()).toHaveLength(2);
    // The catch-all channel was created for this test only.
    await t.call('DELETE', `${C}/${all.id}`);
  });

  it('notifies once when two replicas finish checkpoints with the same change at the same time', async () => {
    const ch = await hook('/race', { flagKeys: ['race'] });
    await notifier.onCheckpoint(cp('race', 'PASS'));
    // On PostgreSQL the second "replica" has its own connection pool, as another process would.
    const db2 = driver === 'postgres' ? await t.testDb.openAnother() : t.db;
    const replica2 = createNotifier({ db: db2, config: t.config, log: silent });
    const a = cp('race', 'FAIL');
    const b = cp('race', 'FAIL');
    const outcomes = await Promise.all([
      notifier.onCheckpoint(a),
      replica2.onCheckpoint(b),
      notifier.onCheckpoint(a),
      replica2.onCheckpoint(a),
    ]);
    expect(outcomes.filter((o) => o.notified)).toHaveLength(1);
    expect(ch.sent()).toHaveLength(1);
  });

  it('lets a VIEWER read channels and deliveries but not create, change, delete or test them (403)', async () => {
    const ch = await hook('/viewer', { flagKeys: ['viewer_flag'] });
    const before = await dump(t.db);
    for (const [method, url, body] of [
      ['POST', C, { name: 'x', type: 'webhook', config: { url: `${receiver.url}/x` } }],
      ['PUT', `${C}/${ch.id}`, { enabled: false }],
      ['DELETE', `${C}/${ch.id}`, undefined],
      ['POST', `${C}/${ch.id}/test`, undefined],
    ] as const) {
      for (const as of ['VIEWER', 'OPERATOR'] as const) {
        const res = await t.call(method, url, { as, body });
        expect(res.statusCode, `${as} ${method} ${url}`).toBe(403);
        expect(res.json().error.code).toBe('FORBIDDEN');
      }
    }
    expect(await dump(t.db)).toEqual(before);
    expect((await t.call('GET', `${C}/${ch.id}`, { as: 'VIEWER' })).statusCode).toBe(200);
    expect((await t.call('GET', `${C}/${ch.id}/deliveries`, { as: 'VIEWER' })).statusCode).toBe(200);
    expect((await t.call('GET', C, { as: 'SDK' })).statusCode).toBe(403);
  });

  it('refuses bad channels with 400 and the code that names the problem, writing nothing', async () => {
    const before = await dump(t.db);
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [{ type: 'pager', config: { url: 'https://x.example.com' } }, 'VALIDATION_ERROR', 'body.type'],
      [{ type: 'webhook', config: { url: 'ftp://hooks.example.com/x' } }, 'INVALID_CHANNEL', 'body.config.url'],
      [{ type: 'webhook', config: { url: 'not a url' } }, 'INVALID_CHANNEL', 'body.config.url'],
      [{ type: 'webhook', config: { url: 'https://user:pw@hooks.example.com/x' } }, 'INVALID_CHANNEL', 'body.config.url'],
      [{ type: 'webhook', config: { url: 'https://hooks.example.com/x', secret: 'short' } }, 'INVALID_CHANNEL', 'body.config.secret'],
      [{ type: 'slack', config: { url: 'javascript:alert(1)' } }, 'INVALID_CHANNEL', 'body.config.url'],
      [{ type: 'slack', config: { url: 'https://hooks.slack.com/x', channel: '#ops' } }, 'INVALID_CHANNEL'],
      [{ type: 'email', config: { to: ['not-an-address'] } }, 'INVALID_CHANNEL', 'body.config.to.0'],
      [{ type: 'email', config: { to: [] } }, 'INVALID_CHANNEL', 'body.config.to'],
      [{ type: 'webhook', config: { url: 'https://hooks.example.com/x' }, flagKeys: ['Bad Key'] }, 'VALIDATION_ERROR'],
      [{ type: 'webhook' }, 'VALIDATION_ERROR'],
    ];
    for (const [body, code, path] of cases) {
      const res = await t.call('POST', C, { body: { name: 'bad', ...body } });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code, JSON.stringify(body)).toBe(code);
      if (path) expect(res.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    // An e-mail channel needs an SMTP server to send through.
    const noSmtp = await t.call('POST', C, { body: { name: 'mail', type: 'email', config: { to: ['a@example.com'] } } });
    expect(noSmtp.statusCode).toBe(409);
    expect(noSmtp.json().error.code).toBe('SMTP_NOT_CONFIGURED');
    expect(await dump(t.db)).toEqual(before);
    // A type change needs a config of the new type.
    const ch = await hook('/retype');
    const snapshot = await dump(t.db);
    const retype = await t.call('PUT', `${C}/${ch.id}`, { body: { type: 'slack' } });
    expect(retype.json().error.code).toBe('INVALID_CHANNEL');
    expect((await t.call('PUT', `${C}/${ch.id}`, { body: { config: { url: 'gopher://x' } } })).json().error.code).toBe('INVALID_CHANNEL');
    expect(await dump(t.db)).toEqual(snapshot);
    await t.call('DELETE', `${C}/${ch.id}`);
    expect((await t.call('GET', `${C}/${ch.id}`)).json().error.code).toBe('CHANNEL_NOT_FOUND');
  });

  it('audits every change to a channel, with the actor and reason, and a no-op PUT writes nothing', async () => {
    const create = await t.call('POST', C, {
      body: { name: 'ops', type: 'webhook', config: { url: `${receiver.url}/audited`, secret: 'sixteen-chars-secret' }, reason: 'page ops' },
    });
    const id = create.json().id as string;
    expect(create.headers.location).toBe(`${C}/${id}`);
    const same = await t.call('PUT', `${C}/${id}`, { body: { name: 'ops', config: { url: `${receiver.url}/audited` } } });
    expect(same.json()).toMatchObject({ changed: false });
    await t.call('PUT', `${C}/${id}`, { body: { flagKeys: ['a_flag'], reason: 'only one flag' } });
    await t.call('DELETE', `${C}/${id}`, { body: { reason: 'done' } });
    const events = (await t.call('GET', '/api/admin/audit?limit=500')).json().events.filter((e: { target: string }) => e.target === id);
    expect(events.map((e: { action: string }) => e.action)).toEqual([
      'notification_channel.delete',
      'notification_channel.update',
      'notification_channel.create',
    ]);
    expect(events[2]).toMatchObject({ actor: 'test-super_admin', reason: 'page ops', after: { name: 'ops', config: { secretSet: true } } });
    expect(events[1]).toMatchObject({ reason: 'only one flag', before: { flagKeys: null }, after: { flagKeys: ['a_flag'] } });
    expect(events[0]).toMatchObject({ reason: 'done', after: null });
  });
});

/** Everything a channel request could write. */
async function dump(db: Database): Promise<unknown> {
  const [channels, audit, deliveries] = await Promise.all([
    db.query('select * from notification_channels order by id'),
    db.query('select * from audit_events order by id'),
    db.query('select * from notification_deliveries order by id'),
  ]);
  return { channels, audit, deliveries };
}
