import { percentageToBasisPoints } from '@rampart/core';
import { AppError } from '../errors.js';

export interface Stage {
  /** 0 means the allowlist only. */
  percentage: number;
  minDwellMinutes: number;
  /** Requests per cohort (exposed and control) the stage must have seen before it can pass. */
  minSample: number;
  gate: 'auto' | 'approval';
  /** Overrides of the watchdog's thresholds while this stage runs. */
  thresholds?: Record<string, unknown> | undefined;
}

export type RollbackPolicy = 'disable' | 'zero' | 'previous' | 'halve';
export const ROLLBACK_POLICIES: readonly RollbackPolicy[] = ['disable', 'zero', 'previous', 'halve'];
export type PlanState = 'active' | 'paused' | 'rolling_back' | 'rolled_back' | 'completed' | 'aborted';
/** States in which a plan drives its flag (the unique "one live plan per flag" index in SQL). */
export const LIVE_STATES: readonly PlanState[] = ['active', 'paused', 'rolling_back'];

export interface Plan {
  id: string;
  flag: string;
  template: string | null;
  stages: Stage[];
  cadence: string;
  rollbackPolicy: RollbackPolicy;
  maxExtensions: number;
  maxDataErrors: number;
  state: PlanState;
  currentStage: number;
  stageStartedAt: Date;
  awaitingApproval: boolean;
  extensionsUsed: number;
  dataErrors: number;
  lastPassedStage: number | null;
  rollbackReason: string | null;
  lastRollbackMs: number | null;
  version: number;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  updatedBy: string;
  endedAt: Date | null;
}

const H = 60;
/** The two plans the seeds run by hand. */
export const BUILTIN_TEMPLATES: { name: string; description: string; stages: Stage[]; cadence: string; rollbackPolicy: RollbackPolicy }[] = [
  {
    name: 'runbook-5-phase',
    description: 'passenger_favorites_matching runbook: allowlist only → 1 → 5 → 10 → 25 → 50 → 100 %, 48 h each; go/no-go approval to leave the beta and to reach 100 %.',
    stages: [
      { percentage: 0, minDwellMinutes: 48 * H, minSample: 0, gate: 'approval' },
      { percentage: 1, minDwellMinutes: 48 * H, minSample: 1000, gate: 'auto' },
      { percentage: 5, minDwellMinutes: 48 * H, minSample: 1000, gate: 'auto' },
      { percentage: 10, minDwellMinutes: 48 * H, minSample: 1000, gate: 'auto' },
      { percentage: 25, minDwellMinutes: 48 * H, minSample: 1000, gate: 'auto' },
      { percentage: 50, minDwellMinutes: 48 * H, minSample: 1000, gate: 'approval' },
      { percentage: 100, minDwellMinutes: 0, minSample: 0, gate: 'auto' },
    ],
    cadence: '0 * * * *',
    rollbackPolicy: 'zero',
  },
  {
    name: 'chat-canary',
    description: 'Chat canary checklist: 10 % (24 h) → 25 % (48 h) → 50 % (72 h) → 100 % with business approval; roll back to the previous stable percentage.',
    stages: [
      { percentage: 10, minDwellMinutes: 24 * H, minSample: 1000, gate: 'auto' },
      { percentage: 25, minDwellMinutes: 48 * H, minSample: 1000, gate: 'auto' },
      { percentage: 50, minDwellMinutes: 72 * H, minSample: 1000, gate: 'approval' },
      { percentage: 100, minDwellMinutes: 0, minSample: 0, gate: 'auto' },
    ],
    cadence: '*/30 * * * *',
    rollbackPolicy: 'previous',
  },
];

/** Checks a plan's stages; each problem has its own code (issue: bad input is named). */
export function checkStages(stages: unknown[] | undefined): Stage[] {
  if (!stages || stages.length === 0) throw new AppError('PLAN_NO_STAGES');
  const out = stages as Stage[];
  out.forEach((s, i) => {
    if (percentageToBasisPoints(s.percentage) === undefined) {
      throw new AppError('VALIDATION_ERROR', `stages[${i}].percentage must be 0..100 with at most two decimals.`, [{ path: `body.stages.${i}.percentage`, message: 'out of range' }]);
    }
    if (!(s.minDwellMinutes >= 0)) throw new AppError('INVALID_DWELL', `stages[${i}].minDwellMinutes must be ≥ 0.`, { stage: i });
    if (i > 0 && s.percentage <= out[i - 1]!.percentage) {
      throw new AppError('PLAN_STAGES_OUT_OF_ORDER', `stages[${i}] (${s.percentage} %) must be above stages[${i - 1}] (${out[i - 1]!.percentage} %).`, { stage: i });
    }
  });
  return out;
}

export function checkPolicy(policy: string): RollbackPolicy {
  if (!(ROLLBACK_POLICIES as readonly string[]).includes(policy)) {
    throw new AppError('UNKNOWN_ROLLBACK_POLICY', `Unknown rollback policy "${policy.slice(0, 32)}": use ${ROLLBACK_POLICIES.join(', ')}.`);
  }
  return policy as RollbackPolicy;
}

/** Where a rollback takes the flag, by policy (design §7, the runbook's rollback levels). */
export function rollbackTarget(plan: Plan, currentBasisPoints: number): { enabled?: boolean; rolloutBasisPoints?: number } {
  switch (plan.rollbackPolicy) {
    case 'disable':
      return { enabled: false };
    case 'zero':
      return { rolloutBasisPoints: 0 };
    case 'previous':
      return { rolloutBasisPoints: plan.lastPassedStage === null ? 0 : Math.round(plan.stages[plan.lastPassedStage]!.percentage * 100) };
    case 'halve':
      return { rolloutBasisPoints: Math.floor(currentBasisPoints / 2) };
  }
}
