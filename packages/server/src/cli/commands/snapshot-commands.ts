import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, printJson, type Io } from '../output.js';

interface SnapshotSummaryJson {
  id: string;
  label: string | null;
  reason: string | null;
  createdAt: string;
  createdBy: string;
  serverVersion: string;
  flagCount: number;
  planCount: number;
}

interface SnapshotJson extends SnapshotSummaryJson {
  content: {
    capturedAt: string;
    flags: { key: string; enabled: boolean; rolloutBasisPoints: number; allowlist: string[]; archived: boolean; version: number }[];
    plans: { id: string; flag_key: string; state: string }[];
    checkpoints: Record<string, { status: string }[]>;
  };
}

interface RestoreJson {
  snapshotId: string;
  changed: number;
  flags: { key: string; action: string; version: number }[];
  plans: { id: string; flagKey: string; action: string }[];
}

const path = (id: string) => `/api/admin/snapshots/${encodeURIComponent(id)}`;
const label = (s: { label: string | null }) => (s.label ? ` "${s.label}"` : '');

export function registerSnapshotCommands(program: Command, io: Io): void {
  const snapshot = program.command('snapshot').description('capture, compare and restore the whole flag configuration');

  snapshot
    .command('create')
    .description('capture every flag, its allowlist, live plans and the last 3 checkpoints per flag (OPERATOR)')
    .option('--label <label>', 'what the snapshot is for, e.g. "before drift fix"')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (o: { label?: string; reason?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.post<SnapshotSummaryJson>('/api/admin/snapshots', { label: o.label, reason: o.reason });
      if (json) return printJson(io, body);
      io.out(`created snapshot ${body.id}${label(body)}: ${body.flagCount} flag(s), ${body.planCount} live plan(s) (server ${body.serverVersion})`);
    });

  snapshot
    .command('list')
    .description('snapshots, newest first')
    .option('--limit <n>', 'how many', '50')
    .action(async (o: { limit: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ snapshots: SnapshotSummaryJson[] }>(`/api/admin/snapshots?limit=${encodeURIComponent(o.limit)}`);
      if (json) return printJson(io, body);
      if (body.snapshots.length === 0) io.out('no snapshots yet: take one with `rampart snapshot create --label ...`');
      for (const s of body.snapshots) {
        io.out(`${s.id}  ${s.createdAt}  by ${s.createdBy}  ${s.flagCount} flag(s), ${s.planCount} plan(s)${label(s)}`);
      }
    });

  snapshot
    .command('show <id>')
    .description('one snapshot: a summary, or the OPS SNAPSHOT document with --markdown')
    .option('--markdown', 'print the OPS SNAPSHOT markdown document')
    .action(async (id: string, o: { markdown?: boolean }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      if (o.markdown && !json) {
        io.out((await client.get<string>(`${path(id)}?format=markdown`)).body.trimEnd());
        return;
      }
      const { body } = await client.get<SnapshotJson>(path(id));
      if (json) return printJson(io, body);
      io.out(`${body.id}${label(body)}  taken ${body.createdAt} by ${body.createdBy} (server ${body.serverVersion})`);
      for (const f of body.content.flags) {
        const plan = body.content.plans.find((p) => p.flag_key === f.key);
        const last = body.content.checkpoints[f.key]?.[0];
        io.out(
          `  ${f.key}  ${f.archived ? 'archived' : `enabled=${f.enabled} rollout=${f.rolloutBasisPoints / 100}%`} allowlist=${f.allowlist.length} v${f.version}` +
            `${plan ? `  plan ${plan.id} ${plan.state}` : ''}${last ? `  last checkpoint ${last.status}` : ''}`,
        );
      }
    });

  snapshot
    .command('diff <id>')
    .description('what changed since the snapshot (what a restore would undo), as markdown')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      if (json) return printJson(io, (await client.get<unknown>(`${path(id)}/diff`)).body);
      io.out((await client.get<string>(`${path(id)}/diff?format=markdown`)).body.trimEnd());
    });

  snapshot
    .command('restore <id>')
    .description('bring flags, allowlists and plans back to the snapshot in one transaction (SUPER_ADMIN)')
    .option('--yes', 'confirm: the live configuration is overwritten')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (id: string, o: { yes?: boolean; reason?: string }, cmd: Command) => {
      if (!o.yes) {
        throw new CliError(`restore overwrites every flag, allowlist and plan with snapshot ${id}; check \`rampart snapshot diff ${id}\`, then add --yes`, 2);
      }
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.post<RestoreJson>(`${path(id)}/restore`, { reason: o.reason });
      if (json) return printJson(io, body);
      if (body.changed === 0) {
        io.out(`restored ${body.snapshotId}: nothing to change, the live state already equals the snapshot`);
        return;
      }
      io.out(`restored ${body.snapshotId}: ${body.flags.length} flag(s) and ${body.plans.length} plan(s) changed`);
      for (const f of body.flags) io.out(`  ${f.key}  ${f.action}  v${f.version}`);
      for (const p of body.plans) io.out(`  plan ${p.id} (${p.flagKey})  ${p.action}`);
    });
}
