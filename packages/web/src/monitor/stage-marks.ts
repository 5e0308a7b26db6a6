import type { AuditEvent } from '../api/types.js';

/** A change of exposure on the time axis: a stage change, or a rollback (exposure reduced). */
export interface Mark {
  id: number;
  /** Epoch ms. */
  at: number;
  kind: 'stage' | 'rollback';
  /** Effective exposure in percent before and after (0 when the flag is off); null if unknown. */
  from: number | null;
  to: number | null;
  enabledBefore: boolean | null;
  enabledAfter: boolean | null;
  /** The audit action that explains it: `plan.start`, `plan.advance`, `plan.rollback`, `flag.update`, … */
  cause: string;
  actor: string;
}

interface FlagState {
  enabled?: boolean;
  rolloutBasisPoints?: number;
}

const PLAN_CAUSES = new Set(['plan.start', 'plan.advance', 'plan.rollback', 'plan.resume', 'plan.pause', 'plan.complete']);
/** A plan transition and the flag change it implies are audited in one transaction, moments apart. */
const SAME_CHANGE_MS = 5_000;

function stateOf(v: unknown): FlagState | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.enabled !== 'boolean' && typeof o.rolloutBasisPoints !== 'number') return null;
  return { enabled: typeof o.enabled === 'boolean' ? o.enabled : undefined, rolloutBasisPoints: typeof o.rolloutBasisPoints === 'number' ? o.rolloutBasisPoints : undefined };
}

function exposure(s: FlagState | null): number | null {
  if (!s) return null;
  if (s.enabled === false) return 0;
  return s.rolloutBasisPoints === undefined ? null : s.rolloutBasisPoints / 100;
}

/**
 * The plan transition behind a flag change: the one of the same request (both are written in one
 * transaction), or, without request ids (the watchdog acts on its own), the nearest in time.
 */
function causeOf(e: AuditEvent, at: number, plans: readonly AuditEvent[], used: ReadonlySet<number>): AuditEvent | undefined {
  const free = plans.filter((p) => !used.has(p.id));
  if (e.requestId !== null) {
    const same = free.find((p) => p.requestId === e.requestId);
    if (same) return same;
  }
  let best: AuditEvent | undefined;
  for (const p of free) {
    if (e.requestId !== null && p.requestId !== null) continue;
    const d = Math.abs(Date.parse(p.at) - at);
    if (d <= SAME_CHANGE_MS && (!best || d < Math.abs(Date.parse(best.at) - at))) best = p;
  }
  return best;
}

function planPercentage(v: unknown): number | null {
  const p = (v as { percentage?: unknown } | null)?.percentage;
  return typeof p === 'number' ? p : null;
}

/**
 * Stage changes and rollbacks from a flag's audit trail. The flag's own events (`flag.create`,
 * `flag.update`, a snapshot restore) say what the exposure became; the plan event beside each
 * (`plan.advance`, `plan.rollback`, …) says why. A plan rollback is always a rollback mark, and so
 * is any change that lowers the exposure (a kill switch, a manual step back).
 */
export function marksFrom(events: readonly AuditEvent[]): Mark[] {
  const sorted = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
  const plans = sorted.filter((e) => PLAN_CAUSES.has(e.action));
  const used = new Set<number>();
  const marks: Mark[] = [];

  for (const e of sorted) {
    if (!e.action.startsWith('flag.') && e.action !== 'snapshot.restore') continue;
    const before = stateOf(e.before);
    const after = stateOf(e.after);
    if (!after) continue;
    const from = e.action === 'flag.create' ? 0 : exposure(before);
    const to = exposure(after);
    // Only what changed who gets the feature: enabling at 0 %, or an allowlist edit, is no stage.
    if (from === to) continue;
    const at = Date.parse(e.at);
    const plan = e.action === 'flag.update' ? causeOf(e, at, plans, used) : undefined;
    if (plan) used.add(plan.id);
    const lowered = from !== null && to !== null && to < from;
    marks.push({
      id: e.id,
      at,
      kind: plan?.action === 'plan.rollback' || lowered ? 'rollback' : 'stage',
      from,
      to,
      enabledBefore: e.action === 'flag.create' ? null : (before?.enabled ?? null),
      enabledAfter: after.enabled ?? null,
      cause: plan?.action ?? e.action,
      actor: e.actor,
    });
  }

  // A plan rollback that left the flag as it was (already at its target) is still a rollback.
  for (const p of plans) {
    if (used.has(p.id) || p.action !== 'plan.rollback') continue;
    marks.push({ id: p.id, at: Date.parse(p.at), kind: 'rollback', from: planPercentage(p.before), to: null, enabledBefore: null, enabledAfter: null, cause: p.action, actor: p.actor });
  }
  return marks.sort((a, b) => a.at - b.at || a.id - b.id);
}
