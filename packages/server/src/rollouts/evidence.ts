import type { ChangeContext } from '../audit/store.js';
import type { Database } from '../db/database.js';
import type { CheckpointRow } from '../monitor/store.js';
import type { Plan } from './model.js';
import { WATCHDOG_ACTOR, type PlanService } from './service.js';
import { updatePlan } from './store.js';

const WATCHDOG: ChangeContext = { actor: WATCHDOG_ACTOR };
const MINUTE = 60_000;

/** Alert codes that roll back at once, whatever the metric. */
const CRITICAL = new Set(['DETERMINISM_FAIL', 'CRITICAL_COMPLAINT', 'SAMPLE_RATIO_MISMATCH']);

export interface EvidenceOutcome {
  action: 'none' | 'advance' | 'await_approval' | 'extend' | 'complete' | 'rollback';
  why?: string;
}

interface StageMetrics {
  exposed?: { requests?: number };
  control?: { requests?: number };
}

/**
 * What a checkpoint means for the flag's plan (design §7): roll back on its triggers, advance
 * an `auto` stage on GO once dwell and sample are met (and the checkpoint before also passed —
 * hysteresis), wait for an OPERATOR at an `approval` stage, and extend when the evidence is
 * not in yet, until the extensions run out.
 */
export function createPlanEvidence(db: Database, plans: PlanService, clock: () => number) {
  /** The checkpoint before this one (scheduled gaps aside): its status and alerts. */
  async function previousOf(cp: CheckpointRow): Promise<{ status: string; alerts: CheckpointRow['alerts'] } | undefined> {
    const rows = await db.query<{ status: string; alerts: CheckpointRow['alerts'] }>(
      `select status, alerts from checkpoints where flag_key = $1 and id <> $2 and status <> 'MISSED' and at <= $3 order by at desc limit 1`,
      [cp.flag, cp.id, cp.at.toISOString()],
    );
    return rows[0];
  }

  function rollbackTrigger(cp: CheckpointRow, prev: CheckpointRow['alerts'] | null, plan: Plan): string | undefined {
    const fails = cp.alerts.filter((a) => a.severity === 'FAIL');
    const critical = fails.find((a) => CRITICAL.has(a.code) || a.basis === 'critical_level');
    if (critical) return `${critical.code} at checkpoint ${cp.id}: ${critical.message}`;
    if (prev) {
      const key = (a: { code: string; metric?: string }) => `${a.code}/${a.metric ?? ''}`;
      const before = new Set(prev.filter((a) => a.severity === 'FAIL').map(key));
      const again = fails.find((a) => before.has(key(a)));
      if (again) return `${again.code}${again.metric ? ` (${again.metric})` : ''} FAILed on two consecutive checkpoints (latest ${cp.id}): ${again.message}`;
    }
    if (plan.dataErrors + 1 >= plan.maxDataErrors && cp.alerts.some((a) => a.code === 'METRIC_QUERY_ERROR')) {
      return `metric queries failed on ${plan.maxDataErrors} checkpoints in a row (latest ${cp.id})`;
    }
    return undefined;
  }

  /** The triggering checkpoint's report says what happened next, and why. */
  async function noteRollback(cp: CheckpointRow, plan: Plan, why: string): Promise<void> {
    const section = [
      '',
      '### Rollback',
      `❌ Plan \`${plan.id}\` rolled back by the watchdog under policy \`${plan.rollbackPolicy}\`` +
        (plan.lastRollbackMs === null ? '.' : `, ${plan.lastRollbackMs} ms after this checkpoint.`),
      `- **Trigger:** ${why}`,
      '',
    ].join('\n');
    await db.query(`update checkpoints set report = coalesce(report, '') || $2 where id = $1`, [cp.id, section]);
  }

  return {
    async onCheckpoint(cp: CheckpointRow): Promise<EvidenceOutcome> {
      const plan = await plans.live(cp.flag);
      if (!plan || plan.state !== 'active' || cp.status === 'MISSED') return { action: 'none' };
      const before = await previousOf(cp);
      const prev = before ? (before.status === 'PASS' ? [] : before.alerts) : null;
      const trigger = rollbackTrigger(cp, prev, plan);
      if (trigger) {
        const rolled = await plans.rollback({ ...WATCHDOG, reason: trigger }, cp.flag, trigger, cp.at);
        await noteRollback(cp, rolled, trigger);
        return { action: 'rollback', why: trigger };
      }
      const dataError = cp.alerts.some((a) => a.code === 'METRIC_QUERY_ERROR');
      if (dataError !== plan.dataErrors > 0 || dataError) {
        await updatePlan(db, plan.id, { dataErrors: dataError ? plan.dataErrors + 1 : 0 }, 'watchdog');
      }
      const stage = plan.stages[plan.currentStage]!;
      const now = clock();
      const deadline = plan.stageStartedAt.getTime() + stage.minDwellMinutes * MINUTE * (1 + plan.extensionsUsed);
      const dwellMet = now >= deadline;
      const m = (cp.metrics as { stage?: StageMetrics } | null)?.stage ?? {};
      const sampleMet = (m.exposed?.requests ?? 0) >= stage.minSample && (m.control?.requests ?? 0) >= stage.minSample;
      // At 0 % (allowlist only) and 100 % there is no exposed/control split to compare, so the
      // judge can only say INSUFFICIENT_DATA; there, passing means no FAIL, twice in a row.
      const comparable = stage.percentage > 0 && stage.percentage < 100;
      const prevStatus = before?.status;
      const passing = comparable ? cp.decision === 'GO' && prevStatus === 'PASS' : cp.status !== 'FAIL' && prevStatus !== undefined && prevStatus !== 'FAIL';
      if (passing && dwellMet && sampleMet) {
        if (stage.gate === 'approval' && plan.currentStage < plan.stages.length - 1) {
          if (!plan.awaitingApproval) await plans.pauseForApproval(plan);
          return { action: 'await_approval', why: `stage ${plan.currentStage + 1} passed; waiting for an OPERATOR to approve` };
        }
        const last = plan.currentStage === plan.stages.length - 1;
        await plans.advance({ ...WATCHDOG, reason: `GO at ${cp.id}` }, cp.flag, last ? 'complete' : 'advance on GO');
        return { action: last ? 'complete' : 'advance' };
      }
      if (comparable && cp.decision === 'EXTEND' && dwellMet) {
        if (plan.extensionsUsed >= plan.maxExtensions) {
          const why = `the evidence was still not in after ${plan.maxExtensions} extension(s) of stage ${plan.currentStage + 1} (latest ${cp.id})`;
          const rolled = await plans.rollback({ ...WATCHDOG, reason: why }, cp.flag, why, cp.at);
          await noteRollback(cp, rolled, why);
          return { action: 'rollback', why };
        }
        await updatePlan(db, plan.id, { extensionsUsed: plan.extensionsUsed + 1 }, 'watchdog');
        return { action: 'extend', why: `dwell extended (${plan.extensionsUsed + 1}/${plan.maxExtensions})` };
      }
      return { action: 'none' };
    },
  };
}

export type PlanEvidence = ReturnType<typeof createPlanEvidence>;
