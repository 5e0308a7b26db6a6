import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { targetPolicyOf, type Config } from '../config.js';
import type { Database } from '../db/database.js';
import { changeContext } from '../http/context.js';
import { errorResponses } from '../http/schemas.js';
import { createDeliverer, type RetryOptions } from './deliver.js';
import {
  ChangeResponse,
  ChannelListResponse,
  ChannelResponse,
  CreateChannelBody,
  DeleteChannelBody,
  DeliveriesQuery,
  DeliveriesResponse,
  DeliveryResultResponse,
  IdParams,
  UpdateChannelBody,
  attemptJson,
  channelJson,
  resultJson,
} from './schemas.js';
import { createChannelService } from './service.js';

const tags = ['notifications'];
const BASE = '/api/admin/notification-channels';

export interface NotificationRouteOptions {
  readonly retry?: Partial<RetryOptions> | undefined;
}

/** Notification channels (design §6.7): SUPER_ADMIN manages them, VIEWER reads them. */
export function notificationRoutes(
  db: Database,
  config: Pick<Config, 'smtpUrl' | 'smtpFrom' | 'allowPrivateTargets' | 'allowedTargetNetworks'>,
  options: NotificationRouteOptions = {},
): FastifyPluginAsyncZod {
  return async (app) => {
    const targets = targetPolicyOf(config);
    const deliver = createDeliverer({ db, smtpUrl: config.smtpUrl, smtpFrom: config.smtpFrom, log: app.log, targets, ...options });
    const channels = createChannelService(db, { deliver, smtpConfigured: Boolean(config.smtpUrl), targets });

    app.get(BASE, {
      config: { access: 'viewer' },
      schema: { tags, summary: 'List notification channels (secrets hidden)', response: { 200: ChannelListResponse, ...errorResponses } },
      handler: async () => {
        const list = await channels.list();
        return { channels: list.map(channelJson), total: list.length };
      },
    });

    app.post(BASE, {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Create a notification channel',
        description:
          'A config that does not fit the type is a 400 INVALID_CHANNEL, a URL whose host is or resolves to a private, loopback or link-local address a 400 TARGET_NOT_ALLOWED (unless allowed by RAMPART_ALLOW_PRIVATE_TARGETS or RAMPART_ALLOWED_TARGET_NETWORKS); either way nothing is written.',
        body: CreateChannelBody,
        response: { 201: ChannelResponse, ...errorResponses },
      },
      handler: async (req, reply) => {
        const { reason, ...input } = req.body;
        const channel = await channels.create(changeContext(req, reason), input);
        reply.header('location', `${BASE}/${channel.id}`).code(201);
        return channelJson(channel);
      },
    });

    app.get(`${BASE}/:id`, {
      config: { access: 'viewer' },
      schema: { tags, summary: 'One notification channel (secrets hidden)', params: IdParams, response: { 200: ChannelResponse, ...errorResponses } },
      handler: async (req) => channelJson(await channels.get(req.params.id)),
    });

    app.put(`${BASE}/:id`, {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Change any subset of a channel’s fields',
        description: 'A webhook config without `secret` keeps the current secret; `secret: null` removes it.',
        params: IdParams,
        body: UpdateChannelBody,
        response: { 200: ChangeResponse, ...errorResponses },
      },
      handler: async (req) => {
        const { reason, ...patch } = req.body;
        const r = await channels.update(changeContext(req, reason), req.params.id, patch);
        return { ...channelJson(r.channel), changed: r.changed };
      },
    });

    app.delete(`${BASE}/:id`, {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Delete a channel and its delivery records; returns it as it was',
        params: IdParams,
        body: DeleteChannelBody,
        response: { 200: ChannelResponse, ...errorResponses },
      },
      handler: async (req) => channelJson(await channels.remove(changeContext(req, req.body?.reason), req.params.id)),
    });

    app.post(`${BASE}/:id/test`, {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Send a test message now (one attempt) and return how it went',
        description: 'A channel that cannot be reached is a 200 with `status: "failed"` and the error.',
        params: IdParams,
        response: { 200: DeliveryResultResponse, ...errorResponses },
      },
      handler: async (req) => resultJson(await channels.test(req.params.id)),
    });

    app.get(`${BASE}/:id/deliveries`, {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Every delivery attempt to this channel, newest first, paged',
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: DeliveriesResponse, ...errorResponses },
      },
      handler: async (req) => {
        const { limit, before } = req.query;
        const list = await channels.deliveries(req.params.id, limit, before);
        return { deliveries: list.map(attemptJson), nextBefore: list.length === limit ? list[list.length - 1]!.id : null };
      },
    });
  };
}
