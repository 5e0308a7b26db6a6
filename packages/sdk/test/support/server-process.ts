import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ADMIN = 'rpt_sdk-test-admin-token-0123456789abcdef';
const BIN = fileURLToPath(new URL('../../../server/bin/rampart.js', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGKILL: no graceful shutdown, as in a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A real Rampart server in its own process (the built CLI), listening on 127.0.0.1. */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', RAMPART_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', RAMPART_WATCHDOG_SCHEDULE: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onExit = (code: number | null) => reject(new Error(`rampart serve exited (${code}): ${out}${err}`));
    child.once('exit', onExit);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.off('exit', onExit);
      resolve({
        url: m[1]!,
        child,
        async kill() {
          child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** An admin call against a server: throws on a non-2xx answer. */
export async function admin<T = unknown>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function sdkToken(url: string): Promise<string> {
  return (await admin<{ token: string }>(url, 'POST', '/api/admin/tokens', { name: `sdk-${Date.now()}`, role: 'SDK' })).token;
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
