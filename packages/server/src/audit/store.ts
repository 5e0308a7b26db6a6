import { notifyActivity } from '../events/change-bus.js';
import type { Queryable } from '../db/database.js';
import type { Identity } from '../auth/roles.js';

export interface AuditEvent {
  id: number;
  at: Date;
  actor: string;
  actorRole: string;
  actorTokenId: string | null;
  action: string;
  flagKey: string | null;
  target: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
}

/** Who did a change and why; every mutation carries one into its transaction. */
export interface ChangeContext {
  readonly actor: Identity;
  readonly reason?: string | undefined;
  readonly requestId?: string | undefined;
}

export interface NewAuditEvent {
  action: string;
  flagKey?: string | null;
  target?: string | null;
  before?: unknown;
  after?: unknown;
}

const COLUMNS = `id::float8 as id, at, actor, actor_role as "actorRole", actor_token_id as "actorTokenId",
  action, flag_key as "flagKey", target, before, after, reason, request_id as "requestId"`;

/** Appends one event. Call it with the transaction that makes the change it records. */
export async function appendAudit(tx: Queryable, ctx: ChangeContext, event: NewAuditEvent): Promise<void> {
  await tx.query(
    `insert into audit_events
       (actor, actor_role, actor_token_id, action, flag_key, target, before, after, reason, request_id)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)`,
    [
      ctx.actor.name,
      ctx.actor.role,
      ctx.actor.tokenId,
      event.action,
      event.flagKey ?? null,
      event.target ?? null,
      event.before === undefined ? null : JSON.stringify(event.before),
      event.after === undefined ? null : JSON.stringify(event.after),
      ctx.reason ?? null,
      ctx.requestId ?? null,
    ],
  );
  await notifyActivity(tx, { key: event.flagKey ?? null, what: event.action });
}

export interface AuditQuery {
  flagKey?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  /** Return events older than this id (cursor paging, newest first). */
  before?: number | undefined;
  limit: number;
}

export async function listAudit(db: Queryable, q: AuditQuery): Promise<AuditEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.flagKey !== undefined) add('flag_key = ?', q.flagKey);
  if (q.actor !== undefined) add('actor = ?', q.actor);
  if (q.action !== undefined) add('action = ?', q.action);
  if (q.before !== undefined) add('id < ?', q.before);
  params.push(q.limit);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  return db.query<AuditEvent>(
    `select ${COLUMNS} from audit_events ${clause} order by id desc limit $${params.length}`,
    params,
  );
}
