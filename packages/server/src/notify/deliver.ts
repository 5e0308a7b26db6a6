import { createTransport } from 'nodemailer';
import type { Queryable } from '../db/database.js';
import { sendOutbound } from '../outbound/request.js';
import { CLOSED_POLICY, TargetRefusedError, type TargetPolicy } from '../outbound/target-policy.js';
import { emailMessage, signBody, slackBody, webhookBody, SIGNATURE_HEADER, TIMESTAMP_HEADER, type NotificationMessage } from './messages.js';
import { recordAttempt, type Channel, type ChannelType } from './store.js';

export interface RetryOptions {
  /** Waits before the 2nd, 3rd, … attempt; its length + 1 is the number of attempts. */
  readonly delaysMs: readonly number[];
  /** Each wait is scaled by a random factor in [1 − jitter, 1 + jitter]. */
  readonly jitter: number;
  /** Per attempt: connect, send and answer. */
  readonly timeoutMs: number;
}

/** 4 attempts: at once, then after ~0.5 s, ~2 s and ~8 s. */
export const DEFAULT_RETRY: RetryOptions = { delaysMs: [500, 2_000, 8_000], jitter: 0.2, timeoutMs: 5_000 };

export interface NotifyLog {
  warn(obj: object, msg?: string): void;
}

export interface DelivererOptions {
  readonly db: Queryable;
  readonly smtpUrl?: string | undefined;
  readonly smtpFrom?: string | undefined;
  readonly log: NotifyLog;
  /** Where webhook and Slack URLs may point; default: no private addresses. */
  readonly targets?: TargetPolicy | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  readonly retry?: Partial<RetryOptions> | undefined;
}

export interface DeliveryResult {
  readonly channelId: string;
  readonly channelName: string;
  readonly type: ChannelType;
  readonly status: 'sent' | 'failed';
  readonly attempts: number;
  /** The last attempt's error; null when sent. */
  readonly error: string | null;
}

/** One failed attempt; `permanent` when trying again cannot help (a 4xx, a rejected address). */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

const USER_AGENT = 'Rampart-Notifications/1';
const DEFAULT_FROM = 'Rampart <rampart@localhost>';
const MAX_ERROR = 500;

function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { message?: string; code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = e?.cause?.message ?? e?.cause?.code;
  const text = cause ? `${e.message}: ${cause}` : String(e?.message ?? err);
  return text.slice(0, MAX_ERROR);
}

/**
 * Sends one message to one channel, retrying with exponential backoff and jitter, recording
 * every attempt in notification_deliveries. Never throws: the result says what happened.
 */
export function createDeliverer(options: DelivererOptions) {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const targets = options.targets ?? CLOSED_POLICY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;

  async function post(url: string, body: string, headers: Record<string, string>): Promise<void> {
    let res: Awaited<ReturnType<typeof sendOutbound>>;
    try {
      // Checked again at every send, not only when saved: a name's DNS answer can change.
      // Redirects are not followed (maxRedirects 0): a redirect is a failed delivery.
      res = await sendOutbound(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
        body,
        timeoutMs: retry.timeoutMs,
        policy: targets,
        maxResponseBytes: 4096,
      });
    } catch (err) {
      // A refused address stays refused until the configuration changes: no retries.
      throw new AttemptError(describe(err, retry.timeoutMs), err instanceof TargetRefusedError);
    }
    if (res.status >= 200 && res.status < 300) return;
    // A few words of the answer help the operator.
    const snippet = res.text.trim().slice(0, 200);
    const transient = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new AttemptError(`HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, !transient);
  }

  async function mail(to: string[], from: string | undefined, m: NotificationMessage): Promise<void> {
    if (!options.smtpUrl) throw new AttemptError('No SMTP server: RAMPART_SMTP_URL is not set.', true);
    const t = retry.timeoutMs;
    const transport = createTransport({ url: options.smtpUrl, connectionTimeout: t, greetingTimeout: t, socketTimeout: t });
    try {
      const { subject, text } = emailMessage(m);
      await transport.sendMail({ from: from ?? options.smtpFrom ?? DEFAULT_FROM, to, subject, text });
    } catch (err) {
      // 5xx: the server refused for good (no such mailbox, relaying denied); 4xx may pass later.
      const code = (err as { responseCode?: number }).responseCode;
      throw new AttemptError(describe(err, t), code !== undefined && code >= 500);
    } finally {
      transport.close();
    }
  }

  function attempt(channel: Channel, m: NotificationMessage): Promise<void> {
    switch (channel.type) {
      case 'webhook': {
        const body = webhookBody(m);
        const headers: Record<string, string> = { [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)) };
        if (channel.config.secret) headers[SIGNATURE_HEADER] = signBody(channel.config.secret, body);
        return post(channel.config.url, body, headers);
      }
      case 'slack':
        return post(channel.config.url, slackBody(m), {});
      case 'email':
        return mail(channel.config.to, channel.config.from, m);
    }
  }

  async function record(channel: Channel, m: NotificationMessage, n: number, error: string | null): Promise<void> {
    const test = m.event === 'test';
    try {
      await recordAttempt(options.db, {
        channelId: channel.id,
        event: m.event,
        flagKey: test ? null : m.flag,
        checkpointId: test ? null : m.checkpointId,
        attempt: n,
        status: error === null ? 'sent' : 'failed',
        error,
      });
    } catch (err) {
      // The channel may have been deleted meanwhile; losing the record must not lose the send.
      options.log.warn({ err, channelId: channel.id }, 'could not record a notification attempt');
    }
  }

  return async function deliver(channel: Channel, m: NotificationMessage, opts: { retries?: boolean } = {}): Promise<DeliveryResult> {
    const attempts = opts.retries === false ? 1 : retry.delaysMs.length + 1;
    let error = 'not attempted';
    for (let n = 1; n <= attempts; n++) {
      if (n > 1) {
        const base = retry.delaysMs[n - 2]!;
        await sleep(Math.max(0, Math.round(base * (1 - retry.jitter + 2 * retry.jitter * random()))));
      }
      try {
        await attempt(channel, m);
        await record(channel, m, n, null);
        return { channelId: channel.id, channelName: channel.name, type: channel.type, status: 'sent', attempts: n, error: null };
      } catch (err) {
        const permanent = err instanceof AttemptError && err.permanent;
        error = err instanceof AttemptError ? err.message : describe(err, retry.timeoutMs);
        await record(channel, m, n, error);
        if (permanent || n === attempts) {
          options.log.warn({ channelId: channel.id, type: channel.type, attempts: n, error }, 'notification not delivered');
          return { channelId: channel.id, channelName: channel.name, type: channel.type, status: 'failed', attempts: n, error };
        }
      }
    }
    return { channelId: channel.id, channelName: channel.name, type: channel.type, status: 'failed', attempts, error };
  };
}

export type Deliver = ReturnType<typeof createDeliverer>;
