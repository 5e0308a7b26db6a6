import type { Queryable } from '../db/database.js';
import type { Health, NotificationState, Verdict } from './policy.js';

export type ChannelType = 'webhook' | 'slack' | 'email';
export const CHANNEL_TYPES: readonly ChannelType[] = ['webhook', 'slack', 'email'];

export interface WebhookConfig {
  url: string;
  secret?: string | undefined;
}
export interface SlackConfig {
  url: string;
}
export interface EmailConfig {
  to: string[];
  from?: string | undefined;
}

/** The type and its config travel together, so a webhook never has an e-mail config. */
export type ChannelTarget =
  | { type: 'webhook'; config: WebhookConfig }
  | { type: 'slack'; config: SlackConfig }
  | { type: 'email'; config: EmailConfig };

/** What a PUT sets; what the audit trail records (redacted) before and after. */
export type ChannelState = ChannelTarget & {
  name: string;
  /** null: every flag. */
  flagKeys: string[] | null;
  enabled: boolean;
};

export type Channel = ChannelState & {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string | null;
};

export type DeliveryEvent = 'checkpoint.verdict_changed' | 'checkpoint.still_red' | 'plan.rolled_back' | 'test';

export interface DeliveryAttempt {
  id: number;
  channelId: string;
  event: DeliveryEvent;
  flagKey: string | null;
  checkpointId: string | null;
  attempt: number;
  status: 'sent' | 'failed';
  error: string | null;
  at: Date;
}

const COLUMNS = `id, name, type, config, flag_keys as "flagKeys", enabled, created_at as "createdAt",
  updated_at as "updatedAt", updated_by as "updatedBy"`;

export async function getChannel(q: Queryable, id: string, forUpdate = false): Promise<Channel | undefined> {
  const lock = forUpdate ? ' for update' : '';
  return (await q.query<Channel>(`select ${COLUMNS} from notification_channels where id = $1${lock}`, [id]))[0];
}

export async function listChannels(q: Queryable): Promise<Channel[]> {
  return q.query<Channel>(`select ${COLUMNS} from notification_channels order by created_at, id`);
}

/** The enabled channels that want to hear about `flag`. */
export async function channelsForFlag(q: Queryable, flag: string): Promise<Channel[]> {
  return q.query<Channel>(
    `select ${COLUMNS} from notification_channels
     where enabled and (flag_keys is null or $1 = any(flag_keys)) order by created_at, id`,
    [flag],
  );
}

export async function insertChannel(q: Queryable, id: string, s: ChannelState, actor: string): Promise<Channel> {
  const rows = await q.query<Channel>(
    `insert into notification_channels (id, name, type, config, flag_keys, enabled, updated_by)
     values ($1, $2, $3, $4::jsonb, $5, $6, $7) returning ${COLUMNS}`,
    [id, s.name, s.type, JSON.stringify(s.config), s.flagKeys, s.enabled, actor],
  );
  return rows[0]!;
}

export async function replaceChannel(q: Queryable, id: string, s: ChannelState, actor: string): Promise<Channel> {
  const rows = await q.query<Channel>(
    `update notification_channels set name = $2, type = $3, config = $4::jsonb, flag_keys = $5, enabled = $6,
       updated_by = $7, updated_at = now()
     where id = $1 returning ${COLUMNS}`,
    [id, s.name, s.type, JSON.stringify(s.config), s.flagKeys, s.enabled, actor],
  );
  return rows[0]!;
}

export async function deleteChannel(q: Queryable, id: string): Promise<void> {
  await q.query('delete from notification_channels where id = $1', [id]);
}

export function stateOf(c: Channel): ChannelState {
  return { name: c.name, type: c.type, config: c.config, flagKeys: c.flagKeys, enabled: c.enabled } as ChannelState;
}

/**
 * Reads a flag's state holding a lock on the flag until the transaction ends, so two replicas
 * finishing checkpoints of one flag at once decide one after the other. The advisory lock also
 * covers a flag that has no row yet.
 */
export async function lockState(tx: Queryable, flag: string): Promise<NotificationState | undefined> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:notify:' || $1))`, [flag]);
  const rows = await tx.query<NotificationState>(
    `select last_verdict as "lastVerdict", last_health as "lastHealth", last_notified_at as "lastNotifiedAt",
       last_checkpoint_id as "lastCheckpointId"
     from notification_state where flag_key = $1 for update`,
    [flag],
  );
  return rows[0];
}

export async function saveState(
  tx: Queryable,
  flag: string,
  s: { verdict: Verdict; health: Health; notifiedAt: Date | null; checkpointId: string },
): Promise<void> {
  // A checkpoint that notifies nobody keeps the previous notification time (for the reminder).
  await tx.query(
    `insert into notification_state (flag_key, last_verdict, last_health, last_notified_at, last_checkpoint_id)
     values ($1, $2, $3, $4, $5)
     on conflict (flag_key) do update set last_verdict = excluded.last_verdict, last_health = excluded.last_health,
       last_notified_at = coalesce(excluded.last_notified_at, notification_state.last_notified_at),
       last_checkpoint_id = excluded.last_checkpoint_id`,
    [flag, s.verdict, s.health, s.notifiedAt, s.checkpointId],
  );
}

export async function recordAttempt(
  q: Queryable,
  a: Pick<DeliveryAttempt, 'channelId' | 'event' | 'flagKey' | 'checkpointId' | 'attempt' | 'status' | 'error'>,
): Promise<void> {
  await q.query(
    `insert into notification_deliveries (channel_id, event, flag_key, checkpoint_id, attempt, status, error)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [a.channelId, a.event, a.flagKey, a.checkpointId, a.attempt, a.status, a.error],
  );
}

export async function listAttempts(q: Queryable, channelId: string, limit: number, before?: number): Promise<DeliveryAttempt[]> {
  const params: unknown[] = [channelId, limit];
  const cursor = before === undefined ? '' : ` and id < $${params.push(before)}`;
  return q.query<DeliveryAttempt>(
    `select id::float8 as id, channel_id as "channelId", event, flag_key as "flagKey", checkpoint_id as "checkpointId",
       attempt, status, error, at
     from notification_deliveries where channel_id = $1${cursor} order by id desc limit $2`,
    params,
  );
}
