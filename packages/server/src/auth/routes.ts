import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { changeContext } from '../http/context.js';
import { errorResponses, Reason, Text } from '../http/schemas.js';
import { ROLES } from './roles.js';
import type { TokenService } from './token-service.js';
import type { TokenRow } from './token-store.js';

const tags = ['tokens'];

const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const CreateTokenBody = z
  .object({ name: Text(100).min(1), role: z.enum(ROLES), reason: Reason.optional() })
  .strict();

const tokenJson = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  createdAt: t.createdAt.toISOString(),
  createdBy: t.createdBy,
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});

export function tokenRoutes(tokens: TokenService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/api/admin/tokens', {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Create a token; the secret is in this response only',
        body: CreateTokenBody,
        response: { 201: TokenSchema.extend({ token: z.string() }), ...errorResponses },
      },
      handler: async (req, reply) => {
        const created = await tokens.create(changeContext(req, req.body.reason), req.body.name, req.body.role);
        reply.code(201);
        return { ...tokenJson(created), token: created.token };
      },
    });

    app.get('/api/admin/session', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Who the presented token is: what the admin UI signs in with (SDK tokens get 403)',
        response: { 200: z.object({ tokenId: z.string(), name: z.string(), role: z.enum(ROLES) }), ...errorResponses },
      },
      handler: async (req) => {
        const { tokenId, name, role } = req.identity!;
        return { tokenId, name, role };
      },
    });

    app.get('/api/admin/tokens', {
      config: { access: 'super_admin' },
      schema: { tags, summary: 'List tokens (never their secrets)', response: { 200: z.object({ tokens: z.array(TokenSchema) }), ...errorResponses } },
      handler: async () => ({ tokens: (await tokens.list()).map(tokenJson) }),
    });

    app.delete('/api/admin/tokens/:id', {
      config: { access: 'super_admin' },
      schema: {
        tags,
        summary: 'Revoke a token; it stops working on the next request',
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object({ reason: Reason.optional() }).strict().nullish(),
        response: { 200: TokenSchema, ...errorResponses },
      },
      handler: async (req) => tokenJson(await tokens.revoke(changeContext(req, req.body?.reason), req.params.id)),
    });
  };
}
