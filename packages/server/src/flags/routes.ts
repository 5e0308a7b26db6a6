import { flagStatuses } from './overview.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';
import { changeContext, rolloutFrom } from '../http/context.js';
import { ifMatchVersion, setEtag } from '../http/preconditions.js';
import { errorResponses, KeyParams } from '../http/schemas.js';
import {
  AllowlistBody,
  AllowlistResponse,
  ArchiveBody,
  ChangeResponse,
  CreateFlagBody,
  FlagListResponse,
  FlagResponse,
  ListQuery,
  UpdateFlagBody,
  flagJson,
} from './schemas.js';
import type { FlagService } from './service.js';

const tags = ['flags'];

/** How flag changes meet a running rollout plan (the plans slice provides it). */
export interface PlanGuard {
  /** Throws PLAN_ACTIVE: a manual percentage change would fight the plan. */
  guardManualRollout(flag: string): Promise<void>;
  /** The kill switch always works, and pauses the plan. */
  onKillSwitch(ctx: ReturnType<typeof changeContext>, flag: string): Promise<void>;
}

export function flagRoutes(flags: FlagService, plans?: PlanGuard): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/admin/feature-flags', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'List flags', querystring: ListQuery, response: { 200: FlagListResponse, ...errorResponses } },
      handler: async (req) => {
        const list = await flags.list({ search: req.query.q, includeArchived: req.query.includeArchived === 'true' });
        const statuses = await flagStatuses(app.rampart.db);
        const none = { plan: null, health: null, lastCheckpointAt: null };
        return { flags: list.map((f) => ({ ...flagJson(f, false), ...(statuses.get(f.key) ?? none) })), total: list.length };
      },
    });

    app.post('/api/admin/feature-flags', {
      config: { access: 'operator' },
      schema: { tags, summary: 'Create a flag', body: CreateFlagBody, response: { 201: FlagResponse, ...errorResponses } },
      handler: async (req, reply) => {
        const { reason, rolloutPercentage: _p, rolloutBasisPoints: _b, ...rest } = req.body;
        const flag = await flags.create(changeContext(req, reason), { ...rest, rolloutBasisPoints: rolloutFrom(req.body) });
        setEtag(reply, flag.version);
        reply.header('location', `/api/admin/feature-flags/${flag.key}`).code(201);
        return flagJson(flag);
      },
    });

    app.get('/api/admin/feature-flags/:key', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'One flag, with its ETag', params: KeyParams, response: { 200: FlagResponse, ...errorResponses } },
      handler: async (req, reply) => {
        const flag = await flags.get(req.params.key);
        if (!flag || flag.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${req.params.key}.`);
        setEtag(reply, flag.version);
        return flagJson(flag);
      },
    });

    app.put('/api/admin/feature-flags/:key', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Change any subset of a flag’s fields (If-Match honoured)',
        description: 'The runbook’s level-1 rollback works as written: `{"enabled":false,"rolloutPercentage":0}`.',
        params: KeyParams,
        body: UpdateFlagBody,
        response: { 200: ChangeResponse, ...errorResponses },
      },
      handler: async (req, reply) => {
        const expected = ifMatchVersion(req);
        const { reason, rolloutPercentage: _p, rolloutBasisPoints: _b, ...rest } = req.body;
        const rollout = rolloutFrom(req.body);
        // The runbook's level-1 rollback ({"enabled":false,"rolloutPercentage":0}) must always
        // work, plan or not: only a percentage change that is not part of a kill is refused.
        if (plans && rollout !== undefined && req.body.enabled !== false) {
          const current = await flags.get(req.params.key);
          if (current && current.rolloutBasisPoints !== rollout) await plans.guardManualRollout(req.params.key);
        }
        const ctx = changeContext(req, reason);
        const result = await flags.update(ctx, req.params.key, { ...rest, rolloutBasisPoints: rollout }, expected);
        if (plans && result.changed && result.before?.enabled && !result.flag.enabled) await plans.onKillSwitch(ctx, req.params.key);
        setEtag(reply, result.flag.version);
        return { ...flagJson(result.flag), changed: result.changed };
      },
    });

    app.delete('/api/admin/feature-flags/:key', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Archive a flag (it evaluates as FLAG_NOT_FOUND afterwards)',
        params: KeyParams,
        body: ArchiveBody,
        response: { 200: ChangeResponse, ...errorResponses },
      },
      handler: async (req) => {
        const result = await flags.archive(changeContext(req, req.body?.reason), req.params.key, ifMatchVersion(req));
        return { ...flagJson(result.flag), changed: result.changed };
      },
    });

    // POST adds, DELETE removes; both are idempotent and report how many ids actually moved.
    for (const [method, verb] of [['POST', 'add'], ['DELETE', 'remove']] as const) {
      app.route({
        method,
        url: '/api/admin/feature-flags/:key/allowlist',
        config: { access: 'operator' },
        schema: {
          tags,
          summary: `${verb === 'add' ? 'Add ids to' : 'Remove ids from'} the allowlist (idempotent)`,
          params: KeyParams,
          body: AllowlistBody,
          response: { 200: AllowlistResponse, ...errorResponses },
        },
        handler: async (req, reply) => {
          const ctx = changeContext(req, req.body.reason);
          const change = verb === 'add' ? flags.addToAllowlist : flags.removeFromAllowlist;
          const r = await change(ctx, req.params.key, req.body.ids, ifMatchVersion(req));
          setEtag(reply, r.flag.version);
          const moved = Math.abs(r.flag.allowlist.length - (r.before?.allowlist.length ?? 0));
          const { key, version } = r.flag;
          return { key, version, changed: r.changed, allowlistCount: r.flag.allowlist.length, [verb === 'add' ? 'added' : 'removed']: moved };
        },
      });
    }
  };
}
