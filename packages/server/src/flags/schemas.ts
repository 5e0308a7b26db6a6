import { z } from 'zod';
import { Allowlist, BasisPoints, FlagKey, Percentage, Reason, SubjectId, Text } from '../http/schemas.js';
import type { FlagRecord } from './store.js';

const Stickiness = z.string().min(1).max(64).regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'an attribute name');

const rolloutFields = {
  rolloutPercentage: Percentage.optional(),
  rolloutBasisPoints: BasisPoints.optional(),
};

export const CreateFlagBody = z
  .object({
    key: FlagKey,
    description: Text(1000).optional(),
    enabled: z.boolean().optional(),
    ...rolloutFields,
    allowlist: Allowlist.optional(),
    salt: Text(128).min(1).optional(),
    stickiness: Stickiness.optional(),
    reason: Reason.optional(),
  })
  .strict();

/** PUT: any subset of the create fields, except the key. */
export const UpdateFlagBody = CreateFlagBody.omit({ key: true }).strict();

export const AllowlistBody = z.object({ ids: z.array(SubjectId).min(1).max(10_000), reason: Reason.optional() }).strict();

export const ArchiveBody = z.object({ reason: Reason.optional() }).strict().nullish();

export const ListQuery = z
  .object({
    q: Text(200).optional().describe('search in key and description'),
    includeArchived: z.enum(['true', 'false']).optional(),
  })
  .strict();

export const FlagResponse = z.object({
  key: z.string(),
  description: z.string(),
  enabled: z.boolean(),
  rolloutBasisPoints: z.number(),
  rolloutPercentage: z.number(),
  allowlist: z.array(z.string()).optional(),
  allowlistCount: z.number(),
  salt: z.string(),
  stickiness: z.string(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
  archived: z.boolean(),
});

export const FlagListResponse = z.object({
  flags: z.array(
    FlagResponse.extend({
      plan: z.object({ state: z.string(), stage: z.number(), of: z.number(), awaitingApproval: z.boolean() }).nullable().describe('the live plan’s stage'),
      health: z.string().nullable().describe('the latest checkpoint’s health'),
      lastCheckpointAt: z.string().nullable(),
    }),
  ),
  total: z.number(),
});

export const ChangeResponse = FlagResponse.extend({
  changed: z.boolean().describe('false when the flag already was as asked: nothing written'),
});

export const AllowlistResponse = z.object({
  key: z.string(),
  changed: z.boolean(),
  added: z.number().optional(),
  removed: z.number().optional(),
  allowlistCount: z.number(),
  version: z.number(),
});

export function flagJson(f: FlagRecord, withAllowlist = true): z.infer<typeof FlagResponse> {
  return {
    key: f.key,
    description: f.description,
    enabled: f.enabled,
    rolloutBasisPoints: f.rolloutBasisPoints,
    rolloutPercentage: f.rolloutBasisPoints / 100,
    ...(withAllowlist ? { allowlist: f.allowlist } : {}),
    allowlistCount: f.allowlist.length,
    salt: f.salt,
    stickiness: f.stickiness,
    version: f.version,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
    updatedBy: f.updatedBy,
    archived: f.archivedAt !== null,
  };
}
