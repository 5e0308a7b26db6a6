import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rampart } from './support/cli.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

const ADMIN = 'rpt_cli-monitor-admin-token-0123456789abc';
const KEY = 'passenger_favorites_matching';


describe('rampart monitor', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-cli-monitor-'));
    // No scheduler here: the test decides when checkpoints run.
    server = await startServer(
      loadConfig({ PORT: '0', RAMPART_DATA_DIR: dir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent', RAMPART_WATCHDOG_SCHEDULE: 'false' }),
    );
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
    await rampart(['flags', 'create', KEY, '--enabled', '--allow', 'pass_beta_001_2026,pass_beta_005_2026'], env);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 for WARN (no traffic yet is INSUFFICIENT_DATA, never PASS) and prints the alerts', async () => {
    const r = await rampart(['monitor', 'run', KEY, '--phase', 'phase1_beta', '--label', 'T+0h'], env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^\[Watchdog\] passenger_favorites_matching: WARN \(YELLOW, EXTEND\) — checkpoint cp_/);
    expect(r.out).toContain('[Watchdog] WARN INSUFFICIENT_DATA:');
  });

  it('exits 2 for FAIL after a critical complaint, and the report explains why', async () => {
    expect((await rampart(['monitor', 'signal', KEY, '--complaints', '1', '--critical', '--note', 'wrong driver matched'], env)).code).toBe(0);
    const r = await rampart(['monitor', 'run', KEY], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain('FAIL CRITICAL_COMPLAINT');
    const id = /checkpoint (cp_\S+)/.exec(r.out)![1]!;
    const report = await rampart(['monitor', 'report', id], env);
    expect(report.out).toContain('### Decision');
    expect(report.out).toContain('❌ **FAIL** — NO_GO (health RED)');
    expect(report.out).toContain('wrong driver matched');
  });

  it('lists checkpoints newest first with their alert codes', async () => {
    const r = await rampart(['monitor', 'list', KEY], env);
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/cp_\S+ +FAIL +NO_GO +manual +\[.*CRITICAL_COMPLAINT.*\]/);
    expect(lines[1]).toMatch(/WARN +EXTEND +manual T\+0h/);
  });

  it('exits 3 when the checkpoint could not run', async () => {
    const unknown = await rampart(['monitor', 'run', 'no_such_flag'], env);
    expect(unknown.code).toBe(3);
    expect(unknown.err).toMatch(/^rampart: FLAG_NOT_FOUND/);
    const down = await rampart(['monitor', 'run', KEY, '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(3);
  });
});
