import type { Role } from '../api/types.js';

/** A token as `GET /api/admin/tokens` lists it: never its secret. */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** `POST /api/admin/tokens` answers once with the secret. */
export interface CreatedToken extends ApiToken {
  token: string;
}

export const ROLES: readonly Role[] = ['VIEWER', 'OPERATOR', 'SUPER_ADMIN', 'SDK'];

export const tokenKeys = { list: ['tokens'] as const };
