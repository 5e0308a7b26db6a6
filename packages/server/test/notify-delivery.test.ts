import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, type CheckpointOutcome, type Notifier } from '../src/notify/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { freePort } from './support/prometheus.js';

const C = '/api/admin/notification-channels';
const SECRET = 'whsec_correct-horse-battery-staple';
const FAST = { delaysMs: [5, 10, 20], timeoutMs: 2_000 };
const silent = { warn: () => {} };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on loopback; `script[path]` lists the statuses to answer, in turn. */
async function startReceiver() {
  const received: Received[] = [];
  const script = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = script.get(path)?.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    script,
    at: (path: string) => received.filter((r) => r.path === path),
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback that keeps every message it accepts. */
async function startSmtp() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          // The body is quoted-printable: undo its soft line breaks and escapes.
          raw: raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A verifier as a receiver would write it (docs/notifications.md). */
function verify(rawBody: string, header: string | undefined, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function checkpoint(flag: string, over: Partial<CheckpointOutcome> = {}): CheckpointOutcome {
  return {
    id: `cp_${flag}_${Math.random().toString(36).slice(2, 8)}`,
    flag,
    verdict: 'FAIL',
    health: 'RED',
    decision: 'NO_GO',
    alerts: [
      { code: 'ERROR_RATE_UP', severity: 'critical', message: '5xx rate 7.0 % vs 1.0 % in control' },
      { code: 'P95_UP', severity: 'warning', message: 'p95 latency +38 %' },
    ],
    at: new Date('2026-03-02T10:00:00Z'),
    reportUrl: 'https://rampart.example.com/checkpoints/cp_1',
    ...over,
  };
}

describe('notification delivery to real receivers', () => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let dead: string;
  let notifier: Notifier;

  beforeAll(async () => {
    receiver = await startReceiver();
    smtp = await startSmtp();
    dead = `http://127.0.0.1:${await freePort()}/hook`;
    t = await startTestApp('pglite', { smtpUrl: smtp.url, smtpFrom: 'rampart@example.com' });
    notifier = createNotifier({ db: t.db, config: t.config, log: silent, retry: FAST });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
    await smtp?.stop();
  });

  async function channel(body: Record<string, unknown>): Promise<string> {
    const res = await t.call('POST', C, { body: { name: `ch ${Math.random()}`, ...body } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  async function attempts(id: string) {
    return (await t.call('GET', `${C}/${id}/deliveries`, { as: 'VIEWER' })).json().deliveries as Array<{ attempt: number; status: string; error: string | null }>;
  }

  it('posts the documented JSON to a webhook, signed so the receiver can verify it with the secret', async () => {
    const id = await channel({ type: 'webhook', config: { url: `${receiver.url}/generic`, secret: SECRET }, flagKeys: ['webhook_flag'] });
    const cp = checkpoint('webhook_flag');
    const outcome = await notifier.onCheckpoint(cp);
    expect(outcome).toMatchObject({ notified: true, deliveries: [{ channelId: id, status: 'sent', attempts: 1, error: null }] });

    const [req] = receiver.at('/generic');
    expect(req).toBeDefined();
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      event: 'checkpoint.verdict_changed',
      flag: 'webhook_flag',
      verdict: 'FAIL',
      previousVerdict: null,
      health: 'RED',
      decision: 'NO_GO',
      alerts: cp.alerts,
      checkpointId: cp.id,
      reportUrl: cp.reportUrl,
      at: '2026-03-02T10:00:00.000Z',
    });
    const signature = req!.headers['x-rampart-signature'] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verify(req!.body, signature, SECRET)).toBe(true);
    expect(verify(req!.body, signature, 'another-secret-of-16+')).toBe(false);
    expect(verify(req!.body.replace('FAIL', 'PASS'), signature, SECRET)).toBe(false);
    expect(Math.abs(Number(req!.headers['x-rampart-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(await attempts(id)).toMatchObject([{ attempt: 1, status: 'sent', error: null }]);
  });

  it('posts a readable Slack message with the health emoji, the flag, the alerts and the report link', async () => {
    await channel({ type: 'slack', config: { url: `${receiver.url}/services/T000/B000/XXXX` }, flagKeys: ['slack_flag'] });
    await notifier.onCheckpoint(checkpoint('slack_flag'));
    const [req] = receiver.at('/services/T000/B000/XXXX');
    const body = JSON.parse(req!.body) as { text: string; blocks: unknown[] };
    expect(body.text).toContain(':red_circle: *slack_flag is RED (FAIL, NO_GO)*');
    expect(body.text).toContain('ERROR_RATE_UP: 5xx rate 7.0 % vs 1.0 % in control');
    expect(body.text).toContain('<https://rampart.example.com/checkpoints/cp_1|Open the checkpoint report>');
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(req!.headers['x-rampart-signature']).toBeUndefined();
  });

  it('e-mails every recipient over SMTP with a subject that says the flag, health, verdict and decision', async () => {
    await channel({ type: 'email', config: { to: ['oncall@example.com', 'pm@example.com'] }, flagKeys: ['passenger_favorites_matching'] });
    const outcome = await notifier.onCheckpoint(checkpoint('passenger_favorites_matching'));
    expect(outcome.deliveries).toMatchObject([{ type: 'email', status: 'sent', attempts: 1 }]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to.sort()).toEqual(['oncall@example.com', 'pm@example.com']);
    expect(mail.from).toBe('rampart@example.com');
    expect(mail.raw).toMatch(/^Subject: \[Rampart\] passenger_favorites_matching is RED \(FAIL, NO_GO\)\r?$/m);
    expect(mail.raw).toContain('ERROR_RATE_UP: 5xx rate 7.0 % vs 1.0 % in control');
    expect(mail.raw).toContain('https://rampart.example.com/checkpoints/cp_1');
  });

  it('retries a receiver that answers 500 twice, and records 3 attempts ending in sent', async () => {
    receiver.script.set('/flaky', [500, 500, 200]);
    const id = await channel({ type: 'webhook', config: { url: `${receiver.url}/flaky` }, flagKeys: ['flaky_flag'] });
    const outcome = await notifier.onCheckpoint(checkpoint('flaky_flag'));
    expect(outcome.deliveries).toMatchObject([{ status: 'sent', attempts: 3, error: null }]);
    expect(receiver.at('/flaky')).toHaveLength(3);
    // Every attempt carries the same body: the receiver can deduplicate on checkpointId.
    expect(new Set(receiver.at('/flaky').map((r) => r.body)).size).toBe(1);
    expect(await attempts(id)).toMatchObject([
      { attempt: 3, status: 'sent', error: null },
      { attempt: 2, status: 'failed', error: 'HTTP 500: receiver is down' },
      { attempt: 1, status: 'failed', error: 'HTTP 500: receiver is down' },
    ]);
  });

  it('gives up on a dead URL after every retry, records each failure, and still resolves', async () => {
    const id = await channel({ type: 'webhook', config: { url: dead }, flagKeys: ['dead_flag'] });
    await channel({ type: 'slack', config: { url: `${receiver.url}/still-fine` }, flagKeys: ['dead_flag'] });
    const outcome = await notifier.onCheckpoint(checkpoint('dead_flag'));
    expect(outcome.notified).toBe(true);
    expect(outcome.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channelId: id, status: 'failed', attempts: 4, error: expect.stringMatching(/ECONNREFUSED/) }),
        expect.objectContaining({ type: 'slack', status: 'sent', attempts: 1 }),
      ]),
    );
    const rows = await attempts(id);
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([
      [4, 'failed'],
      [3, 'failed'],
      [2, 'failed'],
      [1, 'failed'],
    ]);
  });

  it('does not retry a 4xx: the receiver refused the message for good', async () => {
    receiver.script.set('/gone', [410]);
    await channel({ type: 'webhook', config: { url: `${receiver.url}/gone` }, flagKeys: ['gone_flag'] });
    const outcome = await notifier.onCheckpoint(checkpoint('gone_flag'));
    expect(outcome.deliveries).toMatchObject([{ status: 'failed', attempts: 1, error: 'HTTP 410: receiver is down' }]);
  });

  it('backs off exponentially with jitter between attempts (0.5 s, 2 s, 8 s by default)', async () => {
    await channel({ type: 'webhook', config: { url: dead }, flagKeys: ['backoff_flag'] });
    const waits: number[] = [];
    const timed = createNotifier({
      db: t.db,
      config: t.config,
      log: silent,
      sleep: async (ms) => void waits.push(ms),
      random: () => 1,
    });
    await timed.onCheckpoint(checkpoint('backoff_flag'));
    expect(waits).toEqual([600, 2_400, 9_600]);
  });

  it('still resolves when a checkpoint cannot even be recorded (the database is gone)', async () => {
    const broken = createNotifier({
      db: { ...t.db, transaction: () => Promise.reject(new Error('connection terminated')) },
      config: t.config,
      log: silent,
    });
    await expect(broken.onCheckpoint(checkpoint('any_flag'))).resolves.toMatchObject({ notified: false, reason: expect.stringMatching(/connection terminated/) });
  });

  it('sends a test message on request and returns how it went, sent or failed', async () => {
    const ok = await channel({ type: 'webhook', config: { url: `${receiver.url}/test-ok`, secret: SECRET } });
    const res = await t.call('POST', `${C}/${ok}/test`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ channelId: ok, status: 'sent', attempts: 1, error: null });
    const [req] = receiver.at('/test-ok');
    expect(JSON.parse(req!.body)).toMatchObject({ event: 'test', health: 'GREEN' });
    expect(verify(req!.body, req!.headers['x-rampart-signature'] as string, SECRET)).toBe(true);

    const bad = await channel({ type: 'webhook', config: { url: dead } });
    const failed = await t.call('POST', `${C}/${bad}/test`);
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(await attempts(bad)).toMatchObject([{ attempt: 1, status: 'failed' }]);

    const mail = await channel({ type: 'email', config: { to: ['test@example.com'], from: 'alerts@example.com' } });
    expect((await t.call('POST', `${C}/${mail}/test`)).json()).toMatchObject({ status: 'sent' });
    expect(smtp.mails.at(-1)).toMatchObject({ from: 'alerts@example.com', to: ['test@example.com'] });

    expect((await t.call('POST', `${C}/${ok}/test`, { as: 'OPERATOR' })).statusCode).toBe(403);
    expect((await t.call('POST', `${C}/nc_nope/test`)).json().error.code).toBe('CHANNEL_NOT_FOUND');
  });

  it('never returns a secret or a full Slack URL, in channels, changes or the audit trail', async () => {
    const slackUrl = `${receiver.url}/services/T111/B222/s3cr3tT0ken`;
    const hook = await channel({ type: 'webhook', config: { url: `${receiver.url}/hook?token=qs-secret-value`, secret: SECRET } });
    const slack = await channel({ type: 'slack', config: { url: slackUrl } });
    const put = await t.call('PUT', `${C}/${hook}`, { body: { name: 'renamed', config: { url: `${receiver.url}/hook2` } } });
    expect(put.json()).toMatchObject({ changed: true, config: { url: `${receiver.url}/hook2`, secretSet: true } });

    const bodies = [
      (await t.call('GET', C, { as: 'VIEWER' })).body,
      (await t.call('GET', `${C}/${hook}`, { as: 'VIEWER' })).body,
      (await t.call('GET', `${C}/${slack}`, { as: 'VIEWER' })).body,
      put.body,
      (await t.call('GET', '/api/admin/audit?limit=500', { as: 'VIEWER' })).body,
    ];
    for (const body of bodies) {
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain('s3cr3tT0ken');
      expect(body).not.toContain('qs-secret-value');
    }
    expect((await t.call('GET', `${C}/${hook}`)).json().config).toEqual({ url: `${receiver.url}/hook2`, secretSet: true });
    expect((await t.call('GET', `${C}/${slack}`)).json().config).toEqual({ url: `${receiver.url}/services/…` });

    // The secret was kept by the PUT above, and still signs.
    await t.call('POST', `${C}/${hook}/test`);
    const [req] = receiver.at('/hook2');
    expect(verify(req!.body, req!.headers['x-rampart-signature'] as string, SECRET)).toBe(true);
    // null removes it.
    const cleared = await t.call('PUT', `${C}/${hook}`, { body: { config: { url: `${receiver.url}/hook2`, secret: null } } });
    expect(cleared.json().config).toEqual({ url: `${receiver.url}/hook2`, secretSet: false });
  });
});
