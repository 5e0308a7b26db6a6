/** The notify slice: channels, the "verdict changed" policy and delivery (design §6.7). */
export { createNotifier, type Notifier, type NotifierOptions, type NotifyOutcome } from './notifier.js';
export {
  decideNotification,
  REMINDER_INTERVAL_MS,
  type CheckpointAlert,
  type CheckpointOutcome,
  type GoDecision,
  type Health,
  type NotificationState,
  type PolicyDecision,
  type Verdict,
} from './policy.js';
export { DEFAULT_RETRY, type DeliveryResult, type RetryOptions } from './deliver.js';
export { signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER, type NotificationMessage } from './messages.js';
export { notificationRoutes, type NotificationRouteOptions } from './routes.js';
