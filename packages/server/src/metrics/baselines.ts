import { randomBytes } from 'node:crypto';
import type { Cohort } from '@rampart/core';
import type { ChangeContext } from '../audit/store.js';
import { appendAudit } from '../audit/store.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { getFlag } from '../flags/store.js';
import type { MetricsQueryService } from './query-service.js';
import type { CohortSummary } from './summary.js';

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

export type BaselineRequest =
  /** The `hours` before the flag's first non-zero rollout. */
  | { mode: 'pre_rollout'; hours: number }
  | { mode: 'window'; from: number; to: number }
  /** The same hour-of-week span (`hours` long, ending now) over each of the last `weeks` weeks. */
  | { mode: 'weekly'; weeks: number; hours: number };

export interface Baseline {
  id: string;
  flag: string;
  mode: BaselineRequest['mode'];
  from: string;
  to: string;
  weeks: number | null;
  capturedAt: string;
  capturedBy: string;
  ageSeconds: number;
  /** Per cohort, plus `all`: every cohort pooled, which is what "before the rollout" means. */
  summary: Record<Cohort | 'all', CohortSummary>;
}

interface BaselineRow {
  id: string;
  flag: string;
  mode: Baseline['mode'];
  from: Date;
  to: Date;
  weeks: number | null;
  capturedAt: Date;
  capturedBy: string;
  summary: Baseline['summary'];
}

const COLUMNS = `id, flag_key as flag, mode, window_from as "from", window_to as "to", weeks,
  captured_at as "capturedAt", captured_by as "capturedBy", summary`;

function toBaseline(r: BaselineRow, now: number): Baseline {
  return {
    ...r,
    from: r.from.toISOString(),
    to: r.to.toISOString(),
    capturedAt: r.capturedAt.toISOString(),
    ageSeconds: Math.max(0, Math.round((now - r.capturedAt.getTime()) / 1000)),
  };
}

/** When the flag first went above 0 %, from the audit trail. */
async function firstRolloutAt(db: Database, flag: string): Promise<number | undefined> {
  const rows = await db.query<{ at: Date }>(
    `select at from audit_events
     where flag_key = $1 and (after->>'rolloutBasisPoints')::int > 0
       and coalesce((before->>'rolloutBasisPoints')::int, 0) = 0
     order by id limit 1`,
    [flag],
  );
  return rows[0]?.at.getTime();
}

export function createBaselineService(db: Database, query: MetricsQueryService) {
  return {
    async capture(ctx: ChangeContext, flag: string, req: BaselineRequest, now = Date.now()): Promise<Baseline> {
      // Like every other flag-scoped write: a mistyped key is refused, not kept as a baseline of nothing.
      const live = await getFlag(db, flag);
      if (!live || live.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${flag}.`);
      let windows: { from: number; to: number }[];
      if (req.mode === 'window') windows = [{ from: req.from, to: req.to }];
      else if (req.mode === 'pre_rollout') {
        const start = await firstRolloutAt(db, flag);
        if (start === undefined) throw new AppError('NO_ROLLOUT_YET', `${flag} has never been rolled out above 0 %.`);
        // Rollups are per minute: the minute the rollout happened in mixes before and after,
        // so the baseline ends where that minute starts.
        const end = Math.floor(start / 60_000) * 60_000;
        windows = [{ from: end - req.hours * HOUR, to: end }];
      } else {
        windows = Array.from({ length: req.weeks }, (_, k) => ({ from: now - (k + 1) * WEEK - req.hours * HOUR, to: now - (k + 1) * WEEK }));
      }
      const summary = await query.pooledSummary(flag, windows, now);
      const from = Math.min(...windows.map((w) => w.from));
      const to = Math.max(...windows.map((w) => w.to));
      const id = 'bl_' + randomBytes(8).toString('base64url');
      const row = await db.transaction(async (tx) => {
        const rows = await tx.query<BaselineRow>(
          `insert into baselines (id, flag_key, mode, window_from, window_to, weeks, captured_by, summary)
           values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) returning ${COLUMNS}`,
          [id, flag, req.mode, new Date(from).toISOString(), new Date(to).toISOString(), req.mode === 'weekly' ? req.weeks : null, ctx.actor.name, JSON.stringify(summary)],
        );
        await appendAudit(tx, ctx, { action: 'baseline.capture', flagKey: flag, target: id, after: { id, mode: req.mode, from, to } });
        return rows[0]!;
      });
      return toBaseline(row, now);
    },

    async list(flag: string, now = Date.now()): Promise<Baseline[]> {
      const rows = await db.query<BaselineRow>(`select ${COLUMNS} from baselines where flag_key = $1 order by captured_at desc, id`, [flag]);
      return rows.map((r) => toBaseline(r, now));
    },

    async get(id: string, now = Date.now()): Promise<Baseline> {
      const row = (await db.query<BaselineRow>(`select ${COLUMNS} from baselines where id = $1`, [id]))[0];
      if (!row) throw new AppError('BASELINE_NOT_FOUND', `No baseline ${id}.`);
      return toBaseline(row, now);
    },
  };
}

export type BaselineService = ReturnType<typeof createBaselineService>;
