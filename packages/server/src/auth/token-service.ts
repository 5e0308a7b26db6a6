import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.js';
import type { ChangeBus } from '../events/change-bus.js';
import { AppError } from '../errors.js';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Identity, Role } from './roles.js';
import { createTokenStore, type TokenRow } from './token-store.js';
import { bumpTokenEpoch, startReplicaLease } from './replica-lease.js';

const SECRET_PREFIX = 'rpt_';
/** How long a verified token is trusted without asking the database again. */
const CACHE_TTL_MS = 30_000;
/** last_used_at is written at most this often per token, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** 256 random bits, URL-safe, prefixed so secret scanners can recognise a leaked token. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

export interface CreatedToken extends TokenRow {
  /** Shown once; only its hash is stored. */
  token: string;
}

export interface TokenServiceOptions {
  /** How long this replica trusts its token cache without renewing its lease (replica-lease.ts). */
  readonly leaseMs: number;
  readonly log: { warn: (obj: object, msg: string) => void };
}

export async function startTokenService(db: Database, bus: ChangeBus, opts: TokenServiceOptions) {
  const store = createTokenStore(db);
  // Keyed by the secret itself, which this process holds anyway while a request is in flight:
  // hashing it costs ~3 µs, a tenth of an evaluation request. Only hashes reach the database.
  // Entries expire by `performance.now()`, the clock the lease is read on.
  const cache = new Map<string, { identity: Identity; expires: number }>();
  const touched = new Map<string, number>();
  // Bumped on every clear, so a lookup that read the database before a revocation committed
  // cannot put the revoked token back into the cache after the clear.
  let generation = 0;
  const forget = () => {
    cache.clear();
    generation++;
  };
  const lease = await startReplicaLease(db, { leaseMs: opts.leaseMs, onBehind: forget, log: opts.log });
  const unsubscribe = bus.subscribe((e) => {
    if (e.kind === 'resync') forget();
    // Only revocations carry an epoch; a new token was in nobody's cache.
    if (e.kind !== 'tokens' || e.epoch === undefined) return;
    forget();
    // Only now may revocations waiting on this replica go on.
    lease.acknowledge(e.epoch);
  });

  /** A cached identity, if the entry is young and this replica's lease still vouches for the cache. */
  function lookup(secret: string): Identity | undefined {
    const hit = cache.get(secret);
    if (hit === undefined) return undefined;
    const now = performance.now();
    return hit.expires > now && lease.valid(now) ? hit.identity : undefined;
  }

  async function insertToken(ctx: ChangeContext | null, name: string, role: Role, secret: string) {
    const id = 'tok_' + randomBytes(9).toString('base64url');
    return db.transaction(async (tx) => {
      const row = await store.insert(tx, { id, name, role, hash: hashSecret(secret), createdBy: ctx?.actor.name ?? null });
      if (ctx) await appendAudit(tx, ctx, { action: 'token.create', target: id, after: { id, name, role } });
      // No epoch: a new token was in nobody's cache, so caches stay (the admin UI still hears of it).
      await bus.publish(tx, { kind: 'tokens' });
      return row;
    });
  }

  const service = {
    async create(ctx: ChangeContext, name: string, role: Role): Promise<CreatedToken> {
      const token = newSecret();
      const row = await insertToken(ctx, name, role, token);
      return { ...row, token };
    },

    list: () => store.list(),

    /**
     * Revokes a token and returns once no replica can accept it any more: each one holding a live
     * lease has emptied its cache, or its lease has lapsed.
     */
    async revoke(ctx: ChangeContext, id: string): Promise<TokenRow> {
      let epoch: number | undefined;
      const row = await db.transaction(async (tx) => {
        const current = await store.get(tx, id, true);
        if (!current) throw new AppError('TOKEN_NOT_FOUND', `No token with id ${id}.`);
        if (current.revokedAt) return current;
        if (current.role === 'SUPER_ADMIN') {
          // Serialise concurrent revocations of admins so two of them cannot both pass this check.
          await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:super-admins'))`);
          if ((await store.countActiveSuperAdmins(tx)) <= 1) throw new AppError('LAST_SUPER_ADMIN');
        }
        const revoked = await store.revoke(tx, id);
        await appendAudit(tx, ctx, {
          action: 'token.revoke',
          target: id,
          before: { id, name: current.name, role: current.role, revoked: false },
          after: { id, name: current.name, role: current.role, revoked: true },
        });
        epoch = await bumpTokenEpoch(tx);
        await bus.publish(tx, { kind: 'tokens', epoch });
        return revoked;
      });
      if (epoch === undefined) return row;
      bus.emitLocal({ kind: 'tokens', epoch });
      await lease.awaitReplicas(epoch);
      return row;
    },

    /** Resolves a bearer secret to an identity, or undefined when unknown or revoked. */
    async authenticate(secret: string): Promise<Identity | undefined> {
      const hit = lookup(secret);
      if (hit) return hit;
      const before = generation;
      const row = await store.findActiveByHash(hashSecret(secret));
      if (!row) {
        cache.delete(secret);
        return undefined;
      }
      const identity: Identity = { tokenId: row.id, name: row.name, role: row.role };
      if (generation === before) {
        if (cache.size > 10_000) cache.clear();
        cache.set(secret, { identity, expires: performance.now() + CACHE_TTL_MS });
      }
      return identity;
    },

    /**
     * For streams that re-check their token after a revocation: false when the token is revoked
     * or unknown, and also when it cannot be checked now (database unreachable), so the stream
     * ends and its reconnect is authenticated in full. Never rejects: the callers run outside
     * any request, where an unhandled rejection would stop the process.
     */
    stillValid(secret: string | undefined): Promise<boolean> {
      if (!secret) return Promise.resolve(false);
      return service.authenticate(secret).then(
        (identity) => identity !== undefined,
        () => false,
      );
    },

    /**
     * The identity of a secret verified within the cache TTL, without touching the database:
     * the evaluation fast path uses it and leaves every other case to `authenticate`.
     */
    cachedIdentity: lookup,

    /** This replica's lease row (tests and diagnostics). */
    replicaId: lease.replicaId,

    async stop(): Promise<void> {
      unsubscribe();
      await lease.stop();
    },

    /** Records use without a write per request. */
    noteUse(identity: Identity): void {
      const now = Date.now();
      if ((touched.get(identity.tokenId) ?? 0) + TOUCH_INTERVAL_MS > now) return;
      touched.set(identity.tokenId, now);
      store.touch(identity.tokenId).catch(() => touched.delete(identity.tokenId));
    },

    /**
     * First start: makes sure someone can administer Rampart. With RAMPART_ADMIN_TOKEN the
     * given secret becomes a SUPER_ADMIN token (idempotent); without it, the very first start
     * creates one and returns the secret so the caller can print it once.
     */
    async bootstrap(adminSecret: string | undefined): Promise<{ createdSecret?: string; fromEnv?: boolean }> {
      return db.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:bootstrap'))`);
        if (adminSecret) {
          const hash = hashSecret(adminSecret);
          const existing = await tx.query<{ revoked: boolean }>(
            'select revoked_at is not null as revoked from api_tokens where token_hash = $1',
            [hash],
          );
          if (existing.length === 0) {
            const id = 'tok_' + randomBytes(9).toString('base64url');
            await store.insert(tx, { id, name: 'admin (RAMPART_ADMIN_TOKEN)', role: 'SUPER_ADMIN', hash, createdBy: 'bootstrap' });
          }
          return { fromEnv: true };
        }
        const n = await tx.query<{ n: number }>('select count(*)::int as n from api_tokens');
        if (n[0]!.n > 0) return {};
        const secret = newSecret();
        const id = 'tok_' + randomBytes(9).toString('base64url');
        await store.insert(tx, { id, name: 'admin (first start)', role: 'SUPER_ADMIN', hash: hashSecret(secret), createdBy: 'bootstrap' });
        return { createdSecret: secret };
      });
    },
  };
  return service;
}

export type TokenService = Awaited<ReturnType<typeof startTokenService>>;
