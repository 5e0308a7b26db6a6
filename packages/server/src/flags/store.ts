import type { Queryable } from '../db/database.js';

/** The fields a change can touch; what the audit trail records before and after. */
export interface FlagState {
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  allowlist: string[];
  salt: string;
  stickiness: string;
}

export interface FlagRecord extends FlagState {
  key: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string | null;
  archivedAt: Date | null;
}

const COLUMNS = `key, description, enabled, rollout_basis_points as "rolloutBasisPoints", allowlist, salt,
  stickiness, version, created_at as "createdAt", updated_at as "updatedAt", updated_by as "updatedBy",
  archived_at as "archivedAt"`;

export async function getFlag(q: Queryable, key: string, forUpdate = false): Promise<FlagRecord | undefined> {
  const lock = forUpdate ? ' for update' : '';
  return (await q.query<FlagRecord>(`select ${COLUMNS} from flags where key = $1${lock}`, [key]))[0];
}

export interface ListFlagsQuery {
  search?: string | undefined;
  includeArchived?: boolean | undefined;
}

export async function listFlags(q: Queryable, query: ListFlagsQuery = {}): Promise<FlagRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (!query.includeArchived) where.push('archived_at is null');
  if (query.search) {
    params.push(`%${query.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    where.push(`(key ilike $${params.length} or description ilike $${params.length})`);
  }
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  return q.query<FlagRecord>(`select ${COLUMNS} from flags ${clause} order by key`, params);
}

export async function insertFlag(q: Queryable, key: string, s: FlagState, actor: string): Promise<FlagRecord> {
  const rows = await q.query<FlagRecord>(
    `insert into flags (key, description, enabled, rollout_basis_points, allowlist, salt, stickiness, updated_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${COLUMNS}`,
    [key, s.description, s.enabled, s.rolloutBasisPoints, s.allowlist, s.salt, s.stickiness, actor],
  );
  return rows[0]!;
}

/** Writes a new state and bumps the version; `revive` also clears an archive. */
export async function writeFlag(
  q: Queryable,
  key: string,
  s: FlagState,
  actor: string,
  opts: { revive?: boolean; archive?: boolean } = {},
): Promise<FlagRecord> {
  const archived = opts.archive ? 'now()' : opts.revive ? 'null' : 'archived_at';
  const rows = await q.query<FlagRecord>(
    `update flags set description = $2, enabled = $3, rollout_basis_points = $4, allowlist = $5, salt = $6,
       stickiness = $7, updated_by = $8, version = version + 1, updated_at = now(), archived_at = ${archived}
     where key = $1 returning ${COLUMNS}`,
    [key, s.description, s.enabled, s.rolloutBasisPoints, s.allowlist, s.salt, s.stickiness, actor],
  );
  return rows[0]!;
}

export function stateOf(f: FlagRecord): FlagState {
  return {
    description: f.description,
    enabled: f.enabled,
    rolloutBasisPoints: f.rolloutBasisPoints,
    allowlist: f.allowlist,
    salt: f.salt,
    stickiness: f.stickiness,
  };
}
