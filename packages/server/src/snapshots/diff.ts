import type { FlagRecord } from '../flags/store.js';
import { isLive, snapshotFlag, type SnapshotContent, type SnapshotFlag, type SnapshotPlan } from './content.js';

/** The flag fields a diff names, as `{snapshot, live}`; `rollout` is in percent. */
export const FLAG_FIELDS = ['enabled', 'rollout', 'salt', 'stickiness', 'description', 'archived'] as const;
export type FlagField = (typeof FLAG_FIELDS)[number];

/** At most this many ids are listed per direction; the counts are always exact. */
export const MAX_LISTED_IDS = 50;

export interface FieldChange {
  snapshot: unknown;
  live: unknown;
}

export interface AllowlistDiff {
  added: number;
  removed: number;
  /** Ids live but not in the snapshot (a restore removes them), up to 50. */
  addedIds: string[];
  /** Ids in the snapshot but not live (a restore adds them back), up to 50. */
  removedIds: string[];
  /** Same ids, another order: nothing changes for evaluation, but a restore rewrites it. */
  reordered: boolean;
}

export interface FlagDiff {
  key: string;
  /** added: live, not in the snapshot (a restore archives it); removed: in the snapshot, not live (a restore brings it back). */
  change: 'added' | 'removed' | 'changed';
  fields: Partial<Record<FlagField, FieldChange>>;
  allowlist?: AllowlistDiff;
  /** The live version, where there is a live row. */
  liveVersion: number | null;
}

export interface PlanDiff {
  id: string;
  flagKey: string;
  /** added: a live plan the snapshot does not have (a restore aborts it); removed: a snapshot plan with no row now. */
  change: 'added' | 'removed' | 'changed';
  fields: Record<string, FieldChange>;
}

export interface SnapshotDiff {
  snapshotId: string;
  label: string | null;
  capturedAt: string;
  comparedAt: string;
  identical: boolean;
  summary: { flagsAdded: number; flagsRemoved: number; flagsChanged: number; plansAdded: number; plansRemoved: number; plansChanged: number };
  flags: FlagDiff[];
  plans: PlanDiff[];
}

/** Plan columns a restore does not write back: identity and bookkeeping. */
export const PLAN_BOOKKEEPING = new Set(['id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version']);

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}/;

/** JSON with sorted keys, timestamps compared as instants. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'string' && TIMESTAMP.test(v)) {
      const t = Date.parse(v.replace(' ', 'T'));
      return Number.isNaN(t) ? v : `@${new Date(t).toISOString()}`;
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export const sameValue = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

function fieldValue(f: SnapshotFlag, field: FlagField): unknown {
  return field === 'rollout' ? f.rolloutBasisPoints / 100 : f[field];
}

export function sameArray(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function allowlistDiff(snapshot: readonly string[], live: readonly string[]): AllowlistDiff | undefined {
  if (sameArray(snapshot, live)) return undefined;
  const was = new Set(snapshot);
  const now = new Set(live);
  const added = [...now].filter((id) => !was.has(id));
  const removed = [...was].filter((id) => !now.has(id));
  return {
    added: added.length,
    removed: removed.length,
    addedIds: added.slice(0, MAX_LISTED_IDS),
    removedIds: removed.slice(0, MAX_LISTED_IDS),
    reordered: added.length === 0 && removed.length === 0,
  };
}

/** Whether writing `target` over `live` would change anything (what a restore checks per flag). */
export function flagDiffers(target: SnapshotFlag, live: SnapshotFlag): boolean {
  return FLAG_FIELDS.some((f) => fieldValue(target, f) !== fieldValue(live, f)) || !sameArray(target.allowlist, live.allowlist);
}

export function diffFlags(snapshot: readonly SnapshotFlag[], liveRecords: readonly FlagRecord[]): FlagDiff[] {
  const live = new Map(liveRecords.map((r) => [r.key, snapshotFlag(r)]));
  const then = new Map(snapshot.map((f) => [f.key, f]));
  const keys = [...new Set([...then.keys(), ...live.keys()])].sort();
  const out: FlagDiff[] = [];
  for (const key of keys) {
    const s = then.get(key);
    const l = live.get(key);
    const wasThere = s !== undefined && !s.archived;
    const isThere = l !== undefined && !l.archived;
    const fields: FlagDiff['fields'] = {};
    let allowlist: AllowlistDiff | undefined;
    if (s && l) {
      for (const f of FLAG_FIELDS) {
        if (fieldValue(s, f) !== fieldValue(l, f)) fields[f] = { snapshot: fieldValue(s, f), live: fieldValue(l, f) };
      }
      allowlist = allowlistDiff(s.allowlist, l.allowlist);
    }
    let change: FlagDiff['change'] | undefined;
    if (wasThere && !isThere) change = 'removed';
    else if (!wasThere && isThere) change = 'added';
    else if (s && l && (Object.keys(fields).length > 0 || allowlist)) change = 'changed';
    if (!change) continue;
    if (change === 'removed' && !l) {
      fields.archived = { snapshot: false, live: null };
    } else if (change === 'added' && !s) {
      fields.archived = { snapshot: null, live: false };
    }
    out.push({ key, change, fields, ...(allowlist ? { allowlist } : {}), liveVersion: l?.version ?? null });
  }
  return out;
}

/** The columns of a plan row a restore writes back: every column both rows have, minus bookkeeping. */
export function restorablePlanColumns(snapshotRow: SnapshotPlan, columns: Iterable<string>): string[] {
  const have = new Set(columns);
  return Object.keys(snapshotRow)
    .filter((c) => have.has(c) && !PLAN_BOOKKEEPING.has(c))
    .sort();
}

export function planFieldChanges(snapshotRow: SnapshotPlan, current: SnapshotPlan): Record<string, FieldChange> {
  const fields: Record<string, FieldChange> = {};
  for (const c of restorablePlanColumns(snapshotRow, Object.keys(current))) {
    if (!sameValue(snapshotRow[c], current[c])) fields[c] = { snapshot: snapshotRow[c] ?? null, live: current[c] ?? null };
  }
  return fields;
}

/**
 * `current`: every live plan now, plus the current rows of the snapshot's plans whatever
 * their state.
 */
export function diffPlans(snapshot: readonly SnapshotPlan[], current: readonly SnapshotPlan[]): PlanDiff[] {
  const now = new Map(current.map((p) => [p.id, p]));
  const then = new Set(snapshot.map((p) => p.id));
  const out: PlanDiff[] = [];
  for (const p of current) {
    if (!then.has(p.id) && isLive(p)) {
      out.push({ id: p.id, flagKey: p.flag_key, change: 'added', fields: { state: { snapshot: null, live: p.state } } });
    }
  }
  for (const s of snapshot) {
    const c = now.get(s.id);
    if (!c) {
      out.push({ id: s.id, flagKey: s.flag_key, change: 'removed', fields: { state: { snapshot: s.state, live: null } } });
      continue;
    }
    const fields = planFieldChanges(s, c);
    if (Object.keys(fields).length > 0) out.push({ id: s.id, flagKey: s.flag_key, change: 'changed', fields });
  }
  return out.sort((a, b) => (a.flagKey === b.flagKey ? (a.id < b.id ? -1 : 1) : a.flagKey < b.flagKey ? -1 : 1));
}

export function buildDiff(
  meta: { id: string; label: string | null },
  content: SnapshotContent,
  liveFlags: readonly FlagRecord[],
  currentPlans: readonly SnapshotPlan[],
): SnapshotDiff {
  const flags = diffFlags(content.flags, liveFlags);
  const plans = diffPlans(content.plans, currentPlans);
  const count = <T extends { change: string }>(xs: T[], c: string) => xs.filter((x) => x.change === c).length;
  return {
    snapshotId: meta.id,
    label: meta.label,
    capturedAt: content.capturedAt,
    comparedAt: new Date().toISOString(),
    identical: flags.length === 0 && plans.length === 0,
    summary: {
      flagsAdded: count(flags, 'added'),
      flagsRemoved: count(flags, 'removed'),
      flagsChanged: count(flags, 'changed'),
      plansAdded: count(plans, 'added'),
      plansRemoved: count(plans, 'removed'),
      plansChanged: count(plans, 'changed'),
    },
    flags,
    plans,
  };
}
