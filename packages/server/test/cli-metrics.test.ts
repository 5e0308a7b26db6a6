import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rampart } from './support/cli.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

const ADMIN = 'rpt_cli-metrics-admin-token-0123456789abc';
const KEY = 'passenger_favorites_matching';


describe('rampart metrics and baseline', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-cli-metrics-'));
    server = await startServer(loadConfig({ PORT: '0', RAMPART_DATA_DIR: dir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent' }));
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
    await rampart(['flags', 'create', KEY, '--enabled'], env);
    const now = Date.now();
    const events = [
      ...Array.from({ length: 100 }, (_, i) => ({ type: 'http', flag: KEY, cohort: 'control', status: i < 2 ? 503 : 200, latencyMs: 100 + i, at: now - 30 * 60_000 })),
      ...Array.from({ length: 40 }, (_, i) => ({ type: 'rate', flag: KEY, cohort: 'control', metric: 'matching_success', success: i > 3, at: now - 30 * 60_000 })),
    ];
    const res = await fetch(`${server.url}/api/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the checkpoint figures per cohort, each with its sample size', async () => {
    const r = await rampart(['metrics', KEY, '--window', '1h', '--cohort', 'control'], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain('control: 100 requests, 0 exposures');
    expect(r.out).toContain('status      2xx 98  3xx 0  4xx 0 (401 0, 403 0, 429 0)  5xx 2');
    expect(r.out).toContain('errors      4xx+5xx 2.00%  5xx 2.00%  (n=100)');
    expect(r.out).toMatch(/latency ms {2}p50 \d+ {2}p95 \d+ {2}p99 \d+ {2}\(n=100\)/);
    expect(r.out).toContain('matching_success  90.00% (36/40)');
  });

  it('says "no data" for a cohort without requests, never 0 %', async () => {
    const r = await rampart(['metrics', KEY, '--cohort', 'exposed'], env);
    expect(r.out).toContain('errors      4xx+5xx no data  5xx no data  (n=0)');
  });

  it('captures, lists and shows a baseline over an explicit window', async () => {
    const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const to = new Date().toISOString();
    const cap = await rampart(['baseline', 'capture', KEY, '--mode', 'window', '--from', from, '--to', to], env);
    expect(cap.code).toBe(0);
    const id = /^captured (bl_\S+) \(window\)/.exec(cap.out)![1]!;
    expect(cap.out).toContain('100 requests, 5xx 2.00%');
    expect((await rampart(['baseline', 'list', KEY], env)).out).toMatch(new RegExp(`^${id} +window`));
    const shown = await rampart(['baseline', 'show', id], env);
    expect(shown.out).toContain('all cohorts: 100 requests');
    const json = JSON.parse((await rampart(['baseline', 'show', id, '--json'], env)).out);
    expect(json.summary.all.requests).toBe(100);
  });

  it('explains a pre-rollout baseline on a flag never rolled out, and a bad mode', async () => {
    const never = await rampart(['baseline', 'capture', KEY], env);
    expect(never.code).toBe(1);
    expect(never.err).toMatch(/^rampart: NO_ROLLOUT_YET: /);
    const bad = await rampart(['baseline', 'capture', KEY, '--mode', 'monthly'], env);
    expect(bad.err).toBe('rampart: invalid --mode "monthly": use pre_rollout, window or weekly');
  });
});
