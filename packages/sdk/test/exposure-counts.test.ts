// Exposures are counted in place on every evaluation and folded into per-minute aggregates
// later (at the minute boundary, on flush, on stats, on a config change): the reports must be
// the same as if every exposure had gone straight into its aggregate.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type RampartClient } from '../src/index.js';
import type { Aggregate } from '../src/reporter.js';

const flags = [
  { key: 'a', enabled: true, rolloutBasisPoints: 5000, allowlist: ['vip'], version: 3 },
  { key: 'b', enabled: false, rolloutBasisPoints: 0, allowlist: [], version: 1 },
];

function offline(options: { reportExposures?: boolean; storage?: { load(): string | undefined; save(): void } } = {}) {
  const posted: Aggregate[] = [];
  const client = createClient({
    url: 'http://127.0.0.1:9',
    token: 'rpt_test-offline',
    bootstrap: { flags },
    streaming: false,
    pollIntervalMs: 0,
    flushIntervalMs: 3_600_000,
    env: {},
    ...options,
    fetch: async (_url, init) => {
      posted.push(...(JSON.parse(String(init?.body)) as { aggregates: Aggregate[] }).aggregates);
      return new Response('{"accepted":0}', { status: 202 });
    },
  });
  return { client, posted };
}

/** Sent exposure counts by `minute|flag|cohort`. */
function exposures(posted: Aggregate[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of posted) {
    expect(a.metric).toBe('_exposures');
    const key = `${a.minute}|${a.flag}|${a.cohort}`;
    out[key] = (out[key] ?? 0) + a.count;
  }
  return out;
}

const clients: RampartClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  vi.useRealTimers();
});

describe('SDK exposure counts', () => {
  it('puts the exposures made before a minute boundary in that minute, and the later ones in the next', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const minute = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
    vi.setSystemTime(minute + 30_000);
    const { client, posted } = offline();
    for (let i = 0; i < 7; i++) client.evaluate('a', { id: 'vip' });
    for (let i = 0; i < 3; i++) client.evaluate('b', { id: `rider-${i}` });
    expect(client.status().metrics).toMatchObject({ pending: 2, dropped: 0 });
    vi.advanceTimersByTime(30_001); // just past the boundary: the reporter's minute timer fires
    for (let i = 0; i < 5; i++) client.evaluate('a', { id: 'vip' });
    await client.close();
    expect(exposures(posted)).toEqual({
      [`${minute}|a|allowlist`]: 7,
      [`${minute}|b|off`]: 3,
      [`${minute + 60_000}|a|allowlist`]: 5,
    });
    expect(client.status().metrics).toMatchObject({ pending: 0, dropped: 0 });
  });

  it('reports the exposures of a flag that leaves the config', async () => {
    // The stored config (read right after the bootstrap is installed) no longer has flag b.
    const stored = JSON.stringify({ flags: [flags[0]] });
    const { client, posted } = offline({ storage: { load: () => stored, save: () => undefined } });
    for (let i = 0; i < 4; i++) client.evaluate('b', { id: `rider-${i}` });
    await vi.waitFor(() => expect(client.status().source).toBe('storage'));
    expect(client.evaluate('b', { id: 'x' })).toMatchObject({ reason: 'FLAG_NOT_FOUND' });
    client.evaluate('a', { id: 'vip' });
    await client.close();
    expect(Object.fromEntries(Object.entries(exposures(posted)).map(([k, n]) => [k.slice(k.indexOf('|') + 1), n]))).toEqual({
      'b|off': 4,
      'a|allowlist': 1,
    });
  });

  it('counts every exposure while `evaluation` listeners come and go, and gives them every result', async () => {
    const { client, posted } = offline();
    const seen: unknown[] = [];
    const listener = (r: unknown) => seen.push(r);
    client.evaluate('a', { id: 'vip' });
    client.on('evaluation', listener);
    const results = [client.evaluate('a', { id: 'vip' }), client.evaluate('b', { id: 'x' }), client.evaluate('missing', { id: 'x' })];
    client.off('evaluation', listener);
    client.evaluate('a', { id: 'vip' });
    expect(seen).toEqual(results);
    await client.close();
    const sent = Object.fromEntries(Object.entries(exposures(posted)).map(([k, n]) => [k.slice(k.indexOf('|') + 1), n]));
    expect(sent).toEqual({ 'a|allowlist': 3, 'b|off': 1 });
  });

  it('sends no exposures with reportExposures: false', async () => {
    const { client, posted } = offline({ reportExposures: false });
    for (let i = 0; i < 100; i++) client.evaluate(i % 2 ? 'a' : 'b', { id: `rider-${i}` });
    expect(client.status().metrics).toMatchObject({ pending: 0 });
    await client.close();
    expect(posted).toEqual([]);
  });
});
