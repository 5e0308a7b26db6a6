import { randomBytes } from 'node:crypto';
import { percentageToBasisPoints } from '@rampart/core';
import type { FastifyBaseLogger } from 'fastify';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Identity } from '../auth/roles.js';
import { ConfigError } from '../config.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { getFlag } from '../flags/store.js';
import type { FlagPatch, FlagService } from '../flags/service.js';
import { livePlan } from '../rollouts/store.js';
import {
  cancelScheduledChange,
  claimScheduledChange,
  dueScheduledChanges,
  getScheduledChange,
  insertScheduledChange,
  listScheduledChanges,
  recordScheduledResult,
  type ListScheduledQuery,
  type ScheduledChange,
  type ScheduledPatch,
} from './store.js';

/** How far ahead a change may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 3_600_000;
/** The default pause between two passes of the scheduler loop. */
export const DEFAULT_SCHEDULE_INTERVAL_MS = 5_000;
/** Changes applied per pass at most; the rest wait for the next pass. */
const BATCH = 100;
/** Every replica's loop takes this lock for a pass, so changes to one flag run in order. */
const LOCK = 'rampart:scheduled-changes';

export const PLAN_ACTIVE_REASON = 'a rollout plan is active';

/** Who applies scheduled changes in the audit trail. */
export const SCHEDULER_ACTOR: Identity = { tokenId: 'internal', name: 'scheduler', role: 'OPERATOR' };

export interface NewScheduledChange {
  at: Date;
  enabled?: boolean | undefined;
  rolloutPercentage?: number | undefined;
}

export interface ApplyOutcome {
  /** Another replica (or another pass here) held the lock; nothing was done. */
  busy: boolean;
  applied: string[];
  failed: string[];
}

/** The audit snapshot of a scheduled change. */
function auditView(c: ScheduledChange) {
  return { id: c.id, at: c.at.toISOString(), change: c.change, state: c.state, ...(c.result ? { result: c.result } : {}) };
}

export function createScheduledChangeService(deps: { db: Database; flags: FlagService; log: FastifyBaseLogger }) {
  const { db, flags, log } = deps;

  async function create(ctx: ChangeContext, key: string, input: NewScheduledChange, now = new Date()): Promise<ScheduledChange> {
    const change: ScheduledPatch = {
      ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
      ...(input.rolloutPercentage === undefined ? {} : { rolloutPercentage: input.rolloutPercentage }),
    };
    if (Object.keys(change).length === 0) {
      throw new AppError('VALIDATION_ERROR', 'Send enabled and/or rolloutPercentage.', [{ path: 'body', message: 'send enabled and/or rolloutPercentage' }]);
    }
    const latest = new Date(now.getTime() + MAX_SCHEDULE_AHEAD_MS);
    if (!(input.at.getTime() > now.getTime()) || input.at.getTime() > latest.getTime()) {
      throw new AppError('INVALID_SCHEDULE_TIME', undefined, { at: input.at.toISOString(), now: now.toISOString(), latest: latest.toISOString() });
    }
    return db.transaction(async (tx) => {
      // Locks the flag row: a concurrent archive waits for this, or this sees the archive.
      const flag = await getFlag(tx, key, true);
      if (!flag || flag.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${key}.`);
      const row = await insertScheduledChange(tx, {
        id: 'sc_' + randomBytes(9).toString('base64url'),
        flagKey: key,
        at: input.at,
        change,
        reason: ctx.reason ?? null,
        createdBy: ctx.actor.name,
      });
      await appendAudit(tx, ctx, { action: 'schedule.create', flagKey: key, target: row.id, before: null, after: auditView(row) });
      return row;
    });
  }

  async function cancel(ctx: ChangeContext, id: string): Promise<ScheduledChange> {
    return db.transaction(async (tx) => {
      const row = await cancelScheduledChange(tx, id, ctx.actor.name);
      if (!row) {
        const existing = await getScheduledChange(tx, id);
        if (!existing) throw new AppError('SCHEDULED_CHANGE_NOT_FOUND', `No scheduled change ${id}.`);
        throw new AppError('SCHEDULED_CHANGE_NOT_PENDING', `Scheduled change ${id} is ${existing.state}, not pending.`, { state: existing.state });
      }
      await appendAudit(tx, ctx, {
        action: 'schedule.cancel',
        flagKey: row.flagKey,
        target: row.id,
        before: auditView({ ...row, state: 'pending' }),
        after: auditView(row),
      });
      return row;
    });
  }

  function schedulerContext(row: ScheduledChange, suffix?: string): ChangeContext {
    const base = `scheduled change ${row.id}`;
    const reason = suffix ? `${base} failed: ${suffix}` : row.reason ? `${base}: ${row.reason}` : base;
    return { actor: SCHEDULER_ACTOR, reason };
  }

  async function fail(row: ScheduledChange, result: { error: string } & Record<string, unknown>): Promise<void> {
    await db.transaction(async (tx) => {
      const failed = await recordScheduledResult(tx, row.id, 'failed', result);
      if (!failed) return;
      await appendAudit(tx, schedulerContext(row, result.error), {
        action: 'schedule.fail',
        flagKey: row.flagKey,
        target: row.id,
        before: auditView({ ...row, state: 'pending' }),
        after: auditView(failed),
      });
    });
  }

  /** Claims one change and applies it; 'skipped' when someone else claimed or cancelled it first. */
  async function applyOne(id: string): Promise<'applied' | 'failed' | 'skipped'> {
    const claimed = await db.transaction(async (tx) => {
      const row = await claimScheduledChange(tx, id);
      if (!row) return undefined;
      // A percentage change must not fight a rollout plan that steers the same flag.
      const planId = row.change.rolloutPercentage === undefined ? undefined : (await livePlan(tx, row.flagKey))?.id;
      if (planId) {
        const result = { error: PLAN_ACTIVE_REASON, planId };
        const failed = (await recordScheduledResult(tx, id, 'failed', result))!;
        await appendAudit(tx, schedulerContext(row, PLAN_ACTIVE_REASON), {
          action: 'schedule.fail',
          flagKey: row.flagKey,
          target: row.id,
          before: auditView({ ...row, state: 'pending' }),
          after: auditView(failed),
        });
        return { row, done: true };
      }
      return { row, done: false };
    });
    if (!claimed) return 'skipped';
    const { row } = claimed;
    if (claimed.done) {
      log.warn({ scheduledChange: id, flag: row.flagKey }, `scheduled change failed: ${PLAN_ACTIVE_REASON}`);
      return 'failed';
    }
    const patch: FlagPatch = {
      ...(row.change.enabled === undefined ? {} : { enabled: row.change.enabled }),
      ...(row.change.rolloutPercentage === undefined ? {} : { rolloutBasisPoints: percentageToBasisPoints(row.change.rolloutPercentage) }),
    };
    try {
      const r = await flags.update(schedulerContext(row), row.flagKey, patch, undefined);
      await db.transaction(async (tx) => {
        const applied = await recordScheduledResult(tx, id, 'applied', { version: r.flag.version, changed: r.changed });
        // A change that found the flag already as asked writes no flag.update: say so here.
        if (applied && !r.changed) {
          await appendAudit(tx, schedulerContext(row), {
            action: 'schedule.apply',
            flagKey: row.flagKey,
            target: row.id,
            before: auditView({ ...row, state: 'pending' }),
            after: auditView(applied),
          });
        }
      });
      log.info({ scheduledChange: id, flag: row.flagKey, version: r.flag.version, changed: r.changed }, 'scheduled change applied');
      return 'applied';
    } catch (err) {
      const result =
        err instanceof AppError ? { error: err.message, code: err.code } : { error: (err as Error)?.message ?? String(err) };
      log.warn({ err, scheduledChange: id, flag: row.flagKey }, 'scheduled change failed');
      await fail(row, result);
      return 'failed';
    }
  }

  async function pass(now: Date): Promise<Omit<ApplyOutcome, 'busy'>> {
    const applied: string[] = [];
    const failed: string[] = [];
    for (const id of await dueScheduledChanges(db, now, BATCH)) {
      const outcome = await applyOne(id);
      if (outcome === 'applied') applied.push(id);
      else if (outcome === 'failed') failed.push(id);
    }
    return { applied, failed };
  }

  /**
   * Applies every pending change due at `now`, oldest first. Replicas take turns through a
   * database-wide lock, and each change is claimed with a conditional update, so none is
   * applied twice. `lock: false` is for tests that prove the claim alone suffices.
   */
  async function applyDue(now = new Date(), opts: { lock?: boolean } = {}): Promise<ApplyOutcome> {
    if (opts.lock === false) return { busy: false, ...(await pass(now)) };
    const r = await db.tryWithLock(LOCK, () => pass(now));
    return r.busy ? { busy: true, applied: [], failed: [] } : { busy: false, ...r.value };
  }

  let timer: NodeJS.Timeout | undefined;
  let first: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const loop = () => {
    if (running) return;
    running = applyDue()
      .catch((err: unknown) => log.warn({ err }, 'scheduled changes pass failed; the next pass retries'))
      .finally(() => (running = undefined));
  };

  return {
    create,
    cancel,
    get: (id: string) => getScheduledChange(db, id),
    list: (query: ListScheduledQuery) => listScheduledChanges(db, query),
    applyDue,
    /** Runs `applyDue` every `intervalMs` (unref'd: it never keeps the process alive). */
    start(intervalMs = DEFAULT_SCHEDULE_INTERVAL_MS) {
      if (timer) return;
      timer = setInterval(loop, intervalMs);
      timer.unref();
      first = setTimeout(loop, Math.min(intervalMs, 1_000));
      first.unref();
    },
    /** Stops the loop and waits for a pass in progress. */
    async stop() {
      if (timer) clearInterval(timer);
      if (first) clearTimeout(first);
      timer = first = undefined;
      await running;
    },
  };
}

export type ScheduledChangeService = ReturnType<typeof createScheduledChangeService>;

/** `RAMPART_SCHEDULE_INTERVAL_MS` from the environment: milliseconds, 0 turns the loop off. */
export function scheduleIntervalFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.RAMPART_SCHEDULE_INTERVAL_MS;
  if (raw === undefined || raw === '') return DEFAULT_SCHEDULE_INTERVAL_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000) {
    throw new ConfigError(`RAMPART_SCHEDULE_INTERVAL_MS: use whole milliseconds from 0 (off) to 3600000, not "${raw}"`);
  }
  return ms;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Scheduled flag changes; the loop is started by `startServer`, not by tests. */
    schedules: ScheduledChangeService;
  }
}
