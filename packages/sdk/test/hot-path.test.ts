// The evaluation hot path's shortcuts keep the SDK's behaviour: one result shape, exposures
// counted per minute without reading the clock per call, and the bounded buffer still drops
// and counts the oldest aggregates.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type RampartClient } from '../src/index.js';
import type { Aggregate } from '../src/reporter.js';

const flags = [
  { key: 'a', enabled: true, rolloutBasisPoints: 5000, allowlist: ['vip'], version: 3 },
  { key: 'b', enabled: false, rolloutBasisPoints: 0, allowlist: [], version: 1 },
];

function offline(options: { maxPendingAggregates?: number; bootstrap?: unknown } = {}) {
  const posted: Aggregate[] = [];
  const client = createClient({
    url: 'http://127.0.0.1:9',
    token: 'rpt_test-offline',
    bootstrap: options.bootstrap === undefined ? { flags } : options.bootstrap,
    streaming: false,
    pollIntervalMs: 0,
    flushIntervalMs: 3_600_000,
    env: {},
    ...(options.maxPendingAggregates === undefined ? {} : { maxPendingAggregates: options.maxPendingAggregates }),
    fetch: async (_url, init) => {
      posted.push(...(JSON.parse(String(init?.body)) as { aggregates: Aggregate[] }).aggregates);
      return new Response('{"accepted":0}', { status: 202 });
    },
  });
  return { client, posted };
}

const clients: RampartClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('SDK hot path', () => {
  it('returns the same seven properties in the same order for every kind of result', () => {
    const { client } = offline();
    const notReady = offline({ bootstrap: null }).client;
    clients.push(client, notReady);
    const results = [
      client.evaluate('a', { id: 'vip' }),
      client.evaluate('a', { id: 'someone' }),
      client.evaluate('b', { id: 'someone' }),
      client.evaluate('a', {}),
      client.evaluate('missing', { id: 'x' }, true),
      notReady.evaluate('a', { id: 'x' }),
    ];
    for (const r of results) expect(Object.keys(r)).toEqual(['flag', 'value', 'reason', 'errorCode', 'bucket', 'version', 'cohort']);
    expect(results[0]).toEqual({ flag: 'a', value: true, reason: 'ALLOWLIST', version: 3, cohort: 'allowlist' });
    expect(results[4]).toMatchObject({ value: true, reason: 'FLAG_NOT_FOUND', errorCode: 'FLAG_NOT_FOUND', cohort: 'off' });
    expect(results[5]).toMatchObject({ reason: 'ERROR', errorCode: 'NOT_READY' });
  });

  it('counts every exposure in the current minute, per flag and cohort, and sends them on close', async () => {
    const { client, posted } = offline();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) {
      const key = i % 3 === 0 ? 'b' : 'a';
      const r = client.evaluate(key, { id: i % 100 === 0 ? 'vip' : `rider-${i}` });
      counts[`${key}|${r.cohort}`] = (counts[`${key}|${r.cohort}`] ?? 0) + 1;
    }
    const minute = Date.now() - (Date.now() % 60_000);
    await client.close();
    const sent: Record<string, number> = {};
    for (const a of posted) {
      expect(a.metric).toBe('_exposures');
      expect([minute, minute - 60_000]).toContain(a.minute); // a boundary may pass during the test
      sent[`${a.flag}|${a.cohort}`] = (sent[`${a.flag}|${a.cohort}`] ?? 0) + a.count;
    }
    expect(sent).toEqual(counts);
    expect(client.status().metrics).toMatchObject({ pending: 0, dropped: 0 });
    // After close the cells are gone: new exposures open new aggregates instead of changing sent ones.
    const before = posted.map((a) => a.count);
    client.evaluate('a', { id: 'late' });
    expect(posted.map((a) => a.count)).toEqual(before);
  });

  it('drops and counts the oldest open aggregates when the buffer is full, then opens new ones', () => {
    const { client } = offline({ maxPendingAggregates: 1 });
    clients.push(client);
    client.evaluate('a', { id: 'vip' }); // a|allowlist
    client.evaluate('b', { id: 'x' }); // b|off: a|allowlist is dropped
    expect(client.status().metrics).toMatchObject({ pending: 1, dropped: 1 });
    client.evaluate('a', { id: 'vip' }); // a new a|allowlist: b|off is dropped
    expect(client.status().metrics).toMatchObject({ pending: 1, dropped: 2 });
    client.evaluate('a', { id: 'vip' }); // counted in the open one
    expect(client.status().metrics).toMatchObject({ pending: 1, dropped: 2 });
  });
});
