import { createHmac } from 'node:crypto';
import type { CheckpointAlert, GoDecision, Health, Verdict } from './policy.js';
import type { DeliveryEvent } from './store.js';

/** The generic webhook's JSON body; the Slack and e-mail texts are rendered from it. */
export interface NotificationMessage {
  readonly event: DeliveryEvent;
  readonly flag: string;
  readonly verdict: Verdict;
  readonly previousVerdict: Verdict | null;
  readonly health: Health;
  readonly decision: GoDecision;
  readonly alerts: readonly CheckpointAlert[];
  readonly checkpointId: string;
  readonly reportUrl?: string | undefined;
  /** ISO time of the checkpoint (of the request, for a test message). */
  readonly at: string;
}

export const SIGNATURE_HEADER = 'x-rampart-signature';
export const TIMESTAMP_HEADER = 'x-rampart-timestamp';

/** `sha256=<hex>`: HMAC-SHA256 of the exact bytes sent, keyed with the channel's secret. */
export function signBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

export function webhookBody(m: NotificationMessage): string {
  return JSON.stringify({
    event: m.event,
    flag: m.flag,
    verdict: m.verdict,
    previousVerdict: m.previousVerdict,
    health: m.health,
    decision: m.decision,
    alerts: m.alerts.map(({ code, severity, message }) => ({ code, severity, message })),
    checkpointId: m.checkpointId,
    ...(m.reportUrl === undefined ? {} : { reportUrl: m.reportUrl }),
    at: m.at,
  });
}

const EMOJI: Record<Health, string> = { GREEN: ':large_green_circle:', YELLOW: ':large_yellow_circle:', RED: ':red_circle:' };
const SEVERITY_EMOJI: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:' };

/** One line: `passenger_favorites_matching is RED (FAIL, NO_GO)`. */
export function headline(m: NotificationMessage): string {
  if (m.event === 'test') return `Test message from Rampart (${m.flag})`;
  if (m.event === 'plan.rolled_back') return `${m.flag} was rolled back (${m.verdict}, ${m.health})`;
  const still = m.event === 'checkpoint.still_red' ? 'still ' : '';
  return `${m.flag} is ${still}${m.health} (${m.verdict}, ${m.decision})`;
}

function change(m: NotificationMessage): string {
  if (m.event === 'test') return 'This channel works: this is what a notification will look like.';
  if (m.event === 'checkpoint.still_red') return `Still ${m.verdict} since the last notification (daily reminder).`;
  if (m.event === 'plan.rolled_back') return 'The rollout plan rolled back by itself; the ROLLBACK alert says why.';
  return m.previousVerdict ? `Verdict changed: ${m.previousVerdict} → ${m.verdict}.` : `First verdict: ${m.verdict}.`;
}

function alertLines(m: NotificationMessage, bullet: (a: CheckpointAlert) => string): string[] {
  return m.alerts.length === 0 ? ['No alerts.'] : m.alerts.map((a) => `${bullet(a)} [${a.severity}] ${a.code}: ${a.message}`);
}

/** Slack's mrkdwn needs &, < and > escaped in text we do not control. */
const mrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook body (Mattermost and Rocket.Chat read `text` too). */
export function slackBody(m: NotificationMessage): string {
  const title = `${EMOJI[m.health]} *${mrkdwn(headline(m))}*`;
  const alerts = alertLines(m, (a) => `• ${SEVERITY_EMOJI[a.severity] ?? ':information_source:'}`).map(mrkdwn);
  const link = m.reportUrl ? `<${m.reportUrl}|Open the checkpoint report>` : undefined;
  const text = [title, mrkdwn(change(m)), ...alerts, ...(link ? [link] : [])].join('\n');
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: `${title}\n${mrkdwn(change(m))}` } },
    { type: 'section', text: { type: 'mrkdwn', text: alerts.join('\n').slice(0, 2900) } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `checkpoint \`${mrkdwn(m.checkpointId)}\` · ${m.at}${link ? ` · ${link}` : ''}` }],
    },
  ];
  return JSON.stringify({ text, blocks });
}

export function emailMessage(m: NotificationMessage): { subject: string; text: string } {
  const subject = `[Rampart] ${headline(m)}`.replace(/[\r\n]+/g, ' ');
  const text = [
    headline(m),
    '',
    change(m),
    '',
    'Alerts:',
    ...alertLines(m, () => '-'),
    '',
    `Checkpoint: ${m.checkpointId} at ${m.at}`,
    ...(m.reportUrl ? [`Report: ${m.reportUrl}`] : []),
    '',
    '-- Rampart guarded rollouts',
  ].join('\n');
  return { subject, text };
}
