import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, printJson, type Io } from '../output.js';

interface Token {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  token?: string;
}

const ROLES = ['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK'];

export function registerTokenCommands(program: Command, io: Io): void {
  const token = program.command('token').description('API tokens (SUPER_ADMIN)');

  token
    .command('create <name>')
    .description('create a token; its secret is printed once')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (name: string, opts: { role: string; reason?: string }, cmd: Command) => {
      const role = opts.role.toUpperCase();
      if (!ROLES.includes(role)) throw new CliError(`invalid role "${opts.role}": use one of ${ROLES.join(', ')}`);
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.post<Token>('/api/admin/tokens', { name, role, reason: opts.reason });
      if (json) return printJson(io, body);
      io.out(`created ${body.role} token ${body.id} (${body.name}). Secret, shown once:`);
      io.out(body.token ?? '');
    });

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ tokens: Token[] }>('/api/admin/tokens');
      if (json) return printJson(io, body);
      for (const t of body.tokens) {
        const state = t.revokedAt ? `revoked ${t.revokedAt}` : `last used ${t.lastUsedAt ?? 'never'}`;
        io.out(`${t.id}  ${t.role.padEnd(11)}  ${t.name}  (${state})`);
      }
    });

  token
    .command('revoke <id>')
    .description('revoke a token; it stops working on the next request')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.delete<Token>(`/api/admin/tokens/${encodeURIComponent(id)}`, opts.reason ? { reason: opts.reason } : undefined);
      if (json) return printJson(io, body);
      io.out(`revoked ${body.id} (${body.name})`);
    });
}
