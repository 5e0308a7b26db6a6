import { z } from 'zod';
import { FlagKey, Reason, Text } from '../http/schemas.js';
import type { DeliveryResult } from './deliver.js';
import { CHANNEL_TYPES, type Channel, type ChannelTarget, type DeliveryAttempt } from './store.js';

/**
 * Credentials in the URL would be shown to every VIEWER reading the channel: put a webhook's
 * shared secret in `secret` instead.
 */
const HttpUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  }, 'an http(s) URL without credentials, e.g. https://hooks.example.com/rampart');

const Email = z.email().max(320);

/** Each type's config, checked by the service so a mismatch is INVALID_CHANNEL with details. */
export const CONFIG_SCHEMAS = {
  webhook: z
    .object({
      url: HttpUrl,
      secret: Text(512).min(16, 'at least 16 characters').nullish().describe('HMAC key for X-Rampart-Signature; null removes it'),
    })
    .strict(),
  slack: z.object({ url: HttpUrl }).strict(),
  email: z.object({ to: z.array(Email).min(1).max(50), from: Email.optional() }).strict(),
} as const;

const ConfigInput = z
  .record(z.string(), z.unknown())
  .describe(
    'webhook: `{url, secret?}` (secret ≥ 16 characters; omitted on PUT keeps the current one, null removes it); ' +
      'slack: `{url}` (a Slack-compatible incoming webhook); email: `{to: [addresses], from?}`',
  );

const FlagKeys = z
  .array(FlagKey)
  .min(1)
  .max(1000)
  .nullish()
  .describe('the flags this channel hears about; omitted or null: every flag');

export const CreateChannelBody = z
  .object({
    name: Text(200).min(1),
    type: z.enum(CHANNEL_TYPES),
    config: ConfigInput,
    flagKeys: FlagKeys,
    enabled: z.boolean().optional(),
    reason: Reason.optional(),
  })
  .strict();

/** PUT: any subset; changing the type needs a config of the new type. */
export const UpdateChannelBody = CreateChannelBody.partial().strict();

export const DeleteChannelBody = z.object({ reason: Reason.optional() }).strict().nullish();

export const IdParams = z.object({ id: Text(100).min(1) });

export const DeliveriesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().min(1).optional().describe('cursor: attempts older than this id'),
  })
  .strict();

const PublicConfig = z.union([
  z.object({ url: z.string(), secretSet: z.boolean() }).describe('webhook'),
  z.object({ url: z.string().describe('the path after its first segment is hidden: Slack URLs are credentials') }).describe('slack'),
  z.object({ to: z.array(z.string()), from: z.string().optional() }).describe('email'),
]);

export const ChannelResponse = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  config: PublicConfig.describe('secrets are never returned'),
  flagKeys: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});

export const ChannelListResponse = z.object({ channels: z.array(ChannelResponse), total: z.number() });

export const ChangeResponse = ChannelResponse.extend({
  changed: z.boolean().describe('false when the channel already was as asked: nothing written'),
});

export const DeliveryResultResponse = z.object({
  channelId: z.string(),
  channelName: z.string(),
  type: z.enum(CHANNEL_TYPES),
  status: z.enum(['sent', 'failed']),
  attempts: z.number(),
  error: z.string().nullable(),
});

const DeliveryAttemptResponse = z.object({
  id: z.number(),
  channelId: z.string(),
  event: z.enum(['checkpoint.verdict_changed', 'checkpoint.still_red', 'plan.rolled_back', 'test']),
  flagKey: z.string().nullable(),
  checkpointId: z.string().nullable(),
  attempt: z.number(),
  status: z.enum(['sent', 'failed']),
  error: z.string().nullable(),
  at: z.string(),
});

export const DeliveriesResponse = z.object({
  deliveries: z.array(DeliveryAttemptResponse),
  nextBefore: z.number().nullable().describe('pass as `before` for the next page; null at the end'),
});

/** Shows where a URL points without what may authorize it: `https://hooks.slack.com/services/…`. */
export function maskUrl(url: string): string {
  const u = new URL(url);
  const first = u.pathname.split('/').filter(Boolean)[0];
  return `${u.origin}/${first ? `${first}/` : ''}…`;
}

/** A webhook URL as given, except query values (tokens are sometimes put there). */
function webhookUrl(url: string): string {
  const u = new URL(url);
  for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '…');
  return u.toString();
}

export function publicConfig(c: ChannelTarget): z.infer<typeof PublicConfig> {
  switch (c.type) {
    case 'webhook':
      return { url: webhookUrl(c.config.url), secretSet: Boolean(c.config.secret) };
    case 'slack':
      return { url: maskUrl(c.config.url) };
    case 'email':
      return { to: c.config.to, ...(c.config.from ? { from: c.config.from } : {}) };
  }
}

export function channelJson(c: Channel): z.infer<typeof ChannelResponse> {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    config: publicConfig(c),
    flagKeys: c.flagKeys,
    enabled: c.enabled,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    updatedBy: c.updatedBy,
  };
}

export function attemptJson(a: DeliveryAttempt): z.infer<typeof DeliveryAttemptResponse> {
  return { ...a, at: a.at.toISOString() };
}

export function resultJson(r: DeliveryResult): z.infer<typeof DeliveryResultResponse> {
  return { ...r };
}
