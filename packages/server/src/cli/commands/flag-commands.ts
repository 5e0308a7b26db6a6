import type { Command } from 'commander';
import { CliError, type Client } from '../client.js';
import { clientFor, parseBool, parsePercentage, pct, printJson, type Io } from '../output.js';

export interface FlagJson {
  key: string;
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  rolloutPercentage: number;
  allowlist?: string[];
  allowlistCount: number;
  version: number;
  updatedAt: string;
  updatedBy: string | null;
  changed?: boolean;
}

const flagPath = (key: string) => `/api/admin/feature-flags/${encodeURIComponent(key)}`;

function summary(f: FlagJson): string {
  return `${f.key}  enabled=${f.enabled} rollout=${pct(f.rolloutBasisPoints)} allowlist=${f.allowlistCount} v${f.version}`;
}

async function put(client: Client, key: string, body: Record<string, unknown>, ifMatch?: string) {
  return client.put<FlagJson>(flagPath(key), body, ifMatch ? { 'if-match': `"${ifMatch.replace(/"/g, '')}"` } : {});
}

export function registerFlagCommands(program: Command, io: Io): void {
  const flags = program.command('flags').description('feature flags');

  flags
    .command('list')
    .description('list flags')
    .option('--search <text>', 'filter by key or description')
    .action(async (opts: { search?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const q = opts.search ? `?q=${encodeURIComponent(opts.search)}` : '';
      const { body } = await client.get<{ flags: FlagJson[] }>(`/api/admin/feature-flags${q}`);
      if (json) return printJson(io, body);
      if (body.flags.length === 0) io.out('no flags yet: create one with `rampart flags create KEY`');
      for (const f of body.flags) io.out(summary(f));
    });

  flags
    .command('get <key>')
    .description('show one flag')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<FlagJson>(flagPath(key));
      if (json) return printJson(io, body);
      io.out(summary(body));
      if (body.description) io.out(`  ${body.description}`);
      io.out(`  allowlist: ${(body.allowlist ?? []).join(', ') || '(empty)'}`);
    });

  flags
    .command('create <key>')
    .description('create a flag (disabled at 0 % unless told otherwise)')
    .option('--description <text>')
    .option('--enabled', 'create it enabled')
    .option('--rollout <pct>', 'rollout percentage, 0..100')
    .option('--allow <ids>', 'comma-separated allowlist ids')
    .option('--salt <salt>', 'bucketing salt (default: the key)')
    .option('--stickiness <attr>', 'context attribute holding the subject id (default: id)')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const body = {
        key,
        description: o.description,
        enabled: o.enabled === true,
        rolloutPercentage: typeof o.rollout === 'string' ? parsePercentage(o.rollout) : undefined,
        allowlist: typeof o.allow === 'string' ? o.allow.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
        salt: o.salt,
        stickiness: o.stickiness,
        reason: o.reason,
      };
      const { body: created } = await client.post<FlagJson>('/api/admin/feature-flags', body);
      if (json) return printJson(io, created);
      io.out(`created ${summary(created)}`);
    });

  flags
    .command('set <key>')
    .description('change fields of a flag')
    .option('--enabled <bool>', 'true or false')
    .option('--rollout <pct>', 'rollout percentage, 0..100')
    .option('--description <text>')
    .option('--salt <salt>')
    .option('--stickiness <attr>')
    .option('--if-match <version>', 'fail with VERSION_CONFLICT unless the flag is at this version')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, o: Record<string, string | undefined>, cmd: Command) => {
      const body: Record<string, unknown> = {
        enabled: o.enabled === undefined ? undefined : parseBool(o.enabled),
        rolloutPercentage: o.rollout === undefined ? undefined : parsePercentage(o.rollout),
        description: o.description,
        salt: o.salt,
        stickiness: o.stickiness,
        reason: o.reason,
      };
      if (Object.entries(body).every(([k, v]) => v === undefined || k === 'reason')) {
        throw new CliError('nothing to change: pass --enabled, --rollout, --description, --salt or --stickiness');
      }
      const { client, json } = clientFor(cmd, io);
      const { body: f } = await put(client, key, body, o.ifMatch);
      if (json) return printJson(io, f);
      io.out(`${f.changed ? 'updated' : 'unchanged'} ${summary(f)}`);
    });

  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    flags
      .command(`${name} <key>`)
      .description(enabled ? 'turn the flag on (allowlist and rollout apply)' : 'kill switch: off for everyone, allowlist included')
      .option('--reason <text>', 'recorded in the audit trail')
      .action(async (key: string, o: { reason?: string }, cmd: Command) => {
        const { client, json } = clientFor(cmd, io);
        const { body: f } = await put(client, key, { enabled, reason: o.reason });
        if (json) return printJson(io, f);
        io.out(`${f.changed ? (enabled ? 'enabled' : 'disabled') : 'unchanged'} ${summary(f)}`);
      });
  }

  flags
    .command('rollout <key> <pct>')
    .description('set the rollout percentage; prints Before/After like the runbook’s update-rollout script')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, raw: string, o: { reason?: string }, cmd: Command) => {
      const target = parsePercentage(raw);
      const { client, json } = clientFor(cmd, io);
      // Read, then write with If-Match: "Before" is exactly what this change replaced.
      const before = await client.get<FlagJson>(flagPath(key));
      const { body: after } = await put(client, key, { rolloutPercentage: target, reason: o.reason }, String(before.body.version));
      if (json) return printJson(io, { before: before.body, after });
      io.out(`[Rollout] Updating ${key} to ${target}%`);
      io.out(`[Rollout] Before: enabled=${before.body.enabled}, rollout=${pct(before.body.rolloutBasisPoints)}`);
      io.out(`[Rollout] After: enabled=${after.enabled}, rollout=${pct(after.rolloutBasisPoints)}`);
      io.out(after.changed ? '[Rollout] ✅ Rollout updated successfully' : '[Rollout] Already at that rollout: nothing changed');
    });

  flags
    .command('archive <key>')
    .description('archive a flag: it evaluates as FLAG_NOT_FOUND afterwards')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, o: { reason?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.delete<FlagJson>(flagPath(key), o.reason ? { reason: o.reason } : undefined);
      if (json) return printJson(io, body);
      io.out(`archived ${key}`);
    });
}
