import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DriverName } from '../src/db/database.js';
import { fetchAudit, fetchFlags, replayAudit, type AuditRow } from './support/audit-replay.js';
import { createTestDatabase, DRIVERS } from './support/databases.js';
import { call, errorCode, startServerProcess, type Answer, type ServerProcess } from './support/server-process.js';

/**
 * Crash safety of the real server process. Each cycle runs a mixed write load over real HTTP
 * (flag creates, If-Match updates, allowlist adds and removes, plan starts and advances), kills
 * the process with SIGKILL at a random moment, starts it again on the same data and checks:
 *
 * - every write answered 2xx before the kill is there (its audit event, at the version the
 *   answer gave, with what the answer said) — an acknowledgement is a promise;
 * - nothing is half-applied: the audit trail's version chain has no gap, replaying it gives
 *   exactly the live flags, and each live plan's flag is at the plan's stage;
 * - the data opens again at all (for PGlite, a data directory left by a killed process).
 *
 * Writes in flight at the kill may or may not have landed; either is fine, half of one is not.
 * The RNG is seeded (RAMPART_CRASH_SEED to replay a run; the seed is printed).
 */

const CYCLES = Number(process.env.RAMPART_CRASH_CYCLES ?? 20);
const SEED = Number(process.env.RAMPART_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 4;
const F = '/api/admin/feature-flags';
const STAGES = [1, 2, 5, 10, 20, 30, 50, 70, 90, 100];

/** mulberry32: small, fast, good enough to place kills and pick operations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A write the server acknowledged (2xx), and what it promised. */
type Ack =
  | { kind: 'create'; key: string; version: number }
  | { kind: 'update'; key: string; version: number; description: string; rolloutBasisPoints: number }
  | { kind: 'allow-add' | 'allow-remove'; key: string; version: number; id: string }
  | { kind: 'plan-start'; key: string; planId: string }
  | { kind: 'plan-advance'; key: string; planId: string; currentStage: number; state: string };

interface World {
  /** Flags known to exist (their create was acknowledged). */
  plain: string[];
  planFlags: string[];
  /** The flag whose plan is live, if any (one at a time keeps the flag count small). */
  livePlan: { key: string; planId: string } | undefined;
  /** Allowlist ids acknowledged as added, per flag. */
  added: Map<string, string[]>;
  acks: Ack[];
  seq: number;
}

interface Totals {
  cycles: number;
  acked: number;
  lost: number;
  inFlightAtKill: number;
  /** Wall-clock spent starting the server again and verifying, to see where a slow run went. */
  restartMs: number;
  verifyMs: number;
  firstStartMs: number;
}

/**
 * WORKERS concurrent clients writing until `stop.killed`. An answer that arrives is recorded
 * even after the kill was decided: it was acknowledged.
 */
function runLoad(
  base: string,
  world: World,
  random: () => number,
  cycle: number,
  stop: { killed: boolean },
): { inFlight: () => number; done: Promise<void> } {
  let inFlight = 0;
  const ok = (a: Answer) => a.status >= 200 && a.status < 300;
  const pickOf = <T,>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(random() * xs.length)]);

  // A 5xx before the kill is a failure of its own, whatever the operation.
  async function send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    const a = await call(base, method, path, body, headers);
    if (a.status >= 500 && !stop.killed) throw new Error(`${method} ${path}: ${a.status} ${JSON.stringify(a.body)}`);
    return a;
  }

  async function op(): Promise<void> {
    const r = random();
    const n = ++world.seq;
    if (world.plain.length < 6 + cycle && r < 0.12) {
      const key = `crash-${n}`;
      const a = await send('POST', F, { key, enabled: random() < 0.5, rolloutPercentage: Math.floor(random() * 100) });
      if (ok(a)) {
        world.plain.push(key);
        world.acks.push({ kind: 'create', key, version: a.body.version as number });
      }
      return;
    }
    if (r < 0.5) {
      const key = pickOf(world.plain);
      if (!key) return;
      const current = await send('GET', `${F}/${key}`);
      if (!ok(current)) return;
      const description = `write ${n}`;
      const rolloutBasisPoints = Math.floor(random() * 100) * 100;
      const a = await send('PUT', `${F}/${key}`, { description, rolloutPercentage: rolloutBasisPoints / 100 }, { 'if-match': `"${current.body.version as number}"` });
      if (ok(a) && a.body.changed) world.acks.push({ kind: 'update', key, version: a.body.version as number, description, rolloutBasisPoints });
      else if (!ok(a) && errorCode(a) !== 'VERSION_CONFLICT') throw new Error(`PUT ${key}: ${a.status} ${JSON.stringify(a.body)}`);
      return;
    }
    if (r < 0.75) {
      const key = pickOf([...world.plain, ...world.planFlags]);
      if (!key) return;
      const id = `subject-${n}`;
      const a = await send('POST', `${F}/${key}/allowlist`, { ids: [id] });
      if (ok(a) && a.body.changed) {
        world.acks.push({ kind: 'allow-add', key, version: a.body.version as number, id });
        world.added.set(key, [...(world.added.get(key) ?? []), id]);
      }
      return;
    }
    if (r < 0.85) {
      const key = pickOf([...world.added.keys()]);
      const id = key && pickOf(world.added.get(key)!);
      if (!key || !id) return;
      const a = await send('DELETE', `${F}/${key}/allowlist`, { ids: [id] });
      if (ok(a) && a.body.changed) {
        world.acks.push({ kind: 'allow-remove', key, version: a.body.version as number, id });
        world.added.set(key, world.added.get(key)!.filter((x) => x !== id));
      }
      return;
    }
    if (!world.livePlan) {
      const key = `planned-${n}`;
      const created = await send('POST', F, { key, enabled: false });
      if (!ok(created)) return;
      world.planFlags.push(key);
      world.acks.push({ kind: 'create', key, version: created.body.version as number });
      const a = await send('POST', `/api/admin/rollouts/${key}`, {
        stages: STAGES.map((percentage) => ({ percentage, minDwellMinutes: 0 })),
        rollbackPolicy: 'zero',
      });
      if (ok(a)) {
        world.livePlan = { key, planId: a.body.id as string };
        world.acks.push({ kind: 'plan-start', key, planId: a.body.id as string });
      }
      return;
    }
    const { key, planId } = world.livePlan;
    const a = await send('POST', `/api/admin/rollouts/${key}/advance`, {});
    if (ok(a)) {
      world.acks.push({ kind: 'plan-advance', key, planId, currentStage: a.body.currentStage as number, state: a.body.state as string });
      if (a.body.state !== 'active' && world.livePlan?.planId === planId) world.livePlan = undefined;
    } else if (errorCode(a) === 'PLAN_NOT_FOUND' && world.livePlan?.planId === planId) {
      world.livePlan = undefined;
    }
  }

  async function worker(): Promise<void> {
    while (!stop.killed) {
      inFlight++;
      try {
        await op();
      } catch (err) {
        // After the kill, a refused or reset connection is the expected end of a request.
        if (!stop.killed) throw err;
      } finally {
        inFlight--;
      }
    }
  }
  const done = Promise.all(Array.from({ length: WORKERS }, () => worker())).then(() => {});
  // Settled early so a failure before the kill is not an unhandled rejection meanwhile.
  done.catch(() => {});
  return { inFlight: () => inFlight, done };
}

/** What is wrong with the data after a restart: lost acknowledged writes, and inconsistencies. */
async function verify(base: string, world: World): Promise<{ lost: string[]; broken: string[] }> {
  const [audit, live] = await Promise.all([fetchAudit(base), fetchFlags(base)]);
  const lost: string[] = [];
  const broken: string[] = [];
  const { flags: replayed, breaks } = replayAudit(audit);
  broken.push(...breaks);
  for (const key of new Set([...replayed.keys(), ...live.keys()])) {
    if (JSON.stringify(replayed.get(key)) !== JSON.stringify(live.get(key))) {
      broken.push(`${key}: audit replay ${JSON.stringify(replayed.get(key))} ≠ live ${JSON.stringify(live.get(key))}`);
    }
  }
  const flagEvents = new Map<string, Map<number, AuditRow>>();
  const planEvents = new Map<string, AuditRow[]>();
  for (const e of audit) {
    const after = e.after as { version?: number } | null;
    if (e.flagKey && typeof after?.version === 'number' && 'allowlist' in after) {
      if (!flagEvents.has(e.flagKey)) flagEvents.set(e.flagKey, new Map());
      flagEvents.get(e.flagKey)!.set(after.version, e);
    }
    if (e.action.startsWith('plan.') && e.target) planEvents.set(e.target, [...(planEvents.get(e.target) ?? []), e]);
  }
  const seenVersions = new Set<string>();
  for (const ack of world.acks) {
    if (ack.kind === 'plan-start' || ack.kind === 'plan-advance') {
      const events = planEvents.get(ack.planId) ?? [];
      const found =
        ack.kind === 'plan-start'
          ? events.some((e) => e.action === 'plan.start')
          : events.some((e) => e.action === 'plan.advance' && (e.after as { currentStage?: number }).currentStage === ack.currentStage && (e.after as { state?: string }).state === ack.state);
      if (!found) lost.push(`${ack.kind} ${ack.key} ${ack.planId}${ack.kind === 'plan-advance' ? ` to stage ${ack.currentStage} (${ack.state})` : ''}`);
      continue;
    }
    const id = `${ack.key}@${ack.version}`;
    if (seenVersions.has(id)) broken.push(`two acknowledged writes both answered ${id}`);
    seenVersions.add(id);
    const after = flagEvents.get(ack.key)?.get(ack.version)?.after as Record<string, unknown> | undefined;
    const liveVersion = live.get(ack.key)?.version ?? 0;
    const matches =
      after !== undefined &&
      liveVersion >= ack.version &&
      (ack.kind !== 'update' || (after.description === ack.description && after.rolloutBasisPoints === ack.rolloutBasisPoints)) &&
      (ack.kind !== 'allow-add' || (after.allowlist as string[]).includes(ack.id)) &&
      (ack.kind !== 'allow-remove' || !(after.allowlist as string[]).includes(ack.id));
    if (!matches) lost.push(`${ack.kind} ${id}: audit has ${JSON.stringify(after)}, live is at v${liveVersion}`);
  }
  // A plan transition and the flag change it implies commit together: a live plan's flag is at its stage.
  for (const key of world.planFlags) {
    const plans = await call(base, 'GET', `/api/admin/rollouts/${key}`);
    const plan = plans.body.plan as { id: string; state: string; currentStage: number; stages: { percentage: number }[] } | null;
    for (const p of (plans.body.history as { id: string; state: string; currentStage: number }[]) ?? []) {
      const last = planEvents.get(p.id)?.at(-1)?.after as { state?: string; currentStage?: number } | undefined;
      if (last?.state !== p.state || last?.currentStage !== p.currentStage) broken.push(`plan ${p.id}: row ${p.state}@${p.currentStage}, last audit ${last?.state}@${last?.currentStage}`);
    }
    if (plan?.state === 'active' && live.get(key)?.rolloutBasisPoints !== plan.stages[plan.currentStage]!.percentage * 100) {
      broken.push(`${key}: plan at ${plan.stages[plan.currentStage]!.percentage} %, flag at ${live.get(key)?.rolloutBasisPoints} bp`);
    }
  }
  return { lost, broken };
}

async function crashCycles(driver: DriverName, seed: number): Promise<Totals> {
  const random = rng(seed);
  const pg = driver === 'postgres' ? await createTestDatabase('postgres') : undefined;
  const dir = driver === 'pglite' ? await mkdtemp(join(tmpdir(), 'rampart-crash-')) : undefined;
  const env: Record<string, string> = pg ? { DATABASE_URL: pg.url! } : { RAMPART_DATA_DIR: dir! };
  // The test's own connection is not needed: everything is checked through the restarted server.
  await pg?.db.close();
  const world: World = { plain: [], planFlags: [], livePlan: undefined, added: new Map(), acks: [], seq: 0 };
  const totals: Totals = { cycles: 0, acked: 0, lost: 0, inFlightAtKill: 0, restartMs: 0, verifyMs: 0, firstStartMs: 0 };
  let server: ServerProcess | undefined;
  try {
    const first = Date.now();
    server = await startServerProcess(env);
    totals.firstStartMs = Date.now() - first;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const ackedBefore = world.acks.length;
      const stop = { killed: false };
      const killAfterMs = 30 + Math.floor(random() * 700);
      const load = runLoad(server.url, world, rng(seed + cycle), cycle, stop);
      await Promise.race([new Promise((r) => setTimeout(r, killAfterMs)), load.done]);
      stop.killed = true;
      totals.inFlightAtKill += load.inFlight();
      await server.kill();
      // Every request of the killed process has ended before the next process takes a port.
      await load.done;

      // The data must open again: a failure here is the test failing, with the server's words.
      const restarting = Date.now();
      server = await startServerProcess(env);
      const verifying = Date.now();
      const { lost, broken } = await verify(server.url, world);
      totals.restartMs += verifying - restarting;
      totals.verifyMs += Date.now() - verifying;
      expect(broken, `${driver} cycle ${cycle} (seed ${seed}): inconsistencies`).toEqual([]);
      expect(lost, `${driver} cycle ${cycle} (seed ${seed}): acknowledged writes lost`).toEqual([]);
      totals.cycles++;
      totals.acked += world.acks.length - ackedBefore;
      totals.lost += lost.length;
    }
    return totals;
  } finally {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
    await pg?.drop();
  }
}

// The drivers run side by side: each cycle mostly waits on a process start, not on the CPU.
describe.concurrent(`SIGKILL at random points, ${CYCLES} cycles per driver (seed ${SEED})`, () => {
  console.log(`reliability-crash: seed ${SEED} (RAMPART_CRASH_SEED=${SEED} replays the kill points and operation mix)`);
  it.each(DRIVERS)('%s: every acknowledged write survives, nothing is half-applied, the data opens again', async (driver) => {
    const started = Date.now();
    const t = await crashCycles(driver, SEED);
    console.log(
      `reliability-crash ${driver}: ${t.cycles}/${CYCLES} cycles survived, ${t.acked} acknowledged writes checked, ` +
        `${t.lost} writes lost, ${t.inFlightAtKill} requests in flight at the kills (seed ${SEED}; ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `of which first start ${(t.firstStartMs / 1000).toFixed(1)} s, restarts ${(t.restartMs / 1000).toFixed(1)} s, checks ${(t.verifyMs / 1000).toFixed(1)} s)`,
    );
    expect(t.lost).toBe(0);
    expect(t.cycles).toBe(CYCLES);
  }, 300_000);
});
