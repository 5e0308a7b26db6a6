import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, parsePercentage, printJson, type Io } from '../output.js';

interface ScheduledChangeJson {
  id: string;
  flagKey: string;
  at: string;
  change: { enabled?: boolean; rolloutPercentage?: number };
  reason: string | null;
  state: string;
  createdBy: string;
  cancelledBy: string | null;
  result: { version?: number; changed?: boolean; error?: string } | null;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--at`: an ISO 8601 time (a time without an offset is local), or `+30m`, `+2h`, `+1d` from now. */
export function parseAt(raw: string, now = Date.now()): string {
  const rel = /^\+(\d+(?:\.\d+)?)([smhd])$/.exec(raw.trim());
  if (rel) return new Date(now + Number(rel[1]) * UNITS[rel[2]!]!).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}/.test(raw.trim()) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw new CliError(`invalid --at "${raw}": use an ISO time such as 2026-05-04T09:00:00Z, or +30m, +2h, +1d`);
  return new Date(t).toISOString();
}

function describeChange(c: ScheduledChangeJson['change']): string {
  const parts: string[] = [];
  if (c.enabled !== undefined) parts.push(c.enabled ? 'enable' : 'disable');
  if (c.rolloutPercentage !== undefined) parts.push(`rollout ${c.rolloutPercentage}%`);
  return parts.join(', ');
}

function outcome(c: ScheduledChangeJson): string {
  if (c.state === 'applied' && c.result?.version !== undefined) return ` → v${c.result.version}${c.result.changed === false ? ' (no change)' : ''}`;
  if (c.state === 'failed' && c.result?.error) return `: ${c.result.error}`;
  if (c.state === 'cancelled' && c.cancelledBy) return ` by ${c.cancelledBy}`;
  return '';
}

function line(c: ScheduledChangeJson): string {
  return `${c.at}  ${c.id}  ${c.state.padEnd(9)} ${c.flagKey}: ${describeChange(c.change)}${outcome(c)}${c.reason ? ` — "${c.reason}"` : ''}`;
}

export function registerScheduleCommands(program: Command, io: Io): void {
  const schedule = program.command('schedule').description('flag changes at a time in the future: add, list, cancel');

  schedule
    .command('add <key>')
    .description('schedule enable, disable and/or a rollout percentage for a time in the future')
    .requiredOption('--at <time>', 'when: ISO 8601 (e.g. 2026-05-04T09:00:00Z), or +30m, +2h, +1d')
    .option('--enable', 'enable the flag then')
    .option('--disable', 'disable the flag then')
    .option('--rollout <pct>', 'set the rollout percentage then')
    .option('--reason <text>', 'why (in the audit trail)')
    .action(async (key: string, o: { at: string; enable?: boolean; disable?: boolean; rollout?: string; reason?: string }, cmd: Command) => {
      if (o.enable && o.disable) throw new CliError('give --enable or --disable, not both');
      if (!o.enable && !o.disable && o.rollout === undefined) throw new CliError('nothing to schedule: give --enable, --disable and/or --rollout PCT');
      const { client, json } = clientFor(cmd, io);
      const body = {
        at: parseAt(o.at),
        enabled: o.enable ? true : o.disable ? false : undefined,
        rolloutPercentage: o.rollout === undefined ? undefined : parsePercentage(o.rollout),
        reason: o.reason,
      };
      const { body: c } = await client.post<ScheduledChangeJson>(`/api/admin/feature-flags/${encodeURIComponent(key)}/scheduled-changes`, body);
      if (json) return printJson(io, c);
      io.out(`scheduled ${c.id}: ${key} ${describeChange(c.change)} at ${c.at}`);
    });

  schedule
    .command('list [key]')
    .description('pending scheduled changes, soonest first (of one flag, or of all)')
    .option('--all', 'every state: pending, applied, failed, cancelled')
    .option('--state <state>', 'only this state')
    .action(async (key: string | undefined, o: { all?: boolean; state?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const state = o.state ?? (o.all ? undefined : 'pending');
      const query = state ? `?state=${encodeURIComponent(state)}` : '';
      const path = key ? `/api/admin/feature-flags/${encodeURIComponent(key)}/scheduled-changes` : '/api/admin/scheduled-changes';
      const { body } = await client.get<{ scheduledChanges: ScheduledChangeJson[] }>(path + query);
      if (json) return printJson(io, body);
      if (body.scheduledChanges.length === 0) {
        io.out(`no ${state ?? ''}${state ? ' ' : ''}scheduled changes${key ? ` for ${key}` : ''}`);
        return;
      }
      for (const c of body.scheduledChanges) io.out(line(c));
    });

  schedule
    .command('cancel <id>')
    .description('cancel a pending scheduled change')
    .option('--reason <text>', 'why (in the audit trail)')
    .action(async (id: string, o: { reason?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body: c } = await client.delete<ScheduledChangeJson>(
        `/api/admin/scheduled-changes/${encodeURIComponent(id)}`,
        o.reason === undefined ? undefined : { reason: o.reason },
      );
      if (json) return printJson(io, c);
      io.out(`cancelled ${c.id} (${c.flagKey}: ${describeChange(c.change)} at ${c.at})`);
    });
}
