import type { Queryable } from '../db/database.js';
import type { Role } from './roles.js';

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, name, role, created_at as "createdAt", created_by as "createdBy",
  last_used_at as "lastUsedAt", revoked_at as "revokedAt"`;

export function createTokenStore(db: Queryable) {
  return {
    async insert(q: Queryable, t: { id: string; name: string; role: Role; hash: string; createdBy: string | null }) {
      const rows = await q.query<TokenRow>(
        `insert into api_tokens (id, name, role, token_hash, created_by) values ($1, $2, $3, $4, $5)
         returning ${COLUMNS}`,
        [t.id, t.name, t.role, t.hash, t.createdBy],
      );
      return rows[0]!;
    },
    async findActiveByHash(hash: string): Promise<TokenRow | undefined> {
      const rows = await db.query<TokenRow>(
        `select ${COLUMNS} from api_tokens where token_hash = $1 and revoked_at is null`,
        [hash],
      );
      return rows[0];
    },
    async get(q: Queryable, id: string, forUpdate = false): Promise<TokenRow | undefined> {
      const lock = forUpdate ? ' for update' : '';
      return (await q.query<TokenRow>(`select ${COLUMNS} from api_tokens where id = $1${lock}`, [id]))[0];
    },
    async list(): Promise<TokenRow[]> {
      return db.query<TokenRow>(`select ${COLUMNS} from api_tokens order by created_at, id`);
    },
    async countActiveSuperAdmins(q: Queryable): Promise<number> {
      const rows = await q.query<{ n: number }>(
        `select count(*)::int as n from api_tokens where role = 'SUPER_ADMIN' and revoked_at is null`,
      );
      return rows[0]!.n;
    },
    async revoke(q: Queryable, id: string): Promise<TokenRow> {
      const rows = await q.query<TokenRow>(
        `update api_tokens set revoked_at = now() where id = $1 returning ${COLUMNS}`,
        [id],
      );
      return rows[0]!;
    },
    async touch(id: string): Promise<void> {
      await db.query('update api_tokens set last_used_at = now() where id = $1', [id]);
    },
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
