import { randomBytes } from 'node:crypto';
import { COHORTS, type Cohort } from '@rampart/core';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { getFlag } from '../flags/store.js';
import { livePlan } from '../rollouts/store.js';
import type { BaselineService } from '../metrics/baselines.js';
import type { MetricsQueryService } from '../metrics/query-service.js';
import type { CohortSummary } from '../metrics/summary.js';
import { expectedConfig, findDrift } from './config-check.js';
import { checkDeterminism, probeIds } from './determinism.js';
import { judge, type JudgeResult, type Thresholds, DEFAULT_THRESHOLDS } from './judge/index.js';
import { listDefinitions } from '../prometheus/store.js';
import { queryDefinition } from '../prometheus/service.js';
import type { TargetPolicy } from '../outbound/target-policy.js';
import { renderReport, type ExternalMetric } from './report.js';
import { getSettings, insertCheckpoint, signalsSince, stageStart, type CheckpointRow } from './store.js';

const HOUR = 3_600_000;

export interface RunRequest {
  flag: string;
  trigger: CheckpointRow['trigger'];
  actor: string;
  phase?: string | undefined;
  label?: string | undefined;
  /** The runbook's --expected-rollout, in basis points. */
  expectedRolloutBasisPoints?: number | undefined;
  scheduledFor?: Date | undefined;
}

export interface RunnerDeps {
  db: Database;
  app: FastifyInstance;
  internalAuth: Record<string, string>;
  env: Readonly<Record<string, string | undefined>>;
  metrics: MetricsQueryService;
  baselines: BaselineService;
  /** The time source (tests drive a simulated clock). */
  clock?: () => number;
  /** RAMPART_PROMETHEUS_URL, for metric definitions without a URL of their own. */
  prometheusUrl?: string | undefined;
  /** Where metric definitions' own Prometheus URLs may point (RAMPART_ALLOW_PRIVATE_TARGETS…). */
  targets?: TargetPolicy | undefined;
  /** Told about every recorded checkpoint (notifications, plans); must not throw. */
  onCheckpoint?: (cp: CheckpointRow) => Promise<void>;
}

/**
 * One checkpoint: collect → judge → record → act (design §6). Never twice at once for one
 * flag, whatever the number of replicas: the run holds a database-wide lock.
 */
export function createCheckpointRunner(deps: RunnerDeps) {
  const { db } = deps;

  async function run(req: RunRequest): Promise<CheckpointRow> {
    const started = Date.now();
    const live = await getFlag(db, req.flag);
    if (!live || live.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${req.flag}.`);
    const settings = await getSettings(db, req.flag);
    const now = new Date((deps.clock ?? Date.now)());
    const plan = await livePlan(db, req.flag);
    const stagePlan = plan ? plan.stages[plan.currentStage] : undefined;

    const expected = await expectedConfig(db, req.flag, req.expectedRolloutBasisPoints, plan && stagePlan ? { rolloutBasisPoints: Math.round(stagePlan.percentage * 100), enabled: plan.state === 'active' ? true : null } : undefined);
    const drift = findDrift(live, expected, deps.env);
    const flag = { key: live.key, enabled: live.enabled, rolloutBasisPoints: live.rolloutBasisPoints, allowlist: live.allowlist, salt: live.salt, stickiness: live.stickiness, version: live.version };
    const determinism = await checkDeterminism(deps.app, deps.internalAuth, flag, probeIds(flag, settings.probeIds, settings.syntheticProbes), deps.env);

    // Under a plan, the stage is the plan's; otherwise it began at the last audited rollout change.
    const since = plan?.stageStartedAt ?? (await stageStart(db, req.flag)) ?? live.createdAt;
    const recentFrom = now.getTime() - settings.recentHours * HOUR;
    const [stage, recent, baselines, signals] = await Promise.all([
      deps.metrics.summary(req.flag, { from: Math.min(since.getTime(), now.getTime() - 60_000), to: now.getTime() }, now.getTime()),
      deps.metrics.summary(req.flag, { from: recentFrom, to: now.getTime() }, now.getTime()),
      deps.baselines.list(req.flag, now.getTime()),
      signalsSince(db, req.flag, new Date(recentFrom)),
    ]);
    const baseline = baselines[0] ?? null;
    const external = await queryExternal(req.flag, settings.recentHours * 3600, now);
    const looks = (await db.query<{ n: number }>(`select count(*)::int as n from checkpoints where flag_key = $1 and at >= $2 and status <> 'MISSED'`, [req.flag, since.toISOString()]))[0]!.n + 1;

    const judgement: JudgeResult = judge({
      expectedExposedShare: live.rolloutBasisPoints / 10_000,
      stage: { exposed: stage.cohorts.exposed, control: stage.cohorts.control },
      recent: { exposed: recent.cohorts.exposed, control: recent.cohorts.control, hours: settings.recentHours },
      ...(baseline?.summary.all ? { baseline: baseline.summary.all } : {}),
      thresholds: mergeThresholds(mergeThresholds(DEFAULT_THRESHOLDS, settings.thresholds), (stagePlan?.thresholds as Record<string, unknown> | undefined) ?? null),
      gates: { determinismFailures: determinism.failures, drift },
      signals,
      metricErrors: external.filter((x) => x.error).map((x) => ({ metric: x.name, reason: x.error! })),
      looks,
    });

    const id = 'cp_' + randomBytes(9).toString('base64url');
    const config = { enabled: live.enabled, rolloutBasisPoints: live.rolloutBasisPoints, allowlistCount: live.allowlist.length, version: live.version };
    const report = renderReport({
      id,
      flag: req.flag,
      at: now,
      trigger: req.trigger,
      actor: req.actor,
      phase: req.phase ?? null,
      label: req.label ?? null,
      config,
      expected,
      drift,
      determinism,
      stage: { from: stage.from, cohorts: stage.cohorts },
      recent: { hours: settings.recentHours, cohorts: recent.cohorts },
      baseline,
      signals,
      judgement,
      external,
    });
    const row = await insertCheckpoint(db, {
      id,
      flag: req.flag,
      scheduledFor: req.scheduledFor ?? null,
      trigger: req.trigger,
      actor: req.actor,
      phase: req.phase ?? null,
      label: req.label ?? null,
      status: judgement.verdict,
      health: judgement.health,
      decision: judgement.decision,
      config: { ...config, allowlist: live.allowlist.length <= 50 ? live.allowlist : undefined },
      expected: { ...expected, allowlist: undefined, drift },
      determinism,
      metrics: { stage: slim(stage.cohorts, stage.from), recent: slim(recent.cohorts, recent.from), baselineId: baseline?.id ?? null, external },
      judgement: { metrics: judgement.metrics, srm: judgement.srm, looks },
      alerts: judgement.alerts,
      report,
      durationMs: Date.now() - started,
    });
    await deps.onCheckpoint?.(row).catch(() => {});
    return row;
  }

  /**
   * Metrics defined by PromQL templates, for exposed and control over the recent window. They
   * have no sample size, so they are reported, not tested; a query that fails or finds no
   * series is a METRIC_QUERY_ERROR, never a zero and never a FAIL.
   */
  async function queryExternal(flag: string, windowSeconds: number, at: Date): Promise<ExternalMetric[]> {
    const definitions = await listDefinitions(db);
    return Promise.all(
      definitions.map(async (d) => {
        const [e, c] = await Promise.all(
          (['exposed', 'control'] as const).map((cohort) => queryDefinition(d, { flag, cohort, windowSeconds, at }, { defaultPrometheusUrl: deps.prometheusUrl, targets: deps.targets })),
        );
        const value = (r: typeof e) => (r!.status === 'ok' ? r!.value : null);
        const failed = [e, c].find((r) => r!.status === 'missing') as { reason: string } | undefined;
        return { name: d.name, kind: d.kind, exposed: value(e), control: value(c), ...(failed ? { error: failed.reason } : {}) };
      }),
    );
  }

  return {
    /**
     * A scheduled run: skipped (undefined) when another replica holds the lock or already
     * recorded this slot.
     */
    async runScheduled(req: RunRequest & { scheduledFor: Date }): Promise<CheckpointRow | undefined> {
      const locked = await db.tryWithLock(`rampart:checkpoint:${req.flag}`, async () => {
        const taken = await db.query('select 1 from checkpoints where flag_key = $1 and scheduled_for = $2', [req.flag, req.scheduledFor.toISOString()]);
        return taken.length > 0 ? undefined : run(req);
      });
      return locked.busy ? undefined : locked.value;
    },
    /** Runs now; a second run for the same flag while one is going answers CHECKPOINT_RUNNING. */
    async run(req: RunRequest): Promise<CheckpointRow> {
      const locked = await db.tryWithLock(`rampart:checkpoint:${req.flag}`, () => run(req));
      if (locked.busy) throw new AppError('CHECKPOINT_RUNNING', `A checkpoint for ${req.flag} is running; try again when it ends.`);
      return locked.value;
    },
  };
}

/** Per-flag overrides merge into the defaults field by field, so `{latency: {severity}}` keeps the rest. */
export function mergeThresholds(base: Thresholds, overrides: Record<string, unknown> | null): Thresholds {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
      return out;
    }
    return b;
  };
  return merge(base, overrides ?? {}) as Thresholds;
}

/** What the checkpoint row keeps of the summaries: figures, not histograms. */
function slim(cohorts: Record<Cohort, CohortSummary>, from: string) {
  const out: Record<string, unknown> = { from };
  for (const c of COHORTS) {
    const { latencyMs, metrics, ...rest } = cohorts[c];
    const { histogram: _h, ...lat } = latencyMs;
    out[c] = {
      ...rest,
      latencyMs: lat,
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, { ...m, histogram: undefined }])),
    };
  }
  return out;
}

export type CheckpointRunner = ReturnType<typeof createCheckpointRunner>;
