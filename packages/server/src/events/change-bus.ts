import { EventEmitter } from 'node:events';
import type { Database, Queryable } from '../db/database.js';

export type ChangeEvent =
  | { readonly kind: 'flag'; readonly key: string; readonly version: number }
  /** Tokens changed; a revocation carries the token epoch it bumped (replica-lease.ts). */
  | { readonly kind: 'tokens'; readonly epoch?: number }
  /** The LISTEN connection was lost and is back: anything may have changed meanwhile. */
  | { readonly kind: 'resync' }
  /** Something an operator would want to see at once: an audited change or a checkpoint. */
  | ActivityEvent;

export interface ActivityEvent {
  readonly kind: 'activity';
  /** The flag concerned, or null (tokens, snapshots of everything, …). */
  readonly key: string | null;
  /** `checkpoint`, or the audit action (`flag.update`, `plan.advance`, …). */
  readonly what: string;
}

/**
 * Announces activity inside the writer's transaction, so the admin UI's stream hears of a
 * change only once it is committed. A free function: the audit and checkpoint stores have a
 * transaction, not the bus.
 */
export async function notifyActivity(tx: Queryable, event: Omit<ActivityEvent, 'kind'>): Promise<void> {
  await tx.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify({ kind: 'activity', key: event.key, what: event.what })]);
}

const CHANNEL = 'rampart_changes';

/**
 * Tells every replica that something changed. Writers `publish` inside their transaction
 * (Postgres delivers NOTIFY only on commit, so nobody hears of a change that rolled back),
 * then `emitLocal` right after commit so this replica never serves a stale config even for
 * the milliseconds the notification takes. Other replicas hear it through LISTEN.
 */
export class ChangeBus {
  private readonly emitter = new EventEmitter();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly db: Database) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(
      CHANNEL,
      (payload) => {
        const event = parse(payload);
        if (event) this.emitter.emit('change', event);
      },
      () => this.emitter.emit('change', { kind: 'resync' } satisfies ChangeEvent),
    );
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    // Stopping after the database went away is normal during shutdown: nothing left to unlisten.
    await unlisten?.().catch(() => {});
  }

  async publish(tx: Queryable, event: ChangeEvent): Promise<void> {
    await tx.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify(event)]);
  }

  emitLocal(event: ChangeEvent): void {
    this.emitter.emit('change', event);
  }

  subscribe(fn: (event: ChangeEvent) => void): () => void {
    this.emitter.on('change', fn);
    return () => this.emitter.off('change', fn);
  }
}

function parse(payload: string): ChangeEvent | undefined {
  try {
    const e = JSON.parse(payload) as ChangeEvent;
    return e && (e.kind === 'flag' || e.kind === 'tokens' || e.kind === 'activity') ? e : undefined;
  } catch {
    return undefined;
  }
}
