import { notifyActivity } from '../events/change-bus.js';
import { Cron } from 'croner';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { appendAudit } from '../audit/store.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { getFlag } from '../flags/store.js';
import { changeContext, rolloutFrom } from '../http/context.js';
import { KeyParams, Percentage, Reason, SubjectId, Text } from '../http/schemas.js';
import type { CheckpointRunner } from './runner.js';
import { getCheckpoint, getSettings, listCheckpoints, putSettings, type CheckpointRow } from './store.js';

const tags = ['watchdog'];

const RunBody = z
  .object({
    phase: Text(64).optional().describe('e.g. phase1_beta'),
    label: Text(128).optional().describe('e.g. rollout-1pct-validation'),
    expectedRollout: Percentage.optional().describe('the runbook’s --expected-rollout, in percent'),
    trigger: z.enum(['manual', 'api']).optional().describe('manual for a person (UI, CLI), api (default) for scripts'),
  })
  .strict()
  .nullish();

const Schedule = z
  .string()
  .max(100)
  .refine((s) => s === 'off' || isCron(s), 'a cron expression (5 or 6 fields, UTC) or "off"');

function isCron(s: string): boolean {
  try {
    new Cron(s, { timezone: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

const SettingsBody = z
  .object({
    schedule: Schedule.optional(),
    probeIds: z.array(SubjectId).max(10_000).nullable().optional(),
    syntheticProbes: z.number().int().min(0).max(100_000).optional(),
    recentHours: z.number().int().min(1).max(168).optional(),
    thresholds: z.record(z.string(), z.unknown()).nullable().optional().describe('overrides of the judge’s thresholds'),
    reason: Reason.optional(),
  })
  .strict();

const SignalBody = z
  .object({
    complaints: z.number().int().min(0).max(1_000_000).optional(),
    critical: z.boolean().optional().describe('a critical complaint: the next checkpoint FAILs'),
    note: Text(2000).optional(),
    severity: z.enum(['info', 'warning', 'critical']).optional(),
  })
  .strict()
  .refine((b) => b.complaints !== undefined || b.note !== undefined || b.critical !== undefined, 'send complaints, critical or a note');

const summaryJson = (c: Pick<CheckpointRow, 'id' | 'flag' | 'at' | 'trigger' | 'actor' | 'phase' | 'label' | 'status' | 'health' | 'decision' | 'alerts' | 'durationMs' | 'scheduledFor'>) => ({
  id: c.id,
  flag: c.flag,
  at: c.at.toISOString(),
  scheduledFor: c.scheduledFor?.toISOString() ?? null,
  trigger: c.trigger,
  actor: c.actor,
  phase: c.phase,
  label: c.label,
  status: c.status,
  health: c.health,
  decision: c.decision,
  alerts: c.alerts,
  durationMs: c.durationMs,
});

export function monitorRoutes(db: Database, runner: CheckpointRunner): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/api/admin/beta-monitor/:key/run', {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Run a checkpoint now (the runbook’s "Executar agora")',
        description: 'Exit-code mapping for scripts: PASS 0, WARN 1, FAIL 2. Works as the runbook’s curl: `{"phase":"phase1_beta"}`.',
        params: KeyParams,
        body: RunBody,
      },
      handler: async (req) => {
        const b = req.body ?? {};
        const cp = await runner.run({
          flag: req.params.key,
          trigger: b.trigger ?? 'api',
          actor: req.identity!.name,
          phase: b.phase,
          label: b.label,
          expectedRolloutBasisPoints: rolloutFrom({ rolloutPercentage: b.expectedRollout }),
        });
        return { ...summaryJson(cp), report: cp.report, judgement: cp.judgement, expected: cp.expected, config: cp.config };
      },
    });

    app.get('/api/admin/beta-monitor/:key/checkpoints', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'A flag’s checkpoints, newest first',
        params: KeyParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.iso.datetime({ offset: true }).optional() }).strict(),
      },
      handler: async (req) => ({
        checkpoints: (await listCheckpoints(db, req.params.key, req.query.limit, req.query.before ? new Date(req.query.before) : undefined)).map(summaryJson),
      }),
    });

    app.get('/api/admin/beta-monitor/checkpoints/:id', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'One checkpoint; `Accept: text/markdown` gives its report',
        params: z.object({ id: Text(64).min(1) }),
      },
      handler: async (req, reply) => {
        const cp = await getCheckpoint(db, req.params.id);
        if (!cp) throw new AppError('CHECKPOINT_NOT_FOUND', `No checkpoint ${req.params.id}.`);
        if ((req.headers.accept ?? '').includes('text/markdown')) {
          return reply.type('text/markdown; charset=utf-8').send(cp.report ?? `## Checkpoint ${cp.id}: ${cp.status}\n`);
        }
        return { ...summaryJson(cp), config: cp.config, expected: cp.expected, determinism: cp.determinism, metrics: cp.metrics, judgement: cp.judgement, report: cp.report };
      },
    });

    app.get('/api/admin/beta-monitor/:key/settings', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'The watchdog’s settings for a flag (schedule, probes, windows, thresholds)', params: KeyParams },
      handler: async (req) => getSettings(db, req.params.key),
    });

    app.put('/api/admin/beta-monitor/:key/settings', {
      config: { access: 'operator' },
      schema: { tags, summary: 'Change the watchdog’s settings for a flag (audited)', params: KeyParams, body: SettingsBody },
      handler: async (req) => {
        const flag = await getFlag(db, req.params.key);
        if (!flag || flag.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${req.params.key}.`);
        const { reason, ...patch } = req.body;
        const ctx = changeContext(req, reason);
        return db.transaction(async (tx) => {
          const before = await getSettings(tx, req.params.key);
          const after = { ...before, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as typeof before;
          await putSettings(tx, req.params.key, after, ctx.actor.name);
          await appendAudit(tx, ctx, { action: 'monitor.settings', flagKey: req.params.key, target: 'monitor', before, after });
          return after;
        });
      },
    });

    app.post('/api/admin/beta-monitor/:key/signals', {
      config: { access: 'operator' },
      schema: { tags, summary: 'Enter operator signals: complaints, a critical complaint, a note with a severity', params: KeyParams, body: SignalBody },
      handler: async (req, reply) => {
        const flag = await getFlag(db, req.params.key);
        if (!flag || flag.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${req.params.key}.`);
        const b = req.body;
        const rows = await db.query<{ id: number; at: Date }>(
          `insert into operator_signals (flag_key, actor, complaints, critical, severity, note) values ($1, $2, $3, $4, $5, $6) returning id::float8 as id, at`,
          [req.params.key, req.identity!.name, b.complaints ?? 0, b.critical ?? false, b.severity ?? (b.critical ? 'critical' : 'info'), b.note ?? null],
        );
        await notifyActivity(db, { key: req.params.key, what: 'signal' });
        reply.code(201);
        return { id: rows[0]!.id, at: rows[0]!.at.toISOString(), ...b };
      },
    });

    app.get('/api/admin/beta-monitor/:key/signals', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Operator signals entered for the flag, newest first',
        params: KeyParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
      },
      handler: async (req) => {
        const rows = await db.query<{ id: number; at: Date; actor: string; complaints: number; critical: boolean; severity: string; note: string | null }>(
          `select id::float8 as id, at, actor, complaints, critical, severity, note from operator_signals
            where flag_key = $1 order by at desc, id desc limit $2`,
          [req.params.key, req.query.limit],
        );
        return { signals: rows.map((r) => ({ ...r, at: r.at.toISOString() })) };
      },
    });
  };
}
