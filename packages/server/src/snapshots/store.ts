import type { Queryable } from '../db/database.js';
import type { SnapshotContent } from './content.js';

export interface SnapshotMeta {
  id: string;
  label: string | null;
  reason: string | null;
  createdAt: Date;
  createdBy: string;
  serverVersion: string;
  flagCount: number;
  planCount: number;
}

export interface SnapshotRecord extends SnapshotMeta {
  content: SnapshotContent;
}

const META = `id, label, reason, created_at as "createdAt", created_by as "createdBy", server_version as "serverVersion",
  jsonb_array_length(content->'flags') as "flagCount", jsonb_array_length(content->'plans') as "planCount"`;

export async function insertSnapshot(
  q: Queryable,
  s: { id: string; label: string | null; reason: string | null; createdBy: string; serverVersion: string; content: SnapshotContent },
): Promise<SnapshotRecord> {
  const rows = await q.query<SnapshotMeta>(
    `insert into snapshots (id, label, reason, created_by, server_version, content)
     values ($1, $2, $3, $4, $5, $6::jsonb) returning ${META}`,
    [s.id, s.label, s.reason, s.createdBy, s.serverVersion, JSON.stringify(s.content)],
  );
  return { ...rows[0]!, content: s.content };
}

export async function listSnapshots(q: Queryable, limit: number, before?: Date): Promise<SnapshotMeta[]> {
  return q.query<SnapshotMeta>(
    `select ${META} from snapshots ${before ? 'where created_at < $2' : ''} order by created_at desc, id desc limit $1`,
    before ? [limit, before.toISOString()] : [limit],
  );
}

export async function getSnapshot(q: Queryable, id: string): Promise<SnapshotRecord | undefined> {
  return (await q.query<SnapshotRecord>(`select ${META}, content from snapshots where id = $1`, [id]))[0];
}
