import { notifyActivity } from '../events/change-bus.js';
import type { Queryable } from '../db/database.js';

export interface MonitorSettings {
  schedule: string;
  probeIds: string[] | null;
  syntheticProbes: number;
  recentHours: number;
  thresholds: Record<string, unknown> | null;
}

export const DEFAULT_SETTINGS: MonitorSettings = { schedule: '0 * * * *', probeIds: null, syntheticProbes: 1000, recentHours: 6, thresholds: null };

export async function getSettings(q: Queryable, flag: string): Promise<MonitorSettings> {
  const rows = await q.query<MonitorSettings>(
    `select schedule, probe_ids as "probeIds", synthetic_probes as "syntheticProbes", recent_hours as "recentHours", thresholds
     from monitor_settings where flag_key = $1`,
    [flag],
  );
  return rows[0] ?? DEFAULT_SETTINGS;
}

export async function putSettings(q: Queryable, flag: string, s: MonitorSettings, actor: string): Promise<void> {
  await q.query(
    `insert into monitor_settings (flag_key, schedule, probe_ids, synthetic_probes, recent_hours, thresholds, updated_by)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7)
     on conflict (flag_key) do update set schedule = excluded.schedule, probe_ids = excluded.probe_ids,
       synthetic_probes = excluded.synthetic_probes, recent_hours = excluded.recent_hours,
       thresholds = excluded.thresholds, updated_by = excluded.updated_by, updated_at = now()`,
    [flag, s.schedule, s.probeIds, s.syntheticProbes, s.recentHours, s.thresholds === null ? null : JSON.stringify(s.thresholds), actor],
  );
}

export interface Signals {
  complaints: number;
  criticalComplaint: boolean;
  notes: { severity: 'info' | 'warning' | 'critical'; text: string; at: string; actor: string }[];
}

export async function signalsSince(q: Queryable, flag: string, since: Date): Promise<Signals> {
  const rows = await q.query<{ complaints: number; critical: boolean; severity: 'info' | 'warning' | 'critical'; note: string | null; at: Date; actor: string }>(
    `select complaints, critical, severity, note, at, actor from operator_signals where flag_key = $1 and at >= $2 order by at`,
    [flag, since.toISOString()],
  );
  return {
    complaints: rows.reduce((n, r) => n + r.complaints, 0),
    criticalComplaint: rows.some((r) => r.critical),
    notes: rows.filter((r) => r.note).map((r) => ({ severity: r.severity, text: r.note!, at: r.at.toISOString(), actor: r.actor })),
  };
}

export interface CheckpointRow {
  id: string;
  flag: string;
  at: Date;
  scheduledFor: Date | null;
  trigger: 'schedule' | 'manual' | 'api' | 'missed';
  actor: string;
  phase: string | null;
  label: string | null;
  status: 'PASS' | 'WARN' | 'FAIL' | 'MISSED';
  health: 'GREEN' | 'YELLOW' | 'RED' | null;
  decision: 'GO' | 'EXTEND' | 'NO_GO' | null;
  config: unknown;
  expected: unknown;
  determinism: unknown;
  metrics: unknown;
  judgement: unknown;
  alerts: { code: string; severity: string; message: string; metric?: string; basis?: string }[];
  report: string | null;
  durationMs: number | null;
}

const COLUMNS = `id, flag_key as flag, at, scheduled_for as "scheduledFor", trigger, actor, phase, label, status, health,
  decision, config, expected, determinism, metrics, judgement, alerts, report, duration_ms as "durationMs"`;
const SUMMARY_COLUMNS = `id, flag_key as flag, at, scheduled_for as "scheduledFor", trigger, actor, phase, label, status, health,
  decision, alerts, duration_ms as "durationMs"`;

export async function insertCheckpoint(q: Queryable, c: Omit<CheckpointRow, 'at'>): Promise<CheckpointRow> {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  const rows = await q.query<CheckpointRow>(
    `insert into checkpoints (id, flag_key, scheduled_for, trigger, actor, phase, label, status, health, decision,
       config, expected, determinism, metrics, judgement, alerts, report, duration_ms)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb, $15::jsonb, $16::jsonb, $17, $18)
     returning ${COLUMNS}`,
    [
      c.id, c.flag, c.scheduledFor?.toISOString() ?? null, c.trigger, c.actor, c.phase, c.label, c.status, c.health, c.decision,
      json(c.config), json(c.expected), json(c.determinism), json(c.metrics), json(c.judgement), JSON.stringify(c.alerts), c.report, c.durationMs,
    ],
  );
  await notifyActivity(q, { key: c.flag, what: 'checkpoint' });
  return rows[0]!;
}

export async function listCheckpoints(q: Queryable, flag: string, limit: number, before?: Date): Promise<Omit<CheckpointRow, 'config' | 'expected' | 'determinism' | 'metrics' | 'judgement' | 'report'>[]> {
  return q.query(
    `select ${SUMMARY_COLUMNS} from checkpoints where flag_key = $1 ${before ? 'and at < $3' : ''} order by at desc, id desc limit $2`,
    before ? [flag, limit, before.toISOString()] : [flag, limit],
  );
}

export async function getCheckpoint(q: Queryable, id: string): Promise<CheckpointRow | undefined> {
  return (await q.query<CheckpointRow>(`select ${COLUMNS} from checkpoints where id = $1`, [id]))[0];
}

/** When the current stage began: the last audited change of enabled or the rollout. */
export async function stageStart(q: Queryable, flag: string): Promise<Date | undefined> {
  const rows = await q.query<{ at: Date }>(
    `select at from audit_events
     where (action = 'snapshot.restore' and after->'flags' ? $1)
        or (flag_key = $1 and after ? 'rolloutBasisPoints'
       and (before is null
            or (before->>'rolloutBasisPoints') is distinct from (after->>'rolloutBasisPoints')
            or (before->>'enabled') is distinct from (after->>'enabled')
            or (before->>'archived') is distinct from (after->>'archived')))
     order by id desc limit 1`,
    [flag],
  );
  return rows[0]?.at;
}

/**
 * The latest judged checkpoint of every live flag (MISSED slots have no health). One index
 * lookup per flag, not a scan of the history: /metrics reads this on every scrape.
 */
export async function latestHealth(q: Queryable): Promise<{ flag: string; health: 'GREEN' | 'YELLOW' | 'RED'; at: Date }[]> {
  return q.query(
    `select f.key as flag, c.health, c.at
     from flags f
     cross join lateral (
       select health, at from checkpoints
       where flag_key = f.key and status <> 'MISSED' and health is not null
       order by at desc limit 1
     ) c
     where f.archived_at is null
     order by f.key`,
  );
}
