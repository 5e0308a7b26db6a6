/** Thrown for anything the CLI should print as one line and exit non-zero on. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Ends a command with an exit code and no error line (e.g. a WARN checkpoint exits 1). */
export class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export interface ClientOptions {
  readonly url: string;
  readonly token: string | undefined;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly etag: string | undefined;
}

/** What to do next, by error code: the CLI's one-line messages end with a hint. */
const HINTS: Record<string, string> = {
  TOKEN_MISSING: 'pass --token or set RAMPART_TOKEN',
  TOKEN_INVALID: 'check --token / RAMPART_TOKEN; it may have been revoked',
  FORBIDDEN: 'use a token with a higher role',
  FLAG_NOT_FOUND: 'list flags with `rampart flags list`',
  VERSION_CONFLICT: 'someone changed the flag meanwhile; run the command again',
  RATE_LIMITED: 'wait and retry',
  DATABASE_UNAVAILABLE: 'the server cannot reach its database; retry shortly',
  DATABASE_BUSY: 'the server\'s database connections are all busy; retry in a second',
};

/** A thin fetch wrapper over the admin and evaluation APIs. */
export function createClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach Rampart at ${base} (${cause}); start it with \`rampart serve\` or pass --url`, 3);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (e.g. a proxy's HTML error page): keep the text for the message.
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = e?.code ?? `HTTP_${res.status}`;
      const hint = HINTS[code];
      throw new CliError(`${code}: ${e?.message ?? (text.slice(0, 200) || res.statusText)}${hint ? ` (${hint})` : ''}`);
    }
    return { status: res.status, body: parsed as T, etag: res.headers.get('etag') ?? undefined };
  }
  return {
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body: unknown) => request<T>('POST', path, body),
    put: <T>(path: string, body: unknown, headers?: Record<string, string>) => request<T>('PUT', path, body, headers),
    delete: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
  };
}

export type Client = ReturnType<typeof createClient>;
