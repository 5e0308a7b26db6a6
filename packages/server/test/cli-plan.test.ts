import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rampart } from './support/cli.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

const ADMIN = 'rpt_cli-plan-admin-token-0123456789abcdef';
const KEY = 'chat';


describe('rampart plan', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-cli-plan-'));
    server = await startServer(loadConfig({ PORT: '0', RAMPART_DATA_DIR: dir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent', RAMPART_WATCHDOG_SCHEDULE: 'false' }));
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
    await rampart(['flags', 'create', KEY, '--enabled'], env);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the chat checklist’s plan and shows its stages with the current one marked', async () => {
    const r = await rampart(['plan', 'start', KEY, '--template', 'chat-canary', '--reason', 'canary'], env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plan rp_\S+ {2}active {2}rollback policy: previous/);
    expect(r.out).toContain('  ▶  1.    10 %  dwell 24h  sample ≥ 1000  gate auto');
    expect(r.out).toContain('     4.   100 %  dwell 0m  sample ≥ 0  gate auto');
    expect((await rampart(['flags', 'get', KEY], env)).out).toContain('rollout=10%');
  });

  it('advances, pauses, resumes and rolls back, each reflected on the flag', async () => {
    expect((await rampart(['plan', 'advance', KEY], env)).out).toContain('  ▶  2.    25 %');
    expect((await rampart(['flags', 'get', KEY], env)).out).toContain('rollout=25%');
    expect((await rampart(['plan', 'pause', KEY], env)).out).toMatch(/paused/);
    const manual = await rampart(['flags', 'rollout', KEY, '50'], env);
    expect(manual.code).toBe(1);
    expect(manual.err).toMatch(/PLAN_ACTIVE/);
    expect((await rampart(['plan', 'resume', KEY], env)).out).toMatch(/active/);
    const rolled = await rampart(['plan', 'rollback', KEY, '--reason', 'drill'], env);
    expect(rolled.out).toMatch(/rolled_back/);
    expect(rolled.out).toContain('rolled back: rolled back by admin (RAMPART_ADMIN_TOKEN): drill');
    // Policy "previous": back to the last stage that passed, 10 %.
    expect((await rampart(['flags', 'get', KEY], env)).out).toContain('rollout=10%');
    const status = await rampart(['plan', 'status', KEY], env);
    expect(status.out).toMatch(/rolled_back/);
  });

  it('explains an approve with nothing to approve, and completes a plan on request', async () => {
    await rampart(['plan', 'start', KEY, '--template', 'runbook-5-phase'], env);
    const r = await rampart(['plan', 'approve', KEY], env);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^rampart: NOTHING_TO_APPROVE: /);
    const done = await rampart(['plan', 'complete', KEY, '--reason', 'allowlist beta is enough'], env);
    expect(done.out).toMatch(/^plan rp_\S+ {2}completed/);
    expect((await rampart(['plan', 'pause', KEY], env)).err).toMatch(/PLAN_NOT_FOUND/);
  });
});
