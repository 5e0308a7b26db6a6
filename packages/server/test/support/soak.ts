import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { DriverName } from '../../src/db/database.js';
import { PG_ADMIN_URL } from './pg-urls.js';

// The CI version of `npm run soak` (bench/soak.mjs): the same mixed load — 90 % evaluations,
// 5 % admin writes, 5 % metric ingestion, 20 SSE clients — measured for 60 s instead of 10
// minutes (after the same 90 s warm-up), on the built server in its own process, with the same
// targets. The script exits non-zero when a target is missed; the assertions say which. One
// test file per driver, so that the two run on different workers; vitest.config.ts runs them
// after the rest of the suite.
const root = fileURLToPath(new URL('../../../..', import.meta.url));
const run = promisify(execFile);

export interface SoakFigures {
  requests: number;
  throughput: number;
  mix: { evaluate: number; flags: number; write: number; ingest: number };
  errors: number;
  errorsByKind: Record<string, number>;
  rss: { start: number; end: number; growth: number };
  lost: { writes: string[]; exposures: number; sseClientsBehind: number; sseErrors: number };
  sseEvents: number;
  missed: string[];
}

export async function soak(driver: DriverName): Promise<SoakFigures> {
  const args = driver === 'postgres' ? ['--postgres'] : [];
  // The script's scratch database goes on the suite's PostgreSQL server.
  const env = { ...process.env, PGHOST_URL: PG_ADMIN_URL.replace(/\/[^/]*$/, '') };
  // Exit status 1 (a missed target) still prints the figures, which the assertions explain.
  const out = await run(process.execPath, ['bench/soak.mjs', '--duration=60', '--warmup=90', '--json', ...args], { cwd: root, env, maxBuffer: 1 << 24 }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      if (!err.stdout) throw new Error(`bench/soak.mjs failed: ${err.stderr}`);
      return { stdout: err.stdout };
    },
  );
  return JSON.parse(out.stdout) as SoakFigures;
}

export function expectTargets(f: SoakFigures) {
  const total = f.mix.evaluate + f.mix.flags + f.mix.write + f.mix.ingest;
  // The load really ran (1 000 req/s for 150 s is the script's fixed rate; a busy CI machine may fall short of it).
  expect(total).toBeGreaterThan(40_000);
  expect((f.mix.evaluate + f.mix.flags) / total).toBeCloseTo(0.9, 1);
  expect(f.mix.write / total).toBeCloseTo(0.05, 2);
  expect(f.mix.ingest / total).toBeCloseTo(0.05, 2);
  expect(f.errorsByKind).toEqual({ evaluate: 0, flags: 0, write: 0, ingest: 0 });
  expect(f.errors).toBe(0);
  expect(f.lost).toMatchObject({ writes: [], exposures: 0, sseClientsBehind: 0, sseErrors: 0 });
  expect(f.sseEvents).toBeGreaterThan(f.mix.write);
  expect(f.rss.growth, `RSS ${f.rss.start} → ${f.rss.end}`).toBeLessThan(0.1);
  expect(f.missed).toEqual([]);
}
