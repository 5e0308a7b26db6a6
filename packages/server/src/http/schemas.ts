import { FLAG_KEY_PATTERN, MAX_ALLOWLIST, percentageToBasisPoints } from '@rampart/core';
import { z } from 'zod';

/**
 * Text that will be stored. PostgreSQL text cannot hold NUL, so it is refused at the edge
 * with a 400 instead of failing in the database.
 */
export const Text = (max: number) => z.string().max(max).regex(/^[^\u0000]*$/, 'must not contain NUL characters');

/** Shared building blocks for request and response schemas. */
export const FlagKey = z
  .string()
  .regex(FLAG_KEY_PATTERN, 'flag keys match ^[a-z0-9][a-z0-9_.-]{0,127}$')
  .describe('Stable flag id, e.g. passenger_favorites_matching');

export const KeyParams = z.object({ key: FlagKey });

export const SubjectId = Text(256).min(1).describe('A subject id, e.g. a passenger id');

export const Percentage = z
  .number()
  .min(0)
  .max(100)
  .refine((v) => percentageToBasisPoints(v) !== undefined, 'use at most two decimals (0.01 % steps)')
  .describe('0..100 with at most two decimals');

export const BasisPoints = z.number().int().min(0).max(10_000).describe('percentage × 100');

export const Allowlist = z.array(SubjectId).max(MAX_ALLOWLIST);

export const Reason = Text(1000).describe('Why: recorded in the audit trail');

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .describe('Every error has this shape; codes are listed in docs/errors.md');

export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  429: ErrorResponse,
};
