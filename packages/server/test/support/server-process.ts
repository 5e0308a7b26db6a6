import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The SUPER_ADMIN secret every server process started here accepts (RAMPART_ADMIN_TOKEN). */
export const PROCESS_ADMIN_TOKEN = 'rpt_reliability-admin-token-0123456789abcdef';
const BIN = fileURLToPath(new URL('../../bin/rampart.js', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGKILL: no graceful shutdown, no flush, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * The built server (`node packages/server/bin/rampart.js serve`, i.e. dist/) in its own process
 * on 127.0.0.1 and a free port. Rejects with its output when it exits before listening, which
 * is how a database that does not open again shows.
 */
export function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        RAMPART_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN,
        LOG_LEVEL: 'error',
        RAMPART_WATCHDOG_SCHEDULE: 'false',
        RAMPART_RATE_LIMIT_ADMIN: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let listening = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rampart serve did not listen within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`rampart serve exited (${code ?? signal}) before listening: ${out}`));
    };
    child.once('exit', onExit);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m || listening) return;
      listening = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({
        url: m[1]!,
        child,
        output: () => out,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** One HTTP call as the admin; a network failure rejects (the caller decides what it means). */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${PROCESS_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function errorCode(a: Answer): string | undefined {
  return (a.body.error as { code?: string } | undefined)?.code;
}
