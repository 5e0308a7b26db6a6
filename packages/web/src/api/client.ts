/** The server's error body (design §8): `{ error: { code, message, details?, requestId } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /**
   * A stale If-Match: someone else changed the thing first, and a reload is the answer. Other
   * 409s (PLAN_ACTIVE, NOTHING_TO_APPROVE…) are refusals whose message says what to do.
   */
  get isConflict(): boolean {
    return this.status === 409 && this.code === 'VERSION_CONFLICT';
  }
}

export interface ApiResponse<T> {
  readonly data: T;
  /** The flag version from `ETag: "<version>"`, when the route sends one. */
  readonly version: number | undefined;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  /** Sent as `If-Match: "<version>"`, so a change made meanwhile answers 409 instead of being overwritten. */
  readonly ifMatch?: number;
  readonly signal?: AbortSignal;
}

export async function apiRequest<T>(token: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'Rampart is not reachable. Check the server and your connection.');
  }
  const etag = res.headers.get('etag');
  const version = etag ? Number(etag.replace(/\D/g, '')) || undefined : undefined;
  const text = await res.text();
  const json: unknown = text ? safeJson(text) : null;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText, e?.requestId, e?.details);
  }
  return { data: json as T, version };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: 'BAD_RESPONSE', message: text.slice(0, 200) } };
  }
}
