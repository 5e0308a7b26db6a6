import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { BETA_IDS } from './support/app.js';

const ADMIN = 'rpt_cli-test-admin-token-0123456789abcdef';

interface Captured {
  code: number;
  out: string;
  err: string;
  stop?: () => Promise<void>;
}

async function rampart(args: string[], env: Record<string, string | undefined> = {}): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const run = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code: run.code, out: out.join('\n'), err: err.join('\n'), stop: run.stop };
}

describe('rampart CLI against a running server', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;
  const KEY = 'passenger_favorites_matching';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-cli-'));
    server = await startServer(loadConfig({ PORT: '0', RAMPART_DATA_DIR: dir, RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent' }));
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replays the runbook: create the beta flag at 0 %, probe ids ON by ALLOWLIST, stranger OFF', async () => {
    const created = await rampart(['flags', 'create', KEY, '--enabled', '--rollout', '0', '--allow', BETA_IDS.join(','), '--reason', 'Phase 1'], env);
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toBe(`created ${KEY}  enabled=true rollout=0% allowlist=10 v1`);
    const probe = await rampart(['eval', KEY, 'pass_beta_001_2026'], env);
    expect(probe.out).toBe(`${KEY} for pass_beta_001_2026: value=true reason=ALLOWLIST bucket=2531 (flag v1)`);
    const stranger = await rampart(['eval', KEY, 'passenger-42'], env);
    expect(stranger.out).toBe(`${KEY} for passenger-42: value=false reason=NOT_IN_ROLLOUT bucket=5678 (flag v1)`);
  });

  it('raises the rollout with Before/After lines like update-rollout.js, and status shows the last change', async () => {
    const r = await rampart(['flags', 'rollout', KEY, '1', '--reason', 'Phase 2'], env);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      `[Rollout] Updating ${KEY} to 1%`,
      '[Rollout] Before: enabled=true, rollout=0%',
      '[Rollout] After: enabled=true, rollout=1%',
      '[Rollout] ✅ Rollout updated successfully',
    ]);
    const again = await rampart(['flags', 'rollout', KEY, '1'], env);
    expect(again.out).toContain('Before: enabled=true, rollout=1%');
    expect(again.out).toContain('nothing changed');
    const status = await rampart(['status', KEY], env);
    expect(status.out).toContain('rollout:     1%');
    expect(status.out).toContain('allowlist:   10 id(s)');
    expect(status.out).toMatch(/last change: \S+ {2}flag\.update {2}by admin \(RAMPART_ADMIN_TOKEN\) \(SUPER_ADMIN\): rollout: 0% → 1% — "Phase 2"/);
  });

  it('edits the allowlist idempotently and shows the audit trail newest first', async () => {
    expect((await rampart(['allow', 'add', KEY, 'pass_beta_011_2026', 'pass_beta_001_2026'], env)).out).toBe(
      'added 1 of 2 id(s); allowlist now has 11',
    );
    expect((await rampart(['allow', 'remove', KEY, 'pass_beta_011_2026'], env)).out).toBe('removed 1 of 1 id(s); allowlist now has 10');
    const audit = await rampart(['audit', KEY], env);
    const lines = audit.out.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/allowlist\.remove .*allowlist: -1 \(10 ids\)/);
    expect(lines[3]).toMatch(/flag\.create .*created — "Phase 1"/);
  });

  it('kills the flag with disable, and eval shows DISABLED even for a beta passenger', async () => {
    expect((await rampart(['flags', 'disable', KEY, '--reason', 'level 1 rollback'], env)).out).toMatch(/^disabled /);
    expect((await rampart(['eval', KEY, 'pass_beta_001_2026'], env)).out).toContain('value=false reason=DISABLED');
    expect((await rampart(['flags', 'enable', KEY], env)).out).toMatch(/^enabled /);
  });

  it('gives scripts JSON with --json', async () => {
    const r = await rampart(['--json', 'flags', 'get', KEY], env);
    expect(JSON.parse(r.out)).toMatchObject({ key: KEY, rolloutPercentage: 1, allowlistCount: 10 });
    const list = JSON.parse((await rampart(['flags', 'list', '--json'], env)).out);
    expect(list.flags.map((f: { key: string }) => f.key)).toEqual([KEY]);
  });

  it('creates, lists and revokes tokens, and a VIEWER token cannot change flags', async () => {
    const created = await rampart(['token', 'create', 'stakeholder', '--role', 'viewer'], env);
    const secret = created.out.split('\n')[1]!;
    expect(secret).toMatch(/^rpt_/);
    const denied = await rampart(['flags', 'set', KEY, '--rollout', '50'], { ...env, RAMPART_TOKEN: secret });
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^rampart: FORBIDDEN: VIEWER may not PUT .* \(use a token with a higher role\)$/);
    const list = await rampart(['token', 'list'], env);
    const id = /^(tok_\S+) +VIEWER +stakeholder/m.exec(list.out)![1]!;
    expect(list.out).not.toContain(secret);
    const revoke = await rampart(['token', 'revoke', id], env);
    expect(revoke.err).toBe('');
    expect(revoke.out).toBe(`revoked ${id} (stakeholder)`);
    const revoked = await rampart(['flags', 'list'], { ...env, RAMPART_TOKEN: secret });
    expect(revoked.err).toMatch(/TOKEN_INVALID/);
  });

  it('fails with one line that says what to do, and a non-zero exit', async () => {
    const missing = await rampart(['flags', 'get', 'nope'], env);
    expect(missing).toMatchObject({ code: 1, out: '' });
    expect(missing.err).toBe('rampart: FLAG_NOT_FOUND: No flag named nope. (list flags with `rampart flags list`)');
    const noToken = await rampart(['flags', 'list'], { RAMPART_URL: server.url });
    expect(noToken.err).toMatch(/TOKEN_MISSING: .*\(pass --token or set RAMPART_TOKEN\)$/);
    const badPct = await rampart(['flags', 'rollout', KEY, '101'], env);
    expect(badPct).toMatchObject({ code: 1 });
    expect(badPct.err).toMatch(/invalid percentage "101"/);
    const tooFine = await rampart(['flags', 'rollout', KEY, '0.001'], env);
    expect(tooFine.err).toMatch(/VALIDATION_ERROR/);
    const down = await rampart(['flags', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/^rampart: cannot reach Rampart at http:\/\/127\.0\.0\.1:9 .*rampart serve/);
    const unknown = await rampart(['flgs'], env);
    expect(unknown.code).toBe(2);
  });
});

describe('rampart migrate and serve', () => {
  it('migrates an embedded database once, then reports it up to date', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rampart-migrate-'));
    try {
      const all = readdirSync(new URL('../migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();
      expect((await rampart(['migrate'], { RAMPART_DATA_DIR: dir })).out).toBe(`applied: ${all.join(', ')}`);
      expect((await rampart(['migrate'], { RAMPART_DATA_DIR: dir })).out).toBe('database is up to date');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints the first admin token once, on the first start only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rampart-serve-'));
    const env = { RAMPART_DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' };
    try {
      const first = await rampart(['serve'], env);
      expect(first.code).toBe(0);
      const token = /^ {4}(rpt_\S+)$/m.exec(first.out)?.[1];
      expect(token).toBeDefined();
      const url = /listening on (\S+)/.exec(first.out)![1]!;
      expect((await rampart(['flags', 'list'], { RAMPART_URL: url, RAMPART_TOKEN: token })).code).toBe(0);
      await first.stop!();
      const second = await rampart(['serve'], env);
      expect(second.out).not.toContain('rpt_');
      const url2 = /listening on (\S+)/.exec(second.out)![1]!;
      expect((await rampart(['flags', 'list'], { RAMPART_URL: url2, RAMPART_TOKEN: token })).code).toBe(0);
      await second.stop!();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an admin token shorter than 32 characters with a clear message', async () => {
    const r = await rampart(['serve'], { RAMPART_ADMIN_TOKEN: 'short', RAMPART_DATA_DIR: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toBe('rampart: invalid configuration: RAMPART_ADMIN_TOKEN: RAMPART_ADMIN_TOKEN needs at least 32 characters');
  });

  it('works as the installed `rampart` command', async () => {
    const bin = new URL('../bin/rampart.js', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help']);
    expect(stdout).toContain('Usage: rampart');
    for (const cmd of ['serve', 'migrate', 'token', 'flags', 'allow', 'status', 'eval', 'audit']) expect(stdout).toContain(cmd);
    const failed = await promisify(execFile)(process.execPath, [bin, 'flags', 'list', '--url', 'http://127.0.0.1:9', '--token', 'x']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 3 });
    expect((failed as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  });
});
