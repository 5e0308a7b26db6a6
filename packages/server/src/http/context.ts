import type { FastifyRequest } from 'fastify';
import { percentageToBasisPoints } from '@rampart/core';
import type { ChangeContext } from '../audit/store.js';
import { AppError } from '../errors.js';

/** The actor, reason and request id that an audited change carries. */
export function changeContext(request: FastifyRequest, reason?: string): ChangeContext {
  const actor = request.identity;
  if (!actor) throw new AppError('TOKEN_MISSING');
  return { actor, reason, requestId: request.id };
}

/** One rollout in basis points from `rolloutPercentage` and/or `rolloutBasisPoints`. */
export function rolloutFrom(body: { rolloutPercentage?: number | undefined; rolloutBasisPoints?: number | undefined }): number | undefined {
  const fromPct = body.rolloutPercentage === undefined ? undefined : percentageToBasisPoints(body.rolloutPercentage);
  if (fromPct !== undefined && body.rolloutBasisPoints !== undefined && fromPct !== body.rolloutBasisPoints) {
    throw new AppError('VALIDATION_ERROR', 'rolloutPercentage and rolloutBasisPoints disagree.', [
      { path: 'body.rolloutPercentage', message: 'disagrees with rolloutBasisPoints' },
    ]);
  }
  return fromPct ?? body.rolloutBasisPoints;
}
