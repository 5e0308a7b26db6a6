import { randomBytes } from 'node:crypto';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors.js';
import type { ChangeBus } from '../events/change-bus.js';
import { insertFlag, listFlags, stateOf, writeFlag, type FlagRecord } from '../flags/store.js';
import { captureContent, livePlans, snapshotFlag, type SnapshotFlag, type SnapshotPlan } from './content.js';
import { buildDiff, flagDiffers, planFieldChanges, restorablePlanColumns, type SnapshotDiff } from './diff.js';
import { getSnapshot, insertSnapshot, listSnapshots, type SnapshotMeta, type SnapshotRecord } from './store.js';

export interface RestoreResult {
  snapshotId: string;
  /** How many flags and plans the restore wrote; 0 when the live state already was the snapshot. */
  changed: number;
  flags: { key: string; action: 'restored' | 'archived' | 'revived' | 'created'; version: number }[];
  plans: { id: string; flagKey: string; action: 'aborted' | 'restored' | 'recreated' }[];
}

/** What the audit trail keeps of a flag: the same shape as the flag service's before/after. */
function auditState(f: FlagRecord) {
  return { ...stateOf(f), version: f.version, archived: f.archivedAt !== null };
}

function planSummary(p: SnapshotPlan) {
  return { flagKey: p.flag_key, state: p.state, currentStage: p.current_stage ?? null };
}

const quote = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

async function planColumns(tx: Queryable): Promise<string[]> {
  const rows = await tx.query<{ name: string }>(
    `select column_name as name from information_schema.columns
     where table_schema = current_schema() and table_name = 'rollout_plans' order by ordinal_position`,
  );
  return rows.map((r) => r.name);
}

export function createSnapshotService(db: Database, bus: ChangeBus, serverVersion: string) {
  async function load(id: string): Promise<SnapshotRecord> {
    const snap = await getSnapshot(db, id);
    if (!snap) throw new AppError('SNAPSHOT_NOT_FOUND', `No snapshot ${id}.`);
    return snap;
  }

  return {
    async create(ctx: ChangeContext, label: string | undefined): Promise<SnapshotRecord> {
      return db.transaction(async (tx) => {
        // One consistent view of flags, plans and checkpoints, even while others write.
        await tx.query('set transaction isolation level repeatable read');
        const content = await captureContent(tx, serverVersion);
        const id = 'sn_' + randomBytes(9).toString('base64url');
        const snap = await insertSnapshot(tx, {
          id,
          label: label ?? null,
          reason: ctx.reason ?? null,
          createdBy: ctx.actor.name,
          serverVersion,
          content,
        });
        await appendAudit(tx, ctx, {
          action: 'snapshot.create',
          target: id,
          after: {
            label: snap.label,
            serverVersion,
            flags: content.flags.length,
            plans: content.plans.length,
            checkpoints: Object.values(content.checkpoints).reduce((n, c) => n + c.length, 0),
          },
        });
        return snap;
      });
    },

    list: (limit: number, before?: Date): Promise<SnapshotMeta[]> => listSnapshots(db, limit, before),

    get: load,

    async diff(id: string): Promise<SnapshotDiff> {
      const snap = await load(id);
      return db.transaction(async (tx) => {
        await tx.query('set transaction isolation level repeatable read');
        const live = await listFlags(tx, { includeArchived: true });
        const plans = await livePlans(tx, snap.content.plans.map((p) => p.id));
        return buildDiff(snap, snap.content, live, plans);
      });
    },

    /**
     * Brings flags, allowlists and plans back to the snapshot in one transaction, audited as one
     * `snapshot.restore` event. Refused while any plan is rolling back: the watchdog is moving
     * that flag right now, and a restore would fight it.
     */
    async restore(ctx: ChangeContext, id: string): Promise<RestoreResult> {
      const snap = await load(id);
      const { content } = snap;
      const announced: { key: string; version: number }[] = [];
      const result = await db.transaction(async (tx) => {
        // Plans first, then flags: the order a plan transition takes its locks in.
        const current = await livePlans(tx, content.plans.map((p) => p.id), true);
        const rollingBack = current.filter((p) => p.state === 'rolling_back');
        if (rollingBack.length > 0) {
          const names = rollingBack.map((p) => `${p.id} (${p.flag_key})`).join(', ');
          throw new AppError('RESTORE_REFUSED', `A rollout plan is rolling back: ${names}. Restore once the rollback has finished.`, {
            reason: 'PLAN_ROLLING_BACK',
            plans: rollingBack.map((p) => ({ id: p.id, flagKey: p.flag_key, state: p.state, rollbackReason: p.rollback_reason ?? null })),
          });
        }
        // Concurrent flag writes wait for the restore; evaluations (plain reads) do not.
        await tx.query('lock table flags in exclusive mode');
        await tx.query('select key from flags order by key for update');
        const live = new Map((await listFlags(tx, { includeArchived: true })).map((f) => [f.key, f]));
        const target = new Map<string, SnapshotFlag>(content.flags.map((f) => [f.key, f]));

        const flags: RestoreResult['flags'] = [];
        const before: Record<string, unknown> = {};
        const after: Record<string, unknown> = {};
        const actor = ctx.actor.name;
        const note = (was: FlagRecord | undefined, now: FlagRecord, action: RestoreResult['flags'][number]['action']) => {
          flags.push({ key: now.key, action, version: now.version });
          before[now.key] = was ? auditState(was) : null;
          after[now.key] = auditState(now);
          announced.push({ key: now.key, version: now.version });
        };

        for (const key of [...new Set([...target.keys(), ...live.keys()])].sort()) {
          const want = target.get(key);
          const have = live.get(key);
          if (!want) {
            // Not in the snapshot: it did not exist then, so it is archived now.
            if (have && !have.archivedAt) note(have, await writeFlag(tx, key, stateOf(have), actor, { archive: true }), 'archived');
            continue;
          }
          const state = {
            description: want.description,
            enabled: want.enabled,
            rolloutBasisPoints: want.rolloutBasisPoints,
            allowlist: want.allowlist,
            salt: want.salt,
            stickiness: want.stickiness,
          };
          if (!have) {
            if (want.archived) continue;
            note(undefined, await insertFlag(tx, key, state, actor), 'created');
            continue;
          }
          if (!flagDiffers(want, snapshotFlag(have))) continue;
          const archive = want.archived && !have.archivedAt;
          const revive = !want.archived && have.archivedAt !== null;
          // writeFlag bumps the version: versions only ever grow, which caches rely on.
          const written = await writeFlag(tx, key, state, actor, { archive, revive });
          note(have, written, archive ? 'archived' : revive ? 'revived' : 'restored');
        }

        const plans: RestoreResult['plans'] = [];
        const plansBefore: Record<string, unknown> = {};
        const plansAfter: Record<string, unknown> = {};
        const wanted = new Set(content.plans.map((p) => p.id));
        const rows = new Map(current.map((p) => [p.id, p]));
        // End live plans the snapshot does not have first: it frees the one live slot per flag.
        for (const p of current) {
          if (wanted.has(p.id) || !['active', 'paused'].includes(p.state)) continue;
          await tx.query(
            `update rollout_plans set state = 'aborted', ended_at = now(), updated_at = now(), updated_by = $2, version = version + 1 where id = $1`,
            [p.id, actor],
          );
          plans.push({ id: p.id, flagKey: p.flag_key, action: 'aborted' });
          plansBefore[p.id] = planSummary(p);
          plansAfter[p.id] = { ...planSummary(p), state: 'aborted' };
        }
        let columns: string[] | undefined;
        for (const s of content.plans) {
          const row = rows.get(s.id);
          if (row && Object.keys(planFieldChanges(s, row)).length === 0) continue;
          columns ??= await planColumns(tx);
          if (row) {
            const cols = restorablePlanColumns(s, columns);
            await tx.query(
              `update rollout_plans t set (${cols.map(quote).join(', ')}) =
                 (select ${cols.map((c) => `r.${quote(c)}`).join(', ')} from jsonb_populate_record(null::rollout_plans, $2::jsonb) r),
                 updated_at = now(), updated_by = $3, version = t.version + 1
               where t.id = $1`,
              [s.id, JSON.stringify(s), actor],
            );
            plans.push({ id: s.id, flagKey: s.flag_key, action: 'restored' });
            plansBefore[s.id] = planSummary(row);
          } else {
            const have = new Set(columns);
            const cols = Object.keys(s).filter((c) => have.has(c));
            const values = { ...s, updated_at: new Date().toISOString(), updated_by: actor };
            await tx.query(
              `insert into rollout_plans (${cols.map(quote).join(', ')})
               select ${cols.map((c) => `r.${quote(c)}`).join(', ')} from jsonb_populate_record(null::rollout_plans, $1::jsonb) r`,
              [JSON.stringify(values)],
            );
            plans.push({ id: s.id, flagKey: s.flag_key, action: 'recreated' });
            plansBefore[s.id] = null;
          }
          plansAfter[s.id] = planSummary(s);
        }

        await appendAudit(tx, ctx, {
          action: 'snapshot.restore',
          target: snap.id,
          before: { flags: before, plans: plansBefore },
          after: {
            snapshotId: snap.id,
            label: snap.label,
            capturedAt: content.capturedAt,
            changed: flags.length + plans.length,
            flags: after,
            plans: plansAfter,
          },
        });
        for (const f of announced) await bus.publish(tx, { kind: 'flag', key: f.key, version: f.version });
        return { snapshotId: snap.id, changed: flags.length + plans.length, flags, plans };
      });
      for (const f of announced) bus.emitLocal({ kind: 'flag', key: f.key, version: f.version });
      return result;
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;
