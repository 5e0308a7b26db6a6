import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { ChangeBus } from '../events/change-bus.js';
import { AppError } from '../errors.js';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Identity, Role } from './roles.js';
import { createTokenStore, type TokenRow } from './token-store.js';

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

export function createTokenService(db: Database, bus: ChangeBus) {
  const store = createTokenStore(db);
  // Keyed by the secret itself, which this process holds anyway while a request is in flight:
  // hashing it costs ~3 µs, a tenth of an evaluation request. Only hashes reach the database.
  const cache = new Map<string, { identity: Identity; expires: number }>();
  const touched = new Map<string, number>();
  bus.subscribe((e) => {
    if (e.kind === 'tokens' || e.kind === 'resync') cache.clear();
  });

  async function insertToken(ctx: ChangeContext | null, name: string, role: Role, secret: string) {
    const id = 'tok_' + randomBytes(9).toString('base64url');
    return db.transaction(async (tx) => {
      const row = await store.insert(tx, { id, name, role, hash: hashSecret(secret), createdBy: ctx?.actor.name ?? null });
      if (ctx) await appendAudit(tx, ctx, { action: 'token.create', target: id, after: { id, name, role } });
      await bus.publish(tx, { kind: 'tokens' });
      return row;
    });
  }

  return {
    async create(ctx: ChangeContext, name: string, role: Role): Promise<CreatedToken> {
      const token = newSecret();
      const row = await insertToken(ctx, name, role, token);
      return { ...row, token };
    },

    list: () => store.list(),

    async revoke(ctx: ChangeContext, id: string): Promise<TokenRow> {
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
        await bus.publish(tx, { kind: 'tokens' });
        return revoked;
      });
      bus.emitLocal({ kind: 'tokens' });
      return row;
    },

    /** Resolves a bearer secret to an identity, or undefined when unknown or revoked. */
    async authenticate(secret: string): Promise<Identity | undefined> {
      const now = Date.now();
      const hit = cache.get(secret);
      if (hit && hit.expires > now) return hit.identity;
      const row = await store.findActiveByHash(hashSecret(secret));
      if (!row) {
        cache.delete(secret);
        return undefined;
      }
      const identity: Identity = { tokenId: row.id, name: row.name, role: row.role };
      if (cache.size > 10_000) cache.clear();
      cache.set(secret, { identity, expires: now + CACHE_TTL_MS });
      return identity;
    },

    /**
     * The identity of a secret verified within the cache TTL, without touching the database:
     * the evaluation fast path uses it and leaves every other case to `authenticate`.
     */
    cachedIdentity(secret: string): Identity | undefined {
      const hit = cache.get(secret);
      return hit && hit.expires > Date.now() ? hit.identity : undefined;
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
}

export type TokenService = ReturnType<typeof createTokenService>;
