export const ROLES = ['SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route requires. `public` needs no token; `sdk` is what applications may call (and
 * people may too, e.g. the UI's evaluation tester); the rest is the admin ladder
 * SUPER_ADMIN ⊃ OPERATOR ⊃ VIEWER, which SDK tokens are not on.
 */
export type Access = 'public' | 'sdk' | 'viewer' | 'operator' | 'super_admin';

const ALLOWED: Record<Access, readonly Role[]> = {
  public: ROLES,
  sdk: ['SDK', 'VIEWER', 'OPERATOR', 'SUPER_ADMIN'],
  viewer: ['VIEWER', 'OPERATOR', 'SUPER_ADMIN'],
  operator: ['OPERATOR', 'SUPER_ADMIN'],
  super_admin: ['SUPER_ADMIN'],
};

export function roleAllows(access: Access, role: Role): boolean {
  return ALLOWED[access].includes(role);
}

export interface Identity {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
}
