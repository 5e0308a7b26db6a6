import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, describeChange, pct, printJson, type Io } from '../output.js';
import type { FlagJson } from './flag-commands.js';

interface AuditEventJson {
  id: number;
  at: string;
  actor: string;
  actorRole: string;
  action: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

const flagPath = (key: string) => `/api/admin/feature-flags/${encodeURIComponent(key)}`;

function eventLine(e: AuditEventJson): string {
  const why = e.reason ? ` — "${e.reason}"` : '';
  return `${e.at}  ${e.action}  by ${e.actor} (${e.actorRole}): ${describeChange(e.before, e.after)}${why}`;
}

export function registerInspectCommands(program: Command, io: Io): void {
  const allow = program.command('allow').description('allowlist of a flag (idempotent)');
  for (const [name, method] of [['add', 'post'], ['remove', 'delete']] as const) {
    allow
      .command(`${name} <key> <ids...>`)
      .description(`${name} subject ids ${name === 'add' ? 'to' : 'from'} the allowlist`)
      .option('--reason <text>', 'recorded in the audit trail')
      .action(async (key: string, ids: string[], o: { reason?: string }, cmd: Command) => {
        const { client, json } = clientFor(cmd, io);
        const body = { ids, reason: o.reason };
        const path = `${flagPath(key)}/allowlist`;
        const { body: r } = await (method === 'post' ? client.post<Record<string, number | boolean>>(path, body) : client.delete<Record<string, number | boolean>>(path, body));
        if (json) return printJson(io, r);
        const n = name === 'add' ? r.added : r.removed;
        io.out(`${name === 'add' ? 'added' : 'removed'} ${n} of ${ids.length} id(s); allowlist now has ${r.allowlistCount}`);
      });
  }

  program
    .command('status <key>')
    .description('config, allowlist count and last change (the runbook’s rollout-status)')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body: f } = await client.get<FlagJson>(flagPath(key));
      const { body: audit } = await client.get<{ events: AuditEventJson[] }>(`${flagPath(key)}/audit?limit=1`);
      const last = audit.events[0];
      if (json) return printJson(io, { flag: f, lastChange: last ?? null });
      io.out(`${f.key} (v${f.version})`);
      io.out(`  enabled:     ${f.enabled}`);
      io.out(`  rollout:     ${pct(f.rolloutBasisPoints)}`);
      io.out(`  allowlist:   ${f.allowlistCount} id(s)`);
      io.out(`  last change: ${last ? eventLine(last) : 'none recorded'}`);
    });

  program
    .command('eval <key> <subject>')
    .description('evaluate a flag for a subject on the server: value, reason and bucket')
    .option('--attr <k=v...>', 'extra context attributes')
    .action(async (key: string, subject: string, o: { attr?: string[] }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const params = new URLSearchParams({ id: subject });
      for (const kv of o.attr ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new CliError(`invalid --attr "${kv}": use name=value`);
        params.set(kv.slice(0, i), kv.slice(i + 1));
      }
      const { body } = await client.get<{ value: boolean; reason: string; bucket?: number; version: number }>(
        `/api/evaluate/${encodeURIComponent(key)}?${params}`,
      );
      if (json) return printJson(io, body);
      io.out(`${key} for ${subject}: value=${body.value} reason=${body.reason} bucket=${body.bucket ?? '-'} (flag v${body.version})`);
    });

  program
    .command('audit <key>')
    .description('a flag’s audit trail, newest first')
    .option('--limit <n>', 'how many events', '20')
    .action(async (key: string, o: { limit: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ events: AuditEventJson[] }>(`${flagPath(key)}/audit?limit=${encodeURIComponent(o.limit)}`);
      if (json) return printJson(io, body);
      if (body.events.length === 0) io.out('no audit events');
      for (const e of body.events) io.out(eventLine(e));
    });
}
