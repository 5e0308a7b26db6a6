/**
 * When to notify (design §6.7): when a flag's verdict changes from the one last notified, and
 * once a day while it stays RED. Pure: the service feeds it the stored state and a checkpoint.
 */

export type Verdict = 'PASS' | 'WARN' | 'FAIL';
export type Health = 'GREEN' | 'YELLOW' | 'RED';
export type GoDecision = 'GO' | 'EXTEND' | 'NO_GO';

export interface CheckpointAlert {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
}

/** What the watchdog hands over when it finishes a checkpoint. */
export interface CheckpointOutcome {
  readonly id: string;
  readonly flag: string;
  readonly verdict: Verdict;
  readonly health: Health;
  readonly decision: GoDecision;
  readonly alerts: readonly CheckpointAlert[];
  readonly at: Date;
  readonly reportUrl?: string | undefined;
}

/** What was last announced for a flag (notification_state). */
export interface NotificationState {
  readonly lastVerdict: Verdict;
  readonly lastHealth: Health;
  /** null: recorded without a notification (a first checkpoint that passed). */
  readonly lastNotifiedAt: Date | null;
  readonly lastCheckpointId: string | null;
}

export type NotifyEvent = 'checkpoint.verdict_changed' | 'checkpoint.still_red' | 'plan.rolled_back';

export type PolicyDecision =
  | { readonly notify: true; readonly event: NotifyEvent; readonly previousVerdict: Verdict | null; readonly reason: string }
  | { readonly notify: false; readonly reason: string };

export const REMINDER_INTERVAL_MS = 24 * 3_600_000;

export function decideNotification(
  previous: NotificationState | undefined,
  cp: Pick<CheckpointOutcome, 'id' | 'verdict' | 'health' | 'at'> & { readonly alerts?: CheckpointOutcome['alerts'] },
  reminderIntervalMs = REMINDER_INTERVAL_MS,
): PolicyDecision {
  // A rollback is news even when the verdict did not change (FAIL on two checkpoints in a row).
  if (cp.alerts?.some((a) => a.code === 'ROLLBACK') && previous?.lastCheckpointId !== cp.id) {
    return { notify: true, event: 'plan.rolled_back', previousVerdict: previous?.lastVerdict ?? null, reason: 'the rollout plan rolled back' };
  }
  if (!previous) {
    return cp.verdict === 'PASS'
      ? { notify: false, reason: 'first checkpoint of this flag passed: nothing to report' }
      : { notify: true, event: 'checkpoint.verdict_changed', previousVerdict: null, reason: `first checkpoint: ${cp.verdict}` };
  }
  // Another replica (or a retry) already handled this very checkpoint.
  if (previous.lastCheckpointId === cp.id) return { notify: false, reason: 'checkpoint already handled' };
  if (cp.verdict !== previous.lastVerdict) {
    return {
      notify: true,
      event: 'checkpoint.verdict_changed',
      previousVerdict: previous.lastVerdict,
      reason: `verdict changed: ${previous.lastVerdict} → ${cp.verdict}`,
    };
  }
  if (cp.health === 'RED') {
    const since = previous.lastNotifiedAt === null ? Infinity : cp.at.getTime() - previous.lastNotifiedAt.getTime();
    if (since >= reminderIntervalMs) {
      return { notify: true, event: 'checkpoint.still_red', previousVerdict: previous.lastVerdict, reason: 'still RED: daily reminder' };
    }
    return { notify: false, reason: 'still RED; reminded less than 24 h ago' };
  }
  return { notify: false, reason: `verdict unchanged: ${cp.verdict}` };
}
