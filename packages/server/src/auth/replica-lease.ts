import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Database, Queryable } from '../db/database.js';

/**
 * The lease that lets a replica answer from its token cache, and the barrier that makes a
 * revocation wait until no replica can answer from a stale one.
 *
 * A replica renews its lease every fifth of its length, and only together with the token epoch
 * its cache reflects (`tokens_epoch`). Every revocation bumps `token_epoch.epoch` in its own
 * transaction and, once committed, waits until each other replica holding a live lease has
 * acknowledged that epoch: it acknowledges after emptying its cache, either on the NOTIFY or,
 * if that was lost (LISTEN connection down), at its next renewal, which reads the epoch. A
 * replica that cannot renew (database unreachable, process paused) stops trusting its cache at
 * its local expiry, which comes before the database's: its clock starts before the renewal is
 * sent, the database's when it executes. So when the revocation returns, no replica anywhere
 * answers the revoked token from memory; the price is that a revocation waits up to a lease
 * length for a replica that crashed without saying goodbye.
 */
export interface ReplicaLease {
  readonly replicaId: string;
  /** True while this replica may answer from its token cache (`performance.now()` given). */
  valid(now: number): boolean;
  /** The token cache reflects `epoch` now: record it (the other replicas' revocations wait on it). */
  acknowledge(epoch: number): void;
  /** Waits until every other live replica acknowledged `epoch`, or its lease lapsed. */
  awaitReplicas(epoch: number): Promise<{ waitedMs: number; unacknowledged: number }>;
  /** Drops this replica's lease, so revocations stop waiting for it. */
  stop(): Promise<void>;
}

export interface ReplicaLeaseOptions {
  readonly leaseMs: number;
  /** The cache must be emptied: this replica missed a revocation (called before it is acknowledged). */
  readonly onBehind: () => void;
  readonly log: { warn: (obj: object, msg: string) => void };
}

/** Bumps the token epoch inside a revocation's transaction. */
export async function bumpTokenEpoch(tx: Queryable): Promise<number> {
  const rows = await tx.query<{ epoch: string }>('update token_epoch set epoch = epoch + 1 where id = 1 returning epoch');
  return Number(rows[0]!.epoch);
}

function soleReplica(replicaId: string): ReplicaLease {
  return {
    replicaId,
    valid: () => true,
    acknowledge: () => {},
    awaitReplicas: () => Promise.resolve({ waitedMs: 0, unacknowledged: 0 }),
    stop: () => Promise.resolve(),
  };
}

export async function startReplicaLease(db: Database, opts: ReplicaLeaseOptions): Promise<ReplicaLease> {
  const replicaId = `${process.pid}-${randomBytes(6).toString('base64url')}`;
  // PGlite lives in one process, so this replica is the only one, and it empties its own cache
  // before a revocation answers: no lease to renew, nobody to wait for.
  if (db.driver === 'pglite') return soleReplica(replicaId);
  const renewEveryMs = Math.max(50, Math.floor(opts.leaseMs / 5));
  let seen = 0;
  let localUntil = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** Renews the lease; if a revocation was missed, empties the cache first and says so at once. */
  async function renew(): Promise<void> {
    const startedAt = performance.now();
    const rows = await db.query<{ epoch: string }>(
      `insert into replica_leases (replica_id, lease_until, tokens_epoch)
         values ($1, clock_timestamp() + $2 * interval '1 millisecond', $3)
       on conflict (replica_id) do update
         set lease_until = excluded.lease_until, tokens_epoch = greatest(replica_leases.tokens_epoch, excluded.tokens_epoch)
       returning (select epoch from token_epoch where id = 1) as epoch`,
      [replicaId, opts.leaseMs, seen],
    );
    const current = Number(rows[0]!.epoch);
    if (current > seen) {
      // Renewed with an older epoch than the database's: revocations keep waiting for this
      // replica until the acknowledgement below, so the lease is safe to use once it lands.
      opts.onBehind();
      seen = current;
      await write(seen);
    }
    localUntil = startedAt + opts.leaseMs;
  }

  function write(epoch: number): Promise<unknown> {
    return db.query('update replica_leases set tokens_epoch = greatest(tokens_epoch, $2) where replica_id = $1', [replicaId, epoch]);
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      renew()
        .catch(() => {
          // Database unreachable: the lease runs out locally; /readyz and the logs say why.
        })
        .finally(schedule);
    }, renewEveryMs);
    timer.unref();
  }

  // A replica whose row was left by a crash long ago must not slow anything down: drop stale ones.
  await db.query(`delete from replica_leases where lease_until < clock_timestamp() - interval '1 hour'`);
  seen = Number((await db.query<{ epoch: string }>('select epoch from token_epoch where id = 1'))[0]!.epoch);
  await renew();
  schedule();

  return {
    replicaId,
    valid: (now) => now < localUntil,
    acknowledge(epoch) {
      if (epoch <= seen) return;
      seen = epoch;
      write(epoch).catch(() => {
        // Lost with the database: the next renewal carries `seen`.
      });
    },
    async awaitReplicas(epoch) {
      const started = performance.now();
      // A lease is at most leaseMs long, so after that long every laggard has acknowledged or
      // lapsed; the margin covers the database's own clock reads.
      const deadline = started + opts.leaseMs + 1_000;
      let delay = 2;
      for (;;) {
        const rows = await db.query<{ waiting: number }>(
          `select count(*)::int as waiting from replica_leases
            where replica_id <> $1 and tokens_epoch < $2 and lease_until > clock_timestamp()`,
          [replicaId, epoch],
        );
        const waiting = rows[0]!.waiting;
        if (waiting === 0) return { waitedMs: performance.now() - started, unacknowledged: 0 };
        if (performance.now() > deadline) {
          opts.log.warn({ epoch, waiting }, 'replicas kept renewing their lease without acknowledging a revocation');
          return { waitedMs: performance.now() - started, unacknowledged: waiting };
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 50);
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      localUntil = 0;
      await db.query('delete from replica_leases where replica_id = $1', [replicaId]).catch(() => {});
    },
  };
}
