import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAt } from '../src/cli/commands/schedule-commands.js';
import { runCli } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

const ADMIN = 'rpt_schedule-cli-admin-token-0123456789ab';
const KEY = 'night_switch';

async function rampart(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const run = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code: run.code, out: out.join('\n'), err: err.join('\n') };
}

describe('rampart schedule against a running server', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rampart-schedule-cli-'));
    server = await startServer(
      loadConfig({
        PORT: '0',
        RAMPART_DATA_DIR: dir,
        RAMPART_ADMIN_TOKEN: ADMIN,
        LOG_LEVEL: 'silent',
        RAMPART_WATCHDOG_SCHEDULE: 'false',
        // A fast loop, so the real timer (not a test hook) applies the due change below.
        RAMPART_SCHEDULE_INTERVAL_MS: '100',
      }),
    );
    env = { RAMPART_URL: server.url, RAMPART_TOKEN: ADMIN };
    expect((await rampart(['flags', 'create', KEY, '--rollout', '0'], env)).code).toBe(0);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds, lists and cancels a scheduled change; a second cancel fails with the code', async () => {
    const added = await rampart(['schedule', 'add', KEY, '--at', '+2h', '--enable', '--rollout', '5', '--reason', 'Phase 2 overnight'], env);
    expect(added).toMatchObject({ code: 0, err: '' });
    const m = /^scheduled (sc_\S+): night_switch enable, rollout 5% at (\S+)$/.exec(added.out);
    expect(m).not.toBeNull();
    const [, id, at] = m!;
    expect(Math.abs(Date.parse(at!) - Date.now() - 2 * 3_600_000)).toBeLessThan(60_000);

    const all = await rampart(['schedule', 'list'], env);
    expect(all.out).toBe(`${at}  ${id}  pending   ${KEY}: enable, rollout 5% — "Phase 2 overnight"`);
    expect((await rampart(['schedule', 'list', KEY], env)).out).toBe(all.out);
    expect(JSON.parse((await rampart(['--json', 'schedule', 'list', KEY], env)).out).scheduledChanges[0]).toMatchObject({ id, state: 'pending' });

    expect((await rampart(['schedule', 'cancel', id!, '--reason', 'moved to Monday'], env)).out).toBe(`cancelled ${id} (${KEY}: enable, rollout 5% at ${at})`);
    const again = await rampart(['schedule', 'cancel', id!], env);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^rampart: SCHEDULED_CHANGE_NOT_PENDING: Scheduled change sc_\S+ is cancelled, not pending\.$/);
    expect((await rampart(['schedule', 'list'], env)).out).toBe('no pending scheduled changes');
    expect((await rampart(['schedule', 'list', KEY, '--all'], env)).out).toContain(`${id}  cancelled ${KEY}: enable, rollout 5% by admin`);
  });

  it('the server’s loop applies a due change, audited as the scheduler', async () => {
    const added = await rampart(['schedule', 'add', KEY, '--at', '+1s', '--enable', '--reason', 'wake up'], env);
    expect(added.code).toBe(0);
    const id = /scheduled (sc_[\w-]+)/.exec(added.out)![1]!;
    const deadline = Date.now() + 10_000;
    let flag = JSON.parse((await rampart(['--json', 'flags', 'get', KEY], env)).out);
    while (!flag.enabled && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      flag = JSON.parse((await rampart(['--json', 'flags', 'get', KEY], env)).out);
    }
    expect(flag).toMatchObject({ enabled: true, version: 2, updatedBy: 'scheduler' });
    expect((await rampart(['schedule', 'list', KEY, '--state', 'applied'], env)).out).toMatch(new RegExp(`${id}  applied   ${KEY}: enable → v2 — "wake up"$`));
    const audit = (await rampart(['audit', KEY, '--limit', '1'], env)).out;
    expect(audit).toContain('flag.update');
    expect(audit).toContain('by scheduler');
    expect(audit).toContain(`scheduled change ${id}: wake up`);
  });

  it('explains bad input in one line', async () => {
    const past = await rampart(['schedule', 'add', KEY, '--at', '2020-01-01T00:00:00Z', '--disable'], env);
    expect(past.code).toBe(1);
    expect(past.err).toMatch(/^rampart: INVALID_SCHEDULE_TIME: /);
    expect((await rampart(['schedule', 'add', KEY, '--at', '+1h'], env)).err).toBe('rampart: nothing to schedule: give --enable, --disable and/or --rollout PCT');
    expect((await rampart(['schedule', 'add', KEY, '--at', '+1h', '--enable', '--disable'], env)).err).toBe('rampart: give --enable or --disable, not both');
    expect((await rampart(['schedule', 'add', KEY, '--at', 'tomorrow', '--enable'], env)).err).toMatch(/^rampart: invalid --at "tomorrow"/);
    expect((await rampart(['schedule', 'add', 'missing_flag', '--at', '+1h', '--enable'], env)).err).toMatch(/^rampart: FLAG_NOT_FOUND: /);
    expect((await rampart(['schedule', 'cancel', 'sc_nope'], env)).err).toMatch(/^rampart: SCHEDULED_CHANGE_NOT_FOUND: /);
  });

  it('reads --at as ISO 8601 or +N s/m/h/d from now', () => {
    const now = Date.parse('2026-05-04T09:00:00Z');
    expect(parseAt('+30m', now)).toBe('2026-05-04T09:30:00.000Z');
    expect(parseAt('+1d', now)).toBe('2026-05-05T09:00:00.000Z');
    expect(parseAt('2026-06-01T08:00:00+02:00', now)).toBe('2026-06-01T06:00:00.000Z');
  });
});
