import { MAX_ALLOWLIST } from '@rampart/core';
import type { Database, Queryable } from '../db/database.js';
import type { ChangeBus } from '../events/change-bus.js';
import { AppError } from '../errors.js';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import { createKeyQueue } from './key-queue.js';
import { getFlag, insertFlag, listFlags, stateOf, writeFlag, type FlagRecord, type FlagState, type ListFlagsQuery } from './store.js';

export interface CreateFlagInput {
  key: string;
  description?: string | undefined;
  enabled?: boolean | undefined;
  rolloutBasisPoints?: number | undefined;
  allowlist?: string[] | undefined;
  salt?: string | undefined;
  stickiness?: string | undefined;
}

export type FlagPatch = Partial<FlagState>;

/** `undefined`: no precondition; a number: the version the caller read. */
export type Precondition = number | undefined;

export interface ChangeResult {
  flag: FlagRecord;
  /** False when the request asked for what was already true: nothing written, no audit event. */
  changed: boolean;
  before: FlagRecord | undefined;
}

/** Audit snapshots carry the version so a replay can check it lands on the same one. */
function snapshot(f: FlagRecord): FlagState & { version: number; archived: boolean } {
  return { ...stateOf(f), version: f.version, archived: f.archivedAt !== null };
}

function sameState(a: FlagState, b: FlagState): boolean {
  return (
    a.description === b.description &&
    a.enabled === b.enabled &&
    a.rolloutBasisPoints === b.rolloutBasisPoints &&
    a.salt === b.salt &&
    a.stickiness === b.stickiness &&
    a.allowlist.length === b.allowlist.length &&
    a.allowlist.every((id, i) => id === b.allowlist[i])
  );
}

function definedOnly(patch: FlagPatch): FlagPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as FlagPatch;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function createFlagService(db: Database, bus: ChangeBus) {
  const serially = createKeyQueue();

  /**
   * The one write path: lock the row, check the caller's version, apply, bump the version,
   * append the audit event and queue the change notification, all in one transaction.
   */
  async function change(
    ctx: ChangeContext,
    key: string,
    expected: Precondition,
    action: string,
    apply: (current: FlagRecord) => { state: FlagState; archive?: boolean },
  ): Promise<ChangeResult> {
    const result = await serially(key, () => db.transaction((tx) => changeIn(tx, ctx, key, expected, action, apply)));
    if (result.changed) bus.emitLocal({ kind: 'flag', key, version: result.flag.version });
    return result;
  }

  /** The same write inside a caller's transaction; the caller announces it after commit. */
  async function changeIn(
    tx: Queryable,
    ctx: ChangeContext,
    key: string,
    expected: Precondition,
    action: string,
    apply: (current: FlagRecord) => { state: FlagState; archive?: boolean },
  ): Promise<ChangeResult> {
    {
      const current = await getFlag(tx, key, true);
      if (!current || current.archivedAt) throw new AppError('FLAG_NOT_FOUND', `No flag named ${key}.`);
      if (expected !== undefined && expected !== current.version) {
        throw new AppError('VERSION_CONFLICT', undefined, { expected, current: current.version });
      }
      const { state, archive } = apply(current);
      if (state.allowlist.length > MAX_ALLOWLIST) {
        throw new AppError('ALLOWLIST_TOO_LARGE', undefined, { limit: MAX_ALLOWLIST, size: state.allowlist.length });
      }
      if (!archive && sameState(state, stateOf(current))) return { flag: current, changed: false, before: current };
      const flag = await writeFlag(tx, key, state, ctx.actor.name, { archive });
      await record(tx, ctx, action, current, flag);
      return { flag, changed: true, before: current };
    }
  }

  async function record(tx: Queryable, ctx: ChangeContext, action: string, before: FlagRecord | undefined, after: FlagRecord) {
    await appendAudit(tx, ctx, {
      action,
      flagKey: after.key,
      before: before ? snapshot(before) : null,
      after: snapshot(after),
    });
    await bus.publish(tx, { kind: 'flag', key: after.key, version: after.version });
  }

  return {
    get: (key: string) => getFlag(db, key),
    list: (query?: ListFlagsQuery) => listFlags(db, query),

    /** Creates a flag; a key that was archived comes back to life with the new settings. */
    async create(ctx: ChangeContext, input: CreateFlagInput): Promise<FlagRecord> {
      const state: FlagState = {
        description: input.description ?? '',
        enabled: input.enabled ?? false,
        rolloutBasisPoints: input.rolloutBasisPoints ?? 0,
        allowlist: unique(input.allowlist ?? []),
        salt: input.salt ?? input.key,
        stickiness: input.stickiness ?? 'id',
      };
      const flag = await db.transaction(async (tx) => {
        // Two creates of one new key would both miss the row lock; the advisory lock orders them.
        await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:flag:' || $1))`, [input.key]);
        const existing = await getFlag(tx, input.key, true);
        if (existing && !existing.archivedAt) throw new AppError('FLAG_EXISTS', `A flag named ${input.key} exists.`);
        const created = existing
          ? await writeFlag(tx, input.key, state, ctx.actor.name, { revive: true })
          : await insertFlag(tx, input.key, state, ctx.actor.name);
        await record(tx, ctx, 'flag.create', existing, created);
        return created;
      });
      bus.emitLocal({ kind: 'flag', key: flag.key, version: flag.version });
      return flag;
    },

    /**
     * For other slices' transactions (a plan transition moves the rollout in the same commit).
     * Call `announce` with the result after the transaction commits.
     */
    updateIn: (tx: Queryable, ctx: ChangeContext, key: string, patch: FlagPatch, action = 'flag.update') =>
      changeIn(tx, ctx, key, undefined, action, (cur) => ({ state: { ...stateOf(cur), ...definedOnly(patch) } })),
    announce(result: ChangeResult): void {
      if (result.changed) bus.emitLocal({ kind: 'flag', key: result.flag.key, version: result.flag.version });
    },

    update: (ctx: ChangeContext, key: string, patch: FlagPatch, expected: Precondition) =>
      change(ctx, key, expected, 'flag.update', (cur) => ({
        state: {
          ...stateOf(cur),
          ...definedOnly(patch),
          ...(patch.allowlist ? { allowlist: unique(patch.allowlist) } : {}),
        },
      })),

    archive: (ctx: ChangeContext, key: string, expected: Precondition) =>
      change(ctx, key, expected, 'flag.archive', (cur) => ({ state: stateOf(cur), archive: true })),

    addToAllowlist: (ctx: ChangeContext, key: string, ids: string[], expected: Precondition) =>
      change(ctx, key, expected, 'allowlist.add', (cur) => ({
        state: { ...stateOf(cur), allowlist: unique([...cur.allowlist, ...ids]) },
      })),

    removeFromAllowlist: (ctx: ChangeContext, key: string, ids: string[], expected: Precondition) => {
      const drop = new Set(ids);
      return change(ctx, key, expected, 'allowlist.remove', (cur) => ({
        state: { ...stateOf(cur), allowlist: cur.allowlist.filter((id) => !drop.has(id)) },
      }));
    },
  };
}

export type FlagService = ReturnType<typeof createFlagService>;
