import { randomBytes } from 'node:crypto';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { CLOSED_POLICY, requireAllowedTarget, type TargetPolicy } from '../outbound/target-policy.js';
import type { Deliver, DeliveryResult } from './deliver.js';
import type { NotificationMessage } from './messages.js';
import { CONFIG_SCHEMAS, publicConfig } from './schemas.js';
import {
  deleteChannel,
  getChannel,
  insertChannel,
  listAttempts,
  listChannels,
  replaceChannel,
  stateOf,
  type Channel,
  type ChannelState,
  type ChannelTarget,
  type ChannelType,
  type DeliveryAttempt,
} from './store.js';

export interface ChannelInput {
  name?: string | undefined;
  type?: ChannelType | undefined;
  config?: Record<string, unknown> | undefined;
  flagKeys?: string[] | null | undefined;
  enabled?: boolean | undefined;
}

export interface ChannelChange {
  channel: Channel;
  /** False when the channel already was as asked: nothing written, no audit event. */
  changed: boolean;
}

/** Audit snapshots are what a VIEWER may read: no secret, no full Slack URL. */
const snapshot = (c: Channel) => ({
  id: c.id,
  name: c.name,
  type: c.type,
  config: publicConfig(c),
  flagKeys: c.flagKeys,
  enabled: c.enabled,
});

/** JSON with sorted keys: jsonb does not keep the order the config was written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function invalid(type: ChannelType, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): AppError {
  const details = issues.map((i) => ({ path: ['body', 'config', ...i.path.map(String)].join('.'), message: i.message }));
  return new AppError('INVALID_CHANNEL', `Invalid ${type} config: ${details[0]!.path} ${details[0]!.message}`, details);
}

/**
 * Checks a config against its type. A webhook config without `secret` keeps the current
 * secret (the API never shows it, so a client cannot send it back); `secret: null` removes it.
 */
export function parseTarget(type: ChannelType, config: unknown, current?: ChannelTarget): ChannelTarget {
  switch (type) {
    case 'webhook': {
      const r = CONFIG_SCHEMAS.webhook.safeParse(config);
      if (!r.success) throw invalid(type, r.error.issues);
      const kept = current?.type === 'webhook' ? current.config.secret : undefined;
      const secret = r.data.secret === undefined ? kept : (r.data.secret ?? undefined);
      return { type, config: { url: r.data.url, ...(secret ? { secret } : {}) } };
    }
    case 'slack': {
      const r = CONFIG_SCHEMAS.slack.safeParse(config);
      if (!r.success) throw invalid(type, r.error.issues);
      return { type, config: { url: r.data.url } };
    }
    case 'email': {
      const r = CONFIG_SCHEMAS.email.safeParse(config);
      if (!r.success) throw invalid(type, r.error.issues);
      return { type, config: { to: [...new Set(r.data.to)], ...(r.data.from ? { from: r.data.from } : {}) } };
    }
  }
}

export interface ChannelServiceOptions {
  readonly deliver: Deliver;
  /** RAMPART_SMTP_URL is set: e-mail channels can send. */
  readonly smtpConfigured: boolean;
  /** Where webhook and Slack URLs may point; default: no private addresses. */
  readonly targets?: TargetPolicy | undefined;
}

export function createChannelService(db: Database, options: ChannelServiceOptions) {
  const notFound = (id: string) => new AppError('CHANNEL_NOT_FOUND', `No notification channel ${id}.`);

  async function get(id: string): Promise<Channel> {
    const channel = await getChannel(db, id);
    if (!channel) throw notFound(id);
    return channel;
  }

  function requireSmtp(type: ChannelType): void {
    if (type === 'email' && !options.smtpConfigured) throw new AppError('SMTP_NOT_CONFIGURED');
  }

  const uniqueKeys = (keys: string[] | null | undefined) => (keys ? [...new Set(keys)] : null);
  const targets = options.targets ?? CLOSED_POLICY;
  const requireTarget = (target: ChannelTarget) =>
    target.type === 'email' ? Promise.resolve() : requireAllowedTarget(target.config.url, targets, 'body.config.url');

  return {
    list: () => listChannels(db),
    get,

    async create(ctx: ChangeContext, input: ChannelInput & { name: string; type: ChannelType; config: Record<string, unknown> }): Promise<Channel> {
      const target = parseTarget(input.type, input.config);
      requireSmtp(target.type);
      await requireTarget(target);
      const state = { ...target, name: input.name, flagKeys: uniqueKeys(input.flagKeys), enabled: input.enabled ?? true } as ChannelState;
      return db.transaction(async (tx) => {
        const channel = await insertChannel(tx, 'nc_' + randomBytes(9).toString('base64url'), state, ctx.actor.name);
        await appendAudit(tx, ctx, { action: 'notification_channel.create', target: channel.id, before: null, after: snapshot(channel) });
        return channel;
      });
    },

    async update(ctx: ChangeContext, id: string, patch: ChannelInput): Promise<ChannelChange> {
      return db.transaction(async (tx) => {
        const current = await getChannel(tx, id, true);
        if (!current) throw notFound(id);
        const type = patch.type ?? current.type;
        let target: ChannelTarget = stateOf(current);
        if (patch.config !== undefined) {
          target = parseTarget(type, patch.config, target);
          requireSmtp(type);
          await requireTarget(target);
        } else if (type !== current.type) {
          throw new AppError('INVALID_CHANNEL', `Changing the type to ${type} needs a ${type} config.`, [
            { path: 'body.config', message: `required when the type changes` },
          ]);
        }
        const state = {
          ...target,
          name: patch.name ?? current.name,
          flagKeys: patch.flagKeys === undefined ? current.flagKeys : uniqueKeys(patch.flagKeys),
          enabled: patch.enabled ?? current.enabled,
        } as ChannelState;
        if (canonical(state) === canonical(stateOf(current))) return { channel: current, changed: false };
        const channel = await replaceChannel(tx, id, state, ctx.actor.name);
        await appendAudit(tx, ctx, { action: 'notification_channel.update', target: id, before: snapshot(current), after: snapshot(channel) });
        return { channel, changed: true };
      });
    },

    async remove(ctx: ChangeContext, id: string): Promise<Channel> {
      return db.transaction(async (tx) => {
        const current = await getChannel(tx, id, true);
        if (!current) throw notFound(id);
        await deleteChannel(tx, id);
        await appendAudit(tx, ctx, { action: 'notification_channel.delete', target: id, before: snapshot(current) });
        return current;
      });
    },

    /** Sends a test message now, once (no retries: the caller is waiting), and says how it went. */
    async test(id: string): Promise<DeliveryResult> {
      const channel = await get(id);
      requireSmtp(channel.type);
      const message: NotificationMessage = {
        event: 'test',
        flag: channel.flagKeys?.[0] ?? 'example_flag',
        verdict: 'PASS',
        previousVerdict: null,
        health: 'GREEN',
        decision: 'GO',
        alerts: [],
        checkpointId: 'test_' + randomBytes(6).toString('hex'),
        at: new Date().toISOString(),
      };
      return options.deliver(channel, message, { retries: false });
    },

    async deliveries(id: string, limit: number, before?: number): Promise<DeliveryAttempt[]> {
      await get(id);
      return listAttempts(db, id, limit, before);
    },
  };
}

export type ChannelService = ReturnType<typeof createChannelService>;
