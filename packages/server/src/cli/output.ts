import type { Command } from 'commander';
import { CliError, createClient, type Client } from './client.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Resolves --url/--token (or RAMPART_URL/RAMPART_TOKEN) for a command. */
export function clientFor(cmd: Command, io: Io): { client: Client; json: boolean } {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const url = opts.url ?? io.env.RAMPART_URL ?? 'http://127.0.0.1:4000';
  const token = opts.token ?? io.env.RAMPART_TOKEN;
  return { client: createClient({ url, token }), json: Boolean(opts.json) };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

export function parsePercentage(raw: string): number {
  const value = Number(raw.replace(/%$/, ''));
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new CliError(`invalid percentage "${raw}": use a number from 0 to 100, e.g. 1 or 12.5`);
  }
  return value;
}

export function parseBool(raw: string): boolean {
  if (/^(true|on|1|yes)$/i.test(raw)) return true;
  if (/^(false|off|0|no)$/i.test(raw)) return false;
  throw new CliError(`invalid boolean "${raw}": use true or false`);
}

export const pct = (bp: number) => `${bp / 100}%`;

/** "enabled: true → false, rollout: 1% → 0%, allowlist: +2" from two audit snapshots. */
export function describeChange(before: unknown, after: unknown): string {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  if (!before) return 'created';
  const parts: string[] = [];
  for (const field of ['enabled', 'rolloutBasisPoints', 'salt', 'stickiness', 'description', 'archived', 'role', 'revoked']) {
    if (a[field] === undefined || JSON.stringify(a[field]) === JSON.stringify(b[field])) continue;
    const show = (v: unknown) => (field === 'rolloutBasisPoints' ? pct(Number(v)) : JSON.stringify(v));
    parts.push(`${field === 'rolloutBasisPoints' ? 'rollout' : field}: ${show(b[field])} → ${show(a[field])}`);
  }
  if (Array.isArray(a.allowlist) && Array.isArray(b.allowlist)) {
    const was = new Set(b.allowlist as string[]);
    const now = new Set(a.allowlist as string[]);
    const added = [...now].filter((x) => !was.has(x)).length;
    const removed = [...was].filter((x) => !now.has(x)).length;
    if (added || removed) parts.push(`allowlist: ${added ? `+${added}` : ''}${added && removed ? ' ' : ''}${removed ? `-${removed}` : ''} (${now.size} ids)`);
  }
  return parts.join(', ') || 'no field changed';
}
