import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';
import type { CheckpointRunner } from './runner.js';
import { DEFAULT_SETTINGS, insertCheckpoint } from './store.js';

const MAX_MISSED = 168;

/**
 * Scheduled checkpoints, per flag by cron (hourly by default), for every enabled flag unless
 * its schedule is 'off'. Every replica runs this loop; the runner's database-wide lock and the
 * one-checkpoint-per-slot rule make each slot run once. Slots that passed while no replica was
 * running are recorded as MISSED, so the timeline shows the gap instead of hiding it.
 */
export function createScheduler(deps: { db: Database; runner: CheckpointRunner; log: FastifyBaseLogger; clock?: () => number }) {
  const { db } = deps;
  /** The watchdog's clock (buildApp's `clock`): slots come due on it, not on the wall clock. */
  const clock = deps.clock ?? Date.now;

  async function dueFlags(): Promise<{ key: string; schedule: string }[]> {
    return db.query(
      // A running plan's cadence wins: the plan decides how often its evidence is gathered.
      `select f.key, coalesce(p.cadence, s.schedule, $1) as schedule
       from flags f
       left join monitor_settings s on s.flag_key = f.key
       left join rollout_plans p on p.flag_key = f.key and p.state in ('active', 'paused', 'rolling_back')
       where f.archived_at is null and f.enabled and coalesce(p.cadence, s.schedule, $1) <> 'off'`,
      [DEFAULT_SETTINGS.schedule],
    );
  }

  /** One pass: for each flag, record missed slots and run the latest due one. */
  async function tick(now = new Date(clock())): Promise<{ ran: string[]; missed: number }> {
    const ran: string[] = [];
    let missed = 0;
    for (const { key, schedule } of await dueFlags()) {
      const cron = new Cron(schedule, { timezone: 'UTC', paused: true });
      const latest = cron.previousRuns(1, now)[0];
      if (!latest) continue;
      const last = (await db.query<{ slot: Date | null }>('select max(scheduled_for) as slot from checkpoints where flag_key = $1', [key]))[0]?.slot;
      if (last && last.getTime() >= latest.getTime()) continue;
      if (last) missed += await recordMissed(key, cron, last, latest);
      try {
        const cp = await deps.runner.runScheduled({ flag: key, trigger: 'schedule', actor: 'watchdog', scheduledFor: latest });
        if (cp) ran.push(cp.id);
      } catch (err) {
        deps.log.warn({ err, flag: key }, 'scheduled checkpoint could not run; the next tick retries');
      }
    }
    return { ran, missed };
  }

  async function recordMissed(key: string, cron: Cron, last: Date, latest: Date): Promise<number> {
    const slots = cron.nextRuns(MAX_MISSED, last).filter((d) => d.getTime() < latest.getTime());
    for (const slot of slots) {
      await insertCheckpoint(db, {
        id: 'cp_' + randomBytes(9).toString('base64url'),
        flag: key,
        scheduledFor: slot,
        trigger: 'missed',
        actor: 'watchdog',
        phase: null,
        label: null,
        status: 'MISSED',
        health: null,
        decision: null,
        config: null,
        expected: null,
        determinism: null,
        metrics: null,
        judgement: null,
        alerts: [],
        report: `## Checkpoint missed (${slot.toISOString()})\n\nNo Rampart replica was running when this scheduled checkpoint was due.\n`,
        durationMs: null,
      }).catch(() => {
        // Another replica recorded the same slot first: the unique slot index says so.
      });
    }
    return slots.length;
  }

  let timer: NodeJS.Timeout | undefined;
  return {
    tick,
    start(intervalMs = 30_000) {
      const loop = () => {
        tick().catch((err: unknown) => deps.log.warn({ err }, 'watchdog scheduler tick failed'));
      };
      timer = setInterval(loop, intervalMs);
      timer.unref();
      setTimeout(loop, 1_000).unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
