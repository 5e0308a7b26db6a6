import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rampart } from './support/cli.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { BETA_IDS } from './support/app.js';

const ADMIN = 'rpt_cli-snapshot-admin-token-0123456789ab';
const KEY = 'passenger_favorites_matching';


describe('rampart snapshot', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;
  let id: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-cli-snapshot-'));
    server = await startServer(
      loadConfig({ PORT: '0', RAMPART_DATA_DIR: dir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent', RAMPART_WATCHDOG_SCHEDULE: 'false' }),
    );
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
    await rampart(['flags', 'create', KEY, '--enabled', '--rollout', '1', '--allow', BETA_IDS.join(',')], env);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, lists and shows a snapshot, as text and as the OPS SNAPSHOT markdown', async () => {
    const created = await rampart(['snapshot', 'create', '--label', 'before drift fix'], env);
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toMatch(/^created snapshot sn_\S+ "before drift fix": 1 flag\(s\), 0 live plan\(s\) \(server 0\.1\.0\)$/);
    id = /(sn_\S+)/.exec(created.out)![1]!;

    const list = await rampart(['snapshot', 'list'], env);
    expect(list.out).toMatch(new RegExp(`^${id} +\\S+ +by admin .*1 flag\\(s\\), 0 plan\\(s\\) "before drift fix"$`));

    const show = await rampart(['snapshot', 'show', id], env);
    expect(show.out).toContain(`${KEY}  enabled=true rollout=1% allowlist=10 v1`);

    const md = await rampart(['snapshot', 'show', id, '--markdown'], env);
    expect(md.out).toMatch(/^# OPS SNAPSHOT - /);
    expect(md.out).toContain('## 🔄 Rollback Instructions');
    expect(md.out).toContain('**Allowlist:** 10 id(s)');

    const json = JSON.parse((await rampart(['--json', 'snapshot', 'show', id], env)).out);
    expect(json.content.flags[0]).toMatchObject({ key: KEY, rolloutBasisPoints: 100 });
  });

  it('diffs, refuses a restore without --yes, restores with it, and then finds nothing to change', async () => {
    await rampart(['flags', 'rollout', KEY, '5'], env);
    const diff = await rampart(['snapshot', 'diff', id], env);
    expect(diff.out).toContain(`### ${KEY}: changed`);
    expect(diff.out).toContain('| rollout | `1` | `5` |');

    const refused = await rampart(['snapshot', 'restore', id], env);
    expect(refused.code).toBe(2);
    expect(refused.out).toBe('');
    expect(refused.err.split('\n')).toHaveLength(1);
    expect(refused.err).toMatch(/^rampart: restore overwrites .* add --yes$/);
    expect((await rampart(['status', KEY], env)).out).toContain('rollout:     5%');

    const restored = await rampart(['snapshot', 'restore', id, '--yes', '--reason', 'undo the ramp'], env);
    expect(restored).toMatchObject({ code: 0, err: '' });
    expect(restored.out.split('\n')).toEqual([`restored ${id}: 1 flag(s) and 0 plan(s) changed`, `  ${KEY}  restored  v3`]);
    expect((await rampart(['status', KEY], env)).out).toContain('rollout:     1%');
    expect((await rampart(['snapshot', 'diff', id], env)).out).toContain('**No differences:**');
    expect((await rampart(['snapshot', 'restore', id, '--yes'], env)).out).toBe(
      `restored ${id}: nothing to change, the live state already equals the snapshot`,
    );
  });

  it('fails with one line for an unknown snapshot', async () => {
    const r = await rampart(['snapshot', 'show', 'sn_nope'], env);
    expect(r.code).toBe(1);
    expect(r.err).toBe('rampart: SNAPSHOT_NOT_FOUND: No snapshot sn_nope.');
  });
});
