import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { sendOutbound } from '../src/outbound/request.js';
import { addressFilter, checkTarget, isPrivateAddress, parseNetwork, TargetRefusedError, CLOSED_POLICY } from '../src/outbound/target-policy.js';
import { createNotifier } from '../src/notify/index.js';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';
import { freePort, startSilentServer, type Running } from './support/prometheus.js';

const C = '/api/admin/notification-channels';
const D = '/api/admin/metric-definitions';

/** Answers every request with 200 (or a redirect to `redirectTo`), counting them. */
async function startReceiver(host = '127.0.0.1', redirectTo?: string) {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '/');
      if (redirectTo) res.writeHead(302, { location: redirectTo }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    paths,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the outbound target policy', () => {
  it('classifies loopback, private, link-local, unique-local and mapped addresses as private', () => {
    for (const a of [
      '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.100.100.200',
      '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', 'fec0::1']) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it('allows private addresses only inside the allowed networks, or all with allowPrivate', () => {
    const allowed = addressFilter({ allowPrivate: false, allowedNetworks: ['10.20.0.0/16', '127.0.0.1', 'fd00:1::/32'] });
    expect(allowed('10.20.3.4')).toBe(true);
    expect(allowed('10.21.0.1')).toBe(false);
    expect(allowed('127.0.0.1')).toBe(true);
    expect(allowed('::ffff:127.0.0.1')).toBe(true);
    expect(allowed('127.0.0.2')).toBe(false);
    expect(allowed('fd00:1:ffff::1')).toBe(true);
    expect(allowed('fd00:2::1')).toBe(false);
    expect(allowed('8.8.8.8')).toBe(true);
    expect(addressFilter({ allowPrivate: true, allowedNetworks: [] })('169.254.169.254')).toBe(true);
  });

  it('reads RAMPART_ALLOW_PRIVATE_TARGETS and RAMPART_ALLOWED_TARGET_NETWORKS, closed by default, and refuses bad networks', () => {
    expect(loadConfig({})).toMatchObject({ allowPrivateTargets: false, allowedTargetNetworks: [] });
    expect(loadConfig({ RAMPART_ALLOW_PRIVATE_TARGETS: 'true', RAMPART_ALLOWED_TARGET_NETWORKS: ' 10.0.0.0/8, fd00::/8,192.168.1.5 ' })).toMatchObject({
      allowPrivateTargets: true,
      allowedTargetNetworks: ['10.0.0.0/8', 'fd00::/8', '192.168.1.5'],
    });
    for (const bad of ['10.0.0.0/33', 'prometheus.internal', '10.0.0.0/8/1', '::/129', '10.0.0.0/']) {
      expect(() => loadConfig({ RAMPART_ALLOWED_TARGET_NETWORKS: bad }), bad).toThrow(ConfigError);
      expect(parseNetwork(bad), bad).toBeUndefined();
    }
  });

  it('resolves names and refuses when any resolved address is private', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    await expect(checkTarget('https://hooks.example.com/x', CLOSED_POLICY, resolve)).rejects.toThrow(/hooks\.example\.com resolves to 10\.0\.0\.7/);
    await expect(checkTarget('https://hooks.example.com/x', CLOSED_POLICY, async () => [{ address: '93.184.215.14', family: 4 }])).resolves.toBeUndefined();
    await expect(checkTarget('http://localhost:9/', CLOSED_POLICY)).rejects.toBeInstanceOf(TargetRefusedError);
    await expect(checkTarget('http://[::ffff:169.254.169.254]/latest/meta-data', CLOSED_POLICY)).rejects.toBeInstanceOf(TargetRefusedError);
  });

  it('checks at connect time the address it connects to: a name resolving to loopback is refused, even through a redirect', async () => {
    const target = await startReceiver();
    try {
      await expect(sendOutbound(`http://localhost:${target.port}/`, { method: 'GET', timeoutMs: 2_000, policy: CLOSED_POLICY })).rejects.toBeInstanceOf(TargetRefusedError);
      expect(target.paths).toEqual([]);
      const onlyThis = { allowPrivate: false, allowedNetworks: ['127.0.0.1/32'] };
      expect((await sendOutbound(`${target.url}/ok`, { method: 'GET', timeoutMs: 2_000, policy: onlyThis })).status).toBe(200);
      // An allowed host that redirects elsewhere on the private network: the hop is checked too.
      const hop = await startReceiver('127.0.0.1', `http://127.0.0.2:${target.port}/`);
      try {
        await expect(sendOutbound(`${hop.url}/`, { method: 'GET', timeoutMs: 2_000, policy: onlyThis, maxRedirects: 5 })).rejects.toThrow(/127\.0\.0\.2/);
      } finally {
        await hop.stop();
      }
    } finally {
      await target.stop();
    }
  });
});

describe.each(DRIVERS)('webhook and Prometheus targets on %s', (driver) => {
  let open: TestApp;
  let closed: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let silent: Running;

  beforeAll(async () => {
    receiver = await startReceiver();
    silent = await startSilentServer();
    open = await startTestApp(driver);
    // The same database, served with the default configuration: private targets refused.
    closed = await startTestApp(driver, { allowPrivateTargets: false }, open.testDb);
  });
  afterAll(async () => {
    await closed?.app.close();
    await open?.close();
    await receiver?.stop();
    await silent?.stop();
  });

  const state = async (t: TestApp) => ({
    channels: await t.db.query('select * from notification_channels order by id'),
    definitions: await t.db.query('select * from metric_definitions order by name'),
    audit: await t.db.query('select * from audit_events order by id'),
  });

  it('refuses private, loopback, link-local and unique-local webhook and Slack URLs when saved: 400 TARGET_NOT_ALLOWED, nothing written', async () => {
    const before = await state(closed);
    for (const url of [
      `${receiver.url}/hook`,
      `http://localhost:${receiver.port}/hook`,
      'http://10.1.2.3/hook',
      'http://172.20.0.1/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0:8080/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]:8080/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://2130706433/',
    ]) {
      for (const type of ['webhook', 'slack']) {
        const res = await closed.call('POST', C, { body: { name: 'internal', type, config: { url } } });
        expect(res.statusCode, `${type} ${url}: ${res.body}`).toBe(400);
        expect(res.json().error).toMatchObject({ code: 'TARGET_NOT_ALLOWED', details: [{ path: 'body.config.url' }] });
      }
    }
    // A change of an existing channel's URL is checked the same way.
    // A documentation address (TEST-NET-3), disabled and for no real flag: never sent to.
    const made = await open.call('POST', C, {
      body: { name: 'public-ish', type: 'webhook', config: { url: 'http://203.0.113.10:9/hook' }, flagKeys: ['never_notified'], enabled: false },
    });
    expect(made.statusCode, made.body).toBe(201);
    const mid = await state(closed);
    const put = await closed.call('PUT', `${C}/${made.json().id}`, { body: { config: { url: 'http://169.254.169.254/' } } });
    expect(put.statusCode).toBe(400);
    expect(put.json().error.code).toBe('TARGET_NOT_ALLOWED');
    expect(await state(closed)).toEqual(mid);
    expect((mid as { channels: unknown[] }).channels.length).toBe((before as { channels: unknown[] }).channels.length + 1);
  });

  it('checks again at send time: a channel saved while allowed is not sent to, and not retried', async () => {
    const made = await open.call('POST', C, { body: { name: 'loopback', type: 'webhook', config: { url: `${receiver.url}/later`, secret: 'whsec_0123456789abcdef' }, flagKeys: ['target_flag'] } });
    expect(made.statusCode).toBe(201);
    const res = await closed.call('POST', `${C}/${made.json().id}/test`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/127\.0\.0\.1 is a private, loopback or link-local address/) });
    // A checkpoint's delivery: one attempt, no retries, recorded.
    const notifier = createNotifier({ db: closed.db, config: closed.config, log: { warn: () => {} }, retry: { delaysMs: [5, 5, 5], timeoutMs: 1_000 } });
    const outcome = await notifier.onCheckpoint({ id: 'cp_target', flag: 'target_flag', verdict: 'FAIL', health: 'RED', decision: 'NO_GO', alerts: [], at: new Date() });
    expect(outcome.deliveries).toMatchObject([{ status: 'failed', attempts: 1, error: expect.stringMatching(/private/) }]);
    expect(receiver.paths.filter((p) => p === '/later')).toEqual([]);
    // With the address in RAMPART_ALLOWED_TARGET_NETWORKS it goes through.
    const allowed = await startTestApp(driver, { allowPrivateTargets: false, allowedTargetNetworks: ['127.0.0.0/8'] }, open.testDb);
    try {
      expect((await allowed.call('POST', `${C}/${made.json().id}/test`)).json()).toMatchObject({ status: 'sent' });
      expect(receiver.paths.filter((p) => p === '/later')).toHaveLength(1);
      const saved = await allowed.call('POST', C, { body: { name: 'allowed', type: 'webhook', config: { url: `${receiver.url}/allowed` }, flagKeys: ['allowed_flag'] } });
      expect(saved.statusCode, saved.body).toBe(201);
      expect((await allowed.call('POST', C, { body: { name: 'not this one', type: 'webhook', config: { url: 'http://10.0.0.1/' }, flagKeys: ['allowed_flag'] } })).json().error.code).toBe(
        'TARGET_NOT_ALLOWED',
      );
    } finally {
      await allowed.app.close();
    }
  });

  it('keeps HMAC signing (tested in notify-delivery) and times out a webhook target that never answers', async () => {
    const made = await open.call('POST', C, { body: { name: 'silent', type: 'webhook', config: { url: `${silent.url}/hook` }, flagKeys: ['slow_flag'] } });
    const notifier = createNotifier({ db: open.db, config: open.config, log: { warn: () => {} }, retry: { delaysMs: [], timeoutMs: 300 } });
    const started = Date.now();
    const outcome = await notifier.onCheckpoint({ id: 'cp_slow', flag: 'slow_flag', verdict: 'FAIL', health: 'RED', decision: 'NO_GO', alerts: [], at: new Date() });
    expect(outcome.deliveries).toMatchObject([{ channelId: made.json().id, status: 'failed', attempts: 1, error: 'timed out after 300 ms' }]);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses a metric definition whose prometheusUrl is private, and reports one saved earlier as missing data', async () => {
    const before = await state(closed);
    for (const prometheusUrl of [receiver.url, 'http://169.254.169.254', `http://localhost:${receiver.port}`, 'http://[::1]:9090']) {
      const res = await closed.call('PUT', `${D}/internal`, { as: 'OPERATOR', body: { kind: 'counter', source: 'prometheus', query: 'up', prometheusUrl } });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'TARGET_NOT_ALLOWED', details: [{ path: 'body.prometheusUrl' }] });
    }
    expect(await state(closed)).toEqual(before);

    const saved = await open.call('PUT', `${D}/loopback`, { as: 'OPERATOR', body: { kind: 'counter', source: 'prometheus', query: 'up', prometheusUrl: receiver.url } });
    expect(saved.statusCode).toBe(201);
    const q = await closed.call('POST', `${D}/loopback/query`, { as: 'VIEWER', body: { flag: 'f', cohort: 'exposed', windowSeconds: 60 } });
    expect(q.statusCode).toBe(200);
    expect(q.json()).toMatchObject({ status: 'missing', reason: expect.stringMatching(/^Prometheus target refused: 127\.0\.0\.1 is a private/) });
    expect((await open.call('POST', `${D}/loopback/query`, { as: 'VIEWER', body: { flag: 'f', cohort: 'exposed', windowSeconds: 60 } })).json()).toMatchObject({ status: 'ok', value: 1 });
  });

  it('trusts the deployer’s RAMPART_PROMETHEUS_URL (and its origin) although it is internal', async () => {
    const deployer = await startTestApp(driver, { allowPrivateTargets: false, prometheusUrl: receiver.url }, open.testDb);
    try {
      const noUrl = await deployer.call('PUT', `${D}/by_default`, { as: 'OPERATOR', body: { kind: 'counter', source: 'prometheus', query: 'up' } });
      expect(noUrl.statusCode, noUrl.body).toBe(201);
      expect((await deployer.call('POST', `${D}/by_default/query`, { body: { flag: 'f', cohort: 'exposed', windowSeconds: 60 } })).json()).toMatchObject({ status: 'ok' });
      const sameOrigin = await deployer.call('PUT', `${D}/same_origin`, { as: 'OPERATOR', body: { kind: 'counter', source: 'prometheus', query: 'up', prometheusUrl: `${receiver.url}/prefix` } });
      expect(sameOrigin.statusCode, sameOrigin.body).toBe(201);
      const other = await deployer.call('PUT', `${D}/other_port`, {
        as: 'OPERATOR',
        body: { kind: 'counter', source: 'prometheus', query: 'up', prometheusUrl: `http://127.0.0.1:${await freePort()}` },
      });
      expect(other.json().error.code).toBe('TARGET_NOT_ALLOWED');
    } finally {
      await deployer.app.close();
    }
  });
});
