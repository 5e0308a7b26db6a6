import { createEvaluator, decisionOf, subjectIdOf, type EvaluationContext, type EvaluationResult } from '@rampart/core';
import type { FastifyBaseLogger } from 'fastify';
import { levelEnabled } from '../http/logging.js';
import type { Metrics } from '../ops/metrics.js';
import type { SubjectHasher } from '../ops/subject-hash.js';
import type { ConfigCache, ConfigSnapshot } from './config-cache.js';

export interface FlagEvaluation extends EvaluationResult {
  readonly flag: string;
  /** The flag version that decided, or null when the flag does not exist. */
  readonly version: number | null;
}

/**
 * Server-side evaluation: the same `packages/core` evaluator the SDK uses, over the cached
 * config, with this process's env as the master switch.
 */
export function createEvaluationService(deps: {
  cache: ConfigCache;
  env: Readonly<Record<string, string | undefined>>;
  metrics: Metrics;
  hashSubject: SubjectHasher;
  log: FastifyBaseLogger;
}) {
  const evaluator = createEvaluator({ env: deps.env });

  function one(snapshotFlag: Parameters<typeof evaluator.evaluate>[0], key: string, context: EvaluationContext): FlagEvaluation {
    let result = evaluator.evaluate(snapshotFlag, context);
    const decision = decisionOf(result);
    const id = snapshotFlag ? subjectIdOf(context, snapshotFlag.stickiness ?? 'id') : undefined;
    // The bucket tells an operator where the subject would land without the allowlist or switch.
    if (result.bucket === undefined && id !== undefined && snapshotFlag) {
      result = { ...result, bucket: evaluator.bucket(snapshotFlag, id) };
    }
    if (snapshotFlag) deps.metrics.countEvaluation(key, decision);
    if (levelEnabled(deps.log, 'debug')) {
      const subject = id === undefined ? '-' : deps.hashSubject(id);
      deps.log.debug({ feature_key: key, decision, subject, reason: result.reason }, `feature_key=${key} decision=${decision} subject=${subject}`);
    }
    return { flag: key, version: snapshotFlag?.version ?? null, ...result };
  }

  function many(snap: ConfigSnapshot, context: EvaluationContext, keys?: readonly string[]): Record<string, FlagEvaluation> {
    const out: Record<string, FlagEvaluation> = {};
    for (const key of keys ?? snap.flags.keys()) out[key] = one(snap.flags.get(key), key, context);
    return out;
  }

  return {
    /** Synchronous evaluation over a snapshot the caller already holds (the fast path). */
    evaluateIn: (snap: ConfigSnapshot, key: string, context: EvaluationContext) => one(snap.flags.get(key), key, context),
    evaluateManyIn: many,

    async evaluate(key: string, context: EvaluationContext): Promise<FlagEvaluation> {
      const snap = await deps.cache.get();
      return one(snap.flags.get(key), key, context);
    },

    /** Every live flag, or only the named ones (unknown names come back as FLAG_NOT_FOUND). */
    async evaluateMany(context: EvaluationContext, keys?: readonly string[]): Promise<Record<string, FlagEvaluation>> {
      return many(await deps.cache.get(), context, keys);
    },
  };
}

export type EvaluationService = ReturnType<typeof createEvaluationService>;
