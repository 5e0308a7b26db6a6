import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { apiRequest, ApiError, type ApiResponse, type RequestOptions } from '../api/client.js';
import type { Role } from '../api/types.js';

export interface SessionInfo {
  readonly token: string;
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
}

interface SessionValue {
  readonly session: SessionInfo | null;
  signIn(token: string): Promise<void>;
  signOut(): void;
  /** An API call with this session's token; a 401 (revoked or expired token) signs out. */
  request<T>(path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
}

/**
 * The token stays in sessionStorage: it survives a reload of this tab, not the browser's end,
 * and other sites cannot read it (the page's CSP admits no foreign script).
 */
const STORAGE_KEY = 'rampart.session';
const SessionContext = createContext<SessionValue | null>(null);

function stored(): SessionInfo | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as SessionInfo) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null>(stored);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setSession(null);
  }, []);

  const signIn = useCallback(async (token: string) => {
    const { data } = await apiRequest<{ tokenId: string; name: string; role: Role }>(token, '/api/admin/session');
    const info: SessionInfo = { token, ...data };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(info));
    setSession(info);
  }, []);

  const request = useCallback(
    async <T,>(path: string, opts?: RequestOptions) => {
      if (!session) throw new ApiError(401, 'TOKEN_MISSING', 'Not signed in.');
      try {
        return await apiRequest<T>(session.token, path, opts);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) signOut();
        throw err;
      }
    },
    [session, signOut],
  );

  const value = useMemo(() => ({ session, signIn, signOut, request }), [session, signIn, signOut, request]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

const RANK: Record<Role, number> = { SDK: 0, VIEWER: 1, OPERATOR: 2, SUPER_ADMIN: 3 };

/**
 * Whether the signed-in role may do what needs `least`. The UI hides what a role cannot use;
 * the server still checks every call (a forced request gets 403).
 */
export function useCan(least: 'OPERATOR' | 'SUPER_ADMIN'): boolean {
  const { session } = useSession();
  return session !== null && RANK[session.role] >= RANK[least];
}
