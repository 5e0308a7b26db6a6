import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run demo`, headless, end to end: the built demo (demo/run.mjs, over packages/*/dist) on a
// fast clock (1 demo hour = 5 s) with a plan that starts at 25 %, so a stage passes in seconds
// at laptop traffic. Once the plan has advanced, the regression switch is turned on through the
// admin API; the watchdog must roll the plan back on the 5xx rate, and SIGINT must then stop
// everything and exit 0.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FLAG = 'passenger_favorites_matching';

/** Child processes of `pid` (Linux /proc; elsewhere none are found, and the check is weaker). */
function childrenOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; demo output:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm run demo', () => {
  it('advances a stage, rolls the plan back on a 5xx regression in the treatment cohort, and stops cleanly on SIGINT', { timeout: 150_000 }, async () => {
    const missing = ['packages/server/dist/index.js', 'packages/sdk/dist/index.js'].filter((p) => !existsSync(`${ROOT}/${p}`));
    expect(missing, 'the demo runs the built packages: npm run build first').toEqual([]);

    const child: ChildProcess = spawn(process.execPath, ['demo/run.mjs', '--no-build', '--port', '0', '--speed', '720', '--stages', '25,50,75,100', '--rps', '800'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RAMPART_DEMO_SPEED: '', RAMPART_DEMO_RPS: '', RAMPART_DEMO_PORT: '' },
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const log = () => out.slice(-6000);
    try {
      const [, url, token] = await until('the demo to print its URL and token', 60_000, async () => /export RAMPART_URL=(\S+) RAMPART_TOKEN=(\S+)/.exec(out) ?? undefined, log);
      const dataDir = /removes (\S+?)\)/.exec(out)?.[1];
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return JSON.parse(text);
      };

      // The plan advances by itself once its first stage has passed twice.
      await until('the plan to advance a stage', 60_000, async () => {
        const { plan } = await api('GET', `/api/admin/rollouts/${FLAG}`);
        expect(plan, log()).not.toBeNull();
        return plan.currentStage >= 1 ? plan : undefined;
      }, log);

      const regressionOn = Date.now();
      await api('PUT', '/api/admin/feature-flags/demo_regression_5xx', { enabled: true, reason: 'test: break the treatment cohort' });
      const ended = await until('the watchdog to roll the plan back', 60_000, async () => {
        const { plan, history } = await api('GET', `/api/admin/rollouts/${FLAG}`);
        return plan === null ? history[0] : undefined;
      }, log);
      const caughtMs = Date.now() - regressionOn;

      expect(ended.state, log()).toBe('rolled_back');
      expect(ended.updatedBy).toBe('watchdog');
      expect(ended.rollbackReason).toMatch(/ERROR_RATE_5XX|_http_5xx_rate|5xx/);
      const flag = await api('GET', `/api/admin/feature-flags/${FLAG}`);
      expect(flag).toMatchObject({ enabled: true, rolloutBasisPoints: 0, allowlistCount: 10 });
      const cpId = /(cp_[\w-]+)/.exec(ended.rollbackReason)![1];
      const report = await fetch(`${url}/api/admin/beta-monitor/checkpoints/${cpId}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/markdown' } });
      expect(await report.text()).toContain('### Rollback');
      await until('the console to say so', 10_000, async () => (/ROLLED BACK by watchdog/.test(out) ? true : undefined), log);
      console.log(`demo: regression on → plan rolled back in ${caughtMs} ms (real); ${ended.rollbackReason}`);

      // Everything runs in one process (workers are threads): nothing of it may outlive it.
      const children = childrenOf(child.pid!);
      child.kill('SIGINT');
      const { code, signal } = await exited;
      expect({ code, signal }, log()).toEqual({ code: 0, signal: null });
      expect(out).toMatch(/stopped; .* removed\./);
      expect(children.filter(alive)).toEqual([]);
      if (dataDir) expect(existsSync(dataDir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
