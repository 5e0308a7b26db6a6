import { targetPolicyOf, type Config } from '../config.js';
import type { Database } from '../db/database.js';
import { createDeliverer, type DeliveryResult, type NotifyLog, type RetryOptions } from './deliver.js';
import type { NotificationMessage } from './messages.js';
import { decideNotification, REMINDER_INTERVAL_MS, type CheckpointOutcome } from './policy.js';
import { channelsForFlag, lockState, saveState } from './store.js';

export interface NotifierOptions {
  readonly db: Database;
  readonly config: Pick<Config, 'smtpUrl' | 'smtpFrom' | 'allowPrivateTargets' | 'allowedTargetNetworks'>;
  readonly log: NotifyLog;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  /** Tests make retries fast; production keeps DEFAULT_RETRY. */
  readonly retry?: Partial<RetryOptions> | undefined;
  readonly reminderIntervalMs?: number | undefined;
}

export interface NotifyOutcome {
  /** True when the policy called for a notification and at least one channel was tried. */
  readonly notified: boolean;
  readonly reason: string;
  readonly deliveries: readonly DeliveryResult[];
}

export interface Notifier {
  /**
   * Call after every checkpoint. Resolves once every channel has been tried (retries
   * included); never rejects: a channel that is down must not fail the checkpoint.
   */
  onCheckpoint(cp: CheckpointOutcome): Promise<NotifyOutcome>;
}

function messageFor(cp: CheckpointOutcome, event: NotificationMessage['event'], previousVerdict: NotificationMessage['previousVerdict']): NotificationMessage {
  return {
    event,
    flag: cp.flag,
    verdict: cp.verdict,
    previousVerdict,
    health: cp.health,
    decision: cp.decision,
    alerts: cp.alerts,
    checkpointId: cp.id,
    ...(cp.reportUrl === undefined ? {} : { reportUrl: cp.reportUrl }),
    at: cp.at.toISOString(),
  };
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { db, log } = options;
  const deliver = createDeliverer({
    db,
    smtpUrl: options.config.smtpUrl,
    smtpFrom: options.config.smtpFrom,
    log,
    targets: targetPolicyOf(options.config),
    sleep: options.sleep,
    random: options.random,
    retry: options.retry,
  });
  const reminderMs = options.reminderIntervalMs ?? REMINDER_INTERVAL_MS;

  return {
    async onCheckpoint(cp) {
      try {
        // Decide and record in one transaction holding the flag's lock: of two replicas that
        // finish a checkpoint at once, the second sees what the first decided. The sending
        // happens after the commit, so the lock is never held across the network.
        const decision = await db.transaction(async (tx) => {
          const previous = await lockState(tx, cp.flag);
          const d = decideNotification(previous, cp, reminderMs);
          if (previous?.lastCheckpointId !== cp.id) {
            await saveState(tx, cp.flag, { verdict: cp.verdict, health: cp.health, notifiedAt: d.notify ? cp.at : null, checkpointId: cp.id });
          }
          return d;
        });
        if (!decision.notify) return { notified: false, reason: decision.reason, deliveries: [] };
        const channels = await channelsForFlag(db, cp.flag);
        if (channels.length === 0) return { notified: false, reason: `${decision.reason}; no enabled channel for ${cp.flag}`, deliveries: [] };
        const message = messageFor(cp, decision.event, decision.previousVerdict);
        const deliveries = await Promise.all(channels.map((c) => deliver(c, message)));
        return { notified: true, reason: decision.reason, deliveries };
      } catch (err) {
        log.warn({ err, flag: cp.flag, checkpointId: cp.id }, 'notification skipped after an error');
        return { notified: false, reason: `not notified: ${(err as Error).message}`, deliveries: [] };
      }
    },
  };
}
